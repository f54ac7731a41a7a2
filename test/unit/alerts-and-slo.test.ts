import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { unitRedis as redis } from "./fixtures/redis.js";
import { app } from "../../functions/gateway/app.js";
import { DEFAULT_THRESHOLDS as CLASSIFIER_THRESHOLDS } from "../../shared/classify/index.js";
import { evaluateRules, type RuleInput } from "../../shared/metrics/alerts/rules.js";
import { alertSettingsSchema, DEFAULT_THRESHOLDS, effectiveSettings, parseThresholds, parseWebhookUrl } from "../../shared/metrics/alerts/settings.js";
import { AlertState } from "../../shared/metrics/alerts/state.js";
import { alertMessage } from "../../shared/metrics/alerts/webhook.js";
import { bucketOf, TTFT_MS } from "../../shared/metrics/histogram.js";
import { routeRequest, routingHeaders } from "../../shared/routing/policy.js";
import { withFirstTokenTarget } from "../../shared/routing/slo.js";
import { redisKeys } from "../../shared/storage/keys.js";
import { modelPolicySchema, tenantUpdateSchema } from "../../shared/tenants/model.js";


const ALL_RULES = ["error_rate", "ttft_p95", "refusal_rate", "budget"] as const;
const empty: RuleInput = { window: new Map(), refusalBaseline: new Map(), ttftBaseline: new Map(), budgets: [] };
const series = (region: string, tenant: string, model = "claude-sonnet-4-6") => `${region}|${tenant}|${model}|*`;

describe("alert rules, with the sources' defaults", () => {
  it("fire on an error rate above 2% over the window, per region for the operator, once enough requests tell", () => {
    const window = new Map([
      [`${series("us-east", "a")}|requests:completed`, 90],
      [`${series("us-east", "a")}|upstream_errors:overloaded_error`, 1],
      [`${series("us-east", "b")}|requests:upstream_error`, 3],
      [`${series("us-east", "b")}|upstream_errors:529`, 3],
      [`${series("eu-west", "a")}|requests:completed`, 100],
      [`${series("eu-west", "a")}|requests:upstream_failed`, 2],
      [`${series("ap-southeast", "a")}|requests:upstream_error`, 5],
      [`${series("ap-southeast", "a")}|upstream_errors:529`, 5],
    ]);
    const conditions = evaluateRules("operator", "operator", ALL_RULES, DEFAULT_THRESHOLDS, { ...empty, window });
    // us-east: 4 of 93 (4.3%) fires; eu-west: 2 of 102 (2.0%) does not; ap-southeast: 5 of 5, too few requests.
    expect(conditions.map((condition) => condition.id)).toEqual(["operator/error_rate/us-east"]);
    expect(conditions[0]!.summary).toContain("4 of 93 requests");
    // A tenant's own scope sees its own traffic (input already narrowed to it).
    const tenantOnly = new Map([...window].filter(([field]) => field.includes("|b|")));
    expect(evaluateRules("tenant:b", "tenant", ALL_RULES, { ...DEFAULT_THRESHOLDS, minRequests: 3 }, { ...empty, window: tenantOnly }).map((condition) => condition.id)).toEqual([
      "tenant:b/error_rate/all",
    ]);
  });

  it("fire when p95 time to first token is over 1.5x its baseline, per model and region", () => {
    const at = (ms: number) => bucketOf(TTFT_MS, ms);
    const window = new Map([
      [`${series("us-east", "a")}|ttft:${at(500)}`, 18],
      [`${series("us-east", "a")}|ttft:${at(1_400)}`, 2],
      [`${series("us-east", "a", "claude-haiku-4-5")}|ttft:${at(300)}`, 30],
    ]);
    const ttftBaseline = new Map([
      [`${series("us-east", "a")}|ttft:${at(500)}`, 500],
      [`${series("us-east", "a", "claude-haiku-4-5")}|ttft:${at(290)}`, 500],
    ]);
    const conditions = evaluateRules("operator", "operator", ["ttft_p95"], DEFAULT_THRESHOLDS, { ...empty, window, ttftBaseline });
    expect(conditions.map((condition) => condition.id)).toEqual(["operator/ttft_p95/claude-sonnet-4-6 in us-east"]);
    expect(evaluateRules("operator", "operator", ["ttft_p95"], { ...DEFAULT_THRESHOLDS, ttftRatio: 3 }, { ...empty, window, ttftBaseline })).toEqual([]);
  });

  it("fire when refusals rise: above 5% of requests and twice the hour before; and at 80% and 100% of a budget", () => {
    const window = new Map([
      [`us-east|a|-|-|refused:rate`, 12],
      [`${series("us-east", "a")}|requests:completed`, 100],
    ]);
    const steady = new Map([
      [`us-east|a|-|-|refused:rate`, 120],
      [`${series("us-east", "a")}|requests:completed`, 1_000],
    ]);
    expect(evaluateRules("operator", "operator", ["refusal_rate"], DEFAULT_THRESHOLDS, { ...empty, window }).map((condition) => condition.id)).toEqual(["operator/refusal_rate/us-east"]);
    expect(evaluateRules("operator", "operator", ["refusal_rate"], DEFAULT_THRESHOLDS, { ...empty, window, refusalBaseline: steady })).toEqual([]);
    const budgets = [
      { tenant: "a", period: "daily" as const, spentMicroUsd: 8_500_000, budgetUsd: 10 },
      { tenant: "b", period: "monthly" as const, spentMicroUsd: 100_000_000, budgetUsd: 100 },
    ];
    expect(evaluateRules("operator", "operator", ["budget"], DEFAULT_THRESHOLDS, { ...empty, budgets }).map((condition) => condition.id)).toEqual([
      "operator/budget/a daily budget 80%",
      "operator/budget/b monthly budget 80%",
      "operator/budget/b monthly budget 100%",
    ]);
  });
});

