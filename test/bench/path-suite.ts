import type { BenchStack, GatewayPath } from "./bench-stack.js";
import { type FidelityResult, measureFidelity } from "./fidelity.js";
import { type LoadClient, runInterleaved, streamingBody } from "./load.js";
import { rssMiB } from "./processes.js";
import { type RoundTripResult, measureRoundTrips } from "./round-trips.js";
import { type ThroughputResult, measureThroughput } from "./throughput.js";
import { type TtfbLevel, measureTtfbLevel, streamDirectives } from "./ttfb.js";

export interface SuiteOptions {
  /** Every part; otherwise (the floors, which have no storage) time to first byte and fidelity only. */
  full: boolean;
  /** Requests per arm that warm up JIT, caches and connections before anything is measured. */
  warmUpRequests: number;
  ttfbLevels: readonly number[];
  requestsPerArm: number;
  fidelity: { concurrency: number; streamsPerArm: number };
  roundTripRequests: number;
  /** performance.now() after which the throughput sweep starts no new level. */
  sweepDeadline: number;
  /** performance.now() after which no part starts at all (the run must end within 5 minutes); those left are reported as skipped. */
  hardDeadline: number;
  log: (message: string) => void;
}

export interface ProcessMemory {
  role: string;
  /** Resident MiB when the path's measurements began and ended. */
  before: number;
  after: number;
}

export interface PathResults {
  roundTrips: RoundTripResult | null;
  levels: TtfbLevel[];
  fidelity: FidelityResult | null;
  throughput: ThroughputResult | null;
  memory: ProcessMemory[];
  /** Parts not run because the run's time budget was spent. */
  skipped: string[];
}

/** Parts 1 to 4 for one gateway path, every figure interleaved with direct requests. */
export async function measurePath(client: LoadClient, path: GatewayPath, bench: BenchStack, options: SuiteOptions): Promise<PathResults> {
  const name = path.endpoint.name;
  const skipped: string[] = [];
  const starting = (part: string): boolean => {
    if (performance.now() >= options.hardDeadline) {
      skipped.push(`${name}: ${part}`);
      return false;
    }
    options.log(`${name}: ${part}`);
    return true;
  };
  const processes = path.processes();
  const memoryBefore = processes.map(({ pid }) => rssMiB(pid));
  // JIT, isolate and key caches, connections.
  await runInterleaved(client, [path.endpoint, bench.direct], streamingBody(streamDirectives(4)), { concurrency: 4, perEndpoint: options.warmUpRequests });

  const roundTrips =
    options.full && starting("Upstash round trips")
      ? await measureRoundTrips(client, path, bench.direct, bench.simulator, bench.stack.bridge, options.roundTripRequests)
      : null;
  const fidelity = starting("relay fidelity")
    ? await measureFidelity(client, path, bench.direct, bench.simulator, options.fidelity)
    : null;
  const levels: TtfbLevel[] = [];
  for (const concurrency of options.ttfbLevels) {
    if (starting(`time to first byte at concurrency ${concurrency}`)) {
      levels.push(await measureTtfbLevel(client, path, bench.direct, bench.simulator, concurrency, options.requestsPerArm));
    }
  }
  const throughput =
    options.full && starting("throughput sweep")
      ? await measureThroughput(client, path, bench.direct, bench.simulator, {
          perArm: options.requestsPerArm,
          alreadyMeasured: levels,
          deadline: Math.min(options.sweepDeadline, options.hardDeadline),
        })
      : null;
  const memory = processes.map(({ role, pid }, index) => ({ role, before: memoryBefore[index] ?? Number.NaN, after: rssMiB(pid) }));
  return { roundTrips, levels, fidelity, throughput, memory, skipped };
}
