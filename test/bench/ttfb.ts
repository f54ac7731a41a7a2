import { loadavg } from "node:os";
import type { Simulator } from "../stack/simulator/server.js";
import type { GatewayPath } from "./bench-stack.js";
import { type Endpoint, type Exchange, type LoadClient, header, runInterleaved, streamingBody, warmUp } from "./load.js";
import { measureCpu, startForeignCpuMeter } from "./processes.js";
import { type Percentiles, type Summary, subtractSummaries, summarize } from "./stats.js";

/** Tokens per second of every stream: a realistic model speed (REFERENCE.md: 60-120). */
export const STREAM_TPS = 100;

/**
 * The stream a level runs: first token at once, then `concurrency` tokens at
 * STREAM_TPS. Streams last about concurrency x 10 ms, so every level offers about
 * the same request rate (concurrency / stream length, ~100/s over both arms) and
 * levels differ in how many streams are open, not in how fast requests arrive.
 * (With one fixed short stream, a zero-think-time closed loop would saturate any
 * gateway and concurrency would only scale its queue.)
 */
export function streamDirectives(concurrency: number): string {
  return `sim:ttft=0 sim:tokens=${concurrency} sim:tps=${STREAM_TPS}`;
}

export interface ArmResult {
  ok: number;
  errors: number;
  /** Failed requests by what went wrong ("HTTP 503 ...", "socket hang up", ...). */
  failures: Record<string, number>;
  /** Requests sent a second time because their kept-alive socket had been closed (see LoadClient.post). */
  staleSocketRetries: number;
  /** Send -> first body byte. */
  ttfb: Summary;
  /** Send -> first complete content_block_delta event. */
  firstDelta: Summary;
  /** Time-averaged requests of this arm in flight (Little's law). */
  meanInFlight: number;
  /** Where the time to first byte goes, on the shared clock, from the simulator's ledger. */
  segments: {
    /** Send -> the simulator has the request (for the gateway: everything before the upstream call). */
    toUpstream: Summary;
    /** The simulator's own request -> first event write. */
    upstream: Summary;
    /** Simulator's first event write -> client's first byte (the way back). */
    back: Summary;
  };
}


export interface TtfbLevel {
  path: string;
  /** Requests the load generator keeps in flight, alternating gateway / direct. */
  concurrency: number;
  directives: string;
  wallMs: number;
  gateway: ArmResult;
  direct: ArmResult;
  /** Gateway percentile minus direct percentile (distributions, not paired requests). */
  added: { ttfb: Percentiles; firstDelta: Percentiles; toUpstream: Percentiles; back: Percentiles };
  /** CPU ms per gateway request, by process (direct requests never touch these processes). */
  cpuMsPerRequest: Record<string, number>;
  gatewayRequestsPerSecond: number;
  /** SSE events the clients received through the gateway, per second of the run. */
  gatewayEventsPerSecond: number;
  /** Cores busy with processes outside the bench during the batch: noise from other work on the machine. */
  otherProcessesCores: number;
  /** Cores used by the bench's own process (load generator, simulator, Upstash bridge) during the batch. */
  benchProcessCores: number;
  /** The machine's 1-minute load average when the batch ended. */
  loadAverage: number;
}

/** CPU ms per gateway request, all of the path's processes together. */
export function totalCpuMs(level: TtfbLevel): number {
  return Object.values(level.cpuMsPerRequest).reduce((sum, ms) => sum + ms, 0);
}

/**
 * `perArm` streamed requests through `path` and as many straight to the simulator,
 * interleaved in one closed loop of `concurrency` in-flight requests.
 */
