import { pathToFileURL } from "node:url";
import { join } from "node:path";

/** Microseconds per classification, as test/eval/classifier-cost.ts measures it. */
export interface ClassifierCost {
  chars100: number;
  chars10k: number;
  chars200k: number;
}

export type ClassifierResult = { landed: true; cost: ClassifierCost } | { landed: false; reason: string };

const MODULE = pathToFileURL(join(import.meta.dirname, "../eval/classifier-cost.ts")).href;

function isCostModule(module: unknown): module is { measureClassifierCost: (minMs?: number) => ClassifierCost } {
  return typeof module === "object" && module !== null && typeof Reflect.get(module, "measureClassifierCost") === "function";
}

/** Runs the classifier's own cost measurement when it exists; never invents a figure. */
export async function measureClassifier(minMs?: number): Promise<ClassifierResult> {
  let module: unknown;
  try {
    module = await import(MODULE);
  } catch (error) {
    const code = typeof error === "object" && error !== null ? Reflect.get(error, "code") : undefined;
    if (code === "ERR_MODULE_NOT_FOUND") return { landed: false, reason: "classifier not landed" };
    return { landed: false, reason: `classifier failed to load: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!isCostModule(module)) return { landed: false, reason: "classifier not landed (no measureClassifierCost export)" };
  return { landed: true, cost: module.measureClassifierCost(minMs) };
}
