import { classify, type MessagesRequestLike, type Thresholds, type Tier } from "../classify/index.js";
import { TIERS } from "../classify/types.js";
import { GatewayError } from "../http/errors.js";
import type { ModelPolicy } from "../tenants/model.js";

export const AUTO_MODEL = "auto";

export interface RoutingDefaults {
  tierModels: Record<Tier, string>;
  thresholds: Thresholds;
}

export interface RoutingDecision {
  model: string;
  requestedModel: string;
  /** The tier the classifier chose (after the tenant's cap, for auto requests). */
  tier: Tier;
  score: number;
  reasons: string[];
  /** Set when the tenant's policy replaced the requested model, with why. */
  downgrade: { from: string; reason: string } | null;
  /** Set when the request is one of the tenant's audit sample: served a tier above the classifier's choice. */
  audit: { chosen: Tier } | null;
  /** Set when the tenant's first-token target was exceeded (routing/slo.ts). */
  slo?: SloNote;
}

/** Why a first-token target changed (or could not change) an auto request's model. */
export interface SloNote {
  /** The model routing chose before the target was applied. */
  from: string;
  p95Ms: number;
  targetMs: number;
  /** False when no faster tier could take it (none allowed, or it is slow too). */
  moved: boolean;
}

/**
 * Picks the model for a request. `auto` gets the model of
 * the classifier's tier; an explicit model is honoured unless the tenant's policy caps
 * it (highest tier, allowed models), in which case it is downgraded and the decision
 * says so. Both the tier map and the thresholds can be overridden per tenant.
 */
export function routeRequest(
  request: MessagesRequestLike & { model: string },
  policy: ModelPolicy,
  defaults: RoutingDefaults,
): RoutingDecision {
  const tierModels = tierModelsOf(policy, defaults);
  const classification = classify(request, policy.thresholds ?? defaults.thresholds);
  const requestedModel = request.model;
  const cap = policy.maxTier;
  const base = { requestedModel, score: classification.score, reasons: classification.reasons };

  if (requestedModel === AUTO_MODEL) {
    const tier = cap !== null && rank(classification.tier) > rank(cap) ? cap : classification.tier;
    const model = allowedAtOrBelow(tier, tierModels, policy);
    return { ...base, model, tier, downgrade: null, audit: null };
  }

  const requestedTier = tierOfModel(requestedModel, tierModels);
  if (cap !== null && rank(requestedTier) > rank(cap)) {
    const model = allowedAtOrBelow(cap, tierModels, policy);
    return { ...base, model, tier: cap, downgrade: { from: requestedModel, reason: `highest tier allowed is ${cap}` }, audit: null };
  }
  if (!allows(policy, requestedModel)) {
    const model = allowedAtOrBelow(requestedTier, tierModels, policy);
    return { ...base, model, tier: requestedTier, downgrade: { from: requestedModel, reason: "model not allowed" }, audit: null };
  }
  return { ...base, model: requestedModel, tier: requestedTier, downgrade: null, audit: null };
}

/**
 * The tenant's audit sample: with probability `auditSampleRate`, an `auto` request below
 * the deep tier is served by the next tier's model (when the tenant's cap and allowed
 * models permit it), and the decision remembers the tier the classifier chose, so the
 * two tiers' outcomes and feedback can be compared on the tenant's own traffic.
 */
export function withAuditSample(decision: RoutingDecision, policy: ModelPolicy, defaults: RoutingDefaults, random: () => number): RoutingDecision {
  const rate = policy.auditSampleRate ?? 0; // records written before the field existed: off
  if (decision.requestedModel !== AUTO_MODEL || rate <= 0 || decision.tier === "deep" || random() >= rate) return decision;
  const above = TIERS[rank(decision.tier) + 1]!;
  if (policy.maxTier !== null && rank(above) > rank(policy.maxTier)) return decision;
  const model = tierModelsOf(policy, defaults)[above];
  if (!allows(policy, model)) return decision;
  return { ...decision, model, tier: above, audit: { chosen: decision.tier } };
}