describe("alert settings", () => {
  it("go to the operator (stored over the environment) and to tenants with a webhook of their own", () => {
    const tenant = alertSettingsSchema.parse({ webhookUrl: "https://hooks.example/t", thresholds: { errorRate: 0.1 } });
    const effective = effectiveSettings(
      { webhookUrl: "https://hooks.example/ops", thresholds: { windowMinutes: 10 } },
      { operator: null, tenants: new Map([["acme", tenant], ["quiet", alertSettingsSchema.parse({ enabled: false, webhookUrl: "https://x.example/" })]]) },
    );
    expect(effective.map((settings) => [settings.scope, settings.webhookUrl, settings.thresholds.errorRate, settings.thresholds.windowMinutes])).toEqual([
      ["operator", "https://hooks.example/ops", 0.02, 10],
      [{ tenant: "acme" }, "https://hooks.example/t", 0.1, 10],
    ]);
    expect(alertSettingsSchema.safeParse({ webhookUrl: "javascript:alert(1)" }).success).toBe(false);
    // https, or plain http only to this machine.
    expect(alertSettingsSchema.safeParse({ webhookUrl: "http://hooks.example/t" }).success).toBe(false);
    expect(alertSettingsSchema.safeParse({ webhookUrl: "http://127.0.0.1:9000/t" }).success).toBe(true);
  });

  it("from the environment are checked, and a bad one answers 503 without saying why to the caller", async () => {
    expect(() => parseWebhookUrl("http://hooks.example/t")).toThrow(/ALERT_WEBHOOK_URL is invalid/);
    expect(() => parseThresholds("{errorRate: 0.1")).toThrow(/ALERT_THRESHOLDS is invalid: not JSON/);
    const response = await app.fetch(new Request("http://gateway/healthz"), { ...env, ALERT_THRESHOLDS: "{errorRate: 0.1" });
    expect(response.status).toBe(503);
    expect(response.headers.get("x-request-id")).toMatch(/^egr_/);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error).toEqual({ type: "api_error", message: "The gateway's configuration is invalid; its operator can find the reason in the gateway's log." });
    expect(alertSettingsSchema.safeParse({ rules: ["everything"] }).success).toBe(false);
  });
});

describe("alert state", () => {
  it("announces a firing alert once, retries it until delivered, then announces its resolution once", async () => {
    await redis.del(redisKeys.alertState());
    const state = new AlertState(redis);
    const condition = { id: "operator/error_rate/us-east", rule: "error_rate" as const, subject: "us-east", summary: "error rate 5%", scope: "operator" };
    const [fired] = await state.apply(1_000, ["operator"], [condition]);
    expect(fired).toMatchObject({ id: condition.id, alert: { status: "firing", since: 1_000, scope: "operator" } });
    expect(alertMessage(fired!, "us-east").text).toContain("[FIRING] error_rate · us-east: error rate 5%");
    // Not delivered: offered again; delivered: silent while it holds.
    expect(await state.apply(2_000, ["operator"], [condition])).toHaveLength(1);
    await state.delivered(fired!);
    expect(await state.apply(3_000, ["operator"], [condition])).toEqual([]);
    const [resolved] = await state.apply(4_000, ["operator"], []);
    expect(resolved).toMatchObject({ alert: { status: "resolved", since: 4_000, firedAt: 1_000 } });
    expect(alertMessage(resolved!, "us-east").text).toContain("[RESOLVED]");
    await state.delivered(resolved!);
    expect(await state.apply(5_000, ["operator"], [])).toEqual([]);
    expect(await state.current()).toEqual([]);
    // A firing alert never announced ends silently.
    await state.apply(6_000, ["operator"], [condition]);
    expect(await state.apply(7_000, ["operator"], [])).toEqual([]);
  });
});

