import { type AnthropicErrorType, ERROR_STATUS } from "../http/errors.js";
import type { OpenAIErrorBody } from "./chat-types.js";

/**
 * An Anthropic error (`{type: "error", error: {type, message}}`, as the upstream and the
 * gateway send it) as OpenAI would answer it: the type follows the status as OpenAI's
 * does, and the code says what the type does not (OpenAI's own codes for rate limits,
 * otherwise the Anthropic type when it is more specific: "overloaded_error"...). A spent
 * budget or credit (Anthropic's 402 billing_error) is OpenAI's 429 insufficient_quota.
 */
export function toOpenAIError(status: number, anthropicErrorBody: unknown): { status: number; body: OpenAIErrorBody } {
  const error = field(anthropicErrorBody, "error");
  const anthropicType = stringField(error, "type");
  const message = stringField(error, "message") || `The request failed with status ${status}.`;
  if (anthropicType === "billing_error") {
    return { status: 429, body: { error: { message, type: "insufficient_quota", code: "insufficient_quota", param: null } } };
  }
  const type = openAIErrorType(status);
  return { status, body: { error: { message, type, code: errorCode(status, type, anthropicType), param: null } } };
}

/** An Anthropic error body answered in OpenAI's shape (status, body, and the given headers). */
export function openAIErrorResponse(status: number, anthropicBody: unknown, headers: HeadersInit = {}): Response {
  const out = new Headers(headers);
  out.set("content-type", "application/json");
  const converted = toOpenAIError(status, anthropicBody);
  return new Response(JSON.stringify(converted.body), { status: converted.status, headers: out });
}

/**
 * Whether a request speaks OpenAI's API, so that even errors made before it reaches its
 * route (at the front Worker too) come in OpenAI's shape: the OpenAI-compatible routes,
 * and the model routes for clients that do not send Anthropic's anthropic-version.
 */
export function speaksOpenAI(path: string, headers: Headers): boolean {
  if (path === "/v1/chat/completions" || path === "/v1/responses") return true;
  return (path === "/v1/models" || path.startsWith("/v1/models/")) && !headers.has("anthropic-version");
}

/** The HTTP status an Anthropic error type travels with; for errors met inside a stream. */
export function statusOfAnthropicError(type: string): number {
  return Object.hasOwn(ERROR_STATUS, type) ? ERROR_STATUS[type as AnthropicErrorType] : 500;
}

function openAIErrorType(status: number): string {
  if (status >= 500) return "server_error";
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    default:
      return "invalid_request_error";
  }
}

function errorCode(status: number, type: string, anthropicType: string | null): string | null {
  if (status === 429) return "rate_limit_exceeded";
  return anthropicType === type ? null : anthropicType;
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function stringField(value: unknown, name: string): string | null {
  const found = field(value, name);
  return typeof found === "string" ? found : null;
}
