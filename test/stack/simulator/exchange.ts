import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { ApiError, errorBody } from "./errors.js";
import { sendJson } from "./http-io.js";
import { randomId } from "./ids.js";
import type { RateLimitWindow } from "./rate-limits.js";
import { sleepUntil } from "./sleep.js";

/** One request to a `/v1` endpoint and what every answer to it shares. */
export interface V1Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  requestId: string;
  /** `performance.now()` when the request arrived. */
  receivedAt: number;
  /** Aborts when the connection closes before the response is complete. */
  clientGone: AbortSignal;
  /** `request-id` and rate-limit headers; `exhausted` reports no requests left (429). */
  headers(exhausted?: boolean): OutgoingHttpHeaders;
}

export function openV1Exchange(request: IncomingMessage, response: ServerResponse, rateLimits: RateLimitWindow): V1Exchange {
  const receivedAt = performance.now();
  const requestId = randomId("req");
  const controller = new AbortController();
  response.on("close", () => {
    if (!response.writableFinished) controller.abort();
  });
  return {
    request,
    response,
    requestId,
    receivedAt,
    clientGone: controller.signal,
    headers: (exhausted = false) => ({ "request-id": requestId, ...rateLimits.headers(exhausted) }),
  };
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  console.error("simulator: unexpected error", error);
  return new ApiError("api_error", "Internal server error");
}

/**
 * Sends the error body after the simulated network delay. Returns the status sent,
 * or null when nothing could be sent (client gone, or a stream already started,
 * which is then cut off).
 */
export async function respondWithError(exchange: V1Exchange, error: unknown, extraLatencyMs: number): Promise<number | null> {
  const apiError = asApiError(error);
  await sleepUntil(exchange.receivedAt + extraLatencyMs, exchange.clientGone);
  if (exchange.clientGone.aborted) return null;
  if (exchange.response.headersSent) {
    exchange.response.destroy();
    return null;
  }
  sendJson(exchange.response, apiError.status, errorBody(apiError, exchange.requestId), {
    ...exchange.headers(apiError.status === 429),
    ...apiError.headers,
  });
  return apiError.status;
}
