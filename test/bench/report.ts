import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BenchResults } from "./results.js";
import { type Percentiles, type Summary, subtractSummaries } from "./stats.js";
import { type TargetCheck, checkTargets } from "./targets.js";
import { FIDELITY_DIRECTIVES } from "./fidelity.js";
import { SUSTAINED_ADDED_P99_MS, SWEEP_LEVELS } from "./throughput.js";
import { STREAM_TPS, totalCpuMs, type TtfbLevel } from "./ttfb.js";
import { DESIGNS, type Design, type DesignFigures, NEXT_TO_PRIMARY } from "./by-location.js";
import { providerPathsSection } from "./provider-paths.js";

/** The paths that only forward (no gateway code): each runtime's floor on this machine. */
const FLOORS = ["passthrough", "node-proxy"] as const;

export interface Section {
  title: string;
  headers: string[];
  rows: string[][];
  notes?: string[];
}

const f2 = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : "n/a");
const f1 = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : "n/a");
const trio = (s: Percentiles | Summary): string => `${f2(s.p50)} / ${f2(s.p90)} / ${f2(s.p99)}`;
const failed = (level: TtfbLevel): string => {
  const list = (failures: Record<string, number>): string =>
    Object.entries(failures)
      .map(([kind, count]) => `${count} ${kind}`)
      .join(", ");
  const gateway = list(level.gateway.failures);
  const direct = list(level.direct.failures);
  const retries = level.gateway.staleSocketRetries + level.direct.staleSocketRetries;
  const failures = gateway || direct ? [gateway && `gw: ${gateway}`, direct && `direct: ${direct}`].filter(Boolean).join("; ") : "0";
  return retries > 0 ? `${failures} (${retries} resent after a stale keep-alive socket)` : failures;
};
const cpu = (level: TtfbLevel): string =>
  Object.entries(level.cpuMsPerRequest)
    .map(([role, ms]) => `${role} ${f2(ms)}`)
    .join("; ");

function ttfbSection(results: BenchResults): Section {
  return {
    title: "1. Time to first byte (ms): gateway path vs straight to the simulator, interleaved",
    headers: ["path", "conc.", "n (gw/direct)", "gateway p50/p90/p99", "direct p50/p90/p99", "ADDED p50/p90/p99", "added first delta p50/p90/p99", "gw in flight", "bench proc / other procs (cores)", "load avg", "failed"],
    rows: results.ttfb.levels.map((l) => [
      l.path,
      String(l.concurrency),
      `${l.gateway.ok}/${l.direct.ok}`,
      trio(l.gateway.ttfb),
      trio(l.direct.ttfb),
      trio(l.added.ttfb),
      trio(l.added.firstDelta),
      f1(l.gateway.meanInFlight),
      `${f2(l.benchProcessCores)} / ${f2(l.otherProcessesCores)}`,
      f2(l.loadAverage),
      failed(l),
    ]),
    notes: [
      "ADDED = gateway percentile minus direct percentile (difference of the two distributions' percentiles, not paired per-request differences).",
      "TTFB = request handed to the socket -> first response body byte; first delta = -> first complete content_block_delta event.",
      `Level c streams 'sim:ttft=0 sim:tokens=<c> sim:tps=${STREAM_TPS}': streams last ~c x ${1000 / STREAM_TPS} ms, so each level offers about the same request rate and differs in how many streams are open.`,
      "Concurrency = requests the load generator keeps in flight, alternating gateway/direct per request; 'gw in flight' is the time-averaged number through the gateway.",
      "Path 'gateway' is the dry-run bundle as npm start and the tests serve it (workerd, no dev tooling); 'passthrough' is a forward-only Worker served the same way (the workerd floor); 'node-proxy' is a forward-only node:http proxy in its own process (the Node floor).",
      "Bench proc = cores used by the bench's own process (load generator, simulator, Upstash bridge share one event loop); other procs = cores busy outside the bench's process tree (other work on this machine): figures taken with it well above 0 are noisy.",
    ],
  };
}

