/**
 * The router's training recipe, shared by `npm run train:router` (fits and
 * writes the model) and `npm run eval:router` (reports the cross-validated
 * figures): configuration, sample weights, deterministic folds, fitting,
 * out-of-fold scores and the choice of tier thresholds.
 */

import { mulberry32 } from "../metrics.js";
import { FAMILIES, type Family, type TrainingRow } from "./dataset.js";
import { DENSE_IDS, featurize } from "./featurize.js";
import { fitLogistic, linearScore, type FittedWeights } from "./logistic.js";
import type { FeatureRow } from "./featurize.js";

export const TRAINING_CONFIG = {
  /** 2^gramBits hashed n-gram buckets. */
  gramBits: 13,
  lambdaDense: 0.01,
  lambdaGrams: 2e-3,
  iterations: 300,
  folds: 5,
  seed: 20_240_518,
  /**
   * Development-data sources left out of fitting (still scored and reported
   * in every evaluation): mmlu/high_school_mathematics, where the strong
   * model is "right" on 3% of 4-option questions, far below the 25% of
   * guessing, which marks a grading failure rather than difficulty. Fitted
   * on, it teaches that mathematical wording needs no strong model.
   */
  excludedSources: ["mmlu/high_school_mathematics"] as readonly string[],
  /** Depth stage: total sample weight of each family (rows share it equally). */
  familyWeight: { own: 0.15, mmlu: 1, gsm8k: 0.3 } satisfies Record<Family, number>,
  /**
   * Signals fitted in the calibration stage only, on the own fixtures:
   * simplicity signals (they fire on chat, which the development sets do not
   * contain) and the question-form signals (a worked problem, creative or
   * role-play writing), which separate what the development sets cannot:
   * every GSM8K row is a word problem, and MMLU has no open-ended writing.
   */
  calibrationIds: ["greeting", "support-chat", "short-question", "brevity", "puzzle", "creative"] as readonly string[],
  /**
   * Prior for the dense weights (final log-odds): the hand-set weights of the
   * previous classifier, which encoded what ordinary assistant traffic needs
   * (code, multi-step, logic, maths). The fit moves away from them where the
   * data has evidence; new features start at 0.
   */
  priorWeights: {
    length: 0.9,
    code: 3.0,
    debugging: 0.8,
    math: 0.5,
    quantities: 1.2,
    "multi-step": 3.0,
    reasoning: 1.5,
    constraints: 0.3,
    logic: 2.9,
    "complex-syntax": 1.0,
    domain: 1.3,
    "system-design": 1.2,
    writing: 0.6,
    greeting: -2.5,
    "support-chat": -1.2,
    "short-question": -0.4,
    puzzle: 1,
    creative: -0.5,
  } as Readonly<Record<string, number>>,
  /** Signals of difficulty whose weight is kept >= 0 (see logistic.ts). */
  nonNegativeIds: [
    "code",
    "debugging",
    "math",
    "quantities",
    "multi-step",
    "reasoning",
    "logic",
    "domain",
    "system-design",
    "rare-terms",
    "rare-share",
    "proof-ask",
    "build-ask",
    "optimise-ask",
    "puzzle",
  ] as readonly string[],
  /**
   * Weights not fitted. Request options (max_tokens, thinking, tools, history,
   * attachments) appear in no training row, so the data cannot teach them:
   * they keep hand-set priors (log-odds when fully present).
   */
  fixedWeights: {
    "long-context": 1.5,
    "conversation-depth": 0.6,
    tools: 0.8,
    "output-size": 1.2,
    "extended-thinking": 2.0,
  } as Readonly<Record<string, number>>,
  /** Calibration stage: extra weight of the own hard examples (missing one costs more). */
  hardWeight: 2,
  /**
   * The hard examples the thresholds are chosen on: the asks written as real
   * users' (expert questions, hard support cases), not the MT-Bench-style
   * puzzles, whose scores only need to rank above writing and role play.
   */
  thresholdSources: ["own/expert-hard", "own/support-hard"] as readonly string[],
  /** Light tier: at most this share of those hard examples (out of fold) below it. */
  hardBelowStandard: 0.01,
  /**
   * ... and never above this score, the calibrated level of an everyday task
   * (the own fixtures' 0.5): light is for what is more likely simple than not.
   */
  standardCeiling: 0.5,
  /** Deep tier: at least this share of those hard examples (out of fold) reach it. */
  hardDeepShare: 0.7,
};

export type TrainingConfig = typeof TRAINING_CONFIG;

export interface Prepared {
  rows: readonly TrainingRow[];
  features: FeatureRow[];
}

export function prepare(rows: readonly TrainingRow[], config: TrainingConfig = TRAINING_CONFIG): Prepared {
  return { rows, features: rows.map((r) => featurize(r.request, config.gramBits)) };
}

const OWN = FAMILIES.indexOf("own");

