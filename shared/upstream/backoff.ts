export interface RetryPolicy {
  /** First backoff ceiling; doubled per retry. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Total time allowed for every attempt and wait before the first byte. */
  deadlineMs: number;
  /** Overloaded answers from one model before moving down the fallback chain. */
  overloadedBeforeFallback: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  deadlineMs: 20_000,
  overloadedBeforeFallback: 2,
};

/**
 * Exponential backoff with full jitter (a uniform wait up to the doubled ceiling),
 * but never shorter than what the upstream asked for with retry-after(-ms).
 */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number, retryAfterMs: number | null): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  const jittered = random() * ceiling;
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** The upstream's requested wait: `retry-after-ms`, else `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(headers: Headers | undefined, now: number): number | null {
  const milliseconds = Number(headers?.get("retry-after-ms"));
  if (headers?.get("retry-after-ms") && Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers?.get("retry-after");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
