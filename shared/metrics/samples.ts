import type { Tier } from "../classify/types.js";
import { bucketOf, TOKENS_PER_SECOND, TTFT_MS } from "./histogram.js";

/**
 * Metrics are counters in Redis hashes, one field per series: "<dimensions>|<metric>",
 * dimensions "<region>|<tenant>|<model>|<provider>" ("-" where one does not apply).
 * Per-minute hashes (for charts, rates and alerts) and a cumulative one (for scrapers)
 * get the same increments, in the writes that already happen: the settlement, and the
 * admission script for refusals. Histogram metrics are "ttft:<bucket>" and "tps:<bucket>",
 * with their sums beside them ("ttft_ms_sum" in whole ms, "tps_milli_sum" in thousandths
 * of a token per second: Redis counters are integers) for exporters' _sum.
 */
export interface SeriesDimensions {
  region: string;
  tenant: string;
  model: string;
  provider: string;
}

/** What the pipeline knows of a request's end, for its metrics (the ledger adds usage and cost). */
export interface RequestReport {
  dimensions: SeriesDimensions;
  /** The relay's ending ("completed", "client_disconnected", ...), or "upstream_error" / "error" before any byte. */
  outcome: string;
  tier: Tier;
  /** From the request's arrival to its first token at the gateway (null: none came). */
  ttftMs: number | null;
  outputTokensPerSecond: number | null;
  /** The upstream error type or status when the answer was an error ("overloaded_error", "529"...). */
  upstreamError: string | null;
  /** The upstream call started before its admission was decided. */
  headStart: boolean;
}

/** A request's report with its usage and cost: what it adds to the metrics. */
export interface RequestSample extends RequestReport {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costMicroUsd: number;
  strongestCostMicroUsd: number;
}

export type Increments = Array<[field: string, amount: number]>;

export function seriesPrefix(dimensions: SeriesDimensions): string {
  return [dimensions.region, dimensions.tenant, dimensions.model || "-", dimensions.provider || "-"].join("|");
}

export function sampleIncrements(sample: RequestSample): Increments {
  const prefix = seriesPrefix(sample.dimensions);
  const increments: Increments = [
    [`${prefix}|requests:${sample.outcome}`, 1],
    [`${prefix}|tier:${sample.tier}`, 1],
    [`${prefix}|input_tokens`, sample.inputTokens],
    [`${prefix}|output_tokens`, sample.outputTokens],
    [`${prefix}|cache_read_tokens`, sample.cacheReadTokens],
    [`${prefix}|cache_write_tokens`, sample.cacheWriteTokens],
    [`${prefix}|cost_micro_usd`, sample.costMicroUsd],
    [`${prefix}|strongest_cost_micro_usd`, sample.strongestCostMicroUsd],
  ];
  if (sample.ttftMs !== null) {
    increments.push([`${prefix}|ttft:${bucketOf(TTFT_MS, sample.ttftMs)}`, 1], [`${prefix}|ttft_ms_sum`, Math.round(sample.ttftMs)]);
  }
  if (sample.outputTokensPerSecond !== null) {
    increments.push(
      [`${prefix}|tps:${bucketOf(TOKENS_PER_SECOND, sample.outputTokensPerSecond)}`, 1],
      [`${prefix}|tps_milli_sum`, Math.round(sample.outputTokensPerSecond * 1000)],
    );
  }
  if (sample.upstreamError) increments.push([`${prefix}|upstream_errors:${sample.upstreamError}`, 1]);
  if (sample.headStart) increments.push([`${prefix}|head_starts`, 1]);
  return increments.filter(([, amount]) => amount !== 0);
}

/** Refusals the admission scripts count: "<region>|<tenant>|-|-|refused:<kind>" ("" for the prefix). */
export type RefusalKind = "rate" | "budget" | "head_start" | "";

export function refusalField(region: string, tenant: string, kind: RefusalKind): string {
  return `${region}|${tenant}|-|-|refused:${kind}`;
}

/** The per-minute hash a moment falls in (UTC minute since the epoch). */
export function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000);
}

/**
 * Per-minute metrics are kept this long: the longest read of minutes is an alert's window
 * (at most 60 minutes) with the refusal baseline before it (at most 360; alerts/settings.ts),
 * longer than a query's (6 hours; query.ts), with a few minutes to spare. Longer reads use hours.
 */
export const METRICS_RETENTION_MS = (60 + 360 + 10) * 60_000;

/** Hourly metrics are kept this long (charts over a week, baselines of up to a week). */
export const HOURLY_RETENTION_MS = 8 * 24 * 3_600_000;