describe("SLO-aware routing", () => {
  const defaults = { tierModels: { light: "claude-haiku-4-5", standard: "claude-sonnet-4-6", deep: "claude-opus-4-7" }, thresholds: CLASSIFIER_THRESHOLDS };
  const policy = modelPolicySchema.parse({});
  const hard = {
    max_tokens: 8000,
    thinking: { type: "enabled", budget_tokens: 4000 },
    messages: [{ role: "user", content: "Prove rigorously that every finite group of prime order is cyclic, then derive the consequences step by step and compare two proof strategies in depth." }],
  };
  const servesAll = () => true;
  const slow = (model: string) => (model === "claude-opus-4-7" ? 2_400 : model === "claude-sonnet-4-6" ? 600 : null);

  it("moves an auto request one tier down while its model's recent p95 is over the tenant's target, and says why", () => {
    const routed = routeRequest({ ...hard, model: "auto" }, policy, defaults);
    expect(routed.model).toBe("claude-opus-4-7");
    const moved = withFirstTokenTarget(routed, 1_500, policy, defaults, slow, servesAll);
    expect(moved).toMatchObject({ model: "claude-sonnet-4-6", tier: "standard", slo: { from: "claude-opus-4-7", p95Ms: 2_400, targetMs: 1_500, moved: true } });
    expect(routingHeaders(moved)["x-edgegate-slo"]).toBe("claude-opus-4-7 -> claude-sonnet-4-6 (recent p95 time to first token 2400 ms is over the 1500 ms target)");
    // Recovered, unknown, or no target: as routed.
    expect(withFirstTokenTarget(routed, 3_000, policy, defaults, slow, servesAll)).toBe(routed);
    expect(withFirstTokenTarget(routed, 1_500, policy, defaults, () => null, servesAll)).toBe(routed);
    expect(withFirstTokenTarget(routed, null, policy, defaults, slow, servesAll)).toBe(routed);
    // The lower tier is over the target too: kept, and said so. A named model is never moved.
    const kept = withFirstTokenTarget(routed, 500, policy, defaults, slow, servesAll);
    expect(kept).toMatchObject({ model: "claude-opus-4-7", slo: { moved: false } });
    expect(routingHeaders(kept)["x-edgegate-slo"]).toContain("kept claude-opus-4-7");
    const named = routeRequest({ ...hard, model: "claude-opus-4-7" }, policy, defaults);
    expect(withFirstTokenTarget(named, 500, policy, defaults, slow, servesAll)).toBe(named);
    // Only models the tenant allows.
    const noSonnet = modelPolicySchema.parse({ allowedModels: ["claude-opus-4-7", "claude-haiku-4-5"] });
    expect(withFirstTokenTarget(routed, 1_500, noSonnet, defaults, slow, servesAll)).toMatchObject({ model: "claude-opus-4-7", slo: { moved: false } });
    // Only to a model that can serve the request (priced, long context where asked).
    expect(withFirstTokenTarget(routed, 1_500, policy, defaults, slow, (model) => model !== "claude-sonnet-4-6")).toMatchObject({
      model: "claude-opus-4-7",
      slo: { moved: false },
    });
  });

  it("never sends a request to the light tier, nor skips a tier", () => {
    const allSlow = (model: string) => (model === "claude-haiku-4-5" ? 200 : 2_400);
    const standard = routeRequest({ model: "auto", max_tokens: 1000, messages: [{ role: "user", content: "Write a cover letter for a junior accountant position at a mid-size firm." }] }, policy, defaults);
    expect(standard.tier).toBe("standard");
    expect(withFirstTokenTarget(standard, 1_500, policy, defaults, allSlow, servesAll)).toMatchObject({ model: "claude-sonnet-4-6", slo: { moved: false } });
    const deep = routeRequest({ ...hard, model: "auto" }, policy, defaults);
    const sonnetIsOpus = modelPolicySchema.parse({ tierModels: { standard: "claude-opus-4-7" } });
    expect(withFirstTokenTarget(deep, 1_500, sonnetIsOpus, defaults, allSlow, servesAll)).toMatchObject({ model: "claude-opus-4-7", slo: { moved: false } });
  });

  it("takes a target from 50 ms to 120 s on the tenant, or null to turn it off", () => {
    expect(tenantUpdateSchema.safeParse({ firstTokenTargetMs: 800 }).success).toBe(true);
    expect(tenantUpdateSchema.safeParse({ firstTokenTargetMs: null }).success).toBe(true);
    expect(tenantUpdateSchema.safeParse({ firstTokenTargetMs: 10 }).success).toBe(false);
    expect(tenantUpdateSchema.safeParse({ firstTokenTargetMs: 800.5 }).success).toBe(false);
  });
});
