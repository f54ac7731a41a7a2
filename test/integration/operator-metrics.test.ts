import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketOf, TTFT_MS } from "../../shared/metrics/histogram.js";
import type { MetricsAnswer } from "../../shared/metrics/query.js";
import { startStack, type Stack } from "../stack/stack.js";
import { newTenant } from "./helpers.js";
import { exactQuantile, metricsJson, sendTimed } from "./operators.js";
import { ledgerRecord, usageCounters } from "./traffic.js";

let stack: Stack;
let redis: Redis;

beforeAll(async () => {
  // Real timing: first tokens take what the directives say, so the histograms can be held to the client's clock.
  stack = await startStack({ timeScale: 1 });
  redis = new Redis(stack.redis.url);
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

const FIRST_TOKEN_MS = [150, 300, 450, 700, 1_100];

/** The traffic: answers with slow and fast first tokens, errors mid-stream, and upstream error answers (retried, then given up). */
function plan(): { prompts: string[]; kind: Map<string, "ok" | "error-mid" | "529" | "500"> } {
  const kind = new Map<string, "ok" | "error-mid" | "529" | "500">();
  const add = (count: number, what: "ok" | "error-mid" | "529" | "500", directives: (index: number) => string) => {
    for (let index = 0; index < count; index++) kind.set(`question ${kind.size} about tents ${directives(index)}`, what);
  };
  add(25, "ok", (index) => `sim:ttft=${FIRST_TOKEN_MS[index % FIRST_TOKEN_MS.length]} sim:tokens=12 sim:tps=300`);
  add(4, "error-mid", () => "sim:fault=error-mid sim:after=3 sim:ttft=200");
  add(3, "529", () => "sim:fault=529");
  add(2, "500", () => "sim:fault=500");
  // Interleaved (7 and 34 are coprime: a permutation), so faults land among the answers as they would.
  const all = [...kind.keys()];
  return { prompts: all.map((_, index) => all[(index * 7) % all.length]!), kind };
}

const counter = (answer: MetricsAnswer, metric: string): number => answer.series.reduce((sum, series) => sum + (series.window.counters[metric] ?? 0), 0);

describe("exported metrics after a mix of traffic with injected faults and slow first tokens", () => {
  it("count what the simulator's ledger recorded, and their first-token p50 / p95 match the client's within one bucket", async () => {
    const tenant = await newTenant(stack);
    const { prompts, kind } = plan();
    const sent = await sendTimed(stack, tenant.key, prompts, 4);
    const served = sent.filter((request) => request.status === 200);
    const failed = sent.filter((request) => request.status !== 200);
    expect(served).toHaveLength(29);
    expect(failed.map((request) => request.status).sort()).toEqual([500, 500, 529, 529, 529]);

    const admin = `${stack.gateway.url}/admin/metrics`;
    const totals = () => metricsJson(admin, stack.adminToken, { tenant: tenant.id, group: "tenant" });
    // Failed requests settle after their answer: wait until every request is counted.
    await expect.poll(async () => counter(await totals(), "tier:standard"), { timeout: 15_000 }).toBe(sent.length);
    const answer = await totals();
    expect(answer.source).toBe("totals");
    expect(answer.series.map((series) => series.tenant)).toEqual([tenant.id]);

    const records = served.map((request) => ledgerRecord(stack, request.upstreamId!)!);
    const logs = await Promise.all(served.map((request) => stack.gateway.waitForLog(request.requestId)));
    const midStream = served.filter((request) => kind.get(request.prompt) === "error-mid");
    expect(counter(answer, "requests:completed")).toBe(served.length);
    expect(counter(answer, "requests:upstream_error")).toBe(failed.length);
    expect(counter(answer, "upstream_errors:overloaded_error")).toBe(records.filter((record) => record.fault === "error-mid").length);
    expect(counter(answer, "upstream_errors:overloaded_error")).toBe(midStream.length);
    expect(counter(answer, "upstream_errors:529")).toBe(failed.filter((request) => request.status === 529).length);
    expect(counter(answer, "upstream_errors:500")).toBe(failed.filter((request) => request.status === 500).length);
    // Every upstream attempt of a failed request failed with its fault (the gateway retried, then gave up).
    const attempts = stack.simulator!.ledger.all();
    for (const request of failed) expect(attempts.some((record) => record.status === request.status && record.fault === kind.get(request.prompt))).toBe(true);

    // Tokens: input as the simulator counted it; output exactly where the answer's usage arrived, the gateway's estimate where an error cut it.
    expect(counter(answer, "input_tokens")).toBe(records.reduce((sum, record) => sum + record.inputTokens, 0));
    const exactOutput = records.filter((record) => record.fault === null).reduce((sum, record) => sum + record.outputTokensSent, 0);
    const estimated = logs.filter((log) => log.usage_estimated).reduce((sum, log) => sum + Number(log.output_tokens), 0);
    expect(logs.filter((log) => log.usage_estimated)).toHaveLength(midStream.length);
    expect(counter(answer, "output_tokens")).toBe(exactOutput + estimated);
    // Money: what the metrics say was spent is what the ledger billed.
    expect(counter(answer, "cost_micro_usd")).toBe((await usageCounters(redis, tenant.id))["total|cost"]);
    expect(counter(answer, "strongest_cost_micro_usd")).toBeGreaterThan(counter(answer, "cost_micro_usd"));

    // First tokens: one per answer that had one, and the quantiles agree with the client's clock.
    const [series] = answer.series;
    expect(series!.window.ttft_ms.count).toBe(records.filter((record) => record.firstTokenAt !== null).length);
    const clientFirstTokens = served.map((request) => request.firstTokenMs!);
    for (const [p, exported] of [[0.5, series!.window.ttft_ms.p50], [0.95, series!.window.ttft_ms.p95]] as const) {
      const client = exactQuantile(clientFirstTokens, p);
      expect(Math.abs(bucketOf(TTFT_MS, exported!) - bucketOf(TTFT_MS, client)), `p${p * 100}: exported ${exported} ms, client ${client.toFixed(0)} ms`).toBeLessThanOrEqual(1);
    }
    expect(series!.window.tokens_per_second.count).toBeGreaterThan(0);

    // The same figures in the Prometheus format, per minute over a window, from this isolate's memory, and for the tenant itself.
    const text = await (await fetch(`${admin}?tenant=${tenant.id}`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).text();
    const completed = [...text.matchAll(new RegExp(`^edgegate_requests_total\\{[^}]*tenant="${tenant.id}"[^}]*outcome="completed"\\} (\\d+)$`, "gm"))];
    expect(completed.reduce((sum, match) => sum + Number(match[1]), 0)).toBe(served.length);
    expect(text).toMatch(new RegExp(`^edgegate_time_to_first_token_seconds_count\\{[^}]*tenant="${tenant.id}"[^}]*\\} ${series!.window.ttft_ms.count}$`, "m"));
    const perMinute = await metricsJson(admin, stack.adminToken, { tenant: tenant.id, window: "15m", group: "" });
    expect(perMinute.source).toBe("minutes");
    expect(perMinute.times).toHaveLength(15);
    expect(perMinute.series[0]!.values["requests:completed"]!.reduce((sum, value) => sum! + value!, 0)).toBe(served.length);
    const isolate = await metricsJson(admin, stack.adminToken, { tenant: tenant.id, source: "isolate", window: "15m", group: "" });
    expect(isolate.series[0]!.window.counters["requests:completed"]).toBe(served.length);
    const own = await metricsJson(`${stack.gateway.url}/v1/metrics`, tenant.key, { group: "tenant" });
    expect(own.series.map((one) => [one.tenant, one.window.counters["requests:completed"]])).toEqual([[tenant.id, served.length]]);
    const other = await newTenant(stack);
    expect((await metricsJson(`${stack.gateway.url}/v1/metrics`, other.key, { tenant: tenant.id })).series).toEqual([]);
  });

  it("refuses reading without the right credentials, and bounds every query", async () => {
    const admin = `${stack.gateway.url}/admin/metrics`;
    expect((await fetch(admin)).status).toBe(401);
    expect((await fetch(`${stack.gateway.url}/v1/metrics`, { headers: { authorization: `Bearer ${stack.widgetKey}` } })).status).toBe(403);
    const tooLong = await fetch(`${admin}?window=30d`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { error: { message: string } }).error.message).toMatch(/window: at most 192 hours/);
    // A tenant's query counts in its request limit by the hashes it reads: 8 days of hours are 192 hashes, 4 requests.
    const limited = await newTenant(stack, { limits: { requestsPerMinute: 4 } });
    const read = (window: string) => fetch(`${stack.gateway.url}/v1/metrics?window=${window}&format=json`, { headers: { authorization: `Bearer ${limited.key}` } });
    const week = await read("8d");
    expect([week.status, week.headers.get("x-ratelimit-remaining-requests")]).toEqual([200, "0"]);
    expect((await read("15m")).status).toBe(429);
  });
});
