import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis";
import { redisKeys } from "../storage/keys.js";

export type Dimension = "requests" | "tokens";

export interface LimitCheck {
  dimension: Dimension;
  /** "tenant:<id>" or "key:<id>". */
  identifier: string;
  limit: number;
  rate: number;
}

export interface LimitOutcome extends LimitCheck {
  success: boolean;
  remaining: number;
  /** Unix ms when the window resets. */
  reset: number;
}

/**
 * Per-minute limits from @upstash/ratelimit, one limiter per (dimension, limit) so
 * limits can differ by tenant. Requests use a sliding window; tokens use a token
 * bucket refilled every second, because it refuses a large `rate` without consuming
 * it (the sliding window consumes first and reports failure after). The ephemeral
 * cache is off: refunds (negative rates) must unblock an identifier at once.
 */
export class RateLimits {
  private readonly limiters = new Map<string, Ratelimit>();

  constructor(private readonly redis: Redis) {}

  /** Starts every check synchronously, so auto-pipelining sends them in one request. */
  check(checks: LimitCheck[]): Promise<LimitOutcome[]> {
    return Promise.all(
      checks.map(async (check) => {
        const result = await this.limiter(check.dimension, check.limit).limit(check.identifier, { rate: check.rate });
        return { ...check, success: result.success, remaining: result.remaining, reset: result.reset };
      }),
    );
  }

  /** Adds (positive) or refunds (negative) units without deciding anything. */
  adjust(checks: LimitCheck[]): Promise<unknown> {
    return this.check(checks.filter((check) => check.rate !== 0));
  }

  private limiter(dimension: Dimension, limit: number): Ratelimit {
    const id = `${dimension}:${limit}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = new Ratelimit({
        redis: this.redis,
        limiter:
          dimension === "requests"
            ? Ratelimit.slidingWindow(limit, "60 s")
            : Ratelimit.tokenBucket(Math.max(1, Math.round(limit / 60)), "1 s", limit),
        prefix: redisKeys.rateLimitPrefix(dimension),
        ephemeralCache: false,
        analytics: false,
        timeout: 0,
      });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}

/** Whole seconds from `nowMs` until `atMs`, at least 1: the value of a retry-after header. */
export function secondsUntil(atMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((atMs - nowMs) / 1000));
}

/** The most restrictive outcome per dimension, for the x-ratelimit-* headers. */
export function rateLimitHeaders(outcomes: LimitOutcome[], now: number): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const dimension of ["requests", "tokens"] as const) {
    const tightest = outcomes
      .filter((outcome) => outcome.dimension === dimension)
      .sort((a, b) => a.remaining - b.remaining)[0];
    if (!tightest) continue;
    headers[`x-ratelimit-limit-${dimension}`] = String(tightest.limit);
    headers[`x-ratelimit-remaining-${dimension}`] = String(tightest.remaining);
    headers[`x-ratelimit-reset-${dimension}`] = String(Math.max(0, Math.ceil((tightest.reset - now) / 1000)));
  }
  return headers;
}
