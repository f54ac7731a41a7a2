/** Per-minute limits reported in `anthropic-ratelimit-*` headers (plausible tier-4 values; nothing is enforced). */
export interface RateLimits {
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

const DEFAULT_LIMITS: RateLimits = { requests: 4000, inputTokens: 2_000_000, outputTokens: 400_000 };
const WINDOW_MS = 60_000;

function rfc3339Seconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Usage within the current clock minute, used to fill the rate-limit headers. */
export class RateLimitWindow {
  #windowStart = 0;
  #used: RateLimits = { requests: 0, inputTokens: 0, outputTokens: 0 };

  constructor(
    private readonly limits: RateLimits = DEFAULT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Output is counted at `max_tokens` up front, as the API estimates it. */
  consume(inputTokens: number, maxOutputTokens: number): void {
    this.#roll();
    this.#used.requests += 1;
    this.#used.inputTokens += inputTokens;
    this.#used.outputTokens += maxOutputTokens;
  }

  /** `exhausted` reports no requests left, as on a 429. */
  headers(exhausted: boolean): Record<string, string> {
    this.#roll();
    const reset = rfc3339Seconds(this.#windowStart + WINDOW_MS);
    const remaining = (limit: keyof RateLimits): number => Math.max(0, this.limits[limit] - this.#used[limit]);
    const requestsRemaining = exhausted ? 0 : remaining("requests");
    const tightest: keyof RateLimits =
      remaining("inputTokens") / this.limits.inputTokens <= remaining("outputTokens") / this.limits.outputTokens
        ? "inputTokens"
        : "outputTokens";
    return {
      "anthropic-ratelimit-requests-limit": String(this.limits.requests),
      "anthropic-ratelimit-requests-remaining": String(requestsRemaining),
      "anthropic-ratelimit-requests-reset": reset,
      "anthropic-ratelimit-tokens-limit": String(this.limits[tightest]),
      "anthropic-ratelimit-tokens-remaining": String(remaining(tightest)),
      "anthropic-ratelimit-tokens-reset": reset,
      "anthropic-ratelimit-input-tokens-limit": String(this.limits.inputTokens),
      "anthropic-ratelimit-input-tokens-remaining": String(remaining("inputTokens")),
      "anthropic-ratelimit-input-tokens-reset": reset,
      "anthropic-ratelimit-output-tokens-limit": String(this.limits.outputTokens),
      "anthropic-ratelimit-output-tokens-remaining": String(remaining("outputTokens")),
      "anthropic-ratelimit-output-tokens-reset": reset,
    };
  }

  #roll(): void {
    const windowStart = Math.floor(this.now() / WINDOW_MS) * WINDOW_MS;
    if (windowStart === this.#windowStart) return;
    this.#windowStart = windowStart;
    this.#used = { requests: 0, inputTokens: 0, outputTokens: 0 };
  }
}
