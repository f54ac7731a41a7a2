import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { estimateInputTokens } from "../../shared/metering/estimate.js";
import { startStack, type Stack } from "../stack/stack.js";
import { messageBody, newTenant, sendMessage } from "./helpers.js";
import { expectCountersMatchTraffic, sendTraffic, usageCounters } from "./traffic.js";

let stack: Stack;
let redis: Redis;

beforeAll(async () => {
  stack = await startStack({ timeScale: 0.05, streamIdleTimeoutMs: 2_000 });
  redis = new Redis(stack.redis.url);
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

/** List prices of claude-sonnet-4-6 in micro-dollars per token (= USD per million tokens). */
const SONNET = { input: 3, output: 15, cacheWrite5m: 3.75, cacheRead: 0.3 };
const OPUS = { input: 5, output: 25, cacheWrite5m: 6.25, cacheRead: 0.5 };

async function openReservations(tenantId: string): Promise<number> {
  return redis.hlen(`eg:r:${tenantId}`);
}

describe("budgets", () => {
  it("admits at most 10 of 60 concurrent requests when the budget fits exactly 10 worst cases", async () => {
    const body = messageBody("sim:tokens=5 sim:ttft=20000 a slow answer", { max_tokens: 1_000 });
    // The gateway's worst case: input bytes at the 1-hour cache-write rate plus max_tokens at the output rate.
    const inputBound = estimateInputTokens(body as { messages: { content: unknown }[] }).upperBound;
    const worstCaseMicroUsd = Math.ceil(inputBound * 6) + 1_000 * SONNET.output;
    const tenant = await newTenant(stack, { limits: { dailyBudgetUsd: (10 * worstCaseMicroUsd) / 1e6 } });

    const responses = await Promise.all(Array.from({ length: 60 }, () => sendMessage(stack, tenant.key, body)));
    const admitted = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status === 402);
    expect(admitted.length).toBeLessThanOrEqual(10);
    expect(admitted.length).toBeGreaterThan(0);
    expect(admitted.length + refused.length).toBe(60);
    const error = ((await refused[0]!.json()) as { error: { type: string; message: string } }).error;
    // A spent budget is a billing problem the SDKs must not wait out: no retry-after, x-should-retry: false.
    expect(error.type).toBe("billing_error");
    expect(error.message).toMatch(/daily budget of \$[\d.]+ would be exceeded.*resets at \d{4}-\d\d-\d\dT/);
    expect(refused[0]!.headers.get("retry-after")).toBeNull();
    expect(refused[0]!.headers.get("x-should-retry")).toBe("false");
    await Promise.all(responses.filter((response) => !response.bodyUsed).map((response) => response.text()));

    await expect.poll(() => openReservations(tenant.id), { timeout: 5_000 }).toBe(0);
    const day = await usageCounters(redis, tenant.id);
    expect(day["total|requests"]).toBe(admitted.length);
    expect(day["total|reserved"]).toBe(0);
    expect(day["total|cost"]).toBeLessThanOrEqual(10 * worstCaseMicroUsd);
  });
});

describe("metering under a realistic mix", () => {
  it("after 200 streamed requests (disconnects, upstream faults) the counters equal the simulator's counts", async () => {
    const tenant = await newTenant(stack);
    const plan = (i: number) => ({
      disconnect: i % 10 === 3,
      prompt:
        i % 10 === 3
          ? `sim:tokens=300 sim:tps=40 request ${i}`
          : i % 10 === 6
            ? `sim:fault=529 request ${i}`
            : i % 10 === 9
              ? `sim:fault=error-mid sim:after=${3 + (i % 7)} request ${i}`
              : `sim:tokens=${5 + (i % 40)} request ${i}`,
    });
    const sent = await sendTraffic(stack, tenant.key, 200, 16, plan);
    expect(sent).toHaveLength(200);
    expect(sent.filter((request) => request.status === 529)).toHaveLength(20);
    await expectCountersMatchTraffic(stack, redis, tenant.id, sent);
  }, 120_000);
});

describe("cost, savings and prompt caching", () => {
  const longSystem = "You are the support assistant of a bicycle shop. ".repeat(160); // ~7,800 chars

  it("marks a long system prompt for caching, then prices cache writes and reads at their own rates", async () => {
    const tenant = await newTenant(stack);
    const body = messageBody("sim:tokens=10 what are your opening hours?", { system: longSystem });
    const first = await (await sendMessage(stack, tenant.key, body)).json() as { usage: Record<string, number> };
    const second = await (await sendMessage(stack, tenant.key, body)).json() as { usage: Record<string, number> };
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(1_024);
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);

    await expect.poll(() => openReservations(tenant.id), { timeout: 5_000 }).toBe(0);
    const day = await usageCounters(redis, tenant.id);
    const usages = [first.usage, second.usage];
    const sum = (field: string) => usages.reduce((total, usage) => total + (usage[field] ?? 0), 0);
    expect(day["total|cache_write"]).toBe(sum("cache_creation_input_tokens"));
    expect(day["total|cache_read"]).toBe(sum("cache_read_input_tokens"));
    const priced = (prices: typeof SONNET) =>
      usages.reduce(
        (total, usage) =>
          total +
          Math.ceil(usage.input_tokens! * prices.input) +
          Math.ceil(usage.output_tokens! * prices.output) +
          Math.ceil(usage.cache_creation_input_tokens! * prices.cacheWrite5m) +
          Math.ceil(usage.cache_read_input_tokens! * prices.cacheRead),
        0,
      );
    expect(day["total|cost"]).toBe(priced(SONNET));
    expect(day["total|cost_strongest"]).toBe(priced(OPUS));

    const report = await (
      await fetch(`${stack.gateway.url}/v1/usage`, { headers: { "x-api-key": tenant.key } })
    ).json() as { day: { requests: number; cost_usd: number; savings_usd: number; cache_read_tokens: number; by_model: Record<string, unknown> } };
    expect(report.day.requests).toBe(2);
    expect(report.day.cost_usd).toBeCloseTo(priced(SONNET) / 1e6, 9);
    expect(report.day.savings_usd).toBeCloseTo((priced(OPUS) - priced(SONNET)) / 1e6, 9);
    expect(report.day.cache_read_tokens).toBe(sum("cache_read_input_tokens"));
    expect(Object.keys(report.day.by_model)).toHaveLength(1);
    expect(await stack.admin.usage(tenant.id)).toEqual(report);
  });

  it("leaves requests unmarked when the tenant turned prompt caching off", async () => {
    const tenant = await newTenant(stack, { promptCaching: false });
    const body = messageBody("sim:tokens=3 hello", { system: longSystem });
    const reply = await (await sendMessage(stack, tenant.key, body)).json() as { usage: Record<string, number> };
    expect(reply.usage.cache_creation_input_tokens).toBe(0);
    expect(reply.usage.cache_read_input_tokens).toBe(0);
  });
});
