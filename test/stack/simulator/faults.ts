import { performance } from "node:perf_hooks";
import type { Directives } from "./directives.js";
import { ApiError } from "./errors.js";
import type { ErrorPayload } from "./errors.js";
import type { Exchange } from "./exchange.js";
import type { LedgerRecord } from "./ledger.js";
import { sleepUntil } from "./sleep.js";

/** A fault that strikes after some output tokens. */
export interface Interruption {
  fault: "error-mid" | "stall-mid";
  afterTokens: number;
}

/** How long a stalled response holds its connection before dropping it (real time, not scaled). */
const STALL_LIMIT_MS = 10 * 60_000;

export const OVERLOADED: ErrorPayload = { type: "overloaded_error", message: "Overloaded" };

/** The error answered instead of a message for faults 429, 529 and 500. */
export function upfrontFaultError(directives: Directives): ApiError | null {
  switch (directives.fault) {
    case "429":
      return new ApiError(
        "rate_limit_error",
        "This request would exceed your organization's rate limit. Please try again later. (simulated)",
        { "retry-after": String(directives.retryAfterSeconds) },
      );
    case "529":
      return new ApiError(OVERLOADED.type, OVERLOADED.message);
    case "500":
      return new ApiError("api_error", "Internal server error");
    default:
      return null;
  }
}

export function interruptionOf(directives: Directives): Interruption | null {
  return directives.fault === "error-mid" || directives.fault === "stall-mid"
    ? { fault: directives.fault, afterTokens: directives.faultAfterTokens }
    : null;
}

/** Sends nothing more until the client leaves or the stall limit passes, then drops the connection. */
export async function holdConnection(exchange: Exchange, record: LedgerRecord): Promise<void> {
  await sleepUntil(performance.now() + STALL_LIMIT_MS, exchange.clientGone);
  if (exchange.clientGone.aborted) return;
  record.finishedAt = performance.now();
  exchange.response.destroy();
}
