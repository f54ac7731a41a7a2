import { bufferSource, fromBase64, toBase64Url, utf8 } from "../../text/bytes.js";

/** The fields of a Google service-account key file (JSON) that token minting uses. */
export interface ServiceAccountKey {
  client_email: string;
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as Google issues it. */
  private_key: string;
  private_key_id?: string;
  /** Where tokens are minted, and the JWT's audience. Default https://oauth2.googleapis.com/token. */
  token_uri?: string;
  project_id?: string;
}

export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Google accepts assertions valid for at most an hour. */
const ASSERTION_LIFETIME_SECONDS = 3600;

const RS256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/** Imports the key's PEM for RS256 signing; accepts `\n` written as two characters, as env vars often carry it. */
export async function importSigningKey(privateKeyPem: string): Promise<CryptoKey> {
  const pem = privateKeyPem.replace(/\\n/g, "\n");
  if (pem.includes("BEGIN RSA PRIVATE KEY")) {
    throw new Error("the service-account private_key is PKCS#1; WebCrypto needs PKCS#8 (-----BEGIN PRIVATE KEY-----), as Google issues it");
  }
  const body = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, "").replace(/\s+/g, "");
  return crypto.subtle.importKey("pkcs8", bufferSource(fromBase64(body)), RS256, false, ["sign"]);
}

function encodeSegment(value: unknown): string {
  return toBase64Url(utf8.encode(JSON.stringify(value)));
}

/** The signed JWT a service account trades for an access token (RFC 7523). */
export async function signedAssertion(key: CryptoKey, account: ServiceAccountKey, nowSeconds: number): Promise<string> {
  const header = { alg: "RS256", typ: "JWT", ...(account.private_key_id ? { kid: account.private_key_id } : {}) };
  const claims = {
    iss: account.client_email,
    scope: CLOUD_PLATFORM_SCOPE,
    aud: account.token_uri ?? GOOGLE_TOKEN_URL,
    iat: nowSeconds,
    exp: nowSeconds + ASSERTION_LIFETIME_SECONDS,
  };
  const unsigned = `${encodeSegment(header)}.${encodeSegment(claims)}`;
  const signature = await crypto.subtle.sign(RS256, key, bufferSource(utf8.encode(unsigned)));
  return `${unsigned}.${toBase64Url(new Uint8Array(signature))}`;
}
