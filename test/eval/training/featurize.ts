/**
 * Feature rows for training, computed by the classifier's own code (extract,
 * scan, features), so training and run time cannot drift apart: the dense
 * features in [0, 1] plus the latest ask's hashed n-gram buckets.
 */

import { extract } from "../../../shared/classify/extract.js";
import { FEATURE_IDS, VOCABULARY_INDEX, computeFeatures } from "../../../shared/classify/features.js";
import type { MessagesRequestLike } from "../../../shared/classify/index.js";

/** Dense features that get a fitted weight (all but `vocabulary`). */
export const DENSE_IDS: readonly string[] = FEATURE_IDS.filter((_, k) => k !== VOCABULARY_INDEX);

export interface SparseGrams {
  /** Distinct bucket indices, ascending. */
  index: Int32Array;
  /** count / sqrt(total n-grams): the run-time normalisation (features.ts). */
  value: Float64Array;
}

export interface FeatureRow {
  dense: Float64Array;
  grams: SparseGrams;
}

/** `gramBits`: the n-gram table size the model is fitted for (2^gramBits buckets). */
export function featurize(request: MessagesRequestLike, gramBits: number): FeatureRow {
  const ex = extract(request, true);
  const values = computeFeatures(ex).values;
  const dense = new Float64Array(DENSE_IDS.length);
  let d = 0;
  for (let k = 0; k < values.length; k++) if (k !== VOCABULARY_INDEX) dense[d++] = values[k] ?? 0;
  const counts = new Map<number, number>();
  const sink = ex.primary.gramSink ?? [];
  for (const mixed of sink) {
    const bucket = mixed >>> (32 - gramBits);
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  const norm = sink.length > 0 ? 1 / Math.sqrt(sink.length) : 0;
  const index = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
  const value = Float64Array.from(index, (b) => (counts.get(b) ?? 0) * norm);
  return { dense, grams: { index, value } };
}
