import type { MeteredResponse } from "../../../shared/metering/usage.js";
import { type RequestLog, round } from "../../../shared/observability/request-log.js";

export interface UpstreamTimings {
  upstreamTtfbMs: number;
  upstreamStartedAt: number;
  endedAt: number;
}

/** Adds what the meter observed to the request's log line: usage and timings, never content. */
export function logMetered(log: RequestLog, metered: MeteredResponse, timings: UpstreamTimings): void {
  const { usage } = metered;
  const generationMs = metered.firstTokenAt === null ? 0 : timings.endedAt - metered.firstTokenAt;
  log.set({
    model: metered.model,
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: usage.cacheCreationInputTokens,
    cache_read_input_tokens: usage.cacheReadInputTokens,
    stop_reason: metered.stopReason,
    usage_estimated: metered.estimated,
    upstream_error_type: metered.upstreamError?.type,
    upstream_ttfb_ms: round(timings.upstreamTtfbMs),
    ttft_ms: metered.firstTokenAt === null ? null : round(metered.firstTokenAt - timings.upstreamStartedAt),
    upstream_ms: round(timings.endedAt - timings.upstreamStartedAt),
    output_tokens_per_s: generationMs > 0 ? round((usage.outputTokens * 1000) / generationMs, 1) : null,
  });
}
