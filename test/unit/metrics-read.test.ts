import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { unitRedis as redis } from "./fixtures/redis.js";
import { seriesOverTime } from "../../shared/metrics/aggregate.js";
import { bucketOf, TOKENS_PER_SECOND, TTFT_MS } from "../../shared/metrics/histogram.js";
import { IsolateMetrics } from "../../shared/metrics/isolate-view.js";
import { prometheusText } from "../../shared/metrics/prometheus.js";
import { hashesRead, parseMetricsQuery, runMetricsQuery } from "../../shared/metrics/query.js";
import { RecentFirstTokens } from "../../shared/metrics/recent-first-tokens.js";
import { HOURLY_RETENTION_MS, type Increments, METRICS_RETENTION_MS, minuteOf, refusalField, type RequestSample, sampleIncrements } from "../../shared/metrics/samples.js";
import { DIMENSIONS, type Projection, projectFields } from "../../shared/metrics/series.js";
import { MetricsStore } from "../../shared/metrics/store.js";
import { redisKeys } from "../../shared/storage/keys.js";
import { scheduled } from "../../functions/gateway/scheduled.js";
import type { GatewayEnv } from "../../shared/config/env.js";
import { applyMetrics, settleMetrics } from "./fixtures/metrics-writes.js";

const store = new MetricsStore(redis);
/** A store whose reads are counted: the hashes its scripts read and the fields they held (HLEN). */
const counting = (() => {
  const keysRead: string[] = [];
  const spy = new Proxy(redis, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name !== "evalsha" && name !== "eval") return typeof value === "function" ? value.bind(target) : value;
      return (script: string, keys: string[], args: string[]) => {
        keysRead.push(...keys);
        return value.call(target, script, keys, args);
      };
    },
  });
  const fieldsScanned = async () => {
    const lengths = await Promise.all([...new Set(keysRead)].map((key) => redis.hlen(key)));
    return lengths.reduce((sum, length) => sum + Number(length), 0);
  };
  return { store: new MetricsStore(spy), keysRead, fieldsScanned };
})();
const EVERY_SERIES: Projection = { filter: { region: null, tenant: null, model: null, provider: null }, metricPrefixes: [], keep: DIMENSIONS };

function sample(region: string, fields: Partial<RequestSample> = {}): RequestSample {
  return {
    dimensions: { region, tenant: "acme", model: "claude-sonnet-4-6", provider: "anthropic" },
    outcome: "completed",
    tier: "standard",
    ttftMs: 420,
    outputTokensPerSecond: 80,
    upstreamError: null,
    headStart: false,
    inputTokens: 100,
    outputTokens: 50,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costMicroUsd: 1_050,
    strongestCostMicroUsd: 1_750,
    ...fields,
  };
}

/** Writes samples' increments as a settlement on the primary does. */
async function write(minute: number, samples: RequestSample[]): Promise<void> {
  for (const one of samples) await settleMetrics(redis, minute, sampleIncrements(one));
}

