import { canonicalModel } from "../pricing/cost.js";
import { histogramCount, quantile, TTFT_MS } from "./histogram.js";
import { type Increments, minuteOf } from "./samples.js";
import { parseField } from "./series.js";
import type { MetricsStore } from "./store.js";

export interface FirstTokenTuning {
  /** The recent window the p95 is taken over (whole minutes: the stored figures are per minute). */
  windowMinutes: number;
  /** How old the stored figures may get before a request starts a refresh (off its critical path). */
  refreshMs: number;
  /** Fewer first tokens than this in the window tell nothing: no p95. */
  minSamples: number;
}

/** First tokens this isolate saw since the stored figures were read, kept at most this many. */
const MAX_LOCAL_SAMPLES = 5_000;
/** Models one region's stored figures may name. */
const MAX_MODELS = 200;

/**
 * Each model's recent p95 time to first token in this region, for SLO-aware routing,
 * without a storage call on any request's critical path: the region's per-minute figures
 * (every isolate's requests, from the primary) are read in the background when they
 * are older than refreshMs, and this isolate's own first tokens since that read are
 * added from memory. Models are matched without a date suffix: the answer may name the
 * dated id of the model routing chose (claude-haiku-4-5-20251001 for claude-haiku-4-5).
 */
export class RecentFirstTokens {
  private stored: { readAt: number; minutes: Map<number, Map<string, Map<number, number>>> } | null = null;
  private local: Array<{ at: number; model: string; bucket: number }> = [];
  private refreshing: Promise<void> | null = null;
  private lastAttemptAt = -Infinity;

  constructor(
    private readonly region: string,
    private readonly store: MetricsStore,
    private readonly tuning: FirstTokenTuning,
  ) {}

  /** Notes the first token of a request this isolate settled (its metric increments). */
  record(increments: Increments, now = Date.now()): void {
    for (const [field, count] of increments) {
      const parsed = parseField(field);
      if (!parsed || parsed.name !== "ttft" || parsed.region !== this.region) continue;
      for (let i = 0; i < count; i++) this.local.push({ at: now, model: canonicalModel(parsed.model), bucket: Number(parsed.label) });
    }
    if (this.local.length > MAX_LOCAL_SAMPLES) this.local.splice(0, this.local.length - MAX_LOCAL_SAMPLES);
  }

  /**
   * The p95 reader for one request: answers from memory at once, and starts a refresh
   * (kept alive by `waitUntil`) when the stored figures are stale.
   */
  reader(waitUntil: (work: Promise<unknown>) => void, now = Date.now()): (model: string) => number | null {
    if (!this.refreshing && now - Math.max(this.stored?.readAt ?? -Infinity, this.lastAttemptAt) > this.tuning.refreshMs) {
      this.lastAttemptAt = now;
      this.refreshing = this.refresh(now).finally(() => {
        this.refreshing = null;
      });
      waitUntil(this.refreshing.catch((error: unknown) => console.error(`first-token figures not refreshed: ${String(error)}`)));
    }
    return (model) => this.p95(model, now);
  }

  p95(routed: string, now = Date.now()): number | null {
    const model = canonicalModel(routed);
    const last = minuteOf(now);
    const first = last - this.tuning.windowMinutes + 1;
    const counts = new Map<number, number>();
    const add = (bucket: number, count: number) => counts.set(bucket, (counts.get(bucket) ?? 0) + count);
    for (const [minute, models] of this.stored?.minutes ?? []) {
      if (minute < first) continue;
      for (const [bucket, count] of models.get(model) ?? []) add(bucket, count);
    }
    const since = Math.max(this.stored?.readAt ?? -Infinity, first * 60_000);
    for (const sample of this.local) if (sample.at > since && sample.model === model) add(sample.bucket, 1);
    return histogramCount(counts) < this.tuning.minSamples ? null : quantile(TTFT_MS, counts, 0.95);
  }

  private async refresh(now: number): Promise<void> {
    const last = minuteOf(now);
    const periods = await this.store.minutes(
      last - this.tuning.windowMinutes + 1,
      last,
      { filter: { region: this.region, tenant: null, model: null, provider: null }, metricPrefixes: ["ttft:"], keep: ["model"] },
      MAX_MODELS * TTFT_MS.bounds.length,
    );
    const minutes = new Map<number, Map<string, Map<number, number>>>();
    for (const { startMs, fields } of periods) {
      const models = new Map<string, Map<number, number>>();
      for (const [field, count] of fields) {
        const parsed = parseField(field);
        if (!parsed) continue;
        const model = canonicalModel(parsed.model);
        let buckets = models.get(model);
        if (!buckets) models.set(model, (buckets = new Map()));
        buckets.set(Number(parsed.label), (buckets.get(Number(parsed.label)) ?? 0) + count);
      }
      minutes.set(minuteOf(startMs), models);
    }
    this.stored = { readAt: now, minutes };
    this.local = this.local.filter((sample) => sample.at > now);
  }
}
