import { execFile } from "node:child_process";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import Anthropic from "@anthropic-ai/sdk";
import Redis from "ioredis";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startStack, type Stack } from "../stack/stack.js";
import { messageBody, newTenant, sendMessage } from "./helpers.js";
import { usageCounters } from "./traffic.js";

// Issue 13 on the real stack: every upstream answer metered at list price, no budget or
// limit escapable, no resource unbounded. Each test failed before the change it covers.

const STORAGE_TIMEOUT_MS = 500;
const FIRST_TOKEN_TIMEOUT_MS = 800;
const BODY_TIMEOUT_MS = 1_500;
const UPSTREAM_TIMEOUT_MS = 2_000;

let stack: Stack;
let redis: Redis;

beforeAll(async () => {
  stack = await startStack({
    timeScale: 0.05,
    streamIdleTimeoutMs: 2_000,
    storageTimeoutMs: STORAGE_TIMEOUT_MS,
    firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS,
    retry: { deadlineMs: 1_000, baseDelayMs: 25 },
    vars: { BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS), UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) },
  });
  redis = new Redis(stack.redis.url);
}, 180_000);

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

afterEach(() => stack.bridge.setFaults({}));

const unique = (text: string) => `${text} ${crypto.randomUUID().slice(0, 8)}`;
const ledgerOf = (response: Response) => stack.simulator!.ledger.get(response.headers.get("request-id")!)!;
const logOf = (response: Response) => stack.gateway.waitForLog(response.headers.get("x-request-id")!, 20_000);

async function errorOf(response: Response): Promise<{ type: string; message: string }> {
  return ((await response.json()) as { error: { type: string; message: string } }).error;
}

async function settled(tenantId: string, requests: number): Promise<Record<string, number>> {
  await expect.poll(async () => (await usageCounters(redis, tenantId))["total|requests"], { timeout: 10_000 }).toBe(requests);
  return usageCounters(redis, tenantId);
}

