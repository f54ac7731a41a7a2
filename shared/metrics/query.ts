import { GatewayError } from "../http/errors.js";
import { addFields, type SeriesOverTime, seriesOverTime } from "./aggregate.js";
import { TOKENS_PER_SECOND, TTFT_MS } from "./histogram.js";
import { ISOLATE_MINUTES, type IsolateMetrics } from "./isolate-view.js";
import { minuteOf } from "./samples.js";
import { type Dimension, DIMENSIONS, type Projection, projectFields } from "./series.js";
import type { MetricsStore, Period } from "./store.js";

/**
 * Query bounds: windows read at most this many minute hashes, or hours beyond. A tenant's
 * own query (GET /v1/metrics) reads only its own hashes (metrics/store.ts), reads minutes
 * for at most an hour and hours beyond, and counts in its request limit as one request per
 * `hashesPerRequest` hashes it reads, so what it makes the primary do grows with its limit.
 */
export const QUERY_LIMITS = {
  minuteWindowMax: 6 * 60,
  tenantMinuteWindowMax: 60,
  hashesPerRequest: 60,
  hourWindowMax: 8 * 24,
  maxPoints: 360,
  defaultSeries: 500,
  maxSeries: 5_000,
  /** Fields one projected hash may answer. */
  fieldsPerHash: 50_000,
} as const;

export interface MetricsQuery {
  /** "stored": the primary's hashes (every isolate and region); "isolate": this isolate's memory. */
  source: "stored" | "isolate";
  /** Null: the running totals (stored only). */
  window: { minutes: number; stepMinutes: number; unit: "minute" | "hour" } | null;
  projection: Projection;
  maxSeries: number;
}

export interface MetricsAnswer {
  source: "totals" | "minutes" | "hours" | "isolate";
  /** Start of each step (s since the epoch); empty for totals. */
  times: number[];
  step_seconds: number | null;
  window_seconds: number | null;
  histograms: { ttft_ms: readonly number[]; tokens_per_second: readonly number[] };
  series: SeriesOverTime[];
  /** Series and fields left out by the query's bounds. */
  truncated: { series: number; fields: number };
}

const DURATION = /^(\d{1,4})([mhd])$/;
const UNIT_MINUTES = { m: 1, h: 60, d: 1_440 } as const;

function minutesOf(name: string, raw: string): number {
  const match = DURATION.exec(raw);
  if (!match) throw invalid(`${name}: "${raw.slice(0, 20)}" is not a duration; use minutes, hours or days such as 15m, 6h, 2d.`);
  return Number(match[1]) * UNIT_MINUTES[match[2] as keyof typeof UNIT_MINUTES];
}

function invalid(message: string): GatewayError {
  return new GatewayError("invalid_request_error", message);
}

/**
 * Reads a query from URL parameters: window (15m, 6h, 2d; none = the running totals),
 * step, source (stored | isolate), region / tenant / model / provider filters, group
 * (the dimensions kept apart), limit (series). `tenant`, when given, is forced (a
 * tenant's own view).
 */
