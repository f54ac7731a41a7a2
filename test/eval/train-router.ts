/**
 * Fits the complexity classifier's weights and writes
 * shared/classify/model-data.ts. Second step of `npm run train:router` (the
 * first, build-common-words.ts, writes the common-word set the rarity
 * features use). Deterministic: fixed folds seed, stable row order, no
 * randomness in the optimiser; the same data gives the same file.
 *
 *   tsx test/eval/train-router.ts [--dry-run]
 *
 * Reads the shared development data in place (../shared/router-data, or
 * $ROUTER_DATA_DIR) and the own fixtures in test/eval/fixtures. Prints the
 * cross-validated figures (held-out folds, not training fit) first.
 */

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TRAINING_CONFIG, fit, referenceValues } from "./training/router-training.js";
import { crossValidate, printCrossValidation } from "./training/cross-validation.js";
import { modelModule, toFittedModel } from "./training/model-file.js";

const TARGET = fileURLToPath(new URL("../../shared/classify/model-data.ts", import.meta.url));

async function main(argv: string[]): Promise<void> {
  const started = Date.now();
  const cv = await crossValidate(TRAINING_CONFIG);
  printCrossValidation(cv);
  const weights = fit(cv.prepared, TRAINING_CONFIG);
  const model = toFittedModel(weights, referenceValues(cv.prepared, weights), cv.thresholds, TRAINING_CONFIG.gramBits);
  const counts = new Map<string, number>();
  for (const r of cv.prepared.rows) counts.set(r.family, (counts.get(r.family) ?? 0) + 1);
  const summary = [
    `Trained on ${[...counts].map(([f, n]) => `${f} ${n}`).join(", ")} rows; config in test/eval/training/router-training.ts.`,
    `Cross-validated APGR: mmlu ${cv.mmlu.apgr.toFixed(3)}, gsm8k ${cv.gsm8k.apgr.toFixed(3)}; own fixtures ROC AUC ${cv.own.auc.toFixed(3)}.`,
  ];
  const text = modelModule(model, summary);
  if (argv.includes("--dry-run")) {
    console.log(`\n(dry run: ${text.length} characters not written)`);
  } else {
    writeFileSync(TARGET, text);
    console.log(`\nwrote ${TARGET} (${text.length} characters) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  console.log(`bias ${model.bias}, thresholds ${JSON.stringify(model.thresholds)}, n-gram max |w| ${model.gramMax}`);
  console.log(Object.entries(model.weights).map(([id, w]) => `${id} ${w}`).join(", "));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
