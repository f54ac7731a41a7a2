import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { parseJsonSetting } from "../../shared/config/json-setting.js";
import { IsolateMetrics } from "../../shared/metrics/isolate-view.js";
import { bucketOf, quantile, TOKENS_PER_SECOND, TTFT_MS } from "../../shared/metrics/histogram.js";
import { type Increments, type RequestSample, refusalField, sampleIncrements } from "../../shared/metrics/samples.js";

describe("histograms", () => {
  it("put a value in the first bucket whose bound is at least the value, each bound about 19% above the last", () => {
    expect(TTFT_MS.bounds[0]).toBe(10);
    for (let k = 1; k < TTFT_MS.bounds.length; k++) {
      expect(TTFT_MS.bounds[k]! / TTFT_MS.bounds[k - 1]!).toBeCloseTo(2 ** 0.25, 2);
    }
    expect(bucketOf(TTFT_MS, 5)).toBe(0);
    expect(bucketOf(TTFT_MS, 10)).toBe(0);
    expect(bucketOf(TTFT_MS, 10.01)).toBe(1);
    expect(bucketOf(TTFT_MS, 1e9)).toBe(TTFT_MS.bounds.length);
    expect(TOKENS_PER_SECOND.bounds.at(-1)).toBeGreaterThan(1_500);
  });

  it("give quantiles within one bucket of the exact value, merged from any split of the observations", () => {
    const values = Array.from({ length: 1_000 }, (_, i) => 100 + i * 3);
    const counts = new Map<number, number>();
    for (const value of values) counts.set(bucketOf(TTFT_MS, value), (counts.get(bucketOf(TTFT_MS, value)) ?? 0) + 1);
    for (const p of [0.5, 0.95]) {
      const exact = values[Math.ceil(p * values.length) - 1]!;
      const estimate = quantile(TTFT_MS, counts, p)!;
      expect(bucketOf(TTFT_MS, estimate)).toBe(bucketOf(TTFT_MS, exact));
    }
    expect(quantile(TTFT_MS, new Map(), 0.5)).toBeNull();
  });
});

describe("a request's increments", () => {
  it("name the series by region, tenant, model and provider, and skip what is zero", () => {
    const sample: RequestSample = {
      dimensions: { region: "eu-west", tenant: "acme", model: "claude-sonnet-4-6", provider: "vertex:europe-west1" },
      outcome: "completed",
      tier: "standard",
      ttftMs: 480,
      outputTokensPerSecond: 95,
      upstreamError: null,
      headStart: true,
      inputTokens: 12,
      outputTokens: 30,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costMicroUsd: 486,
      strongestCostMicroUsd: 810,
    };
    const series = "eu-west|acme|claude-sonnet-4-6|vertex:europe-west1";
    expect(Object.fromEntries(sampleIncrements(sample))).toEqual({
      [`${series}|requests:completed`]: 1,
      [`${series}|tier:standard`]: 1,
      [`${series}|input_tokens`]: 12,
      [`${series}|output_tokens`]: 30,
      [`${series}|cost_micro_usd`]: 486,
      [`${series}|strongest_cost_micro_usd`]: 810,
      [`${series}|ttft:${bucketOf(TTFT_MS, 480)}`]: 1,
      [`${series}|ttft_ms_sum`]: 480,
      [`${series}|tps:${bucketOf(TOKENS_PER_SECOND, 95)}`]: 1,
      [`${series}|tps_milli_sum`]: 95_000,
      [`${series}|head_starts`]: 1,
    });
    expect(refusalField("us-east", "acme", "budget")).toBe("us-east|acme|-|-|refused:budget");
  });
});

describe("the isolate's view", () => {
  it("holds at most 100,000 fields in all, letting the oldest minutes go first", () => {
    const view = new IsolateMetrics();
    const fieldsOf = (minute: number, count: number): Increments => Array.from({ length: count }, (_, index) => [`r|t${index}|m|p|requests:completed`, minute]);
    for (let minute = 0; minute < 5; minute++) view.record(minute, fieldsOf(minute, 30_000));
    const held = view.range(0, 4).map((period) => period.fields.size);
    // 150,000 offered: minutes 0 and 1 made room for the newer ones, which are whole.
    expect(held).toEqual([0, 0, 30_000, 30_000, 30_000]);
    expect(view.dropped).toBe(0);
    // One minute alone over the cap: every older minute lets go, then the rest is counted as dropped.
    view.record(5, fieldsOf(5, 120_000));
    expect(view.range(0, 5).map((period) => period.fields.size)).toEqual([0, 0, 0, 0, 0, 100_000]);
    expect(view.dropped).toBe(20_000);
  });
});

describe("JSON settings", () => {
  it("name the setting and what is wrong, never the value", () => {
    const schema = z.strictObject({ limit: z.int() });
    expect(parseJsonSetting("SOME_JSON", '{"limit": 3}', schema, '{"limit": 1}')).toEqual({ limit: 3 });
    expect(() => parseJsonSetting("SOME_JSON", "{limit: secret-value", schema, '{"limit": 1}')).toThrow('SOME_JSON is invalid: not JSON (for example {"limit": 1})');
    expect(() => parseJsonSetting("SOME_JSON", '{"limit": "secret-value"}', schema, "")).toThrow(/^SOME_JSON is invalid: limit: /);
    expect(() => parseJsonSetting("SOME_JSON", '{"limit": "secret-value"}', schema, "")).not.toThrow(/secret-value/);
  });
});
