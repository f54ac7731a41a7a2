/**
 * Prints the classifier's cost in microseconds per call.
 *
 *   tsx test/eval/bench-classify.ts [--json]
 *
 * Targets: <= 20 µs for a 100-character prompt, <= 1000 µs for a
 * 200,000-character conversation. Figures are the best of 7 timed rounds
 * (see classifier-cost.ts).
 */

import { measureClassifierCost, sampleRequests } from "./classifier-cost.js";

function totalChars(req: unknown): number {
  return JSON.stringify(req).length; // benchmark script only, not the classifier
}

const cost = measureClassifierCost(700);
if (process.argv.includes("--json")) {
  console.log(JSON.stringify(cost));
} else {
  const reqs = sampleRequests();
  const row = (name: keyof typeof cost, target?: number): string =>
    `${name.padEnd(10)} ${cost[name].toFixed(2).padStart(9)} µs/call   (request ~${totalChars(reqs[name])} chars JSON${
      target === undefined ? "" : `, target <= ${target} µs: ${cost[name] <= target ? "ok" : "OVER"}`
    })`;
  console.log(row("chars100", 20));
  console.log(row("chars10k"));
  console.log(row("chars200k", 1000));
}