describe("stored metrics", () => {
  it("are read per minute, filtered and summed over the dimensions not kept, on the server, within a field limit", async () => {
    const region = `r-${crypto.randomUUID().slice(0, 6)}`;
    const minute = 20_000_000 + Math.floor(Math.random() * 1_000);
    await write(minute, [sample(region), sample(region, { dimensions: { region, tenant: "other", model: "claude-sonnet-4-6", provider: "vertex:europe-west1" } })]);
    await write(minute + 1, [sample(region, { outcome: "upstream_error", ttftMs: null, outputTokensPerSecond: null, upstreamError: "529", outputTokens: 0 })]);
    await write(minute, [sample("elsewhere")]);

    const periods = await store.minutes(minute, minute + 1, { ...EVERY_SERIES, filter: { ...EVERY_SERIES.filter, region }, keep: ["region", "model"] }, 1_000);
    expect(periods.map((period) => period.startMs)).toEqual([minute * 60_000, (minute + 1) * 60_000]);
    const first = periods[0]!.fields;
    expect(first.get(`${region}|*|claude-sonnet-4-6|*|requests:completed`)).toBe(2);
    expect(first.get(`${region}|*|claude-sonnet-4-6|*|input_tokens`)).toBe(200);
    expect(first.get(`${region}|*|claude-sonnet-4-6|*|ttft:${bucketOf(TTFT_MS, 420)}`)).toBe(2);
    expect([...first.keys()].every((field) => field.startsWith(`${region}|*|`))).toBe(true);
    expect(periods[1]!.fields.get(`${region}|*|claude-sonnet-4-6|*|upstream_errors:529`)).toBe(1);

    const limited = await store.minutes(minute, minute, { ...EVERY_SERIES, filter: { ...EVERY_SERIES.filter, region }, metricPrefixes: ["ttft:", "tps:"] }, 3);
    expect(limited[0]!.fields.size).toBe(3);
    expect(limited[0]!.dropped).toBe(1);
    // The same projection over fields in memory (this isolate's view) gives the same answer.
    const raw = new Map(Object.entries((await redis.hgetall<Record<string, number>>(redisKeys.metricsMinute(minute)))!).map(([field, value]) => [field, Number(value)]));
    const inMemory = projectFields(raw, { ...EVERY_SERIES, filter: { ...EVERY_SERIES.filter, region }, keep: ["region", "model"] }, 1_000);
    expect(inMemory.fields).toEqual(first);
  });

  it("are kept per minute, per hour and in total, each in full, per tenant and pooled, alike from a settlement and a region's record", async () => {
    const region = `r-${crypto.randomUUID().slice(0, 6)}`;
    const minute = 20_100_000 + Math.floor(Math.random() * 1_000) * 60 + 59;
    const tenants = [`a-${region}`, `b-${region}`];
    const ofTenant = (tenant: string, fields: Partial<RequestSample> = {}) => sample(region, { dimensions: { region, tenant, model: "claude-sonnet-4-6", provider: "anthropic" }, ...fields });
    await settleMetrics(redis, minute, sampleIncrements(ofTenant(tenants[0]!)));
    await applyMetrics(redis, region, minute, sampleIncrements(ofTenant(tenants[1]!, { ttftMs: 3_000 })));
    await applyMetrics(redis, region, minute, [[refusalField(region, tenants[1]!, "rate"), 1]]);

    const hour = Math.floor(minute / 60);
    const mine = { ...EVERY_SERIES, filter: { ...EVERY_SERIES.filter, region } };
    for (const [read, full] of [
      [(projection: Projection) => store.minutes(minute, minute, projection, 1_000).then(([period]) => period!.fields), redisKeys.metricsMinute(minute)],
      [(projection: Projection) => store.hours(hour, hour, projection, 1_000).then(([period]) => period!.fields), redisKeys.metricsHour(hour)],
      [(projection: Projection) => store.totals(projection, 100_000).then((totals) => totals.fields), redisKeys.metricsTotal()],
    ] as const) {
      const everything = await read(mine);
      expect(everything.get(`${region}|${tenants[1]}|-|-|refused:rate`)).toBe(1);
      // Pooled: the full hash summed over tenants.
      const pooled = await read({ ...mine, keep: ["region", "model", "provider"] });
      expect(pooled).toEqual(projectFields(everything, { ...mine, keep: ["region", "model", "provider"] }, 1_000).fields);
      expect(pooled.get(`${region}|*|claude-sonnet-4-6|anthropic|requests:completed`)).toBe(2);
      // Each tenant's own hash: exactly its part of the full one.
      for (const tenant of tenants) {
        const own = await read({ ...mine, filter: { ...mine.filter, tenant } });
        expect(own).toEqual(new Map([...everything].filter(([field]) => field.split("|")[1] === tenant)));
        expect(own.size).toBeGreaterThan(5);
      }
      const stored = (await redis.hgetall<Record<string, number>>(redisKeys.metricsOfTenant(full, tenants[0]!))) ?? {};
      expect(Object.keys(stored).every((field) => field.startsWith(`${region}|${tenants[0]}|`))).toBe(true);
    }
    // Minutes expire after their retention, hours after theirs, totals never.
    const ttl = async (key: string) => Number(await redis.pttl(key));
    for (const key of [redisKeys.metricsMinute(minute), redisKeys.metricsPooled(redisKeys.metricsMinute(minute)), redisKeys.metricsOfTenant(redisKeys.metricsMinute(minute), tenants[1]!)]) {
      expect(await ttl(key)).toBeGreaterThan(METRICS_RETENTION_MS - 60_000);
      expect(await ttl(key)).toBeLessThanOrEqual(METRICS_RETENTION_MS);
    }
    for (const key of [redisKeys.metricsHour(hour), redisKeys.metricsPooled(redisKeys.metricsHour(hour)), redisKeys.metricsOfTenant(redisKeys.metricsHour(hour), tenants[0]!)]) {
      expect(await ttl(key)).toBeGreaterThan(HOURLY_RETENTION_MS - 60_000);
    }
    expect(await ttl(redisKeys.metricsPooled(redisKeys.metricsTotal()))).toBe(-1);
  });

  it("land in their hour when a region's record arrives long after its minute", async () => {
    const region = `r-${crypto.randomUUID().slice(0, 6)}`;
    const hour = Math.floor(Date.now() / 3_600_000) - 5;
    await applyMetrics(redis, region, hour * 60 + 7, sampleIncrements(sample(region)));
    const [rollup] = await store.hours(hour, hour, { ...EVERY_SERIES, filter: { ...EVERY_SERIES.filter, region }, keep: [] }, 1_000);
    expect(rollup!.fields.get("*|*|*|*|requests:completed")).toBe(1);
    expect(rollup!.startMs).toBe(hour * 3_600_000);
    const answer = await runMetricsQuery(parseMetricsQuery(new URLSearchParams({ window: "24h", region, group: "" })), store, new IsolateMetrics(), Date.now());
    expect(answer.series[0]!.values["requests:completed"]!.reduce<number>((sum, value) => sum + (value ?? 0), 0)).toBe(1);
  });

  it("count once in their hour: the Cron Trigger adds nothing to it (hours are written at settlement)", async () => {
    const region = `r-${crypto.randomUUID().slice(0, 6)}`;
    const now = Date.now();
    const minute = minuteOf(now) - 10;
    await write(minute, [sample(region)]);
    await redis.del(redisKeys.scheduledRun(minuteOf(now)));
    await scheduled({ scheduledTime: now, cron: "* * * * *", noRetry: () => {} }, env as unknown as GatewayEnv);
    const hour = Math.floor(minute / 60);
    const [rollup] = await store.hours(hour, hour, { ...EVERY_SERIES, filter: { ...EVERY_SERIES.filter, region }, keep: [] }, 1_000);
    expect(rollup!.fields.get("*|*|*|*|requests:completed")).toBe(1);
  });

  it("are read by a tenant from its own hashes only: another tenant's 10,000 fields cost it nothing", async () => {
    const region = `r-${crypto.randomUUID().slice(0, 6)}`;
    // One moment for every read: a minute boundary between them would move the window.
    const now = Date.now();
    const minute = minuteOf(now);
    const tenant = `t-${region}`;
    await write(minute, [sample(region, { dimensions: { region, tenant, model: "claude-sonnet-4-6", provider: "anthropic" } })]);
    const query = parseMetricsQuery(new URLSearchParams({ window: "5m" }), tenant);
    const before = await runMetricsQuery(query, counting.store, new IsolateMetrics(), now);
    const scannedBefore = await counting.fieldsScanned();

    // A big neighbour: 10,000 fields of its own in the same minute.
    const big: Increments = Array.from({ length: 10_000 }, (_, index) => [`${region}|big|model-${index % 100}|anthropic|ttft:${index}`, 1]);
    for (let at = 0; at < big.length; at += 1_000) await settleMetrics(redis, minute, big.slice(at, at + 1_000));
    expect(Number(await redis.hlen(redisKeys.metricsMinute(minute)))).toBeGreaterThan(10_000);

    const after = await runMetricsQuery(query, counting.store, new IsolateMetrics(), now);
    expect(after.series).toEqual(before.series);
    expect(await counting.fieldsScanned()).toBe(scannedBefore);
    expect(counting.keysRead.every((key) => key.includes(`:t:${tenant}`))).toBe(true);
    // The operator's pooled view (no tenant breakdown) reads the pooled hashes: the neighbour's fields, summed.
    counting.keysRead.length = 0;
    await runMetricsQuery(parseMetricsQuery(new URLSearchParams({ window: "5m", region, group: "region,model" })), counting.store, new IsolateMetrics(), now);
    expect(counting.keysRead.every((key) => key.endsWith(":p"))).toBe(true);
  });
});