function breakdownSection(results: BenchResults): Section {
  return {
    title: "1c. Where the added time goes (medians, ms, shared clock) and CPU per gateway request",
    headers: ["path", "conc.", "added before upstream call", "added on the way back", "simulator gw/direct", "CPU ms per request by process"],
    rows: results.ttfb.levels.map((l) => [
      l.path,
      String(l.concurrency),
      f2(l.added.toUpstream.p50),
      f2(l.added.back.p50),
      `${f2(l.gateway.segments.upstream.p50)} / ${f2(l.direct.segments.upstream.p50)}`,
      cpu(l),
    ]),
    notes: [
      "Before upstream call = send -> the simulator receives the request (gateway minus direct). Way back = simulator's first event write -> client's first byte (gateway minus direct).",
      "CPU n/a = the process exited during the batch.",
    ],
  };
}

function fidelitySection(results: BenchResults): Section {
  return {
    title: "2. Relay fidelity: gap between consecutive events, as sent vs as received (ms)",
    headers: ["path", "conc.", "streams gw/direct", "unmatched", "gw |gap distortion| p50/p90/p99", "direct p50/p90/p99", "ADDED p50/p90/p99", "gw event delay p50/p99", "direct event delay p50/p99"],
    rows: results.fidelity.map((r) => [
      r.path,
      String(r.concurrency),
      `${r.gateway.streams}/${r.direct.streams}`,
      `${r.gateway.unmatched}/${r.direct.unmatched}`,
      trio(r.gateway.gapDistortion),
      trio(r.direct.gapDistortion),
      trio(r.addedGapDistortion),
      `${f2(r.gateway.eventDelay.p50)} / ${f2(r.gateway.eventDelay.p99)}`,
      `${f2(r.direct.eventDelay.p50)} / ${f2(r.direct.eventDelay.p99)}`,
    ]),
    notes: [
      `Streams "${FIDELITY_DIRECTIVES}", interleaved with direct ones.`,
      "Events are matched to the simulator ledger's eventTimes through the relayed request-id header; client events are stamped at chunk arrival.",
    ],
  };
}

function throughputSection(results: BenchResults): Section {
  return {
    title: `3. Throughput: most concurrent streams with added TTFB p99 <= ${SUSTAINED_ADDED_P99_MS} ms`,
    headers: ["path", "max sustained conc.", "gw streams open at max", "events/s relayed at max", "by level: added p99 ms / gw req/s / events/s / CPU ms per gw request"],
    rows: results.throughput.map((t) => [
      t.path,
      (t.maxConcurrency === null ? "none (not even 1)" : String(t.maxConcurrency)) + (t.cutShort ? " (sweep cut short: time)" : ""),
      t.gatewayStreamsAtMax === null ? "n/a" : f1(t.gatewayStreamsAtMax),
      t.eventsPerSecondAtMax === null ? "n/a" : f1(t.eventsPerSecondAtMax),
      t.levels
        .map((l) => {
          const cpuTotal = totalCpuMs(l);
          const failed = l.gateway.errors ? `, ${l.gateway.errors} failed` : "";
          return `c=${l.concurrency}: ${f1(l.added.ttfb.p99)} / ${f1(l.gatewayRequestsPerSecond)} / ${f1(l.gatewayEventsPerSecond)} / ${f2(cpuTotal)}${failed}`;
        })
        .join("; "),
    ]),
    notes: [
      `Levels ${SWEEP_LEVELS.join(", ")} (those of part 1 reused), stopping at the first not sustained (p99 over the limit or any failed request).`,
      "CPU = /proc/<pid>/stat utime+stime of the path's processes (table 1b) around the batch, 10 ms ticks, per gateway request served.",
    ],
  };
}

