/**
 * Offline evaluation of the complexity classifier as a router.
 *
 *   tsx test/eval/eval-router.ts                       cross-validated evaluation + own proxy sets
 *   tsx test/eval/eval-router.ts FILE.jsonl [...]      the shipped model on these files
 *
 * Options:
 *   --thresholds=S,D   tier thresholds (default: DEFAULT_THRESHOLDS)
 *   --features         also print each feature's APGR / AUC on its own
 *   --json             print one JSON object per file instead of text
 *
 * Without files it runs the training recipe's cross-validation (every
 * development and own-fixture row scored by a model fitted without it, see
 * training/cross-validation.ts), then scores the own proxy sets that training
 * never sees (fixtures/router-proxy.jsonl, fixtures/chat-labels.jsonl) with
 * the shipped model.
 *
 * Quality rows ({prompt, weak, strong}): APGR (exact trapezoid, and
 * RouteLLM's 11-share variant), CPT(50%), CPT(80%), random and length-only
 * APGR, tier shares, the share of strong-needing prompts (strong > weak) on
 * the light and deep tiers, and all of it per source.
 *
 * Label rows ({prompt, label}, 1 = needs the strong model): ROC AUC (label 1
 * vs 0), accuracy with "deep" (and "standard or deep") as the strong decision,
 * tier shares, strong-needing prompts on light / deep, per source.
 */

import {
  DEFAULT_THRESHOLDS,
  FEATURE_IDS,
  classify,
  explain,
  type Thresholds,
} from "../../shared/classify/index.js";
import { apgr, rocAuc, routerCurve } from "./metrics.js";
import { loadJsonl, type LabelRow, type QualityRow, type Row } from "./router-data.js";
import {
  f3,
  labelReport,
  printLabels,
  printQuality,
  qualityReport,
  type LabelReport,
  type QualityReport,
} from "./router-report.js";
import { OWN_PROXY_FILE, trainingFiles } from "./training/dataset.js";
import { resolve } from "node:path";
import { crossValidate, printCrossValidation } from "./training/cross-validation.js";

const CHAT_LABELS_FILE = new URL("./fixtures/chat-labels.jsonl", import.meta.url).pathname;
const MT_STYLE_FILE = new URL("./fixtures/mt-style-proxy.jsonl", import.meta.url).pathname;
const MT_STYLE_HOLDOUT_FILE = new URL("./fixtures/mt-style-holdout.jsonl", import.meta.url).pathname;

function scoreRow(r: Row, t: Thresholds): { score: number; tier: ReturnType<typeof classify>["tier"]; group: string; textLength: number } {
  const c = classify(r.request, t);
  return { score: c.score, tier: c.tier, group: r.group, textLength: r.textLength };
}

/** Each feature's APGR (quality rows) or AUC (label rows) on its own. */
function featureFigures(rows: readonly Row[]): Record<string, number> {
  const feats = rows.map((r) => explain(r.request).features);
  const out: Record<string, number> = {};
  for (const id of FEATURE_IDS) {
    const values = feats.map((f) => f[id] ?? 0);
    out[id] =
      rows[0]?.kind === "quality"
        ? apgr(routerCurve(values, rows.map((r) => (r as QualityRow).weak), rows.map((r) => (r as QualityRow).strong)))
        : rocAuc(values, rows.map((r) => (r as LabelRow).label));
  }
  return out;
}

function parseThresholds(arg: string | undefined): Thresholds {
  if (arg === undefined) return DEFAULT_THRESHOLDS;
  const [a, b] = arg.split(",").map(Number);
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) {
    throw new Error(`bad --thresholds=${arg} (want e.g. 0.35,0.65)`);
  }
  return { standard: a, deep: b };
}

async function evaluateFile(file: string, t: Thresholds, asJson: boolean, withFeatures: boolean): Promise<void> {
  const { rows, skipped } = await loadJsonl(file);
  const quality = rows.filter((r): r is QualityRow => r.kind === "quality");
  const labels = rows.filter((r): r is LabelRow => r.kind === "label");
  const reports: Array<QualityReport | LabelReport> = [];
  if (quality.length > 0) reports.push(qualityReport(quality.map((r) => ({ ...scoreRow(r, t), weak: r.weak, strong: r.strong }))));
  if (labels.length > 0) reports.push(labelReport(labels.map((r) => ({ ...scoreRow(r, t), label: r.label }))));
  const features = withFeatures
    ? { quality: quality.length > 0 ? featureFigures(quality) : undefined, labels: labels.length > 0 ? featureFigures(labels) : undefined }
    : undefined;
  const trainedOn = trainingFiles().includes(resolve(file));
  if (asJson) {
    console.log(JSON.stringify({ file, trainedOn, skipped, thresholds: t, reports, features }));
    return;
  }
  console.log(`== ${file}${skipped > 0 ? ` (${skipped} unreadable lines skipped)` : ""}`);
  if (trainedOn) {
    console.log("  (the shipped model was fitted on this file: these figures are training fit; run `npm run eval:router` without files for the cross-validated ones)");
  }
  if (reports.length === 0) console.log("  no usable rows");
  for (const r of reports) {
    if (r.kind === "quality") printQuality(r, t);
    else printLabels(r, t);
  }
  for (const [kind, figures] of Object.entries(features ?? {})) {
    if (figures === undefined) continue;
    console.log(`  single-feature ${kind === "quality" ? "APGR" : "AUC"}:`);
    for (const [id, v] of Object.entries(figures)) console.log(`    ${id.padEnd(20)} ${f3(v)}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const files = argv.filter((a) => !a.startsWith("--"));
  const opts = argv.filter((a) => a.startsWith("--"));
  const asJson = opts.includes("--json");
  const withFeatures = opts.includes("--features");
  const thresholds = parseThresholds(opts.find((o) => o.startsWith("--thresholds="))?.slice("--thresholds=".length));
  if (files.length === 0) {
    const cv = await crossValidate();
    if (asJson) {
      const { prepared: _prepared, ...figures } = cv;
      console.log(JSON.stringify({ crossValidation: figures }));
    } else {
      printCrossValidation(cv);
      console.log(`\n== own proxy sets, never trained on, scored by the shipped model`);
    }
    for (const file of [OWN_PROXY_FILE, MT_STYLE_FILE, MT_STYLE_HOLDOUT_FILE, CHAT_LABELS_FILE]) await evaluateFile(file, thresholds, asJson, withFeatures);
    return 0;
  }
  for (const file of files) await evaluateFile(file, thresholds, asJson, withFeatures);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
