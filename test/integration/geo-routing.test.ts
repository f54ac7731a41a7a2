import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_LOCATIONS } from "../stack/geography.js";
import { startStack, type Deployment, type Stack } from "../stack/stack.js";
import { messageBody, newTenant } from "./helpers.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ topology: "regions", timeScale: 0.05, breakerCoolDownMs: 1_500, vars: { UPSTREAM_TIMEOUT_MS: "1500" } });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

afterEach(() => {
  for (const deployment of stack.deployments) deployment.simulator!.setOutage(null);
});

const deployment = (region: string): Deployment => stack.deployments.find((d) => d.region === region)!;
const FRANKFURT = CLIENT_LOCATIONS.find((location) => location.name === "Frankfurt")!;

/** A request through the front Worker from a chosen client location (Miniflare's MF-CF-Blob, local only). */
function fromLocation(location: { latitude: number; longitude: number; continent: string }, key: string, prompt = "sim:tokens=2 hi", stream = true) {
  return fetch(`${stack.gateway.url}/v1/messages`, {
    method: "POST",
    headers: {
      "x-api-key": key,
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      "MF-CF-Blob": JSON.stringify({ latitude: String(location.latitude), longitude: String(location.longitude), continent: location.continent }),
    },
    body: JSON.stringify(messageBody(prompt, { stream })),
  });
}

async function edgeHealth(): Promise<Record<string, string>> {
  return ((await (await fetch(`${stack.gateway.url}/healthz`)).json()) as { regions: Record<string, string> }).regions;
}