function roundTripSection(results: BenchResults): Section {
  return {
    title: "4. Upstash round trips per API request (sequential, warm key) and the pre-upstream split (medians, ms)",
    headers: ["path", "requests", "before upstream mean (min-max)", "after upstream mean", "settlement Upstash answer", "send->Upstash", "Upstash answer", "Upstash->upstream", "upstream", "back", "Server-Timing gateway / upstream", "direct: send->upstream / back"],
    rows: results.roundTrips.map((r) => [
      r.path,
      String(r.requests),
      r.requests === 0 ? "n/a" : `${f2(r.before.mean)} (${r.before.min}-${r.before.max})`,
      f2(r.after.mean),
      f2(r.settlementUpstash),
      f2(r.gatewaySegments.toUpstash),
      f2(r.gatewaySegments.upstash),
      f2(r.gatewaySegments.upstashToUpstream),
      f2(r.gatewaySegments.upstream),
      f2(r.gatewaySegments.back),
      `${f1(r.gatewaySegments.serverTimingGateway)} / ${f1(r.gatewaySegments.serverTimingUpstream)}`,
      `${f2(r.directSegments.toUpstream)} / ${f2(r.directSegments.back)}`,
    ]),
    notes: [
      "Bridge arrivals (bridge.stats().arrivals) before vs after the simulator ledger's startedAt; 'Upstash answer' = arrival -> the bridge finished its response (Node diagnostics channel).",
      "The settlement (usage, cost, limit corrections and the request's metrics, in one script) is the request's last call, off the critical path; 'settlement Upstash answer' is its bridge time. With a head start the admission, too, comes after the upstream call started.",
      "Server-Timing comes from the Worker, whose performance.now() only advances on I/O.",
    ],
  };
}

function classifierSection(results: BenchResults): Section {
  const c = results.classifier;
  const value = (us: number | undefined): string => (c.landed && us !== undefined ? f1(us) : `n/a (${c.landed ? "" : c.reason})`);
  return {
    title: "5. Classifier cost (microseconds per classification, Node, test/eval/classifier-cost.ts)",
    headers: ["100 chars", "10k chars", "200k-char conversation"],
    rows: [[value(c.landed ? c.cost.chars100 : undefined), value(c.landed ? c.cost.chars10k : undefined), value(c.landed ? c.cost.chars200k : undefined)]],
  };
}

function bundleSection(results: BenchResults): Section {
  return {
    title: "6. Worker bundles (wrangler deploy --dry-run)",
    headers: ["environment", "raw KiB", "gzip KiB", "wrangler says", "Worker Startup Time", "local start-up CPU (wrangler check startup, non-idle samples)", "largest contributors (raw KiB)"],
    rows: results.bundles.map((b) => [
      b.environment || "(default)",
      f1(b.rawBytes / 1024),
      f1(b.gzipBytes / 1024),
      b.wranglerReport ?? "n/a",
      b.startupMs === null ? "n/a (printed only after a real upload)" : `${f1(b.startupMs)} ms`,
      b.localStartupCpuMs === null ? "n/a" : `${f1(b.localStartupCpuMs)} ms`,
      b.composition
        .slice(0, 6)
        .map((share) => `${share.origin} ${f1(share.bytes / 1024)}`)
        .join(", "),
    ]),
  };
}

function floorSection(results: BenchResults): Section {
  const levels = results.ttfb.levels;
  const floor = (path: string, concurrency: number): TtfbLevel | undefined =>
    levels.find((l) => l.path === path && l.concurrency === concurrency);
  const above = (level: TtfbLevel, path: string): string => {
    const base = floor(path, level.concurrency);
    return base ? trio(subtractSummaries(level.added.ttfb, base.added.ttfb)) : "n/a";
  };
  return {
    title: "1b. Added TTFB above each runtime's floor (ms): what the gateway's own code adds",
    headers: ["path", "conc.", "ADDED p50/p90/p99", ...FLOORS.map((path) => `${path} ADDED p50/p90/p99`), ...FLOORS.map((path) => `above ${path} p50/p90/p99`)],
    rows: levels
      .filter((l) => !(FLOORS as readonly string[]).includes(l.path))
      .map((l) => [
        l.path,
        String(l.concurrency),
        trio(l.added.ttfb),
        ...FLOORS.map((path) => {
          const base = floor(path, l.concurrency);
          return base ? trio(base.added.ttfb) : "n/a";
        }),
        ...FLOORS.map((path) => above(l, path)),
      ]),
    notes: [
      "Above a floor = the path's ADDED minus that floor's ADDED at the same level (percentile by percentile; a negative tail figure is noise).",
      "passthrough = a forwarding Worker on workerd (what the runtime itself costs); node-proxy = a forwarding node:http proxy (what the same job costs in plain Node).",
    ],
  };
}

