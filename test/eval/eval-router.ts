/**
 * Offline evaluation of the complexity classifier as a router.
 *
 *   tsx test/eval/eval-router.ts FILE.jsonl [FILE2.jsonl ...] [options]
 *
 * Options:
 *   --thresholds=S,D   tier thresholds (default: DEFAULT_THRESHOLDS)
 *   --features         also print each feature's APGR / AUC on its own
 *   --json             print one JSON object per file instead of text
 *
 * Quality rows ({prompt, weak, strong}): n, weak / strong mean quality, APGR
 * (exact trapezoid over all breakpoints, and RouteLLM's 11-share discrete
 * variant), CPT(50%), CPT(80%), random-router APGR (20 seeded runs; expected
 * value 0.5), length-only APGR, tier shares, and the PGR reached at the
 * default tiers.
 *
 * Label rows ({prompt, label}): ROC AUC of the score, accuracy at the default
 * thresholds, tier shares, length-only AUC. "Needs strong" is predicted as
 * tier == "deep" (score >= thresholds.deep): deep is the tier that holds the
 * strongest model, and standard is a middle ground, so a binary
 * weak-vs-strong label is compared with the deep cut. Accuracy with
 * "standard or deep" as the strong decision is printed alongside.
 */

import {
  DEFAULT_THRESHOLDS,
  FEATURE_IDS,
  classify,
  explain,
  type Thresholds,
  type Tier,
} from "../../shared/classify/index.js";
import { TIERS } from "../../shared/classify/types.js";
import {
  accuracy,
  apgr,
  apgrDiscrete,
  cpt,
  operatingPoint,
  randomApgr,
  rocAuc,
  routerCurve,
  shares,
} from "./metrics.js";
import { loadJsonl, type LabelRow, type QualityRow } from "./router-data.js";


interface QualityReport {
  kind: "quality";
  n: number;
  weakMean: number;
  strongMean: number;
  apgr: number;
  apgrDiscrete: number;
  cpt50: number;
  cpt80: number;
  randomApgr: number;
  lengthApgr: number;
  tiers: Record<Tier, number>;
  deepToStrong: { share: number; pgr: number };
  standardOrDeepToStrong: { share: number; pgr: number };
  features?: Record<string, number>;
}

interface LabelReport {
  kind: "label";
  n: number;
  positiveRate: number;
  auc: number;
  accuracyDeep: number;
  accuracyStandardOrDeep: number;
  lengthAuc: number;
  tiers: Record<Tier, number>;
  features?: Record<string, number>;
}

function evalQuality(rows: QualityRow[], t: Thresholds, withFeatures: boolean): QualityReport {
  const weak = rows.map((r) => r.weak);
  const strong = rows.map((r) => r.strong);
  const results = rows.map((r) => classify(r.request, t));
  const scores = results.map((r) => r.score);
  const tiers = results.map((r) => r.tier);
  const curve = routerCurve(scores, weak, strong);
  const deep = operatingPoint(
    tiers.map((x) => x === "deep"),
    weak,
    strong,
  );
  const notLight = operatingPoint(
    tiers.map((x) => x !== "light"),
    weak,
    strong,
  );
  const report: QualityReport = {
    kind: "quality",
    n: rows.length,
    weakMean: curve.weakMean,
    strongMean: curve.strongMean,
    apgr: apgr(curve),
    apgrDiscrete: apgrDiscrete(curve, 10),
    cpt50: cpt(curve, 0.5),
    cpt80: cpt(curve, 0.8),
    randomApgr: randomApgr(weak, strong, 20, 12345),
    lengthApgr: apgr(
      routerCurve(
        rows.map((r) => r.textLength),
        weak,
        strong,
      ),
    ),
    tiers: shares(tiers, TIERS),
    deepToStrong: { share: deep.share, pgr: deep.pgr },
    standardOrDeepToStrong: { share: notLight.share, pgr: notLight.pgr },
  };
  if (withFeatures) {
    const feats = rows.map((r) => explain(r.request).features);
    const out: Record<string, number> = {};
    for (const id of FEATURE_IDS) {
      out[id] = apgr(
        routerCurve(
          feats.map((f) => f[id] ?? 0),
          weak,
          strong,
        ),
      );
    }
    report.features = out;
  }
  return report;
}

function evalLabels(rows: LabelRow[], t: Thresholds, withFeatures: boolean): LabelReport {
  const labels = rows.map((r) => r.label);
  const results = rows.map((r) => classify(r.request, t));
  const scores = results.map((r) => r.score);
  const tiers = results.map((r) => r.tier);
  const report: LabelReport = {
    kind: "label",
    n: rows.length,
    positiveRate: labels.filter((l) => l >= 0.5).length / Math.max(1, rows.length),
    auc: rocAuc(scores, labels),
    accuracyDeep: accuracy(
      tiers.map((x) => x === "deep"),
      labels,
    ),
    accuracyStandardOrDeep: accuracy(
      tiers.map((x) => x !== "light"),
      labels,
    ),
    lengthAuc: rocAuc(
      rows.map((r) => r.textLength),
      labels,
    ),
    tiers: shares(tiers, TIERS),
  };
  if (withFeatures) {
    const feats = rows.map((r) => explain(r.request).features);
    const out: Record<string, number> = {};
    for (const id of FEATURE_IDS) {
      out[id] = rocAuc(
        feats.map((f) => f[id] ?? 0),
        labels,
      );
    }
    report.features = out;
  }
  return report;
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "n/a");

