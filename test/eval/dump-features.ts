/**
 * Development aid: print the classifier's feature vector for every row of a
 * JSONL evaluation file as TSV (group, weak, strong or label, features...),
 * for offline inspection of weights. Output goes to stdout; keep it outside
 * the repository.
 *
 *   tsx test/eval/dump-features.ts FILE.jsonl > /tmp/features.tsv
 */

import { FEATURE_IDS, explain } from "../../shared/classify/index.js";
import { loadJsonl } from "./router-data.js";

async function main(file: string | undefined): Promise<void> {
  if (file === undefined) throw new Error("usage: tsx test/eval/dump-features.ts FILE.jsonl");
  const { rows } = await loadJsonl(file);
  const out: string[] = [["group", "weak", "strong", "score", ...FEATURE_IDS].join("\t")];
  for (const r of rows) {
    const e = explain(r.request);
    const weak = r.kind === "quality" ? r.weak : 1 - r.label;
    const strong = r.kind === "quality" ? r.strong : 1;
    const vals = FEATURE_IDS.map((id) => (e.features[id] ?? 0).toFixed(5));
    out.push([r.group || "-", String(weak), String(strong), e.score.toFixed(5), ...vals].join("\t"));
  }
  process.stdout.write(out.join("\n") + "\n");
}

main(process.argv[2]).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
