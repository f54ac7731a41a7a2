import type { AnthropicErrorType } from "../../http/errors.js";
import { parseJsonOrUndefined } from "../../text/json.js";
import { anthropicErrorResponse, errorTypeForStatus } from "../anthropic-errors.js";
import { isRecord } from "../json.js";

/**
 * Google's canonical error codes (`{"error": {"code", "message", "status"}}`) as Anthropic
 * error types. UNAVAILABLE is capacity, so it becomes `overloaded_error` (529) as on Bedrock.
 */
const ERROR_TYPES: Readonly<Record<string, AnthropicErrorType>> = {
  INVALID_ARGUMENT: "invalid_request_error",
  FAILED_PRECONDITION: "invalid_request_error",
  OUT_OF_RANGE: "invalid_request_error",
  UNAUTHENTICATED: "authentication_error",
  PERMISSION_DENIED: "permission_error",
  NOT_FOUND: "not_found_error",
  RESOURCE_EXHAUSTED: "rate_limit_error",
  DEADLINE_EXCEEDED: "timeout_error",
  UNAVAILABLE: "overloaded_error",
  INTERNAL: "api_error",
  UNKNOWN: "api_error",
};

interface GoogleError {
  code?: unknown;
  message?: unknown;
  status?: unknown;
}

/** Anthropic's own error body, which Vertex passes on from the model server (e.g. 529 overloaded). */
function isAnthropicError(body: unknown): boolean {
  return isRecord(body) && body.type === "error" && isRecord(body.error) && typeof body.error.type === "string";
}

/** Google's error body; streaming methods wrap it in an array. */
function googleError(body: unknown): GoogleError | null {
  const candidate = Array.isArray(body) ? body[0] : body;
  return isRecord(candidate) && isRecord(candidate.error) ? candidate.error : null;
}

/** Translates a Vertex AI error answer into Anthropic's format; Anthropic-shaped bodies pass through as they are. */
export async function vertexErrorResponse(response: Response): Promise<Response> {
  const text = await response.text();
  const body = parseJsonOrUndefined(text);
  const retryAfter = response.headers.get("retry-after");
  if (isAnthropicError(body)) {
    const headers = new Headers({ "content-type": "application/json" });
    if (retryAfter) headers.set("retry-after", retryAfter);
    return new Response(text, { status: response.status, headers });
  }
  const error = googleError(body);
  const status = typeof error?.status === "string" ? error.status : "";
  const message =
    typeof error?.message === "string" && error.message !== ""
      ? error.message
      : `Vertex AI answered ${response.status}${status ? ` (${status})` : ""}.`;
  return anthropicErrorResponse(ERROR_TYPES[status] ?? errorTypeForStatus(response.status), message, { retryAfter });
}
