import { loadavg } from "node:os";
import type { Stack } from "../stack/stack.js";
import { type Endpoint, type Exchange, header, LoadClient, runInterleaved, warmUp } from "./load.js";
import { descendants, measureCpu, startForeignCpuMeter } from "./processes.js";
import type { Section } from "./report.js";
import { type Summary, summarize } from "./stats.js";

/**
 * The cost of serving a region from Bedrock (SigV4-signed call, event-stream frames decoded
 * and transcoded to Anthropic SSE) or Vertex AI (token, SSE passed through) against
 * relaying the Anthropic API's own SSE, measured through the regional gateways of the
 * local topology: us-east calls the Anthropic API, ap-southeast Bedrock, eu-west Vertex,
 * each region's simulator in this process (one clock), every gateway in one workerd.
 *
 * - Time to first byte: one request at a time, each settled before the next, the three
 *   regions taking turns in rotating order. "Gateway time" is the part of it spent outside
 *   the simulator, per request:
 *   send -> the simulator has the request, plus the simulator's first event write -> the
 *   client's first byte; it leaves out what the simulator itself does for each format
 *   (verifying SigV4, framing), which on AWS is AWS's time, not ours. It needs the upstream's
 *   request id, which Vertex does not send: Vertex shows raw TTFB only.
 * - CPU per event: workerd's CPU (/proc) over batches sent to one region at a time, regions
 *   alternating round after round, with short and long streams; the per-event cost is the
 *   slope, (long - short CPU per request) / (long - short events per request), which
 *   leaves out what every request costs once (admission, classification, settlement).
 */

const TARGET_ADDED_P50_MS = 0.3;
const TARGET_CPU_RATIO = 2;
const BENCH_TENANT_ID = "provider-paths";

const ARMS = [
  { region: "us-east", provider: "Anthropic API (SSE relayed)" },
  { region: "ap-southeast", provider: "Bedrock ap-southeast-1, APAC profile (event stream transcoded)" },
  { region: "eu-west", provider: "Vertex AI europe-west1 (SSE passed through)" },
] as const;
type Region = (typeof ARMS)[number]["region"];

export interface ProviderPathsOptions {
  /** TTFB requests per region (sent one at a time, the regions taking turns). */
  ttfb: { requestsPerArm: number };
  /** CPU batches: rounds over the regions; per batch, short or long streams (how many, how many tokens) at a concurrency and pace. */
  cpu: { rounds: number; concurrency: number; tokensPerSecond: number; short: { streams: number; tokens: number }; long: { streams: number; tokens: number } };
}

export interface ProviderArm {
  region: Region;
  provider: string;
  ok: number;
  failures: Record<string, number>;
  ttfb: Summary;
  /** Send -> the simulator has the request, plus its first event write -> the client's first byte; null without a request id (Vertex). */
  gatewayTime: Summary | null;
  toUpstream: Summary | null;
  back: Summary | null;
  cpu: { shortMsPerRequest: number; longMsPerRequest: number; shortEventsPerRequest: number; longEventsPerRequest: number; usPerEvent: number };
}

export interface ProviderPathsResult {
  options: ProviderPathsOptions;
  arms: ProviderArm[];
  loadAverage: { before: number; after: number };
  /** Cores busy outside the bench during the measurement. */
  otherProcessesCores: number;
}

/** A Messages request streaming `tokens` text tokens at once-started, `tokensPerSecond`-paced events. */
function streamBody(tokens: number, tokensPerSecond: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      model: "claude-sonnet-4-6",
      max_tokens: tokens + 64,
      stream: true,
      messages: [{ role: "user", content: `sim:ttft=0 sim:tokens=${tokens} sim:tps=${tokensPerSecond} Benchmark request.` }],
    }),
  );
}

/** The stack's workerd (one serves every Worker): the process whose CPU the gateways use. */
function workerdPid(): number {
  const found = descendants(process.pid).filter((info) => info.comm === "workerd");
  if (found.length !== 1) throw new Error(`expected the regional stack's one workerd process, found ${JSON.stringify(found.map((info) => info.pid))}`);
  return found[0]!.pid;
}

const ok = (exchange: Exchange): boolean => exchange.status === 200 && exchange.error === null && Number.isFinite(exchange.firstByteAt);

/**
 * Measures the provider paths on a running regional `stack` (timeScale 1), with a tenant
 * of its own whose limits never refuse.
 */
