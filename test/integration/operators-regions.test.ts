import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deployment, startStack, type Stack } from "../stack/stack.js";
import { ANTHROPIC_VERSION, newTenant } from "./helpers.js";
import { metricsJson, startWebhookReceiver } from "./operators.js";
import { ledgerRecord } from "./traffic.js";

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  // Regions with their own databases, as deployed; real timing, so first tokens take what the directives say.
  stack = await startStack({
    topology: "regions",
    timeScale: 1,
    vars: { SLO_REFRESH_MS: "500", SLO_MIN_SAMPLES: "5", ALERT_WEBHOOK_URL: `${receiver.url}/operator` },
  });
});

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

const region = (id: string): Deployment => stack.deployments.find((deployment) => deployment.region === id)!;

/** A hard question (the classifier's deep tier), sent as `auto`. */
const HARD =
  "Prove rigorously that every finite group of prime order is cyclic, then derive the consequences for subgroups of Z_p x Z_p step by step, analysing each case, and compare two proof strategies in depth. sim:tokens=3";

function send(deployment: Deployment, key: string, model: string, prompt: string): Promise<Response> {
  const body = model === "auto" ? { model, max_tokens: 8_000, thinking: { type: "enabled", budget_tokens: 4_000 } } : { model, max_tokens: 50 };
  return fetch(`${deployment.gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION },
    body: JSON.stringify({ ...body, messages: [{ role: "user", content: prompt }] }),
  });
}

async function many(deployment: Deployment, key: string, model: string, prompts: string[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < prompts.length) {
      const response = await send(deployment, key, model, prompts[next++]!);
      await response.text();
      expect(response.status).toBe(200);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** An auto request's routing, as its headers and the simulator that served it tell. */
async function routed(deployment: Deployment, key: string) {
  const response = await send(deployment, key, "auto", HARD);
  await response.text();
  expect(response.status).toBe(200);
  return {
    model: response.headers.get("x-edgegate-model"),
    tier: response.headers.get("x-edgegate-tier"),
    slo: response.headers.get("x-edgegate-slo"),
    served: ledgerRecord(stack, response.headers.get("request-id")!)?.model ?? null,
  };
}

describe("SLO-aware routing", () => {
  it("sends auto requests one tier down while the model's recent p95 first token in the region is over the tenant's target, and back once it recovers", async () => {
    const tenant = await newTenant(stack, { firstTokenTargetMs: 1_000 });
    const usEast = region("us-east");
    const euWest = region("eu-west");
    expect(await routed(usEast, tenant.key)).toEqual({ model: "claude-opus-4-7", tier: "deep", slo: null, served: "claude-opus-4-7" });

    // Opus turns slow in us-east (first tokens at 1.8 s, for anyone's requests).
    const other = await newTenant(stack);
    await many(usEast, other.key, "claude-opus-4-7", Array.from({ length: 6 }, (_, index) => `slow ${index} sim:ttft=1800 sim:tokens=2`), 3);
    // The region's figures reach the primary through its outbox: every isolate (and the export) sees them.
    const opusInUsEast = async () =>
      (await metricsJson(`${stack.deployments[0]!.gateway.url}/admin/metrics`, stack.adminToken, { region: "us-east", model: "claude-opus-4-7", group: "region,model", window: "15m" })).series[0]?.window
        .ttft_ms.count ?? 0;
    await expect.poll(opusInUsEast, { timeout: 10_000 }).toBeGreaterThanOrEqual(7);
    await expect.poll(async () => (await routed(usEast, tenant.key)).slo, { timeout: 10_000 }).toMatch(/^claude-opus-4-7 -> claude-sonnet-4-6 \(recent p95 time to first token \d+ ms is over the 1000 ms target\)$/);
    expect(await routed(usEast, tenant.key)).toMatchObject({ model: "claude-sonnet-4-6", tier: "standard", served: "claude-sonnet-4-6" });
    // Only in that region, and only for tenants that asked for it.
    expect(await routed(euWest, tenant.key)).toMatchObject({ model: "claude-opus-4-7", slo: null });
    expect(await routed(usEast, other.key)).toMatchObject({ model: "claude-opus-4-7", slo: null });

    // It recovers: fast first tokens push the slow ones out of the p95, and auto requests come back.
    await many(usEast, other.key, "claude-opus-4-7", Array.from({ length: 150 }, (_, index) => `fast ${index} sim:ttft=30 sim:tokens=2`), 8);
    await expect.poll(async () => (await routed(usEast, tenant.key)).slo, { timeout: 10_000 }).toBeNull();
    expect(await routed(usEast, tenant.key)).toMatchObject({ model: "claude-opus-4-7", tier: "deep", served: "claude-opus-4-7" });
  });
});

describe("alerts across regions", () => {
  it("are announced once whichever region's trigger runs, at the same minute or later ones", async () => {
    const tenant = await newTenant(stack);
    const euWest = region("eu-west");
    // 24 requests in eu-west, 6 of them failing upstream (25%), settled through the region's outbox.
    await many(euWest, tenant.key, "claude-sonnet-4-6", Array.from({ length: 18 }, (_, index) => `fine ${index} sim:tokens=2`), 6);
    const failing = await Promise.all(Array.from({ length: 6 }, (_, index) => send(euWest, tenant.key, "claude-sonnet-4-6", `failing ${index} sim:fault=500`)));
    expect(failing.map((response) => response.status)).toEqual([500, 500, 500, 500, 500, 500]);
    await Promise.all(failing.map((response) => response.text()));
    const counted = async () =>
      Object.entries((await metricsJson(`${euWest.gateway.url}/admin/metrics`, stack.adminToken, { tenant: tenant.id, group: "" })).series[0]?.window.counters ?? {}).reduce(
        (sum, [metric, value]) => sum + (metric.startsWith("requests:") ? value : 0),
        0,
      );
    await expect.poll(counted, { timeout: 10_000 }).toBe(24);

    const at = Date.now();
    // Every region's trigger fires at the same minute: one run takes it, the others skip.
    await Promise.all(stack.deployments.map((deployment) => stack.scheduled({ region: deployment.region, at: new Date(at) })));
    // Later minutes, in other regions, while the errors are still in the window: nothing new.
    await stack.scheduled({ region: "ap-southeast", at: new Date(at + 60_000) });
    await stack.scheduled({ region: "us-east", at: new Date(at + 120_000) });
    // After the window: resolved, once.
    await stack.scheduled({ region: "ap-southeast", at: new Date(at + 7 * 60_000) });
    await stack.scheduled({ region: "eu-west", at: new Date(at + 8 * 60_000) });
    expect(receiver.received.map((alert) => `${alert.headers["x-edgegate-alert-status"]} ${alert.headers["x-edgegate-alert"]}`)).toEqual([
      "firing operator/error_rate/eu-west",
      "resolved operator/error_rate/eu-west",
    ]);
    // The region's traffic: this test's and the SLO test's few requests in eu-west.
    expect(receiver.received[0]!.body.text).toMatch(/error_rate · eu-west: error rate \d+% over 5 min \(6 of 2\d requests\)/);
  });
});
