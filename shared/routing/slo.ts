import type { Tier } from "../classify/types.js";
import type { ModelPolicy } from "../tenants/model.js";
import { allows, AUTO_MODEL, type RoutingDecision, type RoutingDefaults, tierModelsOf } from "./policy.js";

/** A model's recent p95 time to first token in this region (ms), or null when too few requests tell. */
export type RecentP95 = (model: string) => number | null;

/**
 * SLO-aware routing: when the model routing chose for an `auto` request has a recent p95
 * time to first token above the tenant's target, a deep request goes to the standard
 * tier's model, unless that model is over the target too, the tenant does not allow it,
 * or it cannot serve the request (`serves`: priced, long context where asked). It comes
 * back by itself once the recent p95 is within the target again (or too few requests
 * remain to tell). Explicitly named models are never moved, and nothing is ever moved to
 * the light tier: that tier takes only what the classifier is confident is simple, and a
 * request moved for speed is not.
 */
export function withFirstTokenTarget(
  decision: RoutingDecision,
  targetMs: number | null,
  policy: ModelPolicy,
  defaults: RoutingDefaults,
  recentP95: RecentP95,
  serves: (model: string) => boolean,
): RoutingDecision {
  if (targetMs === null || decision.requestedModel !== AUTO_MODEL) return decision;
  const p95Ms = recentP95(decision.model);
  if (p95Ms === null || p95Ms <= targetMs) return decision;
  const faster = fasterTier(decision, policy, defaults, serves);
  const fasterP95 = faster ? recentP95(faster.model) : null;
  if (!faster || (fasterP95 !== null && fasterP95 > targetMs)) {
    return { ...decision, slo: { from: decision.model, p95Ms, targetMs, moved: false } };
  }
  return { ...decision, ...faster, slo: { from: decision.model, p95Ms, targetMs, moved: true } };
}

function fasterTier(decision: RoutingDecision, policy: ModelPolicy, defaults: RoutingDefaults, serves: (model: string) => boolean): { tier: Tier; model: string } | null {
  if (decision.tier !== "deep") return null;
  const model = tierModelsOf(policy, defaults).standard;
  return model !== decision.model && allows(policy, model) && serves(model) ? { tier: "standard", model } : null;
}
