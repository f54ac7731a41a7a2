import type { BuiltWorker } from "./bundle.js";
import type { ClassifierResult } from "./classifier.js";
import type { FidelityResult } from "./fidelity.js";
import type { ProcessMemory } from "./path-suite.js";
import type { RoundTripResult } from "./round-trips.js";
import type { ThroughputResult } from "./throughput.js";
import type { TtfbLevel } from "./ttfb.js";

export type BundleResult = Omit<BuiltWorker, "outdir" | "dispose">;

/** Everything one `npm run bench` measured; written as results/latest.json. */
export interface BenchResults {
  meta: {
    startedAt: string;
    durationSeconds: number;
    node: string;
    cpus: string;
    /** 1-minute load average before and after the run: other work on the machine shows here. */
    loadAverage: { before: number; after: number };
    /** Average cores busy outside the bench's process tree during the whole run. */
    otherProcessesCores: number;
    loadGenerator: string;
    /** How each gateway path reaches the Worker. */
    paths: Record<string, string>;
    definitions: string[];
  };
  /** Part 1, every path's levels. */
  ttfb: { requestsPerArm: number; levels: TtfbLevel[] };
  fidelity: FidelityResult[];
  throughput: ThroughputResult[];
  roundTrips: RoundTripResult[];
  classifier: ClassifierResult;
  bundles: BundleResult[];
  /** Resident memory of each path's processes before and after its measurements. */
  memory: Array<ProcessMemory & { path: string }>;
  /** Parts not run because the run's time budget was spent (a busy machine). */
  skipped: string[];
}
