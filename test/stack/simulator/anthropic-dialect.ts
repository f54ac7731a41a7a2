import type { Dialect } from "./dialect.js";
import { errorBody } from "./errors.js";
import { randomId } from "./ids.js";
import type { RateLimitWindow } from "./rate-limits.js";
import { formatSseEvent } from "./stream-events.js";
import { OVERLOADED } from "./faults.js";

/** The Anthropic API's format: `request-id` and rate-limit headers, its error bodies, SSE. */
export function anthropicDialect(rateLimits: RateLimitWindow): Dialect {
  return {
    name: "anthropic",
    messageIdPrefix: "msg",
    newRequestId: () => randomId("req"),
    headers: (requestId, exhausted) => ({ "request-id": requestId, ...rateLimits.headers(exhausted) }),
    renderError: (error, requestId) => ({
      status: error.status,
      headers: { "request-id": requestId, ...rateLimits.headers(error.status === 429), ...error.headers },
      body: errorBody(error, requestId),
    }),
    wholeAnswerHeaders: () => ({}),
    stream: {
      contentType: "text/event-stream; charset=utf-8",
      encode: formatSseEvent,
      failure: () => formatSseEvent({ type: "error", error: OVERLOADED }),
    },
  };
}
