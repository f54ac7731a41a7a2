/**
 * Router evaluation reports, shared by eval-router.ts (files, shipped model)
 * and the cross-validation of the training script (out-of-fold scores): the
 * same figures whoever produced the scores.
 */

import type { Thresholds, Tier } from "../../shared/classify/index.js";
import { TIERS } from "../../shared/classify/types.js";
import { accuracy, apgr, apgrDiscrete, cpt, operatingPoint, randomApgr, rocAuc, routerCurve, shares } from "./metrics.js";

export interface Scored {
  score: number;
  tier: Tier;
  group: string;
  textLength: number;
}

export interface QualityScored extends Scored {
  weak: number;
  strong: number;
}

export interface LabelScored extends Scored {
  label: number;
}

export interface QualityReport {
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
  /** Prompts only the strong model answered (strong > weak). */
  strongNeeded: { n: number; light: number; deep: number };
  deepToStrong: { share: number; pgr: number };
  standardOrDeepToStrong: { share: number; pgr: number };
  bySource: Array<{ source: string; n: number; apgr: number; light: number; strongNeededLight: number; deep: number }>;
}

export interface LabelReport {
  kind: "label";
  n: number;
  positiveRate: number;
  /** Positives: label 1; negatives: label 0 (0.5 "everyday task" rows are left out of AUC and accuracy). */
  auc: number;
  accuracyDeep: number;
  accuracyStandardOrDeep: number;
  lengthAuc: number;
  tiers: Record<Tier, number>;
  /** Prompts labelled as needing the strong model. */
  strongNeeded: { n: number; light: number; deep: number };
  bySource: Array<{ source: string; n: number; auc: number; light: number; standard: number; deep: number }>;
}

function tierShare(rows: readonly Scored[], tier: Tier): number {
  return rows.length === 0 ? Number.NaN : rows.filter((r) => r.tier === tier).length / rows.length;
}

