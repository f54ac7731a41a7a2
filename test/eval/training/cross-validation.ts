/**
 * The cross-validated evaluation of the training recipe: every development
 * and own-fixture row is scored by a model fitted without it (5 stratified
 * folds), the default thresholds are chosen from those out-of-fold scores,
 * and a second split that keeps each MMLU subject whole estimates how the
 * model does on topics it never saw. Run by `npm run train:router` and
 * `npm run eval:router`.
 */

import { tierFor } from "../../../shared/classify/index.js";
import { requestTextLength } from "../router-data.js";
import {
  labelReport,
  printLabels,
  printQuality,
  qualityReport,
  type LabelReport,
  type LabelScored,
  type QualityReport,
  type QualityScored,
} from "../router-report.js";
import { apgr, routerCurve } from "../metrics.js";
import { MT_STYLE_PREFIX, loadTrainingRows, type Family } from "./dataset.js";
import {
  TRAINING_CONFIG,
  chooseThresholds,
  outOfFoldScores,
  prepare,
  stratifiedFolds,
  subjectFolds,
  type Prepared,
  type TrainingConfig,
} from "./router-training.js";

export interface CrossValidation {
  prepared: Prepared;
  thresholds: { standard: number; deep: number };
  mmlu: QualityReport;
  gsm8k: QualityReport;
  own: LabelReport;
  /**
   * The own MT-Bench-style rows (fixtures/mt-style-train.jsonl) as a binary
   * task: maths, reasoning, coding (1) against writing, role play,
   * humanities, STEM explanations, extraction (0.5, counted as 0).
   */
  mtStyle: LabelReport;
  /** MMLU APGR over the subjects fitted on (config.excludedSources left out, as in fitting). */
  mmluFittedSubjects: number;
  /** MMLU / GSM8K APGR when whole MMLU subjects are held out. */
  subjectHeldOut: { mmlu: number; gsm8k: number };
}

function familyApgr(p: Prepared, scores: readonly number[], family: Family, excluded: readonly string[] = []): number {
  const idx = p.rows.flatMap((r, i) => (r.family === family && !excluded.includes(r.source) ? [i] : []));
  return apgr(
    routerCurve(
      idx.map((i) => scores[i] ?? 0),
      idx.map((i) => p.rows[i]!.weak ?? 0),
      idx.map((i) => p.rows[i]!.strong ?? 0),
    ),
  );
}

export async function crossValidate(config: TrainingConfig = TRAINING_CONFIG): Promise<CrossValidation> {
  const prepared = prepare(await loadTrainingRows(), config);
  const { rows } = prepared;
  const oof = outOfFoldScores(prepared, stratifiedFolds(rows, config.folds, config.seed), config);
  const thresholds = chooseThresholds(
    rows.flatMap((r, i) => (config.thresholdSources.includes(r.source) && r.target >= 1 ? [oof[i] ?? 0] : [])),
    config,
  );
  const scored = (i: number): { score: number; tier: ReturnType<typeof tierFor>; group: string; textLength: number } => {
    const r = rows[i]!;
    const score = oof[i] ?? 0;
    return { score, tier: tierFor(score, thresholds), group: r.source, textLength: requestTextLength(r.request) };
  };
  const quality = (family: Family): QualityScored[] =>
    rows.flatMap((r, i) => (r.family === family ? [{ ...scored(i), weak: r.weak ?? 0, strong: r.strong ?? 0 }] : []));
  const own: LabelScored[] = rows.flatMap((r, i) => (r.family === "own" ? [{ ...scored(i), label: r.target }] : []));
  const mtStyle: LabelScored[] = rows.flatMap((r, i) =>
    r.source.startsWith(MT_STYLE_PREFIX) ? [{ ...scored(i), label: r.target >= 1 ? 1 : 0 }] : [],
  );

  const bySubject = outOfFoldScores(prepared, subjectFolds(rows, config.folds, config.seed), config);
  return {
    prepared,
    thresholds,
    mmlu: qualityReport(quality("mmlu")),
    gsm8k: qualityReport(quality("gsm8k")),
    own: labelReport(own),
    mtStyle: labelReport(mtStyle),
    mmluFittedSubjects: familyApgr(prepared, oof, "mmlu", config.excludedSources),
    subjectHeldOut: { mmlu: familyApgr(prepared, bySubject, "mmlu"), gsm8k: familyApgr(prepared, bySubject, "gsm8k") },
  };
}

export function printCrossValidation(cv: CrossValidation, log: (line: string) => void = console.log): void {
  log(`== cross-validated (${TRAINING_CONFIG.folds} folds, out-of-fold scores; thresholds chosen on them: standard ${cv.thresholds.standard}, deep ${cv.thresholds.deep})`);
  log(`-- mmlu.jsonl (shared development data)`);
  printQuality(cv.mmlu, cv.thresholds, log);
  log(`  without ${TRAINING_CONFIG.excludedSources.join(", ")} (left out of fitting): APGR ${cv.mmluFittedSubjects.toFixed(3)}`);
  log(`-- gsm8k-dev.jsonl (shared development data)`);
  printQuality(cv.gsm8k, cv.thresholds, log);
  log(`-- test/eval/fixtures/router-train.jsonl (own hand-written fixtures; AUC: label 1 vs 0)`);
  printLabels(cv.own, cv.thresholds, log);
  log(`-- test/eval/fixtures/mt-style-train.jsonl (own MT-Bench-style rows; AUC: maths, reasoning, coding vs the rest)`);
  printLabels(cv.mtStyle, cv.thresholds, log);
  log(`-- whole MMLU subjects held out: APGR mmlu ${cv.subjectHeldOut.mmlu.toFixed(3)}, gsm8k ${cv.subjectHeldOut.gsm8k.toFixed(3)}`);
}
