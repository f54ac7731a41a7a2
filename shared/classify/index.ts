/**
 * Complexity classifier: maps an Anthropic Messages request to a score in
 * [0, 1] and a model tier. Pure, deterministic, no I/O; bounded work per
 * request (see extract.ts for the scan budgets). Design notes, features and
 * weights: README.md in this folder.
 *
 *   extract.ts    walks the request, samples text within fixed budgets
 *   text-scan.ts  one pass over a slice of text -> counts
 *   lexicon.ts    small generic vocabularies, hashed lookup
 *   features.ts   counts + request options -> feature vector in [0, 1]
 *   vocabulary.ts common-word set and hashed n-gram weights (fitted data)
 *   score.ts      weighted logistic model -> score, reasons
 *   model-data.ts fitted weights and default thresholds (npm run train:router)
 */

import { extract } from "./extract.js";
import { FEATURE_IDS, computeFeatures, featureRecord, type FeatureVector } from "./features.js";
import { MODEL } from "./model-data.js";
import { WEIGHTS, scoreFeatures } from "./score.js";
import type { Classification, MessagesRequestLike, Thresholds, Tier } from "./types.js";

export type {
  Classification,
  ContentBlockLike,
  MessageLike,
  MessagesRequestLike,
  Thresholds,
  Tier,
} from "./types.js";
export { FEATURE_IDS, type FeatureId, type FeatureVector } from "./features.js";
export { WEIGHTS, BIAS } from "./score.js";

/** Tier thresholds chosen with the fitted model (see README.md, "Thresholds"). */
export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({ ...MODEL.thresholds });

export function tierFor(score: number, thresholds: Thresholds = DEFAULT_THRESHOLDS): Tier {
  if (score >= thresholds.deep) return "deep";
  if (score >= thresholds.standard) return "standard";
  return "light";
}

/**
 * The classifier's working, for debugging and evaluation tools: every feature
 * value (0..1), its contribution (weight x value, in log-odds), the score and
 * the reasons. Same cost as classify().
 */
export function explain(request: unknown): {
  features: FeatureVector;
  contributions: FeatureVector;
  score: number;
  reasons: string[];
} {
  const f = computeFeatures(extract(request));
  const s = scoreFeatures(f);
  const contributions = featureRecord(f.values.map((v, k) => v * (WEIGHTS[FEATURE_IDS[k] ?? "length"] ?? 0)));
  return { features: featureRecord(f.values), contributions, score: s.score, reasons: s.reasons };
}

export function classify(
  request: MessagesRequestLike,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): Classification {
  let score = 0;
  let reasons: string[] = [];
  try {
    const s = scoreFeatures(computeFeatures(extract(request)));
    score = s.score;
    reasons = s.reasons;
  } catch {
    // Defensive: the extractor guards every access, but a classifier must never
    // take the gateway down. Unknown complexity: the middle of the scale.
    score = 0.5;
    reasons = ["unclassifiable"];
  }
  const t = validThresholds(thresholds) ? thresholds : DEFAULT_THRESHOLDS;
  return { score, tier: tierFor(score, t), reasons };
}

function validThresholds(t: unknown): t is Thresholds {
  if (typeof t !== "object" || t === null) return false;
  const r = t as Record<string, unknown>;
  const a = r["standard"];
  const b = r["deep"];
  return typeof a === "number" && typeof b === "number" && !Number.isNaN(a) && !Number.isNaN(b);
}
