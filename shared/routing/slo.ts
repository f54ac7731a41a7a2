import { TIERS, type Tier } from "../classify/types.js";
import type { ModelPolicy } from "../tenants/model.js";
import { AUTO_MODEL, type RoutingDecision, type RoutingDefaults } from "./policy.js";

/** A model's recent p95 time to first token in this region (ms), or null when too few requests tell. */
export type RecentP95 = (model: string) => number | null;

/**
 * SLO-aware routing: when the model routing chose for an `auto` request has a recent p95
 * time to first token above the tenant's target, the request goes one tier down (the
 * next lower tier whose model the tenant allows), unless that model is over the target
 * too. It comes back by itself once the recent p95 is within the target again (or too
 * few requests remain to tell). Explicitly named models are never moved.
 */
export function withFirstTokenTarget(
  decision: RoutingDecision,
  targetMs: number | null,
  policy: ModelPolicy,
  defaults: RoutingDefaults,
  recentP95: RecentP95,
): RoutingDecision {
  if (targetMs === null || decision.requestedModel !== AUTO_MODEL) return decision;
  const p95Ms = recentP95(decision.model);
  if (p95Ms === null || p95Ms <= targetMs) return decision;
  const lower = lowerTier(decision, policy, defaults);
  const lowerP95 = lower ? recentP95(lower.model) : null;
  if (!lower || (lowerP95 !== null && lowerP95 > targetMs)) {
    return { ...decision, slo: { from: decision.model, p95Ms, targetMs, moved: false } };
  }
  return { ...decision, ...lower, slo: { from: decision.model, p95Ms, targetMs, moved: true } };
}

function lowerTier(decision: RoutingDecision, policy: ModelPolicy, defaults: RoutingDefaults): { tier: Tier; model: string } | null {
  const tierModels = { ...defaults.tierModels, ...policy.tierModels };
  for (let index = TIERS.indexOf(decision.tier) - 1; index >= 0; index--) {
    const tier = TIERS[index]!;
    const model = tierModels[tier];
    if (model !== decision.model && (policy.allowedModels === null || policy.allowedModels.includes(model))) return { tier, model };
  }
  return null;
}
