import type { BuiltWorker } from "./bundle.js";
import type { ByLocationSetup, LocationRow } from "./by-location.js";
import type { ClassifierResult } from "./classifier.js";
import type { FidelityResult } from "./fidelity.js";
import type { FrontLoadResult } from "./front-load.js";
import type { ProcessMemory } from "./path-suite.js";
import type { ProviderPathsResult } from "./provider-paths.js";
import type { RoundTripResult } from "./round-trips.js";
import type { ThroughputResult } from "./throughput.js";
import type { TtfbLevel } from "./ttfb.js";

/** Everything one `npm run bench` measured; written as results/latest.json. */
export interface BenchResults {
  meta: {
    /** "smoke": a few requests per figure, to check the harness works; its figures mean nothing. */
    mode: "full" | "smoke";
    startedAt: string;
    durationSeconds: number;
    node: string;
    cpus: string;
    /** 1-minute load average before and after the run: other work on the machine shows here. */
    loadAverage: { before: number; after: number };
    /** Average cores busy outside the bench's process tree during the whole run. */
    otherProcessesCores: number;
    loadGenerator: string;
    /** How each path reaches the simulator. */
    paths: Record<string, string>;
    definitions: string[];
  };
  /** Part 1, every path's levels. */
  ttfb: { requestsPerArm: number; levels: TtfbLevel[] };
  fidelity: FidelityResult[];
  throughput: ThroughputResult[];
  roundTrips: RoundTripResult[];
  classifier: ClassifierResult;
  bundles: BuiltWorker[];
  /** Resident memory of each path's processes before and after its measurements. */
  memory: Array<ProcessMemory & { path: string }>;
  /** Time to first byte added by the gateway by client city, every link delayed, both designs. */
  byLocation: LocationRow[];
  byLocationSetup: ByLocationSetup;
  frontLoad: FrontLoadResult;
  /** Bedrock and Vertex against the Anthropic-format relay, through the regional gateways. */
  providerPaths: ProviderPathsResult;
  /** Parts not run because the run's time budget was spent (a busy machine). */
  skipped: string[];
}
