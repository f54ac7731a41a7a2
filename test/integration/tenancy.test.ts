import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../stack/stack.js";
import { messageBody, newTenant, readUntilThenAbort, sendMessage, upstashRoundTripsAround } from "./helpers.js";

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

async function errorOf(response: Response): Promise<{ type: string; message: string }> {
  return ((await response.json()) as { error: { type: string; message: string } }).error;
}

describe("keys", () => {
  it("are stored only as hashes: no Redis value contains a plaintext key", async () => {
    const tenant = await newTenant(stack);
    expect((await sendMessage(stack, tenant.key, messageBody("sim:tokens=2 hi"))).status).toBe(200);
    const keys = await redis.keys("*");
    for (const name of keys) {
      const type = await redis.type(name);
      const dump = type === "string" ? await redis.get(name) : type === "hash" ? JSON.stringify(await redis.hgetall(name)) : "";
      expect(`${name} ${dump}`).not.toContain(tenant.key);
    }
    const listed = await stack.admin.listKeys(tenant.id);
    expect(JSON.stringify(listed)).not.toContain(tenant.key);
    expect(listed[0]!.lastUsedAt).not.toBeNull();
  });

  it("a revoked key is refused at once on /v1/messages and within 5 s on cached routes", async () => {
    const tenant = await newTenant(stack);
    const countTokens = () =>
      fetch(`${stack.gateway.url}/v1/messages/count_tokens`, {
        method: "POST",
        headers: { "x-api-key": tenant.key, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "hi" }] }),
      });
    expect((await countTokens()).status).toBe(200); // now cached in the isolate
    expect((await sendMessage(stack, tenant.key, messageBody("sim:tokens=1 hi"))).status).toBe(200);
    await stack.admin.revokeKey(tenant.id, tenant.keyId);
    const revokedAt = performance.now();

    const refused = await sendMessage(stack, tenant.key, messageBody("sim:tokens=1 hi"));
    expect(refused.status).toBe(401);
    expect((await errorOf(refused)).message).toContain("revoked");

    let status = 200;
    while (status === 200 && performance.now() - revokedAt < 6_000) {
      status = (await countTokens()).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(401);
    expect(performance.now() - revokedAt).toBeLessThan(5_000);
  });

  it("rotation issues a working key and retires the old one; a disabled tenant is refused", async () => {
    const tenant = await newTenant(stack);
    const rotated = await stack.admin.rotateKey(tenant.id, tenant.keyId);
    expect((await sendMessage(stack, rotated.key, messageBody("sim:tokens=1 hi"))).status).toBe(200);
    expect((await sendMessage(stack, tenant.key, messageBody("sim:tokens=1 hi"))).status).toBe(401);
    await stack.admin.setTenantDisabled(tenant.id, true);
    const refused = await sendMessage(stack, rotated.key, messageBody("sim:tokens=1 hi"));
    expect(refused.status).toBe(401);
    expect((await errorOf(refused)).message).toContain("disabled");
  });
});

describe("rate limits", () => {
  it("a 20 requests/minute limit admits 20 of 50 parallel requests (plus one per 3 s they take)", async () => {
    const tenant = await newTenant(stack, { limits: { requestsPerMinute: 20 } });
    const started = performance.now();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => sendMessage(stack, tenant.key, messageBody("sim:tokens=1 sim:ttft=0 hi"))),
    );
    // The limit is a bucket of 20 refilled at 20 a minute: one more request fits every 3 s.
    const refilled = Math.floor((performance.now() - started) / 3_000);
    const statuses = responses.map((response) => response.status);
    const admittedCount = statuses.filter((status) => status === 200).length;
    expect(admittedCount).toBeGreaterThanOrEqual(20);
    expect(admittedCount).toBeLessThanOrEqual(20 + refilled);
    expect(statuses.filter((status) => status === 429)).toHaveLength(50 - admittedCount);
    const limited = responses.find((response) => response.status === 429)!;
    const limitedError = await errorOf(limited);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.headers.get("x-ratelimit-limit-requests")).toBe("20");
    expect(limited.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(limitedError.type).toBe("rate_limit_error");
    const admitted = responses.find((response) => response.status === 200)!;
    for (const name of ["limit", "remaining", "reset"]) {
      expect(admitted.headers.get(`x-ratelimit-${name}-requests`), name).toMatch(/^\d+$/);
      expect(admitted.headers.get(`x-ratelimit-${name}-tokens`), name).toMatch(/^\d+$/);
    }
    await Promise.all(responses.filter((response) => !response.bodyUsed).map((response) => response.arrayBuffer()));
  });

  it("refuses a request that alone exceeds the tokens-per-minute limit, saying why", async () => {
    const tenant = await newTenant(stack, { limits: { tokensPerMinute: 1_000 } });
    const response = await sendMessage(stack, tenant.key, messageBody("hi", { max_tokens: 2_000 }));
    expect(response.status).toBe(429);
    expect((await errorOf(response)).message).toMatch(/needs about \d+ tokens/);
  });

  it("refuses max_tokens above the tenant's per-request cap with a 400", async () => {
    const tenant = await newTenant(stack, { limits: { maxTokensPerRequest: 100 } });
    const response = await sendMessage(stack, tenant.key, messageBody("hi", { max_tokens: 101 }));
    expect(response.status).toBe(400);
    expect((await errorOf(response)).message).toContain("cap of 100");
  });
});

describe("hot path", () => {
  it("makes exactly one Upstash round trip before the upstream call, or none with a head start", async () => {
    // A tenant with a budget on the primary: its admission says nothing of the room left, so no head start.
    const budgeted = await newTenant(stack, { limits: { dailyBudgetUsd: 100 } });
    // A tenant without one: after a first admission, the upstream call starts while the next is in flight.
    const open = await newTenant(stack);
    for (const tenant of [budgeted, open]) {
      await (await sendMessage(stack, tenant.key, messageBody("sim:tokens=1 warm up"))).text();
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the warm-up settle
      for (let i = 0; i < 5; i++) {
        stack.bridge.resetStats();
        const response = await sendMessage(stack, tenant.key, messageBody(`sim:tokens=3 round trip ${i}`, { stream: true }));
        const trips = await upstashRoundTripsAround(stack, response);
        const line = await stack.gateway.waitForLog(response.headers.get("x-request-id")!);
        if (tenant === budgeted) {
          expect(trips).toEqual({ before: 1, after: 1 });
          expect(line.head_start).toBeUndefined();
        } else {
          // The admission and the upstream call race; the settlement comes after.
          expect(trips.before + trips.after).toBe(2);
          expect(line.head_start).toBe("granted");
        }
      }
    }
  });
});