describe("an export", () => {
  const region = "us-east";
  const fields = new Map<string, number>();
  for (const ttftMs of [100, 200, 300, 400, 2_000]) for (const [field, amount] of sampleIncrements(sample(region, { ttftMs }))) fields.set(field, (fields.get(field) ?? 0) + amount);
  fields.set(`${region}|acme|-|-|refused:rate`, 2);

  it("is Prometheus text: counters, savings, cumulative histogram buckets with _sum and _count", async () => {
    const { series } = seriesOverTime([fields], 10);
    const text = prometheusText({ source: "totals", times: [], step_seconds: null, window_seconds: null, histograms: { ttft_ms: TTFT_MS.bounds, tokens_per_second: TOKENS_PER_SECOND.bounds }, series, truncated: { series: 0, fields: 0 } });
    const labels = 'region="us-east",tenant="acme",model="claude-sonnet-4-6",provider="anthropic"';
    expect(text).toContain("# TYPE edgegate_requests_total counter");
    expect(text).toContain(`edgegate_requests_total{${labels},outcome="completed"} 5`);
    expect(text).toContain(`edgegate_cost_usd_total{${labels}} 0.00525`);
    expect(text).toContain(`edgegate_routing_savings_usd_total{${labels}} 0.0035`);
    expect(text).toContain(`edgegate_refusals_total{region="us-east",tenant="acme",model="-",provider="-",kind="rate"} 2`);
    expect(text).toContain("# TYPE edgegate_time_to_first_token_seconds histogram");
    expect(text).toContain(`edgegate_time_to_first_token_seconds_bucket{${labels},le="+Inf"} 5`);
    expect(text).toContain(`edgegate_time_to_first_token_seconds_sum{${labels}} 3`);
    expect(text).toContain(`edgegate_time_to_first_token_seconds_count{${labels}} 5`);
    const buckets = [...text.matchAll(/edgegate_time_to_first_token_seconds_bucket\{[^}]*le="([\d.]+)"\} (\d+)/g)].map((match) => [Number(match[1]), Number(match[2])] as const);
    expect(buckets.length).toBe(TTFT_MS.bounds.length);
    for (let index = 1; index < buckets.length; index++) expect(buckets[index]![1]).toBeGreaterThanOrEqual(buckets[index - 1]![1]);
    expect(buckets.find(([le]) => le >= 0.4)![1]).toBe(4);
  });

  it("reads this isolate's memory with the same query, and bounds windows, steps and groups", async () => {
    const isolate = new IsolateMetrics();
    const now = Date.now();
    isolate.record(Math.floor(now / 60_000), [...fields]);
    const query = parseMetricsQuery(new URLSearchParams({ source: "isolate", window: "5m", group: "region" }), "acme");
    const answer = await runMetricsQuery(query, store, isolate, now);
    expect(answer.source).toBe("isolate");
    expect(answer.times).toHaveLength(5);
    const [only] = answer.series;
    expect(only).toMatchObject({ region, tenant: "*", model: "*", provider: "*" });
    expect(only!.values["requests:completed"]).toEqual([0, 0, 0, 0, 5]);
    expect(only!.window.ttft_ms.p50).toBe(TTFT_MS.bounds[bucketOf(TTFT_MS, 300)]);
    const other = await runMetricsQuery(parseMetricsQuery(new URLSearchParams({ source: "isolate" }), "someone-else"), store, isolate, now);
    expect(other.series).toEqual([]);

    for (const [params, message] of [
      [{ window: "9d" }, /window/],
      [{ window: "6h", step: "30s" }, /window|step/],
      [{ window: "1h", step: "1h30m" }, /step/],
      [{ window: "24h", step: "1m" }, /step/],
      [{ group: "colour" }, /group/],
      [{ limit: "100000" }, /limit/],
      [{ tenant: "a|b" }, /tenant/],
    ] as const) {
      expect(() => parseMetricsQuery(new URLSearchParams(params)), JSON.stringify(params)).toThrow(message);
    }
    expect(parseMetricsQuery(new URLSearchParams({ window: "24h" })).window).toEqual({ minutes: 1_440, stepMinutes: 60, unit: "hour" });
    expect(parseMetricsQuery(new URLSearchParams({ window: "6h" })).window).toEqual({ minutes: 360, stepMinutes: 1, unit: "minute" });
    // A tenant's own query reads minutes for an hour at most, hours beyond, and is charged by the hashes it reads.
    const own = (params: Record<string, string>) => parseMetricsQuery(new URLSearchParams(params), "acme");
    expect(own({ window: "6h" }).window).toEqual({ minutes: 360, stepMinutes: 60, unit: "hour" });
    expect(() => own({ window: "6h", step: "1m" })).toThrow(/windows over 1h are read by the hour/);
    expect([own({}), own({ window: "1h" }), own({ window: "6h" }), own({ window: "8d" }), own({ source: "isolate" })].map(hashesRead)).toEqual([1, 60, 6, 192, 0]);
    expect(hashesRead(parseMetricsQuery(new URLSearchParams({ window: "6h" })))).toBe(360);
  });
});

