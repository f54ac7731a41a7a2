import Redis from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../stack/stack.js";
import { messageBody, newTenant, readUntilThenAbort, sendMessage } from "./helpers.js";
import { usageCounters } from "./traffic.js";

let stack: Stack;
let redis: Redis;

const IDLE_TIMEOUT_MS = 1_500;
const FIRST_TOKEN_TIMEOUT_MS = 1_000;
const RETRY_DEADLINE_MS = 3_000;
const STORAGE_TIMEOUT_MS = 500;

beforeAll(async () => {
  stack = await startStack({
    timeScale: 0.05,
    providerKeys: 2,
    streamIdleTimeoutMs: IDLE_TIMEOUT_MS,
    firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS,
    storageTimeoutMs: STORAGE_TIMEOUT_MS,
    retry: { deadlineMs: RETRY_DEADLINE_MS, baseDelayMs: 25 },
    // Failing endpoints rest for their backoff, across requests: kept short, so that one
    // test's failures never leave the next test's endpoints resting past its retry deadline.
    vars: { RETRY_MAX_DELAY_MS: "300" },
  });
  redis = new Redis(stack.redis.url);
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

afterEach(() => stack.bridge.setFaults({}));

/** A prompt no other test uses, so per-text simulator directives (fail-first) start from zero. */
const unique = (directives: string) => `${directives} ${crypto.randomUUID()}`;
const logOf = (response: Response) => stack.gateway.waitForLog(response.headers.get("x-request-id")!, 20_000);


describe("provider key pool", () => {
  // First in the file: later tests rate-limit keys, which then rest for their retry-after.
  it("spreads concurrent streams over the keys (least in flight)", async () => {
    const before = stack.simulator!.ledger.all().length;
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        sendMessage(stack, stack.clientKey, messageBody(unique("sim:tokens=20 sim:tps=20"), { stream: true })),
      ),
    );
    await Promise.all(responses.map((response) => response.text()));
    const keys = stack.simulator!.ledger.all().slice(before).map((record) => record.apiKey);
    const perKey = [...new Set(keys)].map((key) => keys.filter((k) => k === key).length);
    expect(perKey).toHaveLength(2);
    expect(Math.min(...perKey)).toBeGreaterThanOrEqual(4);
  });
});

