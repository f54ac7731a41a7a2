/**
 * What the metrics cost the hot path: the bench's own round-trip count and time to first
 * byte, in this checkout, written as JSON (`--out`), so that runs of two checkouts (with
 * and without the metrics in the settlement write) can be put side by side (`--compare`).
 *
 *   npm run bench:metrics -- --label with --out /tmp/with-1.json
 *   npm run bench:metrics -- --compare /tmp/without-1.json /tmp/with-1.json ...
 *
 * Each run: 50 sequential requests for the Upstash round trips before and after the
 * upstream call (and the settlement's own Upstash time), then time to first byte at
 * concurrency 1 and 16, every gateway request interleaved with one straight to the
 * simulator (ADDED = gateway minus direct, as in the bench's table 1).
 */
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startBenchStack } from "./bench-stack.js";
import { LoadClient, runInterleaved, streamingBody } from "./load.js";
import { measureRoundTrips, type RoundTripResult } from "./round-trips.js";
import { measureTtfbLevel, streamDirectives } from "./ttfb.js";

interface CostRun {
  label: string;
  commit: string;
  startedAt: string;
  loadAverage: { before: number; after: number };
  roundTrips: RoundTripResult;
  levels: Array<{ concurrency: number; requestsPerArm: number; added: { p50: number; p90: number; p99: number }; otherProcessesCores: number; cpuMsPerRequest: Record<string, number> }>;
}

const LEVELS = [1, 16];
const PER_ARM = 300;
const ROUND_TRIP_REQUESTS = 50;

const { values: args, positionals } = parseArgs({
  options: { out: { type: "string" }, label: { type: "string", default: "run" }, compare: { type: "boolean", default: false } },
  allowPositionals: true,
});

async function measure(): Promise<CostRun> {
  const loadBefore = loadavg()[0] ?? Number.NaN;
  const startedAt = new Date().toISOString();
  const bench = await startBenchStack();
  const client = new LoadClient();
  try {
    await runInterleaved(client, [bench.gateway.endpoint, bench.direct], streamingBody(streamDirectives(4)), { concurrency: 4, perEndpoint: 100 });
    const roundTrips = await measureRoundTrips(client, bench.gateway, bench.direct, bench.simulator, bench.stack.bridge, ROUND_TRIP_REQUESTS);
    const levels: CostRun["levels"] = [];
    for (const concurrency of LEVELS) {
      const level = await measureTtfbLevel(client, bench.gateway, bench.direct, bench.simulator, concurrency, PER_ARM);
      levels.push({ concurrency, requestsPerArm: PER_ARM, added: level.added.ttfb, otherProcessesCores: level.otherProcessesCores, cpuMsPerRequest: level.cpuMsPerRequest });
    }
    return {
      label: args.label!,
      commit: execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim(),
      startedAt,
      loadAverage: { before: loadBefore, after: loadavg()[0] ?? Number.NaN },
      roundTrips,
      levels,
    };
  } finally {
    client.close();
    await bench.stack.stop();
  }
}

function table(runs: CostRun[]): string {
  const f = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : "n/a");
  const rows = runs.map((run) => {
    const trips = run.roundTrips;
    const level = (concurrency: number) => {
      const found = run.levels.find((one) => one.concurrency === concurrency);
      return found ? `${f(found.added.p50)} / ${f(found.added.p90)} / ${f(found.added.p99)}` : "n/a";
    };
    const cpu = (concurrency: number) => Object.values(run.levels.find((one) => one.concurrency === concurrency)?.cpuMsPerRequest ?? {}).map(f).join(", ");
    const range = (stat: { mean: number; min: number; max: number }) => `${f(stat.mean)} (${stat.min}-${stat.max})`;
    return `| ${run.label} (${run.commit}) | ${range(trips.total)} | ${range(trips.before)} / ${range(trips.after)} | ${f(trips.settlementUpstash)} | ${level(1)} | ${level(16)} | ${cpu(1)} / ${cpu(16)} | ${f(run.loadAverage.before)} -> ${f(run.loadAverage.after)} |`;
  });
  return [
    "| run | Upstash requests per API request, mean (min-max) | before / after the upstream call | settlement's Upstash time, median ms | ADDED TTFB c=1 p50/p90/p99 ms | ADDED TTFB c=16 p50/p90/p99 ms | workerd CPU ms/request c=1 / c=16 | load avg |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

if (args.compare) {
  const runs = await Promise.all(positionals.map(async (path) => JSON.parse(await readFile(path, "utf8")) as CostRun));
  console.log(table(runs));
} else {
  const run = await measure();
  if (args.out) await writeFile(args.out, `${JSON.stringify(run, null, 2)}\n`);
  console.log(table([run]));
}