export async function measureTtfbLevel(
  client: LoadClient,
  path: GatewayPath,
  direct: Endpoint,
  simulator: Simulator,
  concurrency: number,
  perArm: number,
): Promise<TtfbLevel> {
  const body = streamingBody(streamDirectives(concurrency));
  const endpoints = [path.endpoint, direct];
  await warmUp(client, endpoints, body, concurrency);
  const foreignCores = startForeignCpuMeter();
  const ownCpu = process.cpuUsage();
  const spanStartedAt = performance.now();
  const { result: run, cpuMs } = await measureCpu(path.processes(), async () => {
    const measured = await runInterleaved(client, endpoints, body, { concurrency, perEndpoint: perArm });
    await settled(path, measured.exchanges); // the batch's deferred work counts too
    return measured;
  });
  const otherProcessesCores = foreignCores();
  const own = process.cpuUsage(ownCpu);
  const spanMs = performance.now() - spanStartedAt;
  const wallMs = run.endedAt - run.startedAt;
  const of = (name: string): Exchange[] => run.exchanges.filter((exchange) => exchange.endpoint === name);
  const gateway = armResult(of(path.endpoint.name), wallMs, simulator);
  const baseline = armResult(of(direct.name), wallMs, simulator);
  const gatewayOk = of(path.endpoint.name).filter(isOk);
  return {
    path: path.endpoint.name,
    concurrency,
    directives: streamDirectives(concurrency),
    wallMs,
    gateway,
    direct: baseline,
    added: {
      ttfb: subtractSummaries(gateway.ttfb, baseline.ttfb),
      firstDelta: subtractSummaries(gateway.firstDelta, baseline.firstDelta),
      toUpstream: subtractSummaries(gateway.segments.toUpstream, baseline.segments.toUpstream),
      back: subtractSummaries(gateway.segments.back, baseline.segments.back),
    },
    cpuMsPerRequest: Object.fromEntries(Object.entries(cpuMs).map(([role, ms]) => [role, ms / Math.max(1, gatewayOk.length)])),
    gatewayRequestsPerSecond: (gatewayOk.length * 1000) / wallMs,
    gatewayEventsPerSecond: (gatewayOk.reduce((sum, exchange) => sum + exchange.events.length, 0) * 1000) / wallMs,
    otherProcessesCores,
    benchProcessCores: (own.user + own.system) / 1000 / spanMs,
    loadAverage: loadavg()[0] ?? Number.NaN,
  };
}

export function isOk(exchange: Exchange): boolean {
  return exchange.status === 200 && exchange.error === null && Number.isFinite(exchange.firstByteAt);
}

async function settled(path: GatewayPath, exchanges: readonly Exchange[]): Promise<void> {
  const ids = exchanges
    .filter((exchange) => exchange.endpoint === path.endpoint.name)
    .map((exchange) => header(exchange, "x-request-id"))
    .filter((id): id is string => id !== null);
  await Promise.allSettled(ids.map((id) => path.waitForLog(id)));
}

export function armResult(exchanges: readonly Exchange[], wallMs: number, simulator: Simulator): ArmResult {
  const ok = exchanges.filter(isOk);
  const traced = ok.flatMap((exchange) => {
    const record = simulator.ledger.get(header(exchange, "request-id") ?? "");
    const firstWrite = record?.eventTimes[0];
    return record && firstWrite !== undefined ? [{ exchange, startedAt: record.startedAt, firstWrite }] : [];
  });
  const failures: Record<string, number> = {};
  for (const exchange of exchanges.filter((e) => !isOk(e))) {
    const kind = exchange.error ?? "no first byte";
    failures[kind] = (failures[kind] ?? 0) + 1;
  }
  return {
    ok: ok.length,
    errors: exchanges.length - ok.length,
    failures,
    staleSocketRetries: exchanges.filter((exchange) => exchange.retriedStaleSocket).length,
    ttfb: summarize(ok.map((exchange) => exchange.firstByteAt - exchange.sentAt)),
    firstDelta: summarize(ok.map((exchange) => exchange.firstDeltaAt - exchange.sentAt).filter(Number.isFinite)),
    meanInFlight: exchanges.reduce((sum, exchange) => sum + (exchange.endAt - exchange.sentAt), 0) / wallMs,
    segments: {
      toUpstream: summarize(traced.map((t) => t.startedAt - t.exchange.sentAt)),
      upstream: summarize(traced.map((t) => t.firstWrite - t.startedAt)),
      back: summarize(traced.map((t) => t.exchange.firstByteAt - t.firstWrite)),
    },
  };
}
