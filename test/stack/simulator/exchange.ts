import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { type Dialect, type RenderedError, WireError } from "./dialect.js";
import { ApiError } from "./errors.js";
import { sendJson } from "./http-io.js";
import { sleepUntil } from "./sleep.js";

/** One request to a model endpoint, in one service's format, and what every answer to it shares. */
export interface Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  dialect: Dialect;
  requestId: string;
  /** `performance.now()` when the request arrived. */
  receivedAt: number;
  /** Aborts when the connection closes before the response is complete. */
  clientGone: AbortSignal;
  /** The dialect's per-answer headers (request id; for Anthropic, rate limits); `exhausted` on a 429. */
  headers(exhausted?: boolean): OutgoingHttpHeaders;
}

export function openExchange(request: IncomingMessage, response: ServerResponse, dialect: Dialect): Exchange {
  const receivedAt = performance.now();
  const requestId = dialect.newRequestId();
  const controller = new AbortController();
  response.on("close", () => {
    if (!response.writableFinished) controller.abort();
  });
  return {
    request,
    response,
    dialect,
    requestId,
    receivedAt,
    clientGone: controller.signal,
    headers: (exhausted = false) => dialect.headers(requestId, exhausted),
  };
}

function rendered(exchange: Exchange, error: unknown): RenderedError {
  if (error instanceof WireError) return error.rendered;
  if (error instanceof ApiError) return exchange.dialect.renderError(error, exchange.requestId);
  console.error("simulator: unexpected error", error);
  return exchange.dialect.renderError(new ApiError("api_error", "Internal server error"), exchange.requestId);
}

/**
 * Sends the error body after the simulated network delay. Returns the status sent,
 * or null when nothing could be sent (client gone, or a stream already started,
 * which is then cut off).
 */
export async function respondWithError(exchange: Exchange, error: unknown, extraLatencyMs: number): Promise<number | null> {
  const answer = rendered(exchange, error);
  await sleepUntil(exchange.receivedAt + extraLatencyMs, exchange.clientGone);
  if (exchange.clientGone.aborted) return null;
  if (exchange.response.headersSent) {
    exchange.response.destroy();
    return null;
  }
  sendJson(exchange.response, answer.status, answer.body, answer.headers);
  return answer.status;
}