describe("geo-routing through the front Worker", () => {
  it.each([
    ["New York", "us-east"],
    ["Frankfurt", "eu-west"],
    ["Singapore", "ap-southeast"],
    ["Sydney", "ap-southeast"],
    ["Sao Paulo", "us-east"],
  ])("a client in %s is served by %s", async (name, region) => {
    const location = CLIENT_LOCATIONS.find((candidate) => candidate.name === name)!;
    const response = await fromLocation(location, stack.clientKey);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-edgegate-region")).toBe(region);
    expect(response.headers.get("x-edgegate-route")).toMatch(/^nearest by distance/);
    // The region's own simulator answered (by message id: Vertex sends no request id).
    const messageId = /"id":"(msg_[^"]+)"/.exec(text)?.[1];
    expect(deployment(region).simulator!.ledger.all().some((record) => record.messageId === messageId)).toBe(true);
  });

  it("skips a failing region for the next nearest, opens its breaker, and closes it after a good probe", async () => {
    deployment("eu-west").simulator!.setOutage("529");
    const first = await fromLocation(FRANKFURT, stack.clientKey);
    await first.text();
    expect(first.status).toBe(200);
    expect(first.headers.get("x-edgegate-region")).toBe("us-east");
    expect(first.headers.get("x-edgegate-regions-tried")).toBe("eu-west=529 us-east=200");
    expect(first.headers.get("x-edgegate-route")).toContain("failed over");

    for (let i = 0; i < 2; i++) await (await fromLocation(FRANKFURT, stack.clientKey)).text();
    expect((await edgeHealth())["eu-west"]).toBe("open");
    const whileOpen = await fromLocation(FRANKFURT, stack.clientKey);
    await whileOpen.text();
    expect(whileOpen.headers.get("x-edgegate-regions-tried")).toBe("eu-west=open us-east=200");

    deployment("eu-west").simulator!.setOutage(null);
    await new Promise((resolve) => setTimeout(resolve, 1_700)); // the cool-down (1.5 s here)
    const probe = await fromLocation(FRANKFURT, stack.clientKey);
    await probe.text();
    expect(probe.headers.get("x-edgegate-region")).toBe("eu-west");
    expect((await edgeHealth())["eu-west"]).toBe("closed");
  });

  it("never serves a pinned tenant outside its pin, and answers 503 when the pinned region is down", async () => {
    const tenant = await newTenant(stack, { regionPin: ["ap-southeast"] });
    const fromFrankfurt = await fromLocation(FRANKFURT, tenant.key);
    await fromFrankfurt.text();
    expect(fromFrankfurt.headers.get("x-edgegate-region")).toBe("ap-southeast");
    expect(fromFrankfurt.headers.get("x-edgegate-route")).toContain("pinned to ap-southeast");

    deployment("ap-southeast").simulator!.setOutage("500");
    const usEastBefore = deployment("us-east").simulator!.ledger.all().length;
    const euWestBefore = deployment("eu-west").simulator!.ledger.all().length;
    const refused = await fromLocation(FRANKFURT, tenant.key);
    expect(refused.status).toBe(503);
    const error = ((await refused.json()) as { error: { type: string; message: string } }).error;
    expect(error.message).toContain("pinned to ap-southeast");
    expect(deployment("us-east").simulator!.ledger.all().length).toBe(usEastBefore);
    expect(deployment("eu-west").simulator!.ledger.all().length).toBe(euWestBefore);

    const direct = await fetch(`${deployment("eu-west").gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": tenant.key, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify(messageBody("sim:tokens=2 hi")),
    });
    expect(direct.status).toBe(403);
    expect(((await direct.json()) as { error: { message: string } }).error.message).toContain("pinned to ap-southeast");
  });

  it("routes a widget's preflight and chat to the pinned region too (the key comes in the URL)", async () => {
    const tenant = await newTenant(stack, { regionPin: ["ap-southeast"] });
    const origin = "https://shop.example";
    const widget = await stack.admin.createKey(tenant.id, { kind: "publishable", widget: { allowedOrigins: [origin] } });
    const url = `${stack.gateway.url}/v1/widget/chat?key=${widget.key}`;
    const blob = JSON.stringify({ latitude: String(FRANKFURT.latitude), longitude: String(FRANKFURT.longitude), continent: FRANKFURT.continent });
    const preflight = await fetch(url, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "MF-CF-Blob": blob },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("x-edgegate-region")).toBe("ap-southeast");
    const started = await fetch(`${stack.gateway.url}/v1/widget/session?key=${widget.key}`, { method: "POST", headers: { origin, "MF-CF-Blob": blob } });
    expect(started.status).toBe(201);
    expect(started.headers.get("x-edgegate-region")).toBe("ap-southeast");
    const { session } = (await started.json()) as { session: string };
    const chat = await fetch(url, {
      method: "POST",
      headers: { origin, "content-type": "application/json", "x-edgegate-session": session, "MF-CF-Blob": blob },
      body: JSON.stringify({ messages: [{ role: "user", content: "sim:tokens=2 hi" }] }),
    });
    await chat.text();
    expect(chat.status).toBe(200);
    expect(chat.headers.get("x-edgegate-region")).toBe("ap-southeast");
    expect(chat.headers.get("x-edgegate-route")).toContain("pinned to ap-southeast");
    expect(chat.headers.get("access-control-allow-origin")).toBe(origin);
  });

  it("sends a tenant's requests to its new pin within 5 s of the change, even when the front Worker's pin is older", async () => {
    const tenant = await newTenant(stack);
    const before = await fromLocation(FRANKFURT, tenant.key);
    await before.text();
    expect(before.headers.get("x-edgegate-region")).toBe("eu-west");
    await stack.admin.updateTenant(tenant.id, { regionPin: ["ap-southeast"] });
    const changedAt = performance.now();
    // eu-west decides with its replica of the tenant, which follows the primary within REPLICA_MAX_AGE_MS;
    // once it sees the pin, its answer says where to go and the front Worker goes there.
    let after: Response;
    for (;;) {
      after = await fromLocation(FRANKFURT, tenant.key);
      await after.text();
      expect(after.status).toBe(200);
      if (after.headers.get("x-edgegate-region") === "ap-southeast") break;
      expect(performance.now() - changedAt).toBeLessThan(5_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(after.headers.get("x-edgegate-regions-tried")).toBe("eu-west=403 ap-southeast=200");
    expect(after.headers.get("x-edgegate-route")).toContain("pinned to ap-southeast");
    const next = await fromLocation(FRANKFURT, tenant.key);
    await next.text();
    expect(next.headers.get("x-edgegate-regions-tried")).toBe("ap-southeast=200");
  });

  it("replays in another region only what no upstream could have charged for", async () => {
    // A region whose upstream timed out may have been charged: its 504 is final.
    const timedOut = await fromLocation(FRANKFURT, stack.clientKey, `sim:fault=stall-mid ${crypto.randomUUID()}`, false);
    expect(timedOut.status).toBe(504);
    expect(timedOut.headers.get("x-edgegate-regions-tried")).toBe("eu-west=504");
    await timedOut.text();
  });

  it("does not retry elsewhere once the first byte is out", async () => {
    const response = await fromLocation(FRANKFURT, stack.clientKey, "sim:fault=error-mid sim:after=3 hi");
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain("event: error");
    expect(response.headers.get("x-edgegate-regions-tried")).toBe("eu-west=200");
  });

  it("serves the same API directly on each regional gateway", async () => {
    for (const { region, gateway } of stack.deployments) {
      const response = await fetch(`${gateway.url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": stack.clientKey, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify(messageBody("sim:tokens=2 hi")),
      });
      expect(response.status, region).toBe(200);
      expect(((await response.json()) as { type: string }).type).toBe("message");
    }
  });
});
