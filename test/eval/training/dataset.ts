/**
 * Training and evaluation rows for the router: the shared development files
 * (read in place from ../shared/router-data, never copied) and the
 * project's own hand-written fixtures.
 *
 * Target: the probability that a prompt needs the strong model.
 * - development rows (weak / strong correctness): (1 + strong - weak) / 2, i.e.
 *   1 when only the strong model was right, 0 when only the weak one was,
 *   0.5 when they agree: its expectation ranks prompts exactly as the gain
 *   that APGR rewards (a plain "strong wins" label scored about 0.01 lower
 *   in cross-validation);
 * - own fixtures: the hand-given label (1 hard, 0.5 everyday task, 0 simple).
 */

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { MessagesRequestLike } from "../../../shared/classify/index.js";
import { loadJsonl } from "../router-data.js";

/** Data families; each gets its own intercept while training (see logistic.ts). */
export const FAMILIES = ["own", "mmlu", "gsm8k"] as const;
export type Family = (typeof FAMILIES)[number];

export interface TrainingRow {
  family: Family;
  /** Finer source, e.g. "mmlu/virology" or "own/expert-hard". */
  source: string;
  request: MessagesRequestLike;
  target: number;
  /** Development rows only. */
  weak?: number;
  strong?: number;
}

/**
 * The shared development data: $ROUTER_DATA_DIR, else shared/router-data
 * beside the repository (or beside its parent, for a git worktree).
 */
export function routerDataDir(): string {
  const fromEnv = process.env["ROUTER_DATA_DIR"];
  if (fromEnv) return fromEnv;
  const candidates = ["../../../../shared/router-data", "../../../../../shared/router-data"].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  const found = candidates.find((dir) => existsSync(dir));
  if (found === undefined) throw new Error(`development data not found in ${candidates.join(" or ")} (set ROUTER_DATA_DIR)`);
  return found;
}

export const OWN_TRAINING_FILE = fileURLToPath(new URL("../fixtures/router-train.jsonl", import.meta.url));
/** Own MT-Bench-style training prompts (not MT-Bench's): maths, reasoning, coding = 1; writing, roleplay, humanities, STEM, extraction = 0.5. */
/** Source prefix of the rows of OWN_MT_TRAINING_FILE. */
export const MT_STYLE_PREFIX = "own/mt-";
export const OWN_MT_TRAINING_FILE = fileURLToPath(new URL("../fixtures/mt-style-train.jsonl", import.meta.url));
export const OWN_PROXY_FILE = fileURLToPath(new URL("../fixtures/router-proxy.jsonl", import.meta.url));

const DEVELOPMENT_FILES: ReadonlyArray<{ family: Family; file: string }> = [
  { family: "mmlu", file: "mmlu.jsonl" },
  { family: "gsm8k", file: "gsm8k-dev.jsonl" },
];

/** Absolute paths of every file the shipped model was fitted on. */
export function trainingFiles(): string[] {
  const dir = routerDataDir();
  return [OWN_TRAINING_FILE, OWN_MT_TRAINING_FILE, ...DEVELOPMENT_FILES.map(({ file }) => resolve(dir, file))];
}

export async function loadTrainingRows(): Promise<TrainingRow[]> {
  const rows: TrainingRow[] = [];
  for (const file of [OWN_TRAINING_FILE, OWN_MT_TRAINING_FILE]) {
    const own = await loadJsonl(file);
    for (const r of own.rows) {
      if (r.kind !== "label") continue;
      rows.push({ family: "own", source: r.group || "own", request: r.request, target: r.label });
    }
  }
  const dir = routerDataDir();
  for (const { family, file } of DEVELOPMENT_FILES) {
    const path = `${dir}/${file}`;
    const dev = await loadJsonl(path);
    for (const r of dev.rows) {
      if (r.kind !== "quality") continue;
      rows.push({
        family,
        source: r.group || family,
        request: r.request,
        target: (1 + r.strong - r.weak) / 2,
        weak: r.weak,
        strong: r.strong,
      });
    }
  }
  return rows;
}
