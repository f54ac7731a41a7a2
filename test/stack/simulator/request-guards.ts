import type { IncomingMessage } from "node:http";
import { ApiError } from "./errors.js";
import type { ModelSpec } from "./profiles.js";
import { findModel } from "./profiles.js";

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * The API key of a request: `x-api-key`, or `Authorization: Bearer <key>`,
 * which is how @anthropic-ai/sdk 1.x sends it.
 */
function apiKeyOf(request: IncomingMessage): string | undefined {
  const key = request.headers["x-api-key"];
  if (typeof key === "string" && key !== "") return key;
  return BEARER.exec(request.headers.authorization ?? "")?.[1];
}

/** Requires an API key, and one of `apiKeys` when those are configured. */
/** Checks the provider key and returns it. */
export function authenticate(request: IncomingMessage, apiKeys: ReadonlySet<string> | null): string {
  const key = apiKeyOf(request);
  if (key === undefined) throw new ApiError("authentication_error", "x-api-key header is required");
  if (apiKeys !== null && !apiKeys.has(key)) throw new ApiError("authentication_error", "invalid x-api-key");
  return key;
}

export function requireModel(requestedModel: string): ModelSpec {
  const model = findModel(requestedModel);
  if (model === undefined) throw new ApiError("not_found_error", `model: ${requestedModel}`);
  return model;
}
