import { describe, expect, it } from "vitest";
import { DEFAULT_THRESHOLDS } from "../../shared/classify/index.js";
import { routeRequest, routingHeaders, tierScope, withAuditSample } from "../../shared/routing/policy.js";
import { modelPolicySchema } from "../../shared/tenants/model.js";

const defaults = {
  tierModels: { light: "claude-haiku-4-5", standard: "claude-sonnet-4-6", deep: "claude-opus-4-7" },
  thresholds: DEFAULT_THRESHOLDS,
};
const openPolicy = modelPolicySchema.parse({});
const simple = (model: string) => ({ model, max_tokens: 100, messages: [{ role: "user", content: "What are your opening hours?" }] });
const hard = (model: string) => ({
  model,
  max_tokens: 8000,
  thinking: { type: "enabled", budget_tokens: 4000 },
  messages: [
    {
      role: "user",
      content:
        "Prove rigorously that every finite group of prime order is cyclic, then derive the consequences for " +
        "subgroups of Z_p x Z_p step by step, analysing each case, and compare two proof strategies in depth.",
    },
  ],
});

describe("routeRequest", () => {
  it("sends simple auto traffic to the light model and hard auto traffic to the deep one", () => {
    expect(routeRequest(simple("auto"), openPolicy, defaults)).toMatchObject({ model: "claude-haiku-4-5", tier: "light", downgrade: null });
    expect(routeRequest(hard("auto"), openPolicy, defaults)).toMatchObject({ model: "claude-opus-4-7", tier: "deep", downgrade: null });
  });

  it("honours an explicit model the policy allows, still reporting the classification", () => {
    const decision = routeRequest(simple("claude-opus-4-7"), openPolicy, defaults);
    expect(decision).toMatchObject({ model: "claude-opus-4-7", requestedModel: "claude-opus-4-7", downgrade: null });
    expect(decision.reasons.length).toBeGreaterThan(0);
  });

  it("caps auto and explicit requests at the tenant's highest tier, and says so for explicit ones", () => {
    const capped = modelPolicySchema.parse({ maxTier: "standard" });
    expect(routeRequest(hard("auto"), capped, defaults)).toMatchObject({ model: "claude-sonnet-4-6", tier: "standard", downgrade: null });
    const explicit = routeRequest(hard("claude-opus-4-7"), capped, defaults);
    expect(explicit).toMatchObject({ model: "claude-sonnet-4-6", downgrade: { from: "claude-opus-4-7" } });
    expect(routingHeaders(explicit)["x-edgegate-downgraded"]).toBe(
      "claude-opus-4-7 -> claude-sonnet-4-6 (highest tier allowed is standard)",
    );
  });

  it("replaces a model outside the allowed list with the nearest allowed cheaper tier", () => {
    const policy = modelPolicySchema.parse({ allowedModels: ["claude-haiku-4-5"] });
    expect(routeRequest(simple("claude-sonnet-4-6"), policy, defaults)).toMatchObject({
      model: "claude-haiku-4-5",
      downgrade: { from: "claude-sonnet-4-6", reason: "model not allowed" },
    });
    expect(() => routeRequest(simple("auto"), modelPolicySchema.parse({ allowedModels: ["x-model"] }), defaults)).toThrow(/allows/);
  });

  it("uses the tenant's own tier map and thresholds", () => {
    const policy = modelPolicySchema.parse({ tierModels: { light: "claude-sonnet-4-5" }, thresholds: { standard: 0.99, deep: 1 } });
    expect(routeRequest(simple("auto"), policy, defaults)).toMatchObject({ model: "claude-sonnet-4-5", tier: "light" });
    expect(routeRequest(hard("auto"), policy, defaults).tier).not.toBe("deep");
  });

  it("names model, tier, score and reasons in headers", () => {
    const headers = routingHeaders(routeRequest(hard("auto"), openPolicy, defaults));
    expect(headers["x-edgegate-model"]).toBe("claude-opus-4-7");
    expect(headers["x-edgegate-tier"]).toBe("deep");
    expect(headers["x-edgegate-score"]).toMatch(/^0\.\d{3}$|^1\.000$/);
    expect(headers["x-edgegate-reasons"]!.length).toBeGreaterThan(0);
  });
});

describe("the audit sample", () => {
  const sampled = modelPolicySchema.parse({ auditSampleRate: 0.1 });
  it("serves a sampled auto request one tier up and remembers the tier chosen", () => {
    const decision = withAuditSample(routeRequest(simple("auto"), sampled, defaults), sampled, defaults, () => 0.05);
    expect(decision).toMatchObject({ model: "claude-sonnet-4-6", tier: "standard", audit: { chosen: "light" } });
    expect(tierScope(decision)).toBe("~light>standard");
    expect(routingHeaders(decision)["x-edgegate-audit"]).toBe("light -> standard (audit sample)");
  });

  it("leaves alone what is not sampled, explicit models, the deep tier, and what the tenant's cap or allowed models forbid", () => {
    const unsampled = withAuditSample(routeRequest(simple("auto"), sampled, defaults), sampled, defaults, () => 0.5);
    expect([unsampled.tier, unsampled.audit, tierScope(unsampled)]).toEqual(["light", null, "~light"]);
    expect(withAuditSample(routeRequest(simple("claude-haiku-4-5"), sampled, defaults), sampled, defaults, () => 0).audit).toBeNull();
    expect(withAuditSample(routeRequest(hard("auto"), sampled, defaults), sampled, defaults, () => 0).audit).toBeNull();
    const capped = modelPolicySchema.parse({ auditSampleRate: 0.1, maxTier: "light" });
    expect(withAuditSample(routeRequest(simple("auto"), capped, defaults), capped, defaults, () => 0).audit).toBeNull();
    const lightOnly = modelPolicySchema.parse({ auditSampleRate: 0.1, allowedModels: ["claude-haiku-4-5"] });
    expect(withAuditSample(routeRequest(simple("auto"), lightOnly, defaults), lightOnly, defaults, () => 0).audit).toBeNull();
    expect(withAuditSample(routeRequest(simple("auto"), openPolicy, defaults), openPolicy, defaults, () => 0).audit).toBeNull();
  });
});