/** The usage scope of a routing decision: "~<tier>", or "~<chosen>><served>" for an audited request. */
export function tierScope(decision: Pick<RoutingDecision, "tier" | "audit">): string {
  return decision.audit ? `~${decision.audit.chosen}>${decision.tier}` : `~${decision.tier}`;
}

/** The policy with its highest tier lowered to `cap` (when that is lower). */
export function withTierCap(policy: ModelPolicy, cap: Tier | null): ModelPolicy {
  if (cap === null || (policy.maxTier !== null && rank(policy.maxTier) <= rank(cap))) return policy;
  return { ...policy, maxTier: cap };
}

function rank(tier: Tier): number {
  return TIERS.indexOf(tier);
}

/** The tier a model serves: its place in the tier map, or its family's. */
export function tierOfModel(model: string, tierModels: Record<Tier, string>): Tier {
  const mapped = TIERS.find((tier) => tierModels[tier] === model);
  if (mapped) return mapped;
  if (model.includes("haiku")) return "light";
  if (model.includes("sonnet")) return "standard";
  return "deep";
}

/** Each tier's model for this tenant: its own map over the gateway's. */
export function tierModelsOf(policy: ModelPolicy, defaults: RoutingDefaults): Record<Tier, string> {
  return { ...defaults.tierModels, ...policy.tierModels };
}

/** Whether the tenant may use the model (null allowedModels: any). */
export function allows(policy: ModelPolicy, model: string): boolean {
  return policy.allowedModels === null || policy.allowedModels.includes(model);
}

/** The tier's model, or the nearest cheaper tier's when the tenant does not allow it. */
function allowedAtOrBelow(tier: Tier, tierModels: Record<Tier, string>, policy: ModelPolicy): string {
  for (let index = rank(tier); index >= 0; index--) {
    const model = tierModels[TIERS[index]!];
    if (allows(policy, model)) return model;
  }
  throw new GatewayError(
    "permission_error",
    `None of the models your account allows (${policy.allowedModels?.join(", ")}) serves tier ${tier} or below; ask your operator to adjust the model policy.`,
  );
}

/** Response headers that explain a routing decision. */
export function routingHeaders(decision: RoutingDecision): Record<string, string> {
  const headers: Record<string, string> = {
    "x-edgegate-model": decision.model,
    "x-edgegate-tier": decision.tier,
    "x-edgegate-score": decision.score.toFixed(3),
    "x-edgegate-reasons": decision.reasons.slice(0, 3).join(", "),
  };
  if (decision.downgrade) {
    headers["x-edgegate-downgraded"] = `${decision.downgrade.from} -> ${decision.model} (${decision.downgrade.reason})`;
  }
  if (decision.audit) headers["x-edgegate-audit"] = `${decision.audit.chosen} -> ${decision.tier} (audit sample)`;
  if (decision.slo) {
    const { from, p95Ms, targetMs, moved } = decision.slo;
    const why = `recent p95 time to first token ${Math.round(p95Ms)} ms is over the ${targetMs} ms target`;
    headers["x-edgegate-slo"] = moved ? `${from} -> ${decision.model} (${why})` : `kept ${from} (${why}; no faster tier available)`;
  }
  return headers;
}

/**
 * The models to try in order when the chosen one stays overloaded: the chosen model,
 * then the model of each lower tier the tenant allows. Only the chosen model when the
 * tenant turned fallback off.
 */
export function fallbackChain(decision: RoutingDecision, policy: ModelPolicy, defaults: RoutingDefaults): string[] {
  const chain = [decision.model];
  if (policy.fallback === false) return chain; // records written before the field existed fall back
  const tierModels = tierModelsOf(policy, defaults);
  for (let index = rank(decision.tier) - 1; index >= 0; index--) {
    const model = tierModels[TIERS[index]!];
    if (allows(policy, model) && !chain.includes(model)) chain.push(model);
  }
  return chain;
}