export function parseMetricsQuery(params: URLSearchParams, forcedTenant: string | null = null): MetricsQuery {
  const source = params.get("source") ?? "stored";
  if (source !== "stored" && source !== "isolate") throw invalid(`source: use "stored" (every isolate and region) or "isolate" (this isolate's memory).`);
  const rawWindow = params.get("window");
  let window: MetricsQuery["window"] = null;
  if (rawWindow !== null || source === "isolate") {
    const minutes = minutesOf("window", rawWindow ?? "15m");
    const limit = source === "isolate" ? ISOLATE_MINUTES : QUERY_LIMITS.hourWindowMax * 60;
    if (minutes < 1 || minutes > limit) throw invalid(`window: at most ${limit / 60} hour${limit === 60 ? "" : "s"}${source === "isolate" ? " for this isolate's memory" : ""}.`);
    const minuteWindowMax = forcedTenant === null ? QUERY_LIMITS.minuteWindowMax : QUERY_LIMITS.tenantMinuteWindowMax;
    const unit = source === "stored" && minutes > minuteWindowMax ? "hour" : "minute";
    const unitMinutes = unit === "hour" ? 60 : 1;
    const rawStep = params.get("step");
    const fewestSteps = Math.ceil(minutes / QUERY_LIMITS.maxPoints / unitMinutes) * unitMinutes;
    const stepMinutes = rawStep === null ? Math.max(fewestSteps, unitMinutes) : minutesOf("step", rawStep);
    if (stepMinutes % unitMinutes !== 0 || stepMinutes < fewestSteps || stepMinutes > minutes) {
      throw invalid(`step: a multiple of 1${unit === "hour" ? `h (windows over ${minuteWindowMax / 60}h are read by the hour)` : "m"}, between ${fewestSteps}m (at most ${QUERY_LIMITS.maxPoints} points) and the window.`);
    }
    window = { minutes, stepMinutes, unit };
  }
  const filter = Object.fromEntries(DIMENSIONS.map((dimension) => [dimension, boundedLabel(dimension, params.get(dimension))])) as Record<Dimension, string | null>;
  if (forcedTenant !== null) filter.tenant = forcedTenant;
  const group = params.get("group");
  const keep = group === null ? DIMENSIONS : group === "" ? [] : group.split(",").map((name) => name.trim());
  for (const dimension of keep) {
    if (!DIMENSIONS.includes(dimension as Dimension)) throw invalid(`group: "${dimension.slice(0, 20)}" is not one of ${DIMENSIONS.join(", ")}.`);
  }
  const rawLimit = params.get("limit");
  const maxSeries = rawLimit === null ? QUERY_LIMITS.defaultSeries : Number(rawLimit);
  if (!Number.isInteger(maxSeries) || maxSeries < 1 || maxSeries > QUERY_LIMITS.maxSeries) throw invalid(`limit: a number of series from 1 to ${QUERY_LIMITS.maxSeries}.`);
  return { source, window, projection: { filter, metricPrefixes: [], keep: keep as Dimension[] }, maxSeries };
}

function boundedLabel(name: string, value: string | null): string | null {
  if (value === null || value === "") return null;
  if (value.length > 200 || value.includes("|")) throw invalid(`${name}: at most 200 characters, without "|".`);
  return value;
}

/** How many stored hashes a query reads (none for this isolate's memory). */
export function hashesRead(query: MetricsQuery): number {
  if (query.source === "isolate") return 0;
  if (!query.window) return 1;
  const { minutes, stepMinutes, unit } = query.window;
  return (Math.ceil(minutes / stepMinutes) * stepMinutes) / (unit === "hour" ? 60 : 1);
}

/** Runs a query against the stored metrics or this isolate's memory. */
export async function runMetricsQuery(query: MetricsQuery, store: MetricsStore, isolate: IsolateMetrics, now: number): Promise<MetricsAnswer> {
  const histograms = { ttft_ms: TTFT_MS.bounds, tokens_per_second: TOKENS_PER_SECOND.bounds };
  const limit = QUERY_LIMITS.fieldsPerHash;
  if (!query.window) {
    const totals = await store.totals(query.projection, limit);
    const { series, droppedSeries } = seriesOverTime([totals.fields], query.maxSeries);
    return { source: "totals", times: [], step_seconds: null, window_seconds: null, histograms, series, truncated: { series: droppedSeries, fields: totals.dropped } };
  }
  const { minutes, stepMinutes, unit } = query.window;
  const unitMinutes = unit === "hour" ? 60 : 1;
  const stepUnits = stepMinutes / unitMinutes;
  const points = Math.ceil(minutes / stepMinutes);
  const last = Math.floor(minuteOf(now) / unitMinutes);
  const first = last - points * stepUnits + 1;
  let periods: Period[];
  if (query.source === "isolate") {
    periods = isolate.range(first, last).map(({ startMs, fields }) => ({ startMs, ...projectFields(fields, query.projection, limit) }));
  } else {
    periods = unit === "hour" ? await store.hours(first, last, query.projection, limit) : await store.minutes(first, last, query.projection, limit);
  }
  const steps = Array.from({ length: points }, (_, index) => periods.slice(index * stepUnits, (index + 1) * stepUnits));
  const { series, droppedSeries } = seriesOverTime(
    steps.map((step) => step.reduce((sum, period) => addFields(sum, period.fields), new Map<string, number>())),
    query.maxSeries,
  );
  return {
    source: query.source === "isolate" ? "isolate" : unit === "hour" ? "hours" : "minutes",
    times: steps.map((step) => step[0]!.startMs / 1000),
    step_seconds: stepMinutes * 60,
    window_seconds: points * stepMinutes * 60,
    histograms,
    series,
    truncated: {
      series: droppedSeries,
      fields: periods.reduce((sum, period) => sum + period.dropped, query.source === "isolate" ? isolate.dropped : 0),
    },
  };
}