describe("recent first tokens (SLO routing)", () => {
  it("answer a model's p95 in this region from this isolate's own requests once enough tell, before the stored figures are read", () => {
    const view = new RecentFirstTokens("us-east", store, { windowMinutes: 5, refreshMs: 60_000, minSamples: 10 });
    const now = Date.now();
    for (let i = 0; i < 9; i++) view.record(sampleIncrements(sample("us-east", { ttftMs: 900 })), now);
    view.record(sampleIncrements(sample("eu-west", { ttftMs: 50 })), now);
    expect(view.p95("claude-sonnet-4-6", now + 1)).toBeNull();
    view.record(sampleIncrements(sample("us-east", { ttftMs: 100 })), now);
    expect(view.p95("claude-sonnet-4-6", now + 1)).toBe(TTFT_MS.bounds[bucketOf(TTFT_MS, 900)]);
    expect(view.p95("claude-haiku-4-5", now + 1)).toBeNull();
    // Answers may name the dated id of the model routing chose.
    for (let i = 0; i < 10; i++) view.record(sampleIncrements(sample("us-east", { ttftMs: 300, dimensions: { region: "us-east", tenant: "acme", model: "claude-haiku-4-5-20251001", provider: "anthropic" } })), now);
    expect(view.p95("claude-haiku-4-5", now + 1)).toBe(TTFT_MS.bounds[bucketOf(TTFT_MS, 300)]);
    // Out of the window, they no longer count.
    expect(view.p95("claude-sonnet-4-6", now + 6 * 60_000)).toBeNull();
  });
});
