import { anthropicErrorResponse } from "../anthropic-errors.js";
import { jsonObject } from "../json.js";
import { streamedAnswer, wholeAnswer } from "../answer-model.js";
import { type ModelOverrides, answerModelId, providerModelId } from "../../models/catalog.js";
import type { Provider, ProviderRequest } from "../types.js";
import { type AccessToken, AccessTokenCache } from "./access-token.js";
import { vertexErrorResponse } from "./errors.js";
import {
  GOOGLE_TOKEN_URL,
  JWT_BEARER_GRANT,
  type ServiceAccountKey,
  importSigningKey,
  signedAssertion,
} from "./service-account.js";
import { vertexStreamWithModel } from "./stream.js";

export interface VertexConfig {
  /** A region such as "europe-west1", the multi-regions "us" / "eu", or "global". */
  location: string;
  projectId: string;
  serviceAccount: ServiceAccountKey;
  /** Default by location, as the official SDK: `https://<location>-aiplatform.googleapis.com/v1`. */
  baseUrl?: string;
  /** Where tokens are minted; default the key's `token_uri`, else Google's. */
  tokenUrl?: string;
  /** Changes to the model map for this endpoint (a Vertex id, or null for a model it does not serve). */
  models?: ModelOverrides;
}

const VERTEX_VERSION = "vertex-2023-10-16";
/** Refresh an access token this long before it expires (Google's own client libraries use 5 minutes). */
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;
/** Longest wait for a token from Google's token endpoint. */
const TOKEN_WAIT_LIMIT_MS = 10_000;

export function vertexBaseUrl(location: string): string {
  if (location === "global") return "https://aiplatform.googleapis.com/v1";
  if (location === "us" || location === "eu") return `https://aiplatform.${location}.rep.googleapis.com/v1`;
  return `https://${location}-aiplatform.googleapis.com/v1`;
}

/** Percent-encodes what may not stand in a path segment, keeping RFC 3986's pchar (`@` and `:` included). */
function pathSegment(value: string): string {
  return value.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]+/g, encodeURIComponent);
}

/** No access token can be had: the key is unusable, or Google's token endpoint refused it or failed. */
class TokenUnavailable extends Error {
  constructor(
    readonly type: "authentication_error" | "api_error",
    message: string,
  ) {
    super(message);
  }
}

async function exchangeFailure(response: Response): Promise<TokenUnavailable> {
  const body = jsonObject(await response.text());
  const error = typeof body?.error === "string" ? body.error : null;
  const description = typeof body?.error_description === "string" ? `: ${body.error_description}` : "";
  const detail = error === null ? `${response.status}` : `${error}${description}`;
  const message = `Google refused to issue a Vertex AI access token for the service account (${detail}).`;
  return new TokenUnavailable(response.status >= 500 ? "api_error" : "authentication_error", message);
}

function parseTokenAnswer(text: string): { access_token: string; expires_in: number } | null {
  const body = jsonObject(text);
  return typeof body?.access_token === "string" && typeof body.expires_in === "number"
    ? { access_token: body.access_token, expires_in: body.expires_in }
    : null;
}


/** Claude on Google Vertex AI (rawPredict / streamRawPredict), answering in Anthropic's format. */
export function vertexProvider(config: VertexConfig): Provider {
  const baseUrl = (config.baseUrl ?? vertexBaseUrl(config.location)).replace(/\/+$/, "");
  const modelsUrl = `${baseUrl}/projects/${pathSegment(config.projectId)}/locations/${pathSegment(config.location)}/publishers/anthropic/models`;
  const tokenUrl = config.tokenUrl ?? config.serviceAccount.token_uri ?? GOOGLE_TOKEN_URL;
  const overrides = config.models ?? {};
  const id = `vertex:${config.location}`;
  let signingKey: Promise<CryptoKey> | null = null;

  async function mint(): Promise<AccessToken> {
    signingKey ??= importSigningKey(config.serviceAccount.private_key).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TokenUnavailable("authentication_error", `The Vertex AI service-account key cannot be used: ${reason}`);
    });
    const assertion = await signedAssertion(await signingKey, config.serviceAccount, Math.floor(Date.now() / 1000));
    const response = await fetch(tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      signal: AbortSignal.timeout(TOKEN_WAIT_LIMIT_MS),
    });
    if (!response.ok) throw await exchangeFailure(response);
    const body = parseTokenAnswer(await response.text());
    if (body === null) throw new TokenUnavailable("api_error", "Google's token endpoint answered without an access_token / expires_in.");
    return { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
  }
  const tokens = new AccessTokenCache(mint, { refreshMarginMs: TOKEN_REFRESH_MARGIN_MS, waitLimitMs: TOKEN_WAIT_LIMIT_MS });

  const modelId = (model: string): string | null => providerModelId(model, "vertex", overrides);
  const notServed = (model: string): Response =>
    anthropicErrorResponse("not_found_error", `model: ${model} is not available on ${id}`);

  /** POSTs with the shared access token; a 401 (token revoked or expired early) is retried once with a new one. */
  async function post(url: string, body: Record<string, unknown>, request: ProviderRequest): Promise<Response> {
    const payload = JSON.stringify(body);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (request.betas.length > 0) headers["anthropic-beta"] = request.betas.join(",");
    for (let attempt = 0; ; attempt += 1) {
      let token: string;
      try {
        token = await tokens.get(request.signal);
      } catch (error) {
        if (error instanceof TokenUnavailable) return anthropicErrorResponse(error.type, error.message);
        throw error;
      }
      const response = await fetch(url, {
        method: "POST",
        headers: { ...headers, authorization: `Bearer ${token}` },
        body: payload,
        signal: request.signal,
      });
      if (response.status !== 401 || attempt > 0) return response;
      await response.body?.cancel();
      tokens.invalidate(token);
    }
  }

  return {
    kind: "vertex",
    id,
    modelId,

    async send(request) {
      const vertexModel = modelId(request.model);
      if (vertexModel === null) return notServed(request.model);
      const method = request.stream ? "streamRawPredict" : "rawPredict";
      const { model: _model, ...fields } = request.body;
      const body = { anthropic_version: VERTEX_VERSION, ...fields, stream: request.stream };
      const response = await post(`${modelsUrl}/${pathSegment(vertexModel)}:${method}`, body, request);
      if (!response.ok) return vertexErrorResponse(response);

      const answerModel = answerModelId(request.model);
      if (!request.stream || response.body === null) return wholeAnswer(response, answerModel);
      return streamedAnswer(vertexStreamWithModel(response.body, answerModel));
    },

    async countTokens(request) {
      const vertexModel = modelId(request.model);
      if (vertexModel === null) return notServed(request.model);
      const body = { anthropic_version: VERTEX_VERSION, ...request.body, model: vertexModel };
      const response = await post(`${modelsUrl}/count-tokens:rawPredict`, body, request);
      if (!response.ok) return vertexErrorResponse(response);
      return new Response(response.body, { status: 200, headers: { "content-type": "application/json" } });
    },
  };
}
