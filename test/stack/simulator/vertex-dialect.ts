import { randomUUID } from "node:crypto";
import type { Dialect, RenderedError } from "./dialect.js";
import { errorBody } from "./errors.js";
import { OVERLOADED } from "./faults.js";
import { formatSseEvent } from "./stream-events.js";

/** Google's error body: `{"error": {"code", "message", "status"}}`. */
export function googleError(code: number, status: string, message: string, headers: Record<string, string> = {}): RenderedError {
  return { status: code, headers, body: { error: { code, message, status } } };
}

const QUOTA_MESSAGE =
  "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base model: anthropic-claude. Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.";

/**
 * Vertex AI's rawPredict format. Quotas, authentication and platform failures are Google's
 * errors; the model server's own errors (validation, overload) reach the client in
 * Anthropic's shape, as Vertex passes them on. Streams are Anthropic SSE as they are.
 */
export function vertexDialect(): Dialect {
  return {
    name: "vertex",
    messageIdPrefix: "msg_vrtx",
    // Vertex sends no request id header; the ledger still needs a key.
    newRequestId: () => randomUUID(),
    headers: () => ({}),
    renderError: (error, requestId) => {
      switch (error.type) {
        case "rate_limit_error":
          return googleError(429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGE);
        case "api_error":
          return googleError(500, "INTERNAL", "Internal error encountered.");
        case "not_found_error":
          return googleError(404, "NOT_FOUND", error.message);
        case "authentication_error":
          return googleError(401, "UNAUTHENTICATED", error.message);
        default:
          return { status: error.status, headers: {}, body: errorBody(error, requestId) };
      }
    },
    wholeAnswerHeaders: () => ({}),
    stream: {
      contentType: "text/event-stream; charset=utf-8",
      encode: formatSseEvent,
      failure: () => formatSseEvent({ type: "error", error: OVERLOADED }),
    },
  };
}