describe("retries before the first byte", () => {
  it("retries a 529 and serves the stream, saying which attempt served", async () => {
    const prompt = unique("sim:fault=529 sim:fail-first=1 sim:tokens=3");
    const response = await sendMessage(stack, stack.clientKey, messageBody(prompt, { stream: true }));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("message_stop");
    expect(response.headers.get("x-edgegate-attempts")).toMatch(/^claude-sonnet-4-6#k\d=529 claude-sonnet-4-6#k\d=200$/);
  });

  it("moves to the next provider key at once when one is rate-limited", async () => {
    const prompt = unique("sim:fault=429 sim:fail-first=1 sim:retry-after=30 sim:tokens=2");
    const started = performance.now();
    const response = await sendMessage(stack, stack.clientKey, messageBody(prompt));
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1_000); // not the 30 s retry-after
    const keys = stack.simulator!.ledger.all().slice(-2).map((record) => record.apiKey);
    expect(new Set(keys).size).toBe(2);
  });

  it("honours retry-after when every key rests", async () => {
    const prompt = unique("sim:fault=429 sim:fail-first=2 sim:retry-after=1 sim:tokens=2");
    const started = performance.now();
    const response = await sendMessage(stack, stack.clientKey, messageBody(prompt));
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it("relays the upstream's own error once the retry deadline has passed", async () => {
    const started = performance.now();
    const response = await sendMessage(stack, stack.clientKey, messageBody(unique("sim:fault=500"), { stream: true }));
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe("api_error");
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(RETRY_DEADLINE_MS + 1_000);
    expect((response.headers.get("x-edgegate-attempts") ?? "").split(" ").length).toBeGreaterThan(2);
  });

  it("does not retry after the first byte: a mid-stream error is relayed as the upstream sent it and settled", async () => {
    const tenant = await newTenant(stack);
    const response = await sendMessage(stack, tenant.key, messageBody(unique("sim:fault=error-mid sim:after=4"), { stream: true }));
    const text = await response.text();
    expect(text).toContain('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}');
    expect(response.headers.get("x-edgegate-attempts")).toBeNull();
    const log = await logOf(response);
    expect(log.upstream_error_type).toBe("overloaded_error");
    await expect.poll(async () => (await usageCounters(redis, tenant.id))["total|requests"], { timeout: 5_000 }).toBe(1);
  });
});

describe("fallback chain", () => {
  it("falls back to the next tier's model when the chosen one stays overloaded", async () => {
    const prompt = unique("sim:fault=529 sim:fault-model=claude-opus sim:tokens=2");
    const response = await sendMessage(stack, stack.clientKey, messageBody(prompt, { model: "claude-opus-4-7" }));
    expect(response.status).toBe(200);
    expect(response.headers.get("x-edgegate-fallback")).toBe("claude-opus-4-7 -> claude-sonnet-4-6 (claude-opus-4-7 overloaded)");
    expect(response.headers.get("x-edgegate-model")).toBe("claude-sonnet-4-6");
    expect(((await response.json()) as { model: string }).model).toMatch(/^claude-sonnet-4-6/);
    expect((await logOf(response)).model).toMatch(/^claude-sonnet-4-6/);
  });

  it("does not fall back for a tenant that turned fallback off", async () => {
    const tenant = await newTenant(stack, { modelPolicy: { fallback: false } });
    const prompt = unique("sim:fault=529 sim:fault-model=claude-opus sim:tokens=2");
    const response = await sendMessage(stack, tenant.key, messageBody(prompt, { model: "claude-opus-4-7" }));
    expect(response.status).toBe(529);
    expect(response.headers.get("x-edgegate-fallback")).toBeNull();
  });
});

describe("timeouts", () => {
  it("ends a stream whose first token does not come in time, aborts the upstream and settles", async () => {
    const tenant = await newTenant(stack);
    const response = await sendMessage(stack, tenant.key, messageBody(unique("sim:ttft=60000 sim:tokens=5"), { stream: true }));
    const text = await response.text();
    expect(text).toContain('"type":"timeout_error"');
    const log = await logOf(response);
    expect(log.outcome).toBe("first_token_timeout");
    const record = stack.simulator!.ledger.get(response.headers.get("request-id")!)!;
    await expect.poll(() => record.clientAborted, { timeout: 3_000 }).toBe(true);
    await expect.poll(async () => (await usageCounters(redis, tenant.id))["total|input"], { timeout: 5_000 }).toBe(record.inputTokens);
  });

  it("ends a stalled stream with an error event, aborts the upstream and settles", async () => {
    const tenant = await newTenant(stack);
    const started = performance.now();
    const response = await sendMessage(stack, tenant.key, messageBody(unique("sim:fault=stall-mid sim:after=3"), { stream: true }));
    const text = await response.text();
    expect(performance.now() - started).toBeLessThan(IDLE_TIMEOUT_MS + 2_500);
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"timeout_error"/);
    expect((await logOf(response)).outcome).toBe("idle_timeout");
    const record = stack.simulator!.ledger.get(response.headers.get("request-id")!)!;
    await expect.poll(() => record.clientAborted, { timeout: 3_000 }).toBe(true);
    await expect.poll(async () => (await usageCounters(redis, tenant.id))["total|estimated"], { timeout: 5_000 }).toBe(1);
  });

  it("aborts the upstream soon after the client disconnects (measured)", async () => {
    const controller = new AbortController();
    const response = await sendMessage(stack, stack.clientKey, messageBody(unique("sim:tokens=3000 sim:tps=10"), { stream: true, max_tokens: 4_000 }), controller.signal);
    await readUntilThenAbort(response, controller, (text) => text.includes("content_block_delta"));
    const abortedAt = performance.now();
    const record = stack.simulator!.ledger.get(response.headers.get("request-id")!)!;
    await expect.poll(() => record.clientAborted, { timeout: IDLE_TIMEOUT_MS + 3_000 }).toBe(true);
    const lag = record.finishedAt! - abortedAt;
    console.info(`upstream aborted ${lag.toFixed(0)} ms after the client disconnected`);
    expect(lag).toBeLessThan(IDLE_TIMEOUT_MS + 2_000);
  });
});

describe("storage faults", () => {
  it("fails open for a secret key when Upstash is down, and the usage lands once it is back", async () => {
    const tenant = await newTenant(stack);
    await (await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=2 warm the key cache")))).text();
    await expect.poll(async () => (await usageCounters(redis, tenant.id))["total|requests"], { timeout: 5_000 }).toBe(1);

    stack.bridge.setFaults({ down: true });
    const started = performance.now();
    const response = await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=4"), { stream: true }));
    await response.text();
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(STORAGE_TIMEOUT_MS + 1_500);
    const record = stack.simulator!.ledger.get(response.headers.get("request-id")!)!;

    await new Promise((resolve) => setTimeout(resolve, 6_000)); // longer than the in-request retries: the spool takes it
    stack.bridge.setFaults({});
    await expect.poll(async () => (await usageCounters(redis, tenant.id))["total|requests"], { timeout: 20_000, interval: 500 }).toBe(2);
    const day = await usageCounters(redis, tenant.id);
    expect(day["total|output"]).toBe(2 + record.outputTokensSent);
    expect((await logOf(response)).storage).toBe("unavailable, failing open");
  }, 40_000);

  it("fails closed with a clear 503 for a tenant that chose it, within the storage timeout", async () => {
    const tenant = await newTenant(stack, { storageFailMode: "closed" });
    await (await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=2 warm")))).text();
    stack.bridge.setFaults({ delayMs: 5_000 });
    const started = performance.now();
    const response = await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=2")));
    expect(performance.now() - started).toBeLessThan(STORAGE_TIMEOUT_MS + 1_500);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("storage is unavailable");
  });
});