export async function measureProviderPaths(stack: Stack, options: ProviderPathsOptions): Promise<ProviderPathsResult> {
  const pid = workerdPid();
  await stack.admin.createTenant({
    id: BENCH_TENANT_ID,
    name: "Provider paths bench",
    limits: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000 },
  });
  const { key } = await stack.admin.createKey(BENCH_TENANT_ID, { label: "bench" });
  const deployment = (region: Region) => stack.deployments.find((candidate) => candidate.region === region)!;
  const endpoints: Endpoint[] = ARMS.map(({ region }) => ({ name: region, origin: deployment(region).gateway.url, headers: { "x-api-key": key } }));
  const settled = (exchanges: readonly Exchange[]) =>
    Promise.allSettled(
      exchanges.map((exchange) => deployment(exchange.endpoint as Region).gateway.waitForLog(header(exchange, "x-request-id") ?? "")),
    );

  const client = new LoadClient();
  const loadBefore = loadavg()[0] ?? Number.NaN;
  const foreignCores = startForeignCpuMeter();
  try {
    // Time to first byte: two text tokens, the first at once; one request at a time, each
    // settled before the next, the regions' order rotating, so no request shares workerd
    // with another's deferred work and every region follows every other equally often.
    const ttfbBody = streamBody(2, 1_000);
    await warmUp(client, endpoints, ttfbBody, 2);
    const ttfbExchanges: Exchange[] = [];
    for (let round = 0; round < options.ttfb.requestsPerArm; round++) {
      for (let index = 0; index < endpoints.length; index++) {
        const endpoint = endpoints[(round + index) % endpoints.length]!;
        const exchange = await client.post(endpoint, "/v1/messages", ttfbBody);
        await settled([exchange]);
        ttfbExchanges.push(exchange);
      }
    }

    // CPU: one region at a time, regions alternating, short then long streams.
    const { cpu } = options;
    const bodies = { short: streamBody(cpu.short.tokens, cpu.tokensPerSecond), long: streamBody(cpu.long.tokens, cpu.tokensPerSecond) };
    const spent = new Map(ARMS.map(({ region }) => [region, { short: { cpuMs: 0, requests: 0, events: 0 }, long: { cpuMs: 0, requests: 0, events: 0 } }]));
    for (let round = 0; round < cpu.rounds; round++) {
      for (const endpoint of endpoints) {
        for (const length of ["short", "long"] as const) {
          const { result, cpuMs } = await measureCpu([{ role: "workerd", pid }], async () => {
            const run = await runInterleaved(client, [endpoint], bodies[length], { concurrency: cpu.concurrency, perEndpoint: cpu[length].streams });
            await settled(run.exchanges); // deferred work (settlement) is the request's too
            return run;
          });
          const served = result.exchanges.filter(ok);
          const totals = spent.get(endpoint.name as Region)![length];
          totals.cpuMs += cpuMs.workerd ?? Number.NaN;
          totals.requests += served.length;
          totals.events += served.reduce((sum, exchange) => sum + exchange.events.length, 0);
        }
      }
    }

    const arms = ARMS.map(({ region, provider }): ProviderArm => {
      const exchanges = ttfbExchanges.filter((exchange) => exchange.endpoint === region);
      const served = exchanges.filter(ok);
      const failures: Record<string, number> = {};
      for (const exchange of exchanges.filter((e) => !ok(e))) failures[exchange.error ?? "no first byte"] = (failures[exchange.error ?? "no first byte"] ?? 0) + 1;
      const simulator = deployment(region).simulator!;
      const traced = served.flatMap((exchange) => {
        const record = simulator.ledger.get(header(exchange, "request-id") ?? "");
        const firstWrite = record?.eventTimes[0];
        return record && firstWrite !== undefined ? [{ toUpstream: record.startedAt - exchange.sentAt, back: exchange.firstByteAt - firstWrite }] : [];
      });
      const traceable = traced.length > 0;
      const { short, long } = spent.get(region)!;
      const perRequest = (figures: { cpuMs: number; requests: number; events: number }) => ({
        cpuMs: figures.cpuMs / Math.max(1, figures.requests),
        events: figures.events / Math.max(1, figures.requests),
      });
      const [s, l] = [perRequest(short), perRequest(long)];
      return {
        region,
        provider,
        ok: served.length,
        failures,
        ttfb: summarize(served.map((exchange) => exchange.firstByteAt - exchange.sentAt)),
        gatewayTime: traceable ? summarize(traced.map((t) => t.toUpstream + t.back)) : null,
        toUpstream: traceable ? summarize(traced.map((t) => t.toUpstream)) : null,
        back: traceable ? summarize(traced.map((t) => t.back)) : null,
        cpu: {
          shortMsPerRequest: s.cpuMs,
          longMsPerRequest: l.cpuMs,
          shortEventsPerRequest: s.events,
          longEventsPerRequest: l.events,
          usPerEvent: ((l.cpuMs - s.cpuMs) * 1000) / (l.events - s.events),
        },
      };
    });
    return { options, arms, loadAverage: { before: loadBefore, after: loadavg()[0] ?? Number.NaN }, otherProcessesCores: foreignCores() };
  } finally {
    client.close();
  }
}