function groups<T extends Scored>(rows: readonly T[]): Array<[string, T[]]> {
  const by = new Map<string, T[]>();
  for (const r of rows) {
    const list = by.get(r.group || "-") ?? [];
    list.push(r);
    by.set(r.group || "-", list);
  }
  return [...by.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function qualityApgr(rows: readonly QualityScored[]): number {
  return apgr(routerCurve(rows.map((r) => r.score), rows.map((r) => r.weak), rows.map((r) => r.strong)));
}

export function qualityReport(rows: readonly QualityScored[]): QualityReport {
  const weak = rows.map((r) => r.weak);
  const strong = rows.map((r) => r.strong);
  const curve = routerCurve(rows.map((r) => r.score), weak, strong);
  const deep = operatingPoint(rows.map((r) => r.tier === "deep"), weak, strong);
  const notLight = operatingPoint(rows.map((r) => r.tier !== "light"), weak, strong);
  const needed = rows.filter((r) => r.strong > r.weak);
  return {
    kind: "quality",
    n: rows.length,
    weakMean: curve.weakMean,
    strongMean: curve.strongMean,
    apgr: apgr(curve),
    apgrDiscrete: apgrDiscrete(curve, 10),
    cpt50: cpt(curve, 0.5),
    cpt80: cpt(curve, 0.8),
    randomApgr: randomApgr(weak, strong, 20, 12345),
    lengthApgr: apgr(routerCurve(rows.map((r) => r.textLength), weak, strong)),
    tiers: shares(rows.map((r) => r.tier), TIERS),
    strongNeeded: { n: needed.length, light: tierShare(needed, "light"), deep: tierShare(needed, "deep") },
    deepToStrong: { share: deep.share, pgr: deep.pgr },
    standardOrDeepToStrong: { share: notLight.share, pgr: notLight.pgr },
    bySource: groups(rows).map(([source, list]) => {
      const need = list.filter((r) => r.strong > r.weak);
      return {
        source,
        n: list.length,
        apgr: qualityApgr(list),
        light: tierShare(list, "light"),
        strongNeededLight: tierShare(need, "light"),
        deep: tierShare(list, "deep"),
      };
    }),
  };
}

function binaryAuc(rows: readonly LabelScored[]): number {
  const binary = rows.filter((r) => r.label === 0 || r.label === 1);
  return rocAuc(binary.map((r) => r.score), binary.map((r) => r.label));
}

export function labelReport(rows: readonly LabelScored[]): LabelReport {
  const binary = rows.filter((r) => r.label === 0 || r.label === 1);
  const labels = binary.map((r) => r.label);
  const needed = rows.filter((r) => r.label >= 1);
  return {
    kind: "label",
    n: rows.length,
    positiveRate: needed.length / Math.max(1, rows.length),
    auc: binaryAuc(rows),
    accuracyDeep: accuracy(binary.map((r) => r.tier === "deep"), labels),
    accuracyStandardOrDeep: accuracy(binary.map((r) => r.tier !== "light"), labels),
    lengthAuc: rocAuc(binary.map((r) => r.textLength), labels),
    tiers: shares(rows.map((r) => r.tier), TIERS),
    strongNeeded: { n: needed.length, light: tierShare(needed, "light"), deep: tierShare(needed, "deep") },
    bySource: groups(rows).map(([source, list]) => ({
      source,
      n: list.length,
      auc: binaryAuc(list),
      light: tierShare(list, "light"),
      standard: tierShare(list, "standard"),
      deep: tierShare(list, "deep"),
    })),
  };
}

export const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
export const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "n/a");

function tierLine(t: Record<Tier, number>): string {
  return TIERS.map((k) => `${k} ${pct(t[k])}`).join("  ");
}

export function printQuality(r: QualityReport, t: Thresholds, log: (line: string) => void = console.log): void {
  log(`  kind: weak/strong quality   n=${r.n}`);
  log(`  weak / strong mean quality   ${f3(r.weakMean)} / ${f3(r.strongMean)}`);
  log(`  APGR (trapezoid, all breakpoints)   ${f3(r.apgr)}`);
  log(`  APGR (RouteLLM, 11 shares 0..100%)  ${f3(r.apgrDiscrete)}`);
  log(`  CPT(50%) / CPT(80%)          ${pct(r.cpt50)} / ${pct(r.cpt80)} strong calls`);
  log(`  random / length-only APGR    ${f3(r.randomApgr)} / ${f3(r.lengthApgr)}`);
  log(`  tiers @ standard>=${t.standard}, deep>=${t.deep}: ${tierLine(r.tiers)}`);
  log(
    `  strong-needing (strong > weak, n=${r.strongNeeded.n}): light ${pct(r.strongNeeded.light)}, deep ${pct(r.strongNeeded.deep)}`,
  );
  log(
    `  PGR if deep -> strong: ${f3(r.deepToStrong.pgr)} at ${pct(r.deepToStrong.share)} strong;` +
      ` if standard|deep -> strong: ${f3(r.standardOrDeepToStrong.pgr)} at ${pct(r.standardOrDeepToStrong.share)}`,
  );
  if (r.bySource.length > 1) {
    log(`  by source: n, APGR, light, strong-needing on light, deep`);
    for (const s of r.bySource) {
      log(`    ${s.source.padEnd(44)} ${String(s.n).padStart(5)}  ${f3(s.apgr)}  ${pct(s.light).padStart(6)}  ${pct(s.strongNeededLight).padStart(6)}  ${pct(s.deep).padStart(6)}`);
    }
  }
}

export function printLabels(r: LabelReport, t: Thresholds, log: (line: string) => void = console.log): void {
  log(`  kind: labels (1 = needs strong)   n=${r.n}   positives ${pct(r.positiveRate)}`);
  log(`  ROC AUC                      ${f3(r.auc)}   (length-only ${f3(r.lengthAuc)})`);
  log(`  accuracy, strong = deep      ${f3(r.accuracyDeep)}   (score >= ${t.deep})`);
  log(`  accuracy, strong = std|deep  ${f3(r.accuracyStandardOrDeep)}   (score >= ${t.standard})`);
  log(`  tiers @ standard>=${t.standard}, deep>=${t.deep}: ${tierLine(r.tiers)}`);
  log(`  strong-needing (label 1, n=${r.strongNeeded.n}): light ${pct(r.strongNeeded.light)}, deep ${pct(r.strongNeeded.deep)}`);
  if (r.bySource.length > 1) {
    log(`  by source: n, AUC, light, standard, deep`);
    for (const s of r.bySource) {
      log(`    ${s.source.padEnd(44)} ${String(s.n).padStart(5)}  ${f3(s.auc).padStart(5)}  ${pct(s.light).padStart(6)}  ${pct(s.standard).padStart(6)}  ${pct(s.deep).padStart(6)}`);
    }
  }
}
