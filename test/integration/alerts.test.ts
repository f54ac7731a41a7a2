import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../stack/stack.js";
import { newTenant } from "./helpers.js";
import { metricsJson, type ReceivedAlert, sendTimed, startWebhookReceiver } from "./operators.js";

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  // The operator's webhook comes from the environment, as deployed (a secret).
  stack = await startStack({ timeScale: 0.05, vars: { ALERT_WEBHOOK_URL: `${receiver.url}/operator` } });
});

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

const admin = (path: string, method: string, body?: unknown) =>
  fetch(`${stack.gateway.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** Requests of a tenant the stored metrics hold. */
async function settled(tenant: string): Promise<number> {
  const answer = await metricsJson(`${stack.gateway.url}/admin/metrics`, stack.adminToken, { tenant, group: "" });
  return Object.entries(answer.series[0]?.window.counters ?? {}).reduce((sum, [metric, value]) => sum + (metric.startsWith("requests:") ? value : 0), 0);
}

/** The alerts received so far, as "<path> <status> <alert id>". */
const seen = (received: readonly ReceivedAlert[]) => received.map((alert) => `${alert.path} ${alert.headers["x-edgegate-alert-status"]} ${alert.headers["x-edgegate-alert"]}`);

describe("alerts from the Cron Trigger", () => {
  it("fire once and resolve once at a local webhook, for the operator and for a tenant with its own, deduplicated across runs", async () => {
    const tenant = await newTenant(stack);
    const put = await admin(`/tenants/${tenant.id}/alerts`, "PUT", { webhookUrl: `${receiver.url}/tenant`, rules: ["error_rate", "budget"], thresholds: { minRequests: 10 } });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { webhookUrl: string }).webhookUrl).toBe(`${receiver.url}/…`);

    // 24 answers and 6 upstream errors (20%): above the 2% error-rate threshold, with more than the 20 requests needed.
    const prompts = Array.from({ length: 30 }, (_, index) => `status check ${index} ${index % 5 === 0 ? "sim:fault=500" : "sim:tokens=5"}`);
    const sent = await sendTimed(stack, tenant.key, prompts, 6);
    expect(sent.filter((request) => request.status === 500)).toHaveLength(6);

    // Failed requests settle just after their answer: the run comes once all are written.
    await expect.poll(() => settled(tenant.id), { timeout: 10_000 }).toBe(30);
    const start = Date.now();
    await stack.scheduled({ at: new Date(start) });
    // Later runs (in any region) while the errors are still in the 5-minute window announce nothing new.
    await stack.scheduled({ at: new Date(start + 60_000) });
    await stack.scheduled({ at: new Date(start + 120_000) });
    expect(seen(receiver.received).sort()).toEqual(["/operator firing operator/error_rate/local", `/tenant firing tenant:${tenant.id}/error_rate/all`]);
    const firing = receiver.received.find((alert) => alert.path === "/operator")!.body;
    expect(firing.text).toMatch(/^:rotating_light: \[FIRING\] error_rate · local: error rate 20% over 5 min \(6 of 30 requests\) is above 2\.0%/);
    expect(firing.blocks).toHaveLength(2);
    const state = (await (await admin("/alerts", "GET")).json()) as { alerts: Array<{ id: string; alert: { status: string; sent: boolean } }> };
    expect(state.alerts.map(({ id, alert }) => [id, alert.status, alert.sent]).sort()).toEqual([
      ["operator/error_rate/local", "firing", true],
      [`tenant:${tenant.id}/error_rate/all`, "firing", true],
    ]);

    // Once the errors have left the window (7 minutes on), both resolve, once.
    await stack.scheduled({ at: new Date(start + 7 * 60_000) });
    await stack.scheduled({ at: new Date(start + 8 * 60_000) });
    expect(seen(receiver.received.slice(2)).sort()).toEqual(["/operator resolved operator/error_rate/local", `/tenant resolved tenant:${tenant.id}/error_rate/all`]);
    expect(receiver.received.at(-1)!.body.text).toContain("[RESOLVED]");
    expect(receiver.received).toHaveLength(4);
  });

  it("tell a tenant when 80% of its daily budget is spent, once", async () => {
    const before = receiver.received.length;
    const tenant = await newTenant(stack, { limits: { dailyBudgetUsd: 0.002 } });
    await admin(`/tenants/${tenant.id}/alerts`, "PUT", { webhookUrl: `${receiver.url}/budget`, rules: ["budget"] });
    // Small answers, until the budget refuses or 20 went through: what is spent gets past 80% of the budget.
    const sent = await sendTimed(stack, tenant.key, Array.from({ length: 20 }, (_, index) => `short ${index} sim:tokens=5`), 1, { max_tokens: 5 });
    expect(sent.every((request) => request.status === 200 || request.status === 402)).toBe(true);
    const usage = (await (await admin(`/tenants/${tenant.id}/usage`, "GET")).json()) as { day: { cost_usd: number } };
    expect(usage.day.cost_usd).toBeGreaterThanOrEqual(0.0016);
    const at = Date.now() + 10 * 60_000;
    await stack.scheduled({ at: new Date(at) });
    await stack.scheduled({ at: new Date(at + 60_000) });
    const budget = receiver.received.slice(before).filter((alert) => alert.path === "/budget");
    expect(seen(budget)).toEqual([`/budget firing tenant:${tenant.id}/budget/daily budget 80%`]);
    expect(budget[0]!.body.text).toMatch(/daily budget 80% reached: \$0\.00\d+ of \$0\.00200 spent/);
  });

  it("are announced once when a run starts while the one before is still delivering", async () => {
    const tenant = await newTenant(stack);
    await admin(`/tenants/${tenant.id}/alerts`, "PUT", { webhookUrl: `${receiver.url}/slow`, rules: ["error_rate"], thresholds: { minRequests: 10 } });
    const sent = await sendTimed(stack, tenant.key, Array.from({ length: 20 }, (_, index) => `overlap ${index} ${index % 2 === 0 ? "sim:fault=500" : "sim:tokens=5"}`), 4);
    expect(sent.filter((request) => request.status === 500)).toHaveLength(10);
    await expect.poll(() => settled(tenant.id), { timeout: 10_000 }).toBe(20);
    // The receiver takes 3 s to answer: the next minute's run (another region's trigger) starts while the first still waits.
    const start = Date.now();
    // Earlier tests' runs may have taken these minutes (each minute runs once): free them.
    const redis = new Redis(stack.redis.url);
    await redis.del(`eg:cron:${Math.floor(start / 60_000)}`, `eg:cron:${Math.floor(start / 60_000) + 1}`);
    redis.disconnect();
    const first = stack.scheduled({ at: new Date(start) });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await Promise.all([first, stack.scheduled({ at: new Date(start + 60_000) })]);
    expect(seen(receiver.received.filter((alert) => alert.path === "/slow"))).toEqual([`/slow firing tenant:${tenant.id}/error_rate/all`]);
  });

  it("take settings only from the admin API, validated", async () => {
    expect((await admin("/alerts", "PUT", { webhookUrl: "ftp://example.com/" })).status).toBe(400);
    // Alerts carry tenants' figures: plain http only to a receiver on this machine.
    expect((await admin("/alerts", "PUT", { webhookUrl: "http://hooks.example.com/alerts" })).status).toBe(400);
    expect((await admin("/tenants/no-such-tenant/alerts", "PUT", { webhookUrl: "https://example.com/" })).status).toBe(404);
    const tenant = await newTenant(stack);
    expect((await admin(`/tenants/${tenant.id}/alerts`, "PUT", {})).status).toBe(400);
    expect((await fetch(`${stack.gateway.url}/admin/alerts`, { headers: { authorization: `Bearer ${tenant.key}` } })).status).toBe(401);
  });
});
