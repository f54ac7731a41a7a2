import { type AnthropicErrorType, ERROR_STATUS, errorBody } from "../http/errors.js";

/** Provider headers worth keeping on a translated error: when to retry, and the provider's request id. */
export interface ErrorDetails {
  retryAfter?: string | null;
  requestId?: string | null;
  /** A status other than the type's usual one (e.g. 503 for an outage that is not overload). */
  status?: number;
}

/** An answer in Anthropic's error format, whatever the provider said. */
export function anthropicErrorResponse(type: AnthropicErrorType, message: string, details: ErrorDetails = {}): Response {
  const headers = new Headers({ "content-type": "application/json" });
  if (details.retryAfter) headers.set("retry-after", details.retryAfter);
  if (details.requestId) headers.set("request-id", details.requestId);
  return new Response(JSON.stringify(errorBody(type, message)), { status: details.status ?? ERROR_STATUS[type], headers });
}

/** The Anthropic error type for an HTTP status no provider-specific rule claimed. */
export function errorTypeForStatus(status: number): AnthropicErrorType {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 408:
    case 504:
      return "timeout_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    default:
      return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
  }
}

/** An SSE `error` event, as the Anthropic API sends one after HTTP 200. */
export function sseErrorEvent(type: AnthropicErrorType, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message } })}\n\n`;
}