function locationSection(results: BenchResults): Section {
  const setup = results.byLocationSetup;
  const designs = Object.keys(DESIGNS) as Design[];
  const nextToPrimary = results.byLocation.find((row) => row.location === NEXT_TO_PRIMARY);
  const pair = (s: Percentiles | Summary): string => `${f1(s.p50)} / ${f1(s.p99)}`;
  const decided = (d: DesignFigures): string => {
    const reasons = Object.entries(d.primaryReasons).map(([reason, n]) => `${n} ${reason}`);
    return `${d.admittedInRegion}/${d.gateway.n}${reasons.length > 0 ? ` (primary: ${reasons.join(", ")})` : ""}`;
  };
  const connections = (d: DesignFigures): string =>
    Object.entries(d.links.connectionsOpened)
      .map(([link, n]) => `${link} x${n}`)
      .join("; ") || "none";
  return {
    title: "7. Time to first byte added by the gateway, by client city, every link delayed by the distance model (ms)",
    headers: [
      "client",
      "served by (upstream)",
      "model: path RTT / region-primary RTT",
      ...designs.flatMap((design) => [`${design}: gateway p50/p99`, `${design}: baseline p50/p99`, `${design}: ADDED p50/p99`, `${design}: ADDED p50 minus ${NEXT_TO_PRIMARY}'s`]),
      "decided in the region (regional)",
      ...designs.map((design) => `connections opened during the measurement (${design})`),
      "proxy timing error mean/max (today / regional)",
    ],
    rows: results.byLocation.map((row) => [
      row.location,
      `${row.servedBy} (${Object.keys(row.upstreams).join(", ")})`,
      `${f1(row.modelledPathMs)} / ${f1(row.modelledPrimaryRoundTripMs)}`,
      ...designs.flatMap((design) => {
        const d = row.designs[design];
        const reference = nextToPrimary?.designs[design].added.p50 ?? Number.NaN;
        return [pair(d.gateway), pair(d.baseline), pair(d.added), f1(d.added.p50 - reference) + (d.failed > 0 ? ` (${d.failed} failed)` : "")];
      }),
      decided(row.designs.regional),
      ...designs.map((design) => connections(row.designs[design])),
      designs.map((design) => `${f2(row.designs[design].links.lateness.mean)}/${f1(row.designs[design].links.lateness.max)}`).join(" / "),
    ]),
    notes: [
      `Each city in turn: the client and its colo moved there (MF-CF-Blob and the links' delays), ${setup.ratePerSecond} gateway requests a second (and as many baseline requests, spread between them, open loop) "${setup.directives}"; ${setup.regionWarmUpSeconds} s of the same traffic straight to every region before the first city, ${setup.warmUpSeconds} s from each city before its ${setup.requestsPerArm} measured requests per arm: steady state, after the regions have sized their rate credits and budget lease from recent use.`,
      "Gateway = client -> front Worker at the colo -> service binding -> regional gateway (its storage calls) -> upstream endpoint. Baseline = the same delayed links through forwarding Workers (colo, region) without the gateway: ADDED = gateway percentile minus baseline percentile.",
      `Designs: ${designs.map((design) => `${design} = ${DESIGNS[design].label} (regionDatabases: ${DESIGNS[design].regionDatabases})`).join("; ")}.`,
      `Distance model: great-circle km x ${setup.model.routeStretch} (route stretch) / ${setup.model.fibreKmPerMs} km per ms (fibre) + ${setup.model.perHopMs} ms per link, one way; a new connection waits its handshakes (TCP + TLS: 2 round trips; service bindings: none). Table 7b lists every link.`,
      "Connections opened: each paid its link's handshakes; one on 'front Worker -> primary database' is the front Worker's pin lookup (every 30 s per key), which lands in the p99 from far cities.",
      "Proxy timing error: release minus due time of every chunk on every link during the measurement (the delays are applied by a Node proxy sharing the bench's event loop).",
    ],
  };
}

function linkSection(results: BenchResults): Section {
  const cities = results.byLocation.map((row) => row.location);
  return {
    title: "7b. The links of the regional stack and their one-way delays by client city (ms)",
    headers: ["link", "kind", "from -> to", ...cities],
    rows: results.byLocationSetup.links.map((link) => [
      link.name,
      link.kind,
      `${link.from} -> ${link.to}`,
      ...cities.map((city) => f1(link.oneWayMsByCity[city] ?? Number.NaN)),
    ]),
    notes: ["'client city' ends move with the client: the client itself and the Cloudflare colo it reaches are in its city. 'baseline:' links are the baseline's own, between the same places."],
  };
}

