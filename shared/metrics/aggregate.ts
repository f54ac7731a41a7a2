import { type Histogram, histogramCount, quantile, TOKENS_PER_SECOND, TTFT_MS } from "./histogram.js";
import { type Dimensions, parseField, seriesKey } from "./series.js";

/** One series' figures over a period or a window: plain counters, and the two histograms' bucket counts. */
export interface SeriesFigures {
  dimensions: Dimensions;
  /** Every metric that is not a histogram bucket ("requests:completed", "cost_micro_usd", "refused:rate"...). */
  counters: Map<string, number>;
  ttft: Map<number, number>;
  tps: Map<number, number>;
}

/** Groups fields by series. */
export function bySeries(fields: ReadonlyMap<string, number>): Map<string, SeriesFigures> {
  const series = new Map<string, SeriesFigures>();
  for (const [field, value] of fields) {
    const parsed = parseField(field);
    if (!parsed) continue;
    const key = seriesKey(parsed);
    let figures = series.get(key);
    if (!figures) {
      const { region, tenant, model, provider } = parsed;
      figures = { dimensions: { region, tenant, model, provider }, counters: new Map(), ttft: new Map(), tps: new Map() };
      series.set(key, figures);
    }
    const histogram = parsed.name === "ttft" ? figures.ttft : parsed.name === "tps" ? figures.tps : null;
    if (histogram) histogram.set(Number(parsed.label), (histogram.get(Number(parsed.label)) ?? 0) + value);
    else figures.counters.set(parsed.metric, (figures.counters.get(parsed.metric) ?? 0) + value);
  }
  return series;
}

/** Adds fields into `into` (field by field). */
export function addFields(into: Map<string, number>, fields: ReadonlyMap<string, number>): Map<string, number> {
  for (const [field, value] of fields) into.set(field, (into.get(field) ?? 0) + value);
  return into;
}

/** Relay endings and failures that count as errors (with every upstream error, even in a completed stream). */
const NOT_ERRORS = new Set(["completed", "client_disconnected", "upstream_error"]);

/** Requests, errors and refusals of a series (errors: a failed ending, or an upstream error answer or event). */
export function requestCounts(counters: ReadonlyMap<string, number>): { requests: number; errors: number; refusals: number } {
  let requests = 0;
  let errors = 0;
  let refusals = 0;
  for (const [metric, value] of counters) {
    if (metric.startsWith("requests:")) {
      requests += value;
      if (!NOT_ERRORS.has(metric.slice("requests:".length))) errors += value;
    } else if (metric.startsWith("upstream_errors:")) errors += value;
    else if (metric.startsWith("refused:") && metric !== "refused:head_start") refusals += value;
  }
  return { requests, errors, refusals };
}

/** The quantiles charts and alerts use. */
function quantiles(histogram: Histogram, counts: ReadonlyMap<number, number>): { p50: number | null; p95: number | null; count: number } {
  return { p50: quantile(histogram, counts, 0.5), p95: quantile(histogram, counts, 0.95), count: histogramCount(counts) };
}

/** A series over a window: per step the counters and quantiles, and the window's totals. */
export interface SeriesOverTime {
  region: string;
  tenant: string;
  model: string;
  provider: string;
  /** Per metric one value per step (0 where nothing was counted; quantiles null without samples). */
  values: Record<string, Array<number | null>>;
  /** The whole window: every counter, and the histograms with their bucket counts. */
  window: WindowFigures;
}

export interface WindowFigures {
  counters: Record<string, number>;
  ttft_ms: HistogramFigures;
  tokens_per_second: HistogramFigures;
}

export interface HistogramFigures {
  p50: number | null;
  p95: number | null;
  count: number;
  /** Bucket index -> count (the bounds are in the answer's `histograms`). */
  buckets: Record<string, number>;
}

/** Metrics shown per step besides the counters. */
const DERIVED = ["ttft_p50_ms", "ttft_p95_ms", "tps_p50", "tps_p95"] as const;

/**
 * Turns projected periods (one per step, ascending) into series over time. Series are
 * ordered by requests in the window, most first; at most `maxSeries` are kept.
 */
export function seriesOverTime(steps: ReadonlyArray<ReadonlyMap<string, number>>, maxSeries: number): { series: SeriesOverTime[]; droppedSeries: number } {
  const perStep = steps.map((fields) => bySeries(fields));
  const keys = new Set(perStep.flatMap((step) => [...step.keys()]));
  const all = [...keys].map((key) => {
    const figures = perStep.map((step) => step.get(key) ?? null);
    const whole = mergeFigures(figures.flatMap((figure) => (figure ? [figure] : [])));
    return { key, figures, whole, requests: requestCounts(whole.counters).requests };
  });
  all.sort((a, b) => b.requests - a.requests || a.key.localeCompare(b.key));
  const kept = all.slice(0, maxSeries);
  return {
    droppedSeries: all.length - kept.length,
    series: kept.map(({ figures, whole }) => {
      const metrics = new Set(figures.flatMap((figure) => (figure ? [...figure.counters.keys()] : [])));
      const values: Record<string, Array<number | null>> = {};
      for (const metric of [...metrics].sort()) values[metric] = figures.map((figure) => figure?.counters.get(metric) ?? 0);
      const derived: Record<(typeof DERIVED)[number], Array<number | null>> = {
        ttft_p50_ms: figures.map((figure) => (figure ? quantile(TTFT_MS, figure.ttft, 0.5) : null)),
        ttft_p95_ms: figures.map((figure) => (figure ? quantile(TTFT_MS, figure.ttft, 0.95) : null)),
        tps_p50: figures.map((figure) => (figure ? quantile(TOKENS_PER_SECOND, figure.tps, 0.5) : null)),
        tps_p95: figures.map((figure) => (figure ? quantile(TOKENS_PER_SECOND, figure.tps, 0.95) : null)),
      };
      return { ...whole.dimensions, values: { ...values, ...derived }, window: windowFigures(whole) };
    }),
  };
}

function windowFigures(figures: SeriesFigures): WindowFigures {
  const histogram = (bounds: Histogram, counts: ReadonlyMap<number, number>): HistogramFigures => ({
    ...quantiles(bounds, counts),
    buckets: Object.fromEntries([...counts].sort(([a], [b]) => a - b).map(([bucket, count]) => [String(bucket), count])),
  });
  return {
    counters: Object.fromEntries([...figures.counters].sort(([a], [b]) => a.localeCompare(b))),
    ttft_ms: histogram(TTFT_MS, figures.ttft),
    tokens_per_second: histogram(TOKENS_PER_SECOND, figures.tps),
  };
}

function mergeFigures(parts: readonly SeriesFigures[]): SeriesFigures {
  const merged: SeriesFigures = { dimensions: parts[0]!.dimensions, counters: new Map(), ttft: new Map(), tps: new Map() };
  for (const part of parts) {
    addFields(merged.counters as Map<string, number>, part.counters);
    addBuckets(merged.ttft, part.ttft);
    addBuckets(merged.tps, part.tps);
  }
  return merged;
}

function addBuckets(into: Map<number, number>, counts: ReadonlyMap<number, number>): void {
  for (const [bucket, count] of counts) into.set(bucket, (into.get(bucket) ?? 0) + count);
}
