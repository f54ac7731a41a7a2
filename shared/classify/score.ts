/**
 * Logistic model over the feature vector of features.ts:
 *
 *   z = BIAS + sum(WEIGHTS[f] * value[f]),   score = 1 / (1 + e^-z)
 *
 * Each weight is the log-odds a fully present signal adds (features are in
 * [0, 1]; `vocabulary` is already in log-odds and weighs 1). `reasons` are
 * the largest positive contributions w*v (or, for a request with none, the
 * strongest simplicity signals). The weights are fitted by
 * `npm run train:router` (test/eval/train-router.ts) and shipped in
 * model-data.ts; README.md says how.
 */

import { FEATURE_IDS, REQUEST_FEATURES, VOCABULARY_INDEX, type FeatureId, type Features } from "./features.js";
import { MODEL } from "./model-data.js";

export const BIAS: number = MODEL.bias;

export const WEIGHTS: Readonly<Record<FeatureId, number>> = Object.freeze(
  Object.fromEntries(
    FEATURE_IDS.map((id, k) => [id, k === VOCABULARY_INDEX ? 1 : (MODEL.weights[id] ?? 0)]),
  ) as Record<FeatureId, number>,
);

/** WEIGHTS in FEATURE_IDS order. */
const WEIGHT_VECTOR: readonly number[] = FEATURE_IDS.map((id) => WEIGHTS[id]);
/**
 * Each feature's mean over the training fixtures (ordinary chat, everyday
 * tasks, expert asks). Reasons weigh a feature by how far this request is
 * from that typical value, so "length" is a reason for a long request, not
 * for every request that has some length.
 */
const REFERENCE: readonly number[] = FEATURE_IDS.map((id) => MODEL.reference[id] ?? 0);
/** Log-odds of a request with every feature at its typical value. */
const REFERENCE_Z = REFERENCE.reduce((z, v, k) => z + v * (WEIGHT_VECTOR[k] ?? 0), BIAS);
const DOMAIN_INDEX = FEATURE_IDS.indexOf("domain");

const IS_REQUEST_FEATURE: readonly boolean[] = FEATURE_IDS.map((id) => REQUEST_FEATURES.includes(id));

/** A contribution must reach this many log-odds to be listed as a reason. */
export const REASON_MIN = 0.25;
export const MAX_REASONS = 4;

export interface Scored {
  score: number;
  z: number;
  reasons: string[];
}

/**
 * Indices of the `max` features with the largest sign-adjusted contributions
 * >= REASON_MIN among those whose weight has that sign (a reason is a signal
 * that is present, never the absence of its opposite), best first; ties by
 * feature order. `only`, when given, limits the candidates.
 */
function topIndices(contrib: readonly number[], sign: 1 | -1, max: number, only?: readonly boolean[]): number[] {
  const out: number[] = [];
  for (let k = 0; k < contrib.length; k++) {
    const c = (contrib[k] ?? 0) * sign;
    if (c < REASON_MIN || (WEIGHT_VECTOR[k] ?? 0) * sign <= 0 || (only !== undefined && only[k] !== true)) continue;
    // insertion into a short sorted list
    let pos = out.length;
    while (pos > 0 && c > (contrib[out[pos - 1] ?? 0] ?? 0) * sign) pos--;
    if (pos < max) {
      out.splice(pos, 0, k);
      if (out.length > max) out.pop();
    }
  }
  return out;
}

/** The feature that added the most to the score, weight x value (a last-resort reason). */
function largestContribution(f: Features): number {
  let best = 0;
  for (let k = 1; k < WEIGHT_VECTOR.length; k++) {
    const c = (WEIGHT_VECTOR[k] ?? 0) * (f.values[k] ?? 0);
    if (c > (WEIGHT_VECTOR[best] ?? 0) * (f.values[best] ?? 0)) best = k;
  }
  return best;
}

export function scoreFeatures(f: Features): Scored {
  let z = BIAS;
  const contrib: number[] = [];
  for (let k = 0; k < WEIGHT_VECTOR.length; k++) {
    const w = WEIGHT_VECTOR[k] ?? 0;
    const v = f.values[k] ?? 0;
    z += w * v;
    contrib.push(w * (v - (REFERENCE[k] ?? 0)));
  }
  // Above a typical request: the difficulty signals above their typical
  // level; below it: the options the client set (thinking, max_tokens,
  // tools...) and the simplicity signals present (greeting, support phrasing, creative,
  // brevity). Then the other side when the first has none, and at worst the
  // largest contribution: every decision names at least one reason.
  const side: 1 | -1 = z >= REFERENCE_Z ? 1 : -1;
  let idx = topIndices(contrib, side, MAX_REASONS);
  if (side === -1) idx = topIndices(contrib, 1, MAX_REASONS, IS_REQUEST_FEATURE).concat(idx).slice(0, MAX_REASONS);
  if (idx.length === 0) idx = topIndices(contrib, side === 1 ? -1 : 1, MAX_REASONS);
  if (idx.length === 0) idx = [largestContribution(f)];
  const reasons = idx.map((k) => (k === DOMAIN_INDEX ? f.domainLabel : (FEATURE_IDS[k] ?? "")));
  const score = 1 / (1 + Math.exp(-z));
  return { score: Number.isFinite(score) ? score : 0, z, reasons };
}