const f2 = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : "n/a");
const trio = (summary: Summary | null): string => (summary ? `${f2(summary.p50)} / ${f2(summary.p90)} / ${f2(summary.p99)}` : "n/a (no request id)");

/** The report's table: each provider path against the Anthropic-format relay, with the issue's targets. */
export function providerPathsSection(result: ProviderPathsResult): Section {
  const relay = result.arms.find((arm) => arm.region === "us-east")!;
  const { ttfb, cpu } = result.options;
  return {
    title: "9. Provider paths: Bedrock transcoding and Vertex pass-through against the Anthropic-format relay (regional gateways, one workerd)",
    headers: [
      "region: upstream",
      "n",
      "TTFB p50/p90/p99",
      "gateway time p50/p90/p99",
      "ADDED vs relay p50: TTFB / gateway time",
      "CPU ms per request (short / long)",
      "CPU us per event",
      "CPU per event vs relay",
      "targets (added gateway time p50 <= 0.3 ms, CPU per event <= 2x)",
    ],
    rows: result.arms.map((arm) => {
      const addedTtfb = arm.ttfb.p50 - relay.ttfb.p50;
      const addedGateway = arm.gatewayTime && relay.gatewayTime ? arm.gatewayTime.p50 - relay.gatewayTime.p50 : Number.NaN;
      const ratio = arm.cpu.usPerEvent / relay.cpu.usPerEvent;
      const verdicts =
        arm === relay
          ? "(baseline)"
          : `${Number.isFinite(addedGateway) ? (addedGateway <= TARGET_ADDED_P50_MS ? "PASS" : "MISS") : "n/a"} / ${Number.isFinite(ratio) ? (ratio <= TARGET_CPU_RATIO ? "PASS" : "MISS") : "n/a"}`;
      return [
        `${arm.region}: ${arm.provider}`,
        `${arm.ok}${Object.keys(arm.failures).length > 0 ? ` (failed: ${JSON.stringify(arm.failures)})` : ""}`,
        trio(arm.ttfb),
        trio(arm.gatewayTime),
        arm === relay ? "-" : `${f2(addedTtfb)} / ${f2(addedGateway)}`,
        `${f2(arm.cpu.shortMsPerRequest)} / ${f2(arm.cpu.longMsPerRequest)}`,
        f2(arm.cpu.usPerEvent),
        arm === relay ? "1.00x" : `${f2(ratio)}x`,
        verdicts,
      ];
    }),
    notes: [
      `TTFB: ${ttfb.requestsPerArm} streams per region ('sim:ttft=0 sim:tokens=2'), one at a time and each settled before the next (no deferred work of another request in workerd meanwhile), the regions taking turns in rotating order; ADDED = the path's p50 minus the Anthropic relay's p50.`,
      "Gateway time = send -> the simulator has the request + the simulator's first event write -> the client's first byte (per request, one clock): it leaves out most of the simulator's own work for each format (the SigV4 check), but not its framing of the first event (stamped before it is encoded). Vertex sends no request id, so only its raw TTFB is shown.",
      `CPU: workerd's /proc utime+stime (10 ms ticks) over batches to one region at a time at concurrency ${cpu.concurrency}, ${cpu.rounds} rounds over the regions: ${cpu.short.streams} streams of ${cpu.short.tokens} tokens, then ${cpu.long.streams} of ${cpu.long.tokens}, at ${cpu.tokensPerSecond} tokens/s. Per event = (long - short CPU per request) / (long - short events per request): what every request costs once cancels out.`,
      `Load average ${f2(result.loadAverage.before)} -> ${f2(result.loadAverage.after)}; other processes used ${f2(result.otherProcessesCores)} cores meanwhile.`,
    ],
  };
}