describe("billing at the upstream's list price", () => {
  it("prices Claude Opus 4.1 at its own $15 / $75, and refuses a model it cannot price", async () => {
    const tenant = await newTenant(stack);
    const response = await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=7"), { model: "claude-opus-4-1" }));
    expect(response.status).toBe(200);
    await response.text();
    const record = ledgerOf(response);
    const day = await settled(tenant.id, 1);
    expect(day["total|cost"]).toBe(Math.ceil(record.inputTokens * 15 + record.outputTokensSent * 75));

    const ledgerSize = stack.simulator!.ledger.all().length;
    const unknown = await sendMessage(stack, tenant.key, messageBody("hi", { model: "claude-opus-5-preview" }));
    // As the API answers a model it does not know: 404 not_found_error "model: ...".
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).message).toMatch(/^model: claude-opus-5-preview has no price in this gateway.*PRICING_JSON/);
    expect(stack.simulator!.ledger.all().length).toBe(ledgerSize);
  });

  it("keeps a $0.10 budget to $0.10 of list-price Opus 4.1 work", async () => {
    const tenant = await newTenant(stack, { limits: { dailyBudgetUsd: 0.1 } });
    // Each worst case is over $0.03 (400 output tokens at $75 per million), so at most three fit.
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => sendMessage(stack, tenant.key, messageBody(unique(`sim:tokens=390 answer ${i}`), { model: "claude-opus-4-1", max_tokens: 400 }))),
    );
    await Promise.all(responses.map((response) => response.text()));
    const admitted = responses.filter((response) => response.status === 200).length;
    expect(admitted).toBeLessThanOrEqual(3);
    expect(responses.filter((response) => response.status === 402)).toHaveLength(8 - admitted);
    const day = await settled(tenant.id, admitted);
    expect(day["total|cost"]).toBeLessThanOrEqual(100_000);
    expect(day["total|reserved"]).toBe(0);
  });

  it("bills 1-hour cache writes at twice the input price", async () => {
    const tenant = await newTenant(stack, { promptCaching: false });
    const system = [{ type: "text", text: `${unique("Policy:")} ${"Returns are free within 30 days. ".repeat(300)}`, cache_control: { type: "ephemeral", ttl: "1h" } }];
    const response = await sendMessage(stack, tenant.key, messageBody("sim:tokens=3 hi", { system }));
    await response.text();
    const record = ledgerOf(response);
    expect(record.cacheCreationInputTokens).toBeGreaterThan(1_000);
    const day = await settled(tenant.id, 1);
    expect(day["total|cache_write_1h"]).toBe(record.cacheCreationInputTokens);
    expect(day["total|cost"]).toBe(Math.ceil(record.inputTokens * 3 + record.cacheCreationInputTokens * 6 + record.outputTokensSent * 15));
  });

  it("refuses betas and fields it cannot meter, and server tools the tenant was not allowed", async () => {
    const tenant = await newTenant(stack);
    const ledgerSize = stack.simulator!.ledger.all().length;
    const send = (extra: Record<string, unknown>, beta?: string) =>
      fetch(`${stack.gateway.url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": tenant.key, "content-type": "application/json", "anthropic-version": "2023-06-01", ...(beta ? { "anthropic-beta": beta } : {}) },
        body: JSON.stringify(messageBody("sim:tokens=2 hi", extra)),
      });
    expect((await errorOf(await send({}, "some-future-beta-2027-01-01"))).message).toContain("ALLOWED_BETAS");
    expect((await errorOf(await send({}, "files-api-2025-04-14"))).message).toContain("shared by every tenant");
    expect((await errorOf(await send({ inference_geo: "us" }))).message).toContain("not known to this gateway");
    const search = await send({ tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 2 }] });
    expect(search.status).toBe(403);
    expect((await errorOf(search)).message).toContain('"web_search" feature');
    expect(stack.simulator!.ledger.all().length).toBe(ledgerSize);
    // Betas whose costs are only tokens, or metered, pass.
    const allowed = await send({}, "interleaved-thinking-2025-05-14,extended-cache-ttl-2025-04-11");
    expect(allowed.status).toBe(200);
    await allowed.text();
  });
});

describe("billing what the upstream produced", () => {
  it("bills every token of a fast stream whose client left after the first bytes", async () => {
    const tenant = await newTenant(stack);
    const controller = new AbortController();
    const response = await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=3000 sim:tps=200000 sim:ttft=0"), { stream: true, max_tokens: 4_000 }), controller.signal);
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    const record = ledgerOf(response);
    await expect.poll(() => record.finishedAt !== null, { timeout: 10_000 }).toBe(true);
    const day = await settled(tenant.id, 1);
    expect(record.outputTokensSent).toBeGreaterThan(1_000);
    // The meter read the upstream side: at least what the upstream sent, exactly it when the stream completed there.
    expect(day["total|output"]).toBeGreaterThanOrEqual(record.outputTokensSent);
    if (record.completed) expect(day["total|output"]).toBe(record.outputTokensSent);
  });

  it("answers 504 timeout_error when no first byte comes after retries, final (not replayed elsewhere) and settled", async () => {
    const tenant = await newTenant(stack);
    const response = await sendMessage(stack, tenant.key, messageBody(unique("sim:fault=stall-first sim:tokens=3"), { stream: true }));
    expect(response.status).toBe(504);
    expect((await errorOf(response)).type).toBe("timeout_error");
    // The upstream may have started work: the answer says nothing that would let the front Worker replay it.
    expect(response.headers.get("x-edgegate-upstream-calls")).toBeNull();
    expect((await logOf(response)).outcome).toBe("upstream_error");
    await expect.poll(async () => (await usageCounters(redis, tenant.id))["total|reserved"] ?? 0, { timeout: 5_000 }).toBe(0);
  });
});

describe("budgets and limits that cannot be escaped", () => {
  it("leaves no reservation behind when storage answers after the admission timeout", async () => {
    const tenant = await newTenant(stack, { limits: { dailyBudgetUsd: 1 } });
    stack.bridge.setFaults({ delayMs: STORAGE_TIMEOUT_MS * 5 });
    for (let i = 0; i < 10; i++) {
      const refused = await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=2"), { max_tokens: 1_000 }));
      expect(refused.status).toBe(503);
    }
    stack.bridge.setFaults({});
    // Every late admission has landed by now, and found itself too late (or already voided).
    await new Promise((resolve) => setTimeout(resolve, STORAGE_TIMEOUT_MS * 8));
    expect((await usageCounters(redis, tenant.id))["total|reserved"] ?? 0).toBe(0);
    expect(await redis.hlen(`eg:r:${tenant.id}`)).toBe(0);
    const served = await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=2"), { max_tokens: 1_000 }));
    expect(served.status).toBe(200);
    await served.text();
  });

  it("fails closed by default for a tenant with a budget when storage is down, and open for one without", async () => {
    const budgeted = await newTenant(stack, { limits: { dailyBudgetUsd: 5 } });
    const unbudgeted = await newTenant(stack);
    for (const tenant of [budgeted, unbudgeted]) await (await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=1 warm")))).text();
    stack.bridge.setFaults({ down: true });
    const closed = await sendMessage(stack, budgeted.key, messageBody(unique("sim:tokens=2")));
    expect(closed.status).toBe(503);
    expect((await errorOf(closed)).message).toContain("does not serve requests it cannot meter");
    const open = await sendMessage(stack, unbudgeted.key, messageBody(unique("sim:tokens=2")));
    expect(open.status).toBe(200);
    await open.text();
  });

  it("limits count_tokens and /v1/usage with the tenant's requests per minute", async () => {
    const tenant = await newTenant(stack, { limits: { requestsPerMinute: 2 } });
    const count = () =>
      fetch(`${stack.gateway.url}/v1/messages/count_tokens`, {
        method: "POST",
        headers: { "x-api-key": tenant.key, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "hi" }] }),
      });
    expect((await count()).status).toBe(200);
    expect((await fetch(`${stack.gateway.url}/v1/usage`, { headers: { "x-api-key": tenant.key } })).status).toBe(200);
    const limited = await count();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(20);
    expect((await fetch(`${stack.gateway.url}/v1/usage`, { headers: { "x-api-key": tenant.key } })).status).toBe(429);
  });

  it("throttles failed authentication per network and remembers unknown keys, with few storage calls once blocked", async () => {
    const network = { "cf-connecting-ip": "203.0.113.77" };
    const fresh = await newTenant(stack);
    const attempt = (key: string) =>
      fetch(`${stack.gateway.url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01", ...network },
        body: JSON.stringify(messageBody("hi")),
      });
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // earlier tests' settlements have landed
    stack.bridge.resetStats();
    const repeated = `sk-eg-${"x".repeat(32)}`;
    for (let i = 0; i < 20; i++) expect((await attempt(repeated)).status).toBe(401);
    // The same unknown key again costs no storage call after the first lookup (and its failure count).
    expect(stack.bridge.stats().requests).toBeLessThanOrEqual(3);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await attempt(`sk-eg-${crypto.randomUUID().replaceAll("-", "")}`)).status);
    expect(statuses.slice(0, 25).every((status) => status === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // Blocked, the network may still try once a second (a valid key behind the same address gets through): a burst costs one lookup.
    const before = stack.bridge.stats().requests;
    const burst = await Promise.all(Array.from({ length: 10 }, () => attempt(`sk-eg-${crypto.randomUUID().replaceAll("-", "")}`)));
    expect(burst.filter((response) => response.status === 429).length).toBeGreaterThanOrEqual(9);
    expect((await errorOf(burst.find((response) => response.status === 429)!)).message).toContain("invalid API keys from this network");
    expect(stack.bridge.stats().requests - before).toBeLessThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const valid = await attempt(fresh.key);
    expect(valid.status).toBe(200);
    await valid.text();
  });

  it("accepts the admin token only as a bearer token, and throttles failed admin logins", async () => {
    const network = { "cf-connecting-ip": "203.0.113.78" };
    expect((await fetch(`${stack.gateway.url}/admin/tenants`, { headers: { "x-api-key": ADMIN_TOKEN, ...network } })).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await fetch(`${stack.gateway.url}/admin/tenants`, { headers: { authorization: `Bearer guess-${i}`, ...network } })).status);
    }
    expect(statuses.slice(0, 8).every((status) => status === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    expect((await fetch(`${stack.gateway.url}/admin/tenants`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...network } })).status).toBe(429);
    expect((await fetch(`${stack.gateway.url}/admin/tenants`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
  });

  it("applies a raised limit on the next request, and never reports more remaining than the limit", async () => {
    const tenant = await newTenant(stack, { limits: { requestsPerMinute: 2 } });
    for (let i = 0; i < 2; i++) await (await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=1")))).text();
    expect((await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=1")))).status).toBe(429);
    await stack.admin.updateTenant(tenant.id, { limits: { requestsPerMinute: 600 } });
    const raised = await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=1")));
    expect(raised.status).toBe(200);
    expect(raised.headers.get("x-ratelimit-limit-requests")).toBe("600");
    await raised.text();
    for (let i = 0; i < 3; i++) {
      const response = await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=1"), { max_tokens: 5_000 }));
      await response.text();
      await logOf(response);
      expect(Number(response.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThanOrEqual(Number(response.headers.get("x-ratelimit-limit-tokens")));
    }
  });

  it("tells the official SDKs not to wait out a spent budget", async () => {
    const tenant = await newTenant(stack, { limits: { dailyBudgetUsd: 0.000001 } });
    const anthropic = new Anthropic({ baseURL: stack.gateway.url, apiKey: tenant.key });
    const started = performance.now();
    const error = await anthropic.messages.create({ model: "claude-sonnet-4-6", max_tokens: 100, messages: [{ role: "user", content: "hi" }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
    const openai = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: tenant.key });
    const quota = await openai.chat.completions.create({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "hi" }] }).catch((caught: unknown) => caught);
    expect(quota).toBeInstanceOf(OpenAI.APIError);
    expect((quota as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    expect((quota as InstanceType<typeof OpenAI.APIError>).code).toBe("insufficient_quota");
    // Both gave up at once instead of retrying for the reset (the SDKs retry twice, with backoff, when allowed).
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});

describe("policy changes", () => {
  it("apply to routing on the next request, even while the region still caches the tenant", async () => {
    const tenant = await newTenant(stack);
    const ask = () => sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=2"), { model: "claude-opus-4-7" }));
    const first = await ask();
    await first.text();
    expect(first.headers.get("x-edgegate-model")).toBe("claude-opus-4-7");
    await stack.admin.updateTenant(tenant.id, { modelPolicy: { maxTier: "light" } });
    const capped = await ask();
    await capped.text();
    expect(capped.headers.get("x-edgegate-downgraded")).toContain("highest tier allowed is light");
    expect(ledgerOf(capped).model).toContain("haiku");
  });
});

describe("the client's API version", () => {
  it("is relayed upstream, so a client pinned to a version gets that version's behaviour", async () => {
    const send = (version: string) =>
      fetch(`${stack.gateway.url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": stack.clientKey, "content-type": "application/json", "anthropic-version": version },
        body: JSON.stringify(messageBody(unique("sim:tokens=2"))),
      });
    for (const version of ["2026-10-21", "2023-06-01", "2023-01-01"]) {
      const response = await send(version);
      expect(response.status).toBe(200);
      await response.text();
      expect(ledgerOf(response).anthropicVersion).toBe(version);
    }
    expect((await send("2021-01-01")).status).toBe(400);
  });
});

describe("admin input", () => {
  const cli = (args: string[]) =>
    promisify(execFile)(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../../shared/admin-client/cli.ts"), ...args], {
      env: { ...process.env, EDGEGATE_URL: stack.gateway.url, EDGEGATE_ADMIN_TOKEN: ADMIN_TOKEN },
    }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  it("refuses bad numbers in the CLI with a message, never a stack trace, and creates nothing", async () => {
    const id = `cli-${crypto.randomUUID().slice(0, 8)}`;
    for (const flags of [["--daily-usd", "abc"], ["--rpm", "-5"], ["--rpm=-5"], ["--tpm", "1.5"]]) {
      const result = await cli(["tenants", "create", "--id", id, "--name", "x", ...flags]);
      expect(result.code, flags.join(" ")).toBe(2);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await fetch(`${stack.gateway.url}/admin/tenants/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(404);
  });

  it("answers 404 for the keys of an unknown tenant, and refuses an unknown region pin", async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
    expect((await fetch(`${stack.gateway.url}/admin/tenants/no-such-tenant/keys`, { headers: admin })).status).toBe(404);
    const typo = await fetch(`${stack.gateway.url}/admin/tenants`, { method: "POST", headers: admin, body: JSON.stringify({ name: "x", regionPin: ["eu-wset"] }) });
    expect(typo.status).toBe(400);
    expect((await errorOf(typo)).message).toContain('unknown region "eu-wset"');
  });
});

describe("nothing unbounded", () => {
  /** Sends a body in chunks without Content-Length; resolves with the status and how much was sent before the answer. */
  function upload(chunks: number, chunkBytes: number, pauseMs: number): Promise<{ status: number; sentBeforeAnswer: number; body: string }> {
    const url = new URL(`${stack.gateway.url}/v1/messages`);
    return new Promise((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const request = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: "POST", agent: false, headers: { "x-api-key": stack.clientKey, "content-type": "application/json", "anthropic-version": "2023-06-01" } },
        (response) => {
          answered = true;
          const sentBeforeAnswer = sent;
          let body = "";
          response.on("data", (chunk: Buffer) => (body += chunk.toString()));
          response.on("end", () => {
            resolve({ status: response.statusCode ?? 0, sentBeforeAnswer, body });
            request.destroy();
          });
        },
      );
      request.on("error", (error) => {
        if (!answered) reject(error);
      });
      const chunk = Buffer.alloc(chunkBytes, 0x20);
      const next = (index: number) => {
        if (answered || request.destroyed) return;
        if (index === chunks) return void request.end();
        sent += chunkBytes;
        request.write(chunk, () => setTimeout(() => next(index + 1), pauseMs));
      };
      next(0);
    });
  }

  it("stops reading a body without Content-Length as soon as it passes the size limit", async () => {
    const result = await upload(40, 1024 * 1024, 10);
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body).error.type).toBe("request_too_large");
    expect(result.sentBeforeAnswer).toBeLessThan(20 * 1024 * 1024);
  });

  it("refuses a body that trickles in past its deadline", async () => {
    const started = performance.now();
    const result = await upload(100, 10, 100);
    expect(result.status, result.body).toBe(408);
    expect(JSON.parse(result.body).error.type).toBe("invalid_request_error");
    expect(performance.now() - started).toBeLessThan(BODY_TIMEOUT_MS + 2_000);
  });

  it("bounds a non-streamed request whose upstream stalls, aborts it, bills what it produced, and logs the outcome", async () => {
    const tenant = await newTenant(stack);
    const response = await sendMessage(stack, tenant.key, messageBody(unique("sim:fault=stall-mid sim:after=4")));
    expect(response.status).toBe(504);
    expect((await errorOf(response)).type).toBe("timeout_error");
    const record = ledgerOf(response);
    await expect.poll(() => record.clientAborted, { timeout: 3_000 }).toBe(true);
    expect(["upstream_timeout", "idle_timeout"]).toContain((await logOf(response)).outcome);
    const day = await settled(tenant.id, 1);
    expect(day["total|input"]).toBe(record.inputTokens);
    expect(day["total|output"]).toBeGreaterThanOrEqual(record.outputTokensSent);
  });

  it("bills a non-streamed answer cut short by its deadline for what the upstream produced", async () => {
    const tenant = await newTenant(stack);
    // 2,000 tokens at 500 a second (25 a second at the stack's time scale of 0.05) take 4 s; the deadline is 2 s.
    const response = await sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=2000 sim:tps=25 sim:ttft=0"), { max_tokens: 3_000 }));
    expect(response.status).toBe(504);
    const record = ledgerOf(response);
    await expect.poll(() => record.finishedAt !== null, { timeout: 5_000 }).toBe(true);
    expect(record.outputTokensSent).toBeGreaterThan(100);
    const day = await settled(tenant.id, 1);
    expect(day["total|output"]).toBeGreaterThanOrEqual(record.outputTokensSent);
    expect(day["total|estimated"]).toBe(1);
  });

  it("bills what a non-streamed upstream call produced when its client leaves", async () => {
    // Cloudflare reports the disconnect (request.signal) and the upstream call is aborted at
    // once; workerd run locally only notices when it writes the answer, so here the call may
    // run to its end. Either way what was produced is settled, exactly.
    const tenant = await newTenant(stack);
    const before = stack.simulator!.ledger.all().length;
    const controller = new AbortController();
    const sent = sendMessage(stack, tenant.key, messageBody(unique("sim:tokens=60 sim:tps=25 sim:ttft=0"), { max_tokens: 100 }), controller.signal).catch(() => null);
    await expect.poll(() => stack.simulator!.ledger.all().slice(before).find((entry) => entry.outputTokensSent > 10), { timeout: 5_000 }).toBeDefined();
    const record = stack.simulator!.ledger.all().slice(before).find((entry) => entry.outputTokensSent > 10)!;
    controller.abort();
    await sent;
    await expect.poll(() => record.finishedAt, { timeout: 10_000 }).not.toBeNull();
    const day = await settled(tenant.id, 1);
    expect(day["total|output"]).toBe(record.outputTokensSent);
    expect(day["total|input"]).toBe(record.inputTokens);
  });
});
