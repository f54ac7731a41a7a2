import type { Simulator } from "../stack/simulator/server.js";
import type { GatewayPath } from "./bench-stack.js";
import { type Endpoint, type Exchange, type LoadClient, header, runInterleaved, streamingBody, warmUp } from "./load.js";
import { type Percentiles, type Summary, subtractSummaries, summarize } from "./stats.js";
import { isOk } from "./ttfb.js";

/** Long enough streams at a known pace for gaps to show any buffering or batching. */
export const FIDELITY_DIRECTIVES = "sim:ttft=0 sim:tokens=50 sim:tps=200";

export interface FidelityArm {
  streams: number;
  /** Streams whose client-side events could not be matched one to one with the simulator's writes. */
  unmatched: number;
  /** |client gap - simulator gap| between consecutive events, ms. */
  gapDistortion: Summary;
  /** Simulator write -> client arrival of each event, ms. */
  eventDelay: Summary;
}

export interface FidelityResult {
  path: string;
  concurrency: number;
  gateway: FidelityArm;
  direct: FidelityArm;
  /** Gateway percentile minus direct percentile. */
  addedGapDistortion: Percentiles;
}

/**
 * FIDELITY_DIRECTIVES streams through the gateway and straight
 * to the simulator, interleaved. Each client event is paired with the simulator's
 * write of the same event (the request-id header names the ledger record; both
 * clocks are this process's performance.now()).
 */
export async function measureFidelity(
  client: LoadClient,
  path: GatewayPath,
  direct: Endpoint,
  simulator: Simulator,
  options: { concurrency: number; streamsPerArm: number },
): Promise<FidelityResult> {
  const body = streamingBody(FIDELITY_DIRECTIVES);
  const endpoints = [path.endpoint, direct];
  await warmUp(client, endpoints, body, 1);
  const run = await runInterleaved(client, endpoints, body, { concurrency: options.concurrency, perEndpoint: options.streamsPerArm });
  const gateway = fidelityArm(run.exchanges.filter((e) => e.endpoint === path.endpoint.name), simulator);
  const baseline = fidelityArm(run.exchanges.filter((e) => e.endpoint === direct.name), simulator);
  return {
    path: path.endpoint.name,
    concurrency: options.concurrency,
    gateway,
    direct: baseline,
    addedGapDistortion: subtractSummaries(gateway.gapDistortion, baseline.gapDistortion),
  };
}

export function fidelityArm(exchanges: readonly Exchange[], simulator: Simulator): FidelityArm {
  const distortions: number[] = [];
  const delays: number[] = [];
  let unmatched = 0;
  const ok = exchanges.filter(isOk);
  for (const exchange of ok) {
    const sent = simulator.ledger.get(header(exchange, "request-id") ?? "")?.eventTimes ?? [];
    const received = exchange.events.map((event) => event.at);
    if (sent.length === 0 || sent.length !== received.length) {
      unmatched++;
      continue;
    }
    received.forEach((at, index) => {
      delays.push(at - (sent[index] as number));
      if (index > 0) {
        const clientGap = at - (received[index - 1] as number);
        const simulatorGap = (sent[index] as number) - (sent[index - 1] as number);
        distortions.push(Math.abs(clientGap - simulatorGap));
      }
    });
  }
  return { streams: ok.length, unmatched, gapDistortion: summarize(distortions), eventDelay: summarize(delays) };
}
