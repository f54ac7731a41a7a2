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

/** Requires an API key, and one of `apiKeys` when those are configured; returns it. */
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

/** The Messages API versions the API accepts in `anthropic-version`. */
const API_VERSIONS = new Set(["2026-10-21", "2023-06-01", "2023-01-01"]);

/** Requires `anthropic-version`, as the API does, and returns it. */
export function requireApiVersion(request: IncomingMessage): string {
  const version = request.headers["anthropic-version"];
  if (typeof version !== "string" || version === "") throw new ApiError("invalid_request_error", "anthropic-version: header is required");
  if (!API_VERSIONS.has(version)) throw new ApiError("invalid_request_error", `anthropic-version: "${version}" is not a valid version`);
  return version;
}
