import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "@anthropic-ai/sdk/core/error";
import { errorBody } from "../http/errors.js";

/** Upstream headers worth passing back with an upstream error. */
const RELAYED_ERROR_HEADERS = ["retry-after", "retry-after-ms", "request-id"] as const;

/**
 * Answers an upstream failure that happened before any byte reached the client:
 * the upstream's own status and Anthropic error body when it sent one, otherwise
 * a gateway-made error in the same format.
 */
export function upstreamErrorResponse(error: unknown, requestId: string, timeoutMs: number): Response {
  if (error instanceof APIConnectionTimeoutError) {
    return json(504, errorBody("timeout_error", `The upstream API did not answer within ${timeoutMs} ms.`, requestId));
  }
  if (error instanceof APIUserAbortError) {
    return json(499, errorBody("api_error", "The client closed the request.", requestId));
  }
  if (error instanceof APIConnectionError) {
    return json(502, errorBody("api_error", "Could not reach the upstream API; try again shortly.", requestId));
  }
  if (error instanceof APIError && typeof error.status === "number") {
    const headers = new Headers({ "content-type": "application/json" });
    for (const name of RELAYED_ERROR_HEADERS) {
      const value = error.headers?.get(name);
      if (value) headers.set(name, value);
    }
    const body = isErrorBody(error.error)
      ? error.error
      : errorBody("api_error", error.message || `Upstream answered ${error.status}.`, requestId);
    return new Response(JSON.stringify(body), { status: error.status, headers });
  }
  throw error;
}

function isErrorBody(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { type?: unknown }).type === "error" &&
    typeof (value as { error?: unknown }).error === "object"
  );
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
