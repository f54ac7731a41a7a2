import type { Simulator } from "../stack/simulator/server.js";
import type { GatewayPath } from "./bench-stack.js";
import type { Endpoint, LoadClient } from "./load.js";
import { type TtfbLevel, measureTtfbLevel } from "./ttfb.js";

/** Concurrency levels tried in order until one is not sustained. */
export const SWEEP_LEVELS = [1, 2, 4, 8, 16, 32, 64, 128, 256] as const;
/** "Sustained": added time to first byte at p99 within this, and no failed request. */
export const SUSTAINED_ADDED_P99_MS = 10;

export interface ThroughputResult {
  path: string;
  /** Every level measured (from the TTFB part where it already ran), up to the first one not sustained. */
  levels: TtfbLevel[];
  /** Highest level sustained before the first that was not; null when even concurrency 1 was not. */
  maxConcurrency: number | null;
  /** Gateway streams open on average at that level. */
  gatewayStreamsAtMax: number | null;
  /** SSE events/s relayed through the gateway at that level. */
  eventsPerSecondAtMax: number | null;
  /** The sweep ran out of time before finding a level that is not sustained: the maximum may be higher. */
  cutShort: boolean;
}

export interface SweepOptions {
  perArm: number;
  /** Levels part 1 already ran for this path: reused, not run again. */
  alreadyMeasured: readonly TtfbLevel[];
  /** performance.now() after which no new level starts. */
  deadline: number;
}

function sustained(level: TtfbLevel): boolean {
  return level.added.ttfb.p99 <= SUSTAINED_ADDED_P99_MS && level.gateway.errors === 0;
}

export async function measureThroughput(
  client: LoadClient,
  path: GatewayPath,
  direct: Endpoint,
  simulator: Simulator,
  options: SweepOptions,
): Promise<ThroughputResult> {
  const levels: TtfbLevel[] = [];
  let best: TtfbLevel | null = null;
  let cutShort = false;
  for (const concurrency of SWEEP_LEVELS) {
    let level = options.alreadyMeasured.find((known) => known.concurrency === concurrency);
    if (!level) {
      if (performance.now() > options.deadline) {
        cutShort = true;
        break;
      }
      level = await measureTtfbLevel(client, path, direct, simulator, concurrency, options.perArm);
    }
    levels.push(level);
    if (!sustained(level)) break;
    best = level;
  }
  return {
    path: path.endpoint.name,
    levels,
    maxConcurrency: best?.concurrency ?? null,
    gatewayStreamsAtMax: best?.gateway.meanInFlight ?? null,
    eventsPerSecondAtMax: best?.gatewayEventsPerSecond ?? null,
    cutShort,
  };
}
