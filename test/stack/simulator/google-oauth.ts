import { randomBytes, verify } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { GOOGLE_TOKEN_AUDIENCE, type ServiceAccount } from "./credentials.js";
import { WireError } from "./dialect.js";
import { readBody, sendJson } from "./http-io.js";
import { googleError } from "./vertex-dialect.js";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/** Google also accepts its older token URL as the assertion's audience. */
const AUDIENCES = new Set([GOOGLE_TOKEN_AUDIENCE, "https://www.googleapis.com/oauth2/v4/token"]);
const MAX_ASSERTION_LIFETIME_S = 3600;
const CLOCK_SKEW_S = 300;

/** Who an access token was issued to. */
export interface TokenHolder {
  email: string;
  projectId: string;
}

/** Access tokens issued by the simulated token endpoint, checked by the Vertex endpoints. */
export class AccessTokens {
  readonly #tokens = new Map<string, TokenHolder & { expiresAt: number }>();
  #issued = 0;

  constructor(private readonly lifetimeSeconds: number) {}

  /** How many tokens the token endpoint has issued (one per successful exchange). */
  get issued(): number {
    return this.#issued;
  }

  issue(holder: TokenHolder): { access_token: string; expires_in: number; token_type: "Bearer" } {
    const token = `ya29.sim-${randomBytes(24).toString("base64url")}`;
    this.#tokens.set(token, { ...holder, expiresAt: Date.now() + this.lifetimeSeconds * 1000 });
    this.#issued += 1;
    return { access_token: token, expires_in: this.lifetimeSeconds, token_type: "Bearer" };
  }

  /** The holder of a request's bearer token; Google's 401 for a missing, unknown or expired one. */
  holderOf(request: IncomingMessage): TokenHolder {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    const entry = token === undefined ? undefined : this.#tokens.get(token);
    if (entry === undefined || entry.expiresAt <= Date.now()) {
      throw new WireError(
        googleError(
          401,
          "UNAUTHENTICATED",
          "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
          { "www-authenticate": 'Bearer realm="https://accounts.google.com/"' },
        ),
      );
    }
    return { email: entry.email, projectId: entry.projectId };
  }
}

/** An OAuth error as Google's token endpoint answers it. */
class OAuthError extends Error {
  constructor(
    readonly code: "invalid_grant" | "unsupported_grant_type" | "invalid_request" | "invalid_scope",
    readonly description: string,
  ) {
    super(description);
  }
}

function decodeSegment(segment: string | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment ?? "", "base64url").toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new OAuthError("invalid_grant", "Invalid JWT: the assertion is not a JWT.");
}

/** Checks a service account's signed assertion (RFC 7523) as Google does and names its holder. */
function verifyAssertion(assertion: string, accounts: ReadonlyMap<string, ServiceAccount>): TokenHolder {
  const segments = assertion.split(".");
  if (segments.length !== 3) throw new OAuthError("invalid_grant", "Invalid JWT: the assertion is not a JWT.");
  const [headerSegment, claimsSegment, signatureSegment] = segments as [string, string, string];
  const header = decodeSegment(headerSegment);
  const claims = decodeSegment(claimsSegment);
  if (header.alg !== "RS256") throw new OAuthError("invalid_grant", "Invalid JWT: only RS256 assertions are accepted.");
  const email = typeof claims.iss === "string" ? claims.iss : "";
  const account = accounts.get(email);
  if (account === undefined) throw new OAuthError("invalid_grant", "Invalid grant: account not found");
  const signed = verify("RSA-SHA256", Buffer.from(`${headerSegment}.${claimsSegment}`), account.publicKey, Buffer.from(signatureSegment, "base64url"));
  if (!signed) throw new OAuthError("invalid_grant", "Invalid JWT Signature.");
  if (typeof claims.aud !== "string" || !AUDIENCES.has(claims.aud)) throw new OAuthError("invalid_grant", "Invalid JWT: Failed audience check.");
  const now = Date.now() / 1000;
  const { iat, exp } = claims;
  if (typeof iat !== "number" || typeof exp !== "number" || exp <= now || iat > now + CLOCK_SKEW_S || exp - iat > MAX_ASSERTION_LIFETIME_S) {
    throw new OAuthError(
      "invalid_grant",
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
    );
  }
  const scopes = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
  if (!scopes.includes(CLOUD_PLATFORM_SCOPE)) throw new OAuthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.");
  return { email, projectId: account.projectId };
}

/** `POST /token`: Google's OAuth 2.0 token endpoint, for the JWT-bearer grant of service accounts. */
export async function serveTokenRequest(
  request: IncomingMessage,
  response: ServerResponse,
  accounts: ReadonlyMap<string, ServiceAccount>,
  tokens: AccessTokens,
): Promise<void> {
  try {
    const form = new URLSearchParams((await readBody(request)).toString("utf8"));
    const grantType = form.get("grant_type");
    if (grantType !== JWT_BEARER) throw new OAuthError("unsupported_grant_type", `Invalid grant_type: ${grantType ?? ""}`);
    const assertion = form.get("assertion");
    if (assertion === null) throw new OAuthError("invalid_request", "Missing required parameter: assertion");
    sendJson(response, 200, tokens.issue(verifyAssertion(assertion, accounts)), { "cache-control": "no-cache, no-store, max-age=0, must-revalidate" });
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    sendJson(response, 400, { error: error.code, error_description: error.description });
  }
}