function tierLine(t: Record<Tier, number>): string {
  return TIERS.map((k) => `${k} ${pct(t[k])}`).join("  ");
}

function printQuality(r: QualityReport, t: Thresholds): void {
  console.log(`  kind: weak/strong quality   n=${r.n}`);
  console.log(`  weak mean quality            ${f3(r.weakMean)}`);
  console.log(`  strong mean quality          ${f3(r.strongMean)}`);
  console.log(`  APGR (trapezoid, all breakpoints)   ${f3(r.apgr)}`);
  console.log(`  APGR (RouteLLM, 11 shares 0..100%)  ${f3(r.apgrDiscrete)}`);
  console.log(`  CPT(50%)                     ${pct(r.cpt50)} strong calls`);
  console.log(`  CPT(80%)                     ${pct(r.cpt80)} strong calls`);
  console.log(`  random baseline APGR         ${f3(r.randomApgr)} (mean of 20 seeded random routers; expected 0.500)`);
  console.log(`  length-only APGR             ${f3(r.lengthApgr)}`);
  console.log(`  tiers @ standard>=${t.standard}, deep>=${t.deep}: ${tierLine(r.tiers)}`);
  console.log(
    `  PGR if deep -> strong: ${f3(r.deepToStrong.pgr)} at ${pct(r.deepToStrong.share)} strong;` +
      ` if standard|deep -> strong: ${f3(r.standardOrDeepToStrong.pgr)} at ${pct(r.standardOrDeepToStrong.share)}`,
  );
  printFeatures(r.features, "APGR");
}

function printLabels(r: LabelReport, t: Thresholds): void {
  console.log(`  kind: labels (1 = needs strong)   n=${r.n}   positives ${pct(r.positiveRate)}`);
  console.log(`  ROC AUC                      ${f3(r.auc)}`);
  console.log(`  accuracy, strong = deep      ${f3(r.accuracyDeep)}   (primary: score >= ${t.deep})`);
  console.log(`  accuracy, strong = std|deep  ${f3(r.accuracyStandardOrDeep)}   (score >= ${t.standard})`);
  console.log(`  length-only ROC AUC          ${f3(r.lengthAuc)}`);
  console.log(`  tiers @ standard>=${t.standard}, deep>=${t.deep}: ${tierLine(r.tiers)}`);
  printFeatures(r.features, "AUC");
}

function printFeatures(features: Record<string, number> | undefined, metric: string): void {
  if (features === undefined) return;
  console.log(`  single-feature ${metric}:`);
  for (const [id, v] of Object.entries(features)) console.log(`    ${id.padEnd(20)} ${f3(v)}`);
}

function parseThresholds(arg: string | undefined): Thresholds {
  if (arg === undefined) return DEFAULT_THRESHOLDS;
  const [a, b] = arg.split(",").map(Number);
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) {
    throw new Error(`bad --thresholds=${arg} (want e.g. 0.35,0.65)`);
  }
  return { standard: a, deep: b };
}

async function main(argv: string[]): Promise<number> {
  const files = argv.filter((a) => !a.startsWith("--"));
  const opts = argv.filter((a) => a.startsWith("--"));
  const asJson = opts.includes("--json");
  const withFeatures = opts.includes("--features");
  const thresholds = parseThresholds(
    opts.find((o) => o.startsWith("--thresholds="))?.slice("--thresholds=".length),
  );
  if (files.length === 0) {
    console.error("usage: tsx test/eval/eval-router.ts FILE.jsonl [...] [--features] [--json] [--thresholds=S,D]");
    return 2;
  }
  for (const file of files) {
    const { rows, skipped } = await loadJsonl(file);
    const quality = rows.filter((r): r is QualityRow => r.kind === "quality");
    const labels = rows.filter((r): r is LabelRow => r.kind === "label");
    const reports: Array<QualityReport | LabelReport> = [];
    if (quality.length > 0) reports.push(evalQuality(quality, thresholds, withFeatures));
    if (labels.length > 0) reports.push(evalLabels(labels, thresholds, withFeatures));
    if (asJson) {
      console.log(JSON.stringify({ file, skipped, thresholds, reports }));
      continue;
    }
    console.log(`== ${file}${skipped > 0 ? ` (${skipped} unreadable lines skipped)` : ""}`);
    if (reports.length === 0) console.log("  no usable rows");
    for (const r of reports) {
      if (r.kind === "quality") printQuality(r, thresholds);
      else printLabels(r, thresholds);
    }
  }
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