/**
 * Two stages, one linear model:
 *
 * 1. depth: dense features (calibration-only signals held at 0) and n-grams, on the
 *    development sets and the own fixtures (hard = 1, everyday tasks and
 *    chat = 0), one intercept per family, dense weights pulled towards the
 *    prior;
 * 2. calibration, on the own fixtures only (chat 0, everyday tasks 0.5,
 *    hard 1): z = a + b * depth + weights of the calibration-only signals
 *    (simplicity, question form).
 *
 * Stage 2 scales the depth score by b > 0, so it keeps the ranking that
 * stage 1 learned, and fits what only chat shows (greetings, support
 * phrasing, brevity) on the own fixtures alone. The own fixtures weigh little
 * in stage 1: letting the easy chat-vs-expert split dominate the shared
 * weights turned an unregularised joint fit into a length router on MMLU.
 * The result is folded into one weight vector.
 */
export function fit(p: Prepared, config: TrainingConfig = TRAINING_CONFIG, subset?: readonly number[]): FittedWeights {
  // The prior is in final log-odds; stage 1 works in units that stage 2 later
  // scales by b, so a first pass estimates b and the second fits with prior / b.
  const first = fitStages(p, config, subset, 1);
  return fitStages(p, config, subset, first.scale).weights;
}

function fitStages(
  p: Prepared,
  config: TrainingConfig,
  subset: readonly number[] | undefined,
  priorScale: number,
): { weights: FittedWeights; scale: number } {
  const idx = (subset ?? p.rows.map((_, i) => i)).filter((i) => !config.excludedSources.includes(p.rows[i]!.source));
  const calibrationOnly = DENSE_IDS.map((id) => config.calibrationIds.includes(id));
  const perFamily = new Map<Family, number>();
  for (const i of idx) perFamily.set(p.rows[i]!.family, (perFamily.get(p.rows[i]!.family) ?? 0) + 1);
  const depth = fitLogistic(
    {
      rows: idx.map((i) => p.features[i]!),
      targets: idx.map((i) => (p.rows[i]!.family === "own" ? (p.rows[i]!.target >= 1 ? 1 : 0) : p.rows[i]!.target)),
      sampleWeights: idx.map((i) => config.familyWeight[p.rows[i]!.family] / (perFamily.get(p.rows[i]!.family) ?? 1)),
      family: idx.map((i) => FAMILIES.indexOf(p.rows[i]!.family)),
      families: FAMILIES.length,
      denseSize: DENSE_IDS.length,
      gramSize: 1 << config.gramBits,
      fixedDense: DENSE_IDS.map((id, d) => (calibrationOnly[d] ? 0 : (config.fixedWeights[id] ?? Number.NaN))),
      nonNegativeDense: DENSE_IDS.map((id) => config.nonNegativeIds.includes(id)),
      priorDense: DENSE_IDS.map((id, d) => (calibrationOnly[d] ? 0 : (config.priorWeights[id] ?? 0) / priorScale)),
    },
    { lambdaDense: config.lambdaDense, lambdaGrams: config.lambdaGrams, iterations: config.iterations },
  );

  // Stage 2 features: [depth logit, calibration-only signals...].
  const ownRows = idx.filter((i) => p.rows[i]!.family === "own");
  const calibrationIndex = DENSE_IDS.flatMap((_, d) => (calibrationOnly[d] ? [d] : []));
  const depthBias = depth.intercepts[OWN] ?? 0;
  const calibrationRows: FeatureRow[] = ownRows.map((i) => {
    const f = p.features[i]!;
    const dense = new Float64Array(1 + calibrationIndex.length);
    dense[0] = linearScore(f, depth.dense, depth.grams, depthBias);
    calibrationIndex.forEach((d, k) => {
      dense[k + 1] = f.dense[d] ?? 0;
    });
    return { dense, grams: { index: new Int32Array(0), value: new Float64Array(0) } };
  });
  const calibration = fitLogistic(
    {
      rows: calibrationRows,
      targets: ownRows.map((i) => p.rows[i]!.target),
      sampleWeights: ownRows.map((i) => (p.rows[i]!.target >= 1 ? config.hardWeight : 1)),
      family: ownRows.map(() => 0),
      families: 1,
      denseSize: calibrationRows[0]?.dense.length ?? 1,
      gramSize: 0,
      fixedDense: calibrationRows[0] ? Array.from(calibrationRows[0].dense, () => Number.NaN) : [],
      // The depth score's scale must stay positive (it keeps stage 1's ranking).
      // Difficulty signals among them (puzzle) stay >= 0 as in stage 1.
      nonNegativeDense: [true, ...calibrationIndex.map((d) => config.nonNegativeIds.includes(DENSE_IDS[d] ?? ""))],
      priorDense: [1, ...calibrationIndex.map((d) => config.priorWeights[DENSE_IDS[d] ?? ""] ?? 0)],
    },
    { lambdaDense: config.lambdaDense, lambdaGrams: 0, iterations: config.iterations },
  );
  const scale = calibration.dense[0] ?? 1;
  // Fixed priors are final log-odds: not scaled.
  const dense = depth.dense.map((w, d) => config.fixedWeights[DENSE_IDS[d] ?? ""] ?? (calibrationOnly[d] ? 0 : w * scale));
  calibrationIndex.forEach((d, k) => {
    dense[d] = calibration.dense[k + 1] ?? 0;
  });
  const intercepts = depth.intercepts.map((c) => c * scale);
  intercepts[OWN] = (calibration.intercepts[0] ?? 0) + depthBias * scale;
  return {
    weights: { dense, grams: depth.grams.map((w) => w * scale), intercepts, loss: calibration.loss, iterations: depth.iterations },
    scale,
  };
}

