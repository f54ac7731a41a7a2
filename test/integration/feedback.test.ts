import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../stack/stack.js";
import { ANTHROPIC_VERSION, messageBody, newTenant, sendMessage } from "./helpers.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ timeScale: 0.02 });
});

afterAll(async () => {
  await stack?.stop();
});

interface TierFigures {
  requests: number;
  cost_usd: number;
  strongest_model_cost_usd: number;
  savings_usd: number;
  feedback: { up: number; down: number };
}

interface Usage {
  month: { by_tier: Record<string, TierFigures>; audit: Record<string, TierFigures> };
}

function rate(key: string, requestId: string, rating: "up" | "down"): Promise<Response> {
  return fetch(`${stack.gateway.url}/v1/feedback`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify({ request_id: requestId, rating }),
  });
}

async function usage(key: string): Promise<Usage> {
  const response = await fetch(`${stack.gateway.url}/v1/usage`, { headers: { "x-api-key": key, "anthropic-version": ANTHROPIC_VERSION } });
  expect(response.status).toBe(200);
  return (await response.json()) as Usage;
}

/** Sends a request and waits until it is settled (its record is what feedback is checked against). */
async function answered(key: string, model: string, prompt: string): Promise<Response> {
  const response = await sendMessage(stack, key, messageBody(`sim:tokens=3 ${prompt}`, { model }));
  expect(response.status).toBe(200);
  await response.text();
  await stack.gateway.waitForLog(response.headers.get("x-request-id")!);
  return response;
}

describe("feedback and the audit sample", () => {
  it("count ratings by the tier that served, compare the audit sample with the tier chosen, and show cost and savings per tier", async () => {
    const tenant = await newTenant(stack, { modelPolicy: { auditSampleRate: 0.25 } });
    const responses = [];
    for (let i = 0; i < 40; i++) responses.push(await answered(tenant.key, "auto", `What are your opening hours? (${i})`));
    const audited = responses.filter((response) => response.headers.get("x-edgegate-audit") !== null);
    const light = responses.filter((response) => response.headers.get("x-edgegate-audit") === null);
    expect(audited.length).toBeGreaterThan(0);
    for (const response of audited) {
      expect(response.headers.get("x-edgegate-audit")).toBe("light -> standard (audit sample)");
      expect(response.headers.get("x-edgegate-model")).toBe("claude-sonnet-4-6");
    }

    for (const response of light.slice(0, 5)) expect((await rate(tenant.key, response.headers.get("x-request-id")!, "down")).status).toBe(200);
    const first = await rate(tenant.key, audited[0]!.headers.get("x-request-id")!, "up");
    expect(await first.json()).toMatchObject({ rating: "up", tier: "standard", audited_from: "light", model: "claude-sonnet-4-6", changed: true });
    // Rating again replaces, never adds.
    expect(await (await rate(tenant.key, audited[0]!.headers.get("x-request-id")!, "up")).json()).toMatchObject({ changed: false });

    const report = (await usage(tenant.key)).month;
    expect(report.by_tier.light!.requests).toBe(light.length);
    expect(report.by_tier.light!.feedback).toEqual({ up: 0, down: 5 });
    expect(report.audit["light>standard"]!.requests).toBe(audited.length);
    expect(report.audit["light>standard"]!.feedback).toEqual({ up: 1, down: 0 });
    expect(report.by_tier.light!.savings_usd).toBeGreaterThan(0);
    expect(report.by_tier.light!.strongest_model_cost_usd).toBeGreaterThan(report.by_tier.light!.cost_usd);
  });

  it("refuses ratings on another tenant's answers, unknown ids and invalid ratings, in the API's error shape", async () => {
    const owner = await newTenant(stack);
    const other = await newTenant(stack);
    const response = await answered(owner.key, "auto", "hello");
    const requestId = response.headers.get("x-request-id")!;
    const foreign = await rate(other.key, requestId, "up");
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as { error: { type: string } }).error.type).toBe("not_found_error");
    expect((await rate(owner.key, "egr_doesnotexist00", "up")).status).toBe(404);
    const invalid = await fetch(`${stack.gateway.url}/v1/feedback`, {
      method: "POST",
      headers: { "x-api-key": owner.key, "content-type": "application/json" },
      body: JSON.stringify({ request_id: requestId, rating: "meh" }),
    });
    expect(invalid.status).toBe(400);
  });

  it("moves a tenant's thresholds when light answers are rated below standard ones, only within its bounds", async () => {
    const bounds = { standard: { min: 0.46, max: 0.5 }, deep: { min: 0.85, max: 0.9 } };
    const tenant = await newTenant(stack, { modelPolicy: { thresholds: { standard: 0.47, deep: 0.88 }, autoTune: bounds } });
    for (let i = 0; i < 20; i++) {
      const lightAnswer = await answered(tenant.key, "auto", `Where is my order? (${i})`);
      expect(lightAnswer.headers.get("x-edgegate-tier")).toBe("light");
      const standardAnswer = await answered(tenant.key, "claude-sonnet-4-6", `Where is my order? (${i})`);
      await rate(tenant.key, lightAnswer.headers.get("x-request-id")!, "down");
      await rate(tenant.key, standardAnswer.headers.get("x-request-id")!, "up");
    }
    // One step down, held at the tenant's lower bound, deep untouched (standard and deep are rated alike).
    await expect.poll(async () => (await stack.admin.getTenant(tenant.id)).modelPolicy.thresholds, { timeout: 10_000 }).toEqual({ standard: 0.46, deep: 0.88 });
  });
});
