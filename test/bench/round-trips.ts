import type { UpstashBridge } from "../stack/upstash-bridge/server.js";
import type { Simulator } from "../stack/simulator/server.js";
import type { GatewayPath } from "./bench-stack.js";
import { type Endpoint, type Exchange, type LoadClient, header, streamingBody } from "./load.js";
import { ResponseClock } from "./response-clock.js";
import { median } from "./stats.js";
import { isOk, streamDirectives } from "./ttfb.js";

export interface RoundTripResult {
  path: string;
  requests: number;
  /** Upstash requests between the client's send and the upstream call, per API request. */
  before: { mean: number; min: number; max: number };
  /** Upstash requests after the upstream call until the request's log line (settlement), per API request. */
  after: { mean: number; min: number; max: number };
  /** Upstash requests from send to log line, per API request (the admission and the settlement). */
  total: { mean: number; min: number; max: number };
  /** Median ms the bridge and Redis took to answer the settlement, the request's last call (arrival -> response finished): off the critical path. */
  settlementUpstash: number;
  /** Medians in ms of where one sequential gateway request's time to first byte goes, on the shared clock. */
  gatewaySegments: {
    /** Send -> the Upstash request reaches the bridge (proxy, Worker start, body, auth, admission set-up). */
    toUpstash: number;
    /** The bridge and Redis answering (arrival -> response finished). */
    upstash: number;
    /** Bridge answered -> the simulator has the upstream request (reply parsing, upstream call set-up). */
    upstashToUpstream: number;
    /** Simulator request -> its first event write. */
    upstream: number;
    /** Simulator's first write -> client's first byte (relay of the first chunk, response headers). */
    back: number;
    /** The Worker's own Server-Timing figures. */
    serverTimingGateway: number;
    serverTimingUpstream: number;
  };
  /** The same request straight to the simulator, interleaved: send -> simulator has it; first write -> first byte. */
  directSegments: { toUpstream: number; upstream: number; back: number };
}

interface Traced {
  exchange: Exchange;
  startedAt: number;
  firstWrite: number;
}

/**
 * Sequential warm requests through `path`, each followed by one straight to the
 * simulator. Each gateway request waits for its log line, so the bridge's arrivals
 * in [send, upstream call) and (upstream call, log line] belong to it alone.
 */
export async function measureRoundTrips(
  client: LoadClient,
  path: GatewayPath,
  direct: Endpoint,
  simulator: Simulator,
  bridge: UpstashBridge,
  requests: number,
): Promise<RoundTripResult> {
  const body = streamingBody(streamDirectives(1));
  const trace = async (endpoint: Endpoint): Promise<Traced | null> => {
    const exchange = await client.post(endpoint, "/v1/messages", body);
    const record = simulator.ledger.get(header(exchange, "request-id") ?? "");
    const firstWrite = record?.eventTimes[0];
    return isOk(exchange) && record && firstWrite !== undefined ? { exchange, startedAt: record.startedAt, firstWrite } : null;
  };
  /** A request whose settlement could not be seen (no log line) is left out: its later round trips have no bound. */
  const settledGatewayRequest = async (): Promise<{ traced: Traced | null; loggedAt: number }> => {
    const traced = await trace(path.endpoint);
    const id = traced ? header(traced.exchange, "x-request-id") : null;
    const logged = id !== null && (await path.waitForLog(id).then(() => true, () => false));
    return { traced: logged ? traced : null, loggedAt: performance.now() };
  };

  for (let i = 0; i < 3; i++) await settledGatewayRequest(); // warm key, caches and connections
  bridge.resetStats();
  const clock = new ResponseClock(bridge.port);
  const counts: Array<{ before: number; after: number }> = [];
  const segments: Array<RoundTripResult["gatewaySegments"]> = [];
  const settlements: number[] = [];
  const directs: Traced[] = [];
  try {
    for (let i = 0; i < requests; i++) {
      const { traced, loggedAt } = await settledGatewayRequest();
      const baseline = await trace(direct);
      if (baseline) directs.push(baseline);
      if (!traced) continue;
      const { exchange, startedAt, firstWrite } = traced;
      const arrivals = bridge.stats().arrivals.filter((at) => at >= exchange.sentAt && at <= loggedAt);
      const before = arrivals.filter((at) => at < startedAt);
      counts.push({ before: before.length, after: arrivals.length - before.length });
      // The settlement is the last call (with a head start, the admission too comes after the upstream call).
      const settlementArrival = arrivals.length > before.length ? arrivals.at(-1) : undefined;
      const settlementAnswered = clock.finishes.find((at) => settlementArrival !== undefined && at >= settlementArrival);
      if (settlementArrival !== undefined && settlementAnswered !== undefined) settlements.push(settlementAnswered - settlementArrival);
      const lastArrival = before[before.length - 1];
      const answered = clock.finishes.filter((at) => lastArrival !== undefined && at >= lastArrival && at < startedAt)[0];
      if (before[0] === undefined || lastArrival === undefined || answered === undefined) continue;
      const serverTiming = header(exchange, "server-timing") ?? "";
      segments.push({
        toUpstash: before[0] - exchange.sentAt,
        upstash: answered - lastArrival,
        upstashToUpstream: startedAt - answered,
        upstream: firstWrite - startedAt,
        back: exchange.firstByteAt - firstWrite,
        serverTimingGateway: Number(/gateway;dur=([\d.]+)/.exec(serverTiming)?.[1] ?? Number.NaN),
        serverTimingUpstream: Number(/upstream;[^,]*dur=([\d.]+)/.exec(serverTiming)?.[1] ?? Number.NaN),
      });
    }
  } finally {
    clock.stop();
  }

  const stat = (values: number[]): { mean: number; min: number; max: number } =>
    values.length === 0
      ? { mean: Number.NaN, min: Number.NaN, max: Number.NaN }
      : {
          mean: values.reduce((sum, value) => sum + value, 0) / values.length,
          min: Math.min(...values),
          max: Math.max(...values),
        };
  const medianOf = <T>(rows: T[], pick: (row: T) => number): number => median(rows.map(pick));
  return {
    path: path.endpoint.name,
    requests: counts.length,
    before: stat(counts.map((count) => count.before)),
    after: stat(counts.map((count) => count.after)),
    total: stat(counts.map((count) => count.before + count.after)),
    settlementUpstash: median(settlements),
    gatewaySegments: {
      toUpstash: medianOf(segments, (s) => s.toUpstash),
      upstash: medianOf(segments, (s) => s.upstash),
      upstashToUpstream: medianOf(segments, (s) => s.upstashToUpstream),
      upstream: medianOf(segments, (s) => s.upstream),
      back: medianOf(segments, (s) => s.back),
      serverTimingGateway: medianOf(segments, (s) => s.serverTimingGateway),
      serverTimingUpstream: medianOf(segments, (s) => s.serverTimingUpstream),
    },
    directSegments: {
      toUpstream: medianOf(directs, (d) => d.startedAt - d.exchange.sentAt),
      upstream: medianOf(directs, (d) => d.firstWrite - d.startedAt),
      back: medianOf(directs, (d) => d.exchange.firstByteAt - d.firstWrite),
    },
  };
}
