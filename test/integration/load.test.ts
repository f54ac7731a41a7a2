import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../stack/stack.js";
import { newTenant } from "./helpers.js";
import { expectCountersMatchTraffic, type PlannedRequest, type SentRequest, sendTraffic } from "./traffic.js";

let stack: Stack;
let redis: Redis;

beforeAll(async () => {
  // The retry deadline counts from the first attempt: at concurrency 50 on a busy 2-core
  // machine a first attempt alone has taken over a second to fail, which left a 1 s
  // deadline no room for the retry that recovers a one-off 529.
  stack = await startStack({ timeScale: 0.02, providerKeys: 2, streamIdleTimeoutMs: 1_500, retry: { deadlineMs: 5_000, baseDelayMs: 20 } });
  redis = new Redis(stack.redis.url);
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

/** Every kind of upstream fault, in turn: retried ones recover, persistent ones are relayed. */
const FAULTS = [
  "sim:fault=429 sim:fail-first=1",
  "sim:fault=529 sim:fail-first=1",
  "sim:fault=500",
  "sim:fault=error-mid sim:after=4",
  "sim:fault=stall-mid sim:after=4",
  "sim:fault=slow-first",
];

/** 5% faults of every kind, 5% client disconnects, the rest ordinary streams of 5..44 tokens. */
function plan(index: number): PlannedRequest {
  const tag = `load ${index}`;
  if (index % 20 === 7) return { disconnect: false, prompt: `${FAULTS[Math.floor(index / 20) % FAULTS.length]} ${tag}` };
  if (index % 20 === 13) return { disconnect: true, prompt: `sim:tokens=200 sim:tps=100 ${tag}` };
  return { disconnect: false, prompt: `sim:tokens=${5 + (index % 40)} ${tag}` };
}

it("2,000 streams at concurrency 50 with 5% upstream faults and 5% disconnects lose no usage and leak no stream", async () => {
  const tenant = await newTenant(stack, { limits: { requestsPerMinute: 100_000, tokensPerMinute: 100_000_000 } });
  const started = performance.now();
  const sent = await sendTraffic(stack, tenant.key, 2_000, 50, plan);
  const seconds = (performance.now() - started) / 1000;
  expect(sent).toHaveLength(2_000);

  // No 5xx but the upstream's own, relayed faithfully: the persistent 500s.
  const serverErrors = sent.filter((request) => request.status >= 500);
  for (const request of serverErrors) expect(request.prompt, `${request.status} ${request.errorBody}`).toContain("sim:fault=500");
  expect(serverErrors).toHaveLength(sent.filter((request) => request.prompt.includes("sim:fault=500")).length);

  await expectCountersMatchTraffic(stack, redis, tenant.id, sent);

  // No leaked upstream stream: every request the simulator received has ended.
  await expect.poll(() => stack.simulator!.ledger.all().filter((record) => record.finishedAt === null).length, { timeout: 10_000 }).toBe(0);
  console.info(`load: 2,000 streams in ${seconds.toFixed(1)} s (${(2_000 / seconds).toFixed(0)}/s); statuses ${histogram(sent)}`);
}, 240_000);

const histogram = (sent: readonly SentRequest[]): string =>
  JSON.stringify(sent.reduce<Record<number, number>>((counts, request) => ({ ...counts, [request.status]: (counts[request.status] ?? 0) + 1 }), {}));

describe("through the front Worker", () => {
  let regional: Stack;
  let regionalRedis: Redis;
  beforeAll(async () => {
    regional = await startStack({ topology: "regions", timeScale: 0.02, streamIdleTimeoutMs: 1_500 });
    regionalRedis = new Redis(regional.redis.url);
  }, 180_000);
  afterAll(async () => {
    regionalRedis?.disconnect();
    await regional?.stop();
  });

  /** Ordinary streams of 5..44 tokens, 5% of whose clients leave after the first delta (no upstream faults: those make the front Worker fail over). */
  const planThroughEdge = (index: number): PlannedRequest =>
    index % 20 === 13
      ? { disconnect: true, prompt: `sim:tokens=200 sim:tps=100 edge load ${index}` }
      : { disconnect: false, prompt: `sim:tokens=${5 + (index % 40)} edge load ${index}` };

  it("2,000 streams at concurrency 64 through the front Worker: none fails, every one is metered, no stream leaks", async () => {
    const tenant = await newTenant(regional, { limits: { requestsPerMinute: 100_000, tokensPerMinute: 100_000_000 } });
    const started = performance.now();
    const sent = await sendTraffic(regional, tenant.key, 2_000, 64, planThroughEdge);
    const seconds = (performance.now() - started) / 1000;
    expect(sent.filter((request) => request.status !== 200).map((request) => `${request.status} ${request.errorBody}`)).toEqual([]);
    await expectCountersMatchTraffic(regional, regionalRedis, tenant.id, sent);
    const open = () => regional.deployments.flatMap((d) => d.simulator!.ledger.all()).filter((record) => record.finishedAt === null).length;
    await expect.poll(open, { timeout: 10_000 }).toBe(0);
    console.info(`load through the front Worker: 2,000 streams in ${seconds.toFixed(1)} s (${(2_000 / seconds).toFixed(0)}/s); statuses ${histogram(sent)}`);
  }, 240_000);
});