/** Run-time log-odds of a row: the own family's intercept is the bias. */
export function runtimeLogit(row: FeatureRow, w: FittedWeights): number {
  return linearScore(row, w.dense, w.grams, w.intercepts[FAMILIES.indexOf("own")] ?? 0);
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** Fold of each row: rows shuffled within each family by a seeded PRNG, dealt round robin. */
export function stratifiedFolds(rows: readonly TrainingRow[], k: number, seed: number): number[] {
  const fold = new Array<number>(rows.length).fill(0);
  const rnd = mulberry32(seed);
  for (const family of FAMILIES) {
    const members = rows.flatMap((r, i) => (r.family === family ? [i] : []));
    for (let j = members.length - 1; j > 0; j--) {
      const t = Math.floor(rnd() * (j + 1));
      [members[j], members[t]] = [members[t]!, members[j]!];
    }
    members.forEach((i, n) => {
      fold[i] = n % k;
    });
  }
  return fold;
}

/**
 * Folds that keep every MMLU subject whole (subjects dealt to folds by size),
 * the other families stratified as usual: the score of a subject comes from
 * a model that never saw that subject.
 */
export function subjectFolds(rows: readonly TrainingRow[], k: number, seed: number): number[] {
  const fold = stratifiedFolds(rows, k, seed);
  const sizes = new Map<string, number>();
  for (const r of rows) if (r.family === "mmlu") sizes.set(r.source, (sizes.get(r.source) ?? 0) + 1);
  const load = new Array<number>(k).fill(0);
  const subjectFold = new Map<string, number>();
  const bySize = [...sizes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [subject, n] of bySize) {
    let best = 0;
    for (let f = 1; f < k; f++) if ((load[f] ?? 0) < (load[best] ?? 0)) best = f;
    subjectFold.set(subject, best);
    load[best] = (load[best] ?? 0) + n;
  }
  rows.forEach((r, i) => {
    if (r.family === "mmlu") fold[i] = subjectFold.get(r.source) ?? 0;
  });
  return fold;
}

/** Out-of-fold run-time scores (0..1): each row scored by the model fitted without its fold. */
export function outOfFoldScores(p: Prepared, folds: readonly number[], config: TrainingConfig = TRAINING_CONFIG): number[] {
  const scores = new Array<number>(p.rows.length).fill(0);
  for (let f = 0; f < config.folds; f++) {
    const train = folds.flatMap((g, i) => (g === f ? [] : [i]));
    const w = fit(p, config, train);
    folds.forEach((g, i) => {
      if (g === f) scores[i] = sigmoid(runtimeLogit(p.features[i]!, w));
    });
  }
  return scores;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)));
  return sorted[pos] ?? Number.NaN;
}

/**
 * Default tier thresholds from out-of-fold scores of the own hard examples:
 * `standard` leaves at most `hardBelowStandard` of them on light and is at
 * most `standardCeiling` (a quantile of a few hundred scores moves with
 * every refit; the ceiling keeps the light tier conservative), `deep`
 * takes `hardDeepShare` of them. Rounded down to 0.01 (errs towards the
 * stronger tier).
 */
export function chooseThresholds(hardScores: readonly number[], config: TrainingConfig = TRAINING_CONFIG): { standard: number; deep: number } {
  const sorted = [...hardScores].sort((a, b) => a - b);
  const floor2 = (x: number): number => Math.floor(x * 100) / 100;
  const standard = Math.min(config.standardCeiling, floor2(quantile(sorted, config.hardBelowStandard)));
  const deep = Math.max(standard + 0.01, floor2(quantile(sorted, 1 - config.hardDeepShare)));
  return { standard, deep };
}

/** Mean of every feature (vocabulary: its fitted contribution) over the own fixtures. */
export function referenceValues(p: Prepared, w: FittedWeights): Record<string, number> {
  const own = p.rows.flatMap((r, i) => (r.family === "own" ? [i] : []));
  const sums = new Array<number>(DENSE_IDS.length + 1).fill(0);
  const zeroDense = new Float64Array(DENSE_IDS.length);
  for (const i of own) {
    const f = p.features[i]!;
    f.dense.forEach((v, d) => {
      sums[d] = (sums[d] ?? 0) + v;
    });
    sums[DENSE_IDS.length] = (sums[DENSE_IDS.length] ?? 0) + linearScore(f, zeroDense, w.grams, 0);
  }
  const out: Record<string, number> = {};
  DENSE_IDS.forEach((id, d) => {
    out[id] = (sums[d] ?? 0) / Math.max(1, own.length);
  });
  out["vocabulary"] = (sums[DENSE_IDS.length] ?? 0) / Math.max(1, own.length);
  return out;
}