function frontLoadSection(results: BenchResults): Section {
  const load = results.frontLoad;
  const failures = Object.entries(load.failures).map(([kind, count]) => `${count} ${kind}`).join(", ");
  return {
    title: `8. Load through the front Worker: ${load.streams} streams at concurrency ${load.concurrency}`,
    headers: ["streams", "failed", "failures", "resent after a stale keep-alive socket", "TTFB p50/p90/p99", "wall s", "load avg before -> after"],
    rows: [[
      String(load.streams),
      String(load.failed),
      failures || "none",
      String(load.staleSocketRetries),
      trio(load.ttfb),
      f1(load.wallMs / 1000),
      `${f2(load.loadAverage.before)} -> ${f2(load.loadAverage.after)}`,
    ]],
    notes: [`Streams "${load.directives}" through the regional topology (front Worker -> service binding -> regional gateway -> simulator), one closed loop, every failure counted.`],
  };
}

function memorySection(results: BenchResults): Section {
  return {
    title: "Process memory over each path's measurements (resident MiB)",
    headers: ["path", "process", "before", "after"],
    rows: results.memory.map((m) => [m.path, m.role, f1(m.before), f1(m.after)]),
  };
}

function targetSection(checks: readonly TargetCheck[]): Section {
  return {
    title: "Targets (reported, not asserted)",
    headers: ["target", "path", "figure", "verdict"],
    rows: checks.map((c) => [c.target, c.path, c.figure, c.verdict.toUpperCase()]),
  };
}

function text(section: Section): string {
  const widths = section.headers.map((h, i) => Math.max(h.length, ...section.rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ");
  return [
    `\n${section.title}`,
    line(section.headers),
    widths.map((w) => "-".repeat(w)).join("-+-"),
    ...section.rows.map(line),
    ...(section.notes ?? []).map((note) => `  * ${note}`),
  ].join("\n");
}

function markdown(section: Section): string {
  const escape = (cell: string): string => cell.replace(/\|/g, "\\|");
  return [
    `## ${section.title}`,
    "",
    `| ${section.headers.map(escape).join(" | ")} |`,
    `|${section.headers.map(() => "---").join("|")}|`,
    ...section.rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
    "",
    ...(section.notes ?? []).map((note) => `- ${note}`),
    "",
  ].join("\n");
}

function header(results: BenchResults): string[] {
  const m = results.meta;
  return [
    ...(m.mode === "smoke" ? ["SMOKE RUN (npm run bench -- --smoke): a few requests per figure, to check the harness; the figures mean nothing."] : []),
    `Run ${m.startedAt}, ${m.durationSeconds.toFixed(0)} s, Node ${m.node}, ${m.cpus}, load average ${f2(m.loadAverage.before)} -> ${f2(m.loadAverage.after)}, other processes used ${f2(m.otherProcessesCores)} cores on average`,
    `Load generator: ${m.loadGenerator}`,
    ...Object.entries(m.paths).map(([name, description]) => `Path ${name}: ${description}`),
    ...m.definitions,
    ...(results.skipped.length > 0 ? [`SKIPPED (time budget spent on a busy machine): ${results.skipped.join("; ")}`] : []),
  ];
}

/** Prints the tables and writes latest.json and latest.md to `dir` (the latest run only). */
export async function report(results: BenchResults, targetPaths: readonly string[], dir: string): Promise<void> {
  const checks = checkTargets(results, targetPaths);
  const sections = [
    ttfbSection(results),
    floorSection(results),
    breakdownSection(results),
    memorySection(results),
    fidelitySection(results),
    throughputSection(results),
    roundTripSection(results),
    classifierSection(results),
    bundleSection(results),
    locationSection(results),
    linkSection(results),
    frontLoadSection(results),
    providerPathsSection(results.providerPaths),
    targetSection(checks),
  ];
  console.log([...header(results), ...sections.map(text)].join("\n"));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "latest.json"), `${JSON.stringify({ ...results, targets: checks }, null, 2)}\n`);
  await writeFile(
    join(dir, "latest.md"),
    ["# edgegate bench: latest run", "", ...header(results).map((line) => `${line}  `), "", ...sections.map(markdown)].join("\n"),
  );
}
