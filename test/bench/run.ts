/**
 * `npm run bench`: starts the local stack, measures the gateway against the simulator
 * it fronts and against two floors (a forwarding Worker on workerd, a forwarding
 * node:http proxy), every figure interleaved with its baseline in the same run, then
 * the regional topology (Bedrock and Vertex against the Anthropic-format relay, a load
 * test through the front Worker; time to first byte by client city with every link
 * delayed by distance, both designs of the counters); prints the tables and writes
 * results/latest.{json,md}.
 *
 * `--smoke`: every part with a few requests, in well under a minute, to check the
 * harness works (npm test runs it); `--out <dir>`: where the results go.
 */
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startStack } from "../stack/stack.js";
import { readWorkerConfigs } from "../stack/workers/wrangler-config.js";
import { type BenchStack, startBenchStack } from "./bench-stack.js";
import { measureByLocation } from "./by-location.js";
import { measureWorkers } from "./bundle.js";
import { measureClassifier } from "./classifier.js";
import { measureFrontLoad } from "./front-load.js";
import { LOAD_GENERATOR, LoadClient } from "./load.js";
import { startNodeProxy } from "./node-proxy.js";
import { type OwnedPath, startPassthrough } from "./passthrough.js";
import { type PathResults, measurePath } from "./path-suite.js";
import { measureProviderPaths } from "./provider-paths.js";
import { startForeignCpuMeter } from "./processes.js";
import { report } from "./report.js";
import type { BenchResults } from "./results.js";
import { STREAM_TPS, streamDirectives } from "./ttfb.js";

const SUITES = {
  full: {
    ttfbLevels: [1, 16, 64],
    requestsPerArm: 500,
    fidelity: { concurrency: 8, streamsPerArm: 40 },
    roundTripRequests: 50,
    warmUpRequests: 100,
    /** The throughput sweep starts no new level after this many seconds of the run... */
    sweepBudgetS: 180,
    /** ...and nothing new starts after this many (one part can take a minute on a busy machine). */
    hardBudgetS: 220,
    byLocation: { requestsPerArm: 80, ratePerSecond: 10, regionWarmUpSeconds: 15, warmUpSeconds: 3 },
    frontLoad: { streams: 2_000, concurrency: 64 },
    classifierMinMs: 350,
    profileStartup: true,
    providerPaths: {
      ttfb: { requestsPerArm: 300 },
      cpu: { rounds: 3, concurrency: 4, tokensPerSecond: 1_000, short: { streams: 60, tokens: 2 }, long: { streams: 16, tokens: 400 } },
    },
  },
  smoke: {
    ttfbLevels: [1, 4],
    requestsPerArm: 4,
    fidelity: { concurrency: 2, streamsPerArm: 3 },
    roundTripRequests: 3,
    warmUpRequests: 4,
    // No sweep level beyond those part 1 measured.
    sweepBudgetS: 0,
    hardBudgetS: 60,
    byLocation: { requestsPerArm: 2, ratePerSecond: 20, regionWarmUpSeconds: 0, warmUpSeconds: 0 },
    frontLoad: { streams: 16, concurrency: 8 },
    classifierMinMs: 20,
    profileStartup: false,
    providerPaths: {
      ttfb: { requestsPerArm: 3 },
      cpu: { rounds: 1, concurrency: 2, tokensPerSecond: 1_000, short: { streams: 2, tokens: 2 }, long: { streams: 2, tokens: 20 } },
    },
  },
} as const;

const { values: args } = parseArgs({ options: { smoke: { type: "boolean", default: false }, out: { type: "string" } } });
const mode = args.smoke ? "smoke" : "full";
const suite = SUITES[mode];
const resultsDir = args.out ?? join(import.meta.dirname, "results");
const log = (message: string): void => console.error(`[bench ${(performance.now() / 1000).toFixed(0)} s] ${message}`);

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = loadavg()[0] ?? Number.NaN;
  const foreignCores = startForeignCpuMeter();

  log("classifier cost");
  const classifier = await measureClassifier(suite.classifierMinMs);
  log("building every Worker (wrangler deploy --dry-run, cached by source) and starting the stack");
  const environments = (await readWorkerConfigs()).map((config) => config.environment);
  const bundles = await measureWorkers(environments, { profileStartup: suite.profileStartup });
  const bench = await startBenchStack();
  const client = new LoadClient();
  const owned: OwnedPath[] = [];
  let measured: Array<{ name: string; full: boolean; description: string; results: PathResults }>;
  try {
    owned.push(await startPassthrough(bench.direct), await startNodeProxy(bench.direct));
    // The floors first, then the gateway (every part).
    const paths = [...owned.map((o) => ({ path: o.path, full: false })), { path: bench.gateway, full: true }];
    measured = [];
    for (const { path, full } of paths) {
      const results = await measurePath(client, path, bench, {
        ...suite,
        full,
        sweepDeadline: suite.sweepBudgetS * 1000,
        hardDeadline: suite.hardBudgetS * 1000,
        log,
      });
      measured.push({ name: path.endpoint.name, full, description: path.description, results });
    }
  } finally {
    client.close();
    for (const path of owned) await path.dispose();
    await bench.stack.stop();
  }

  log("regional topology: the front Worker and three regions");
  const regional = await startStack({ topology: "regions", timeScale: 1 });
  let frontLoad: BenchResults["frontLoad"];
  let providerPaths: BenchResults["providerPaths"];
  try {
    log("provider paths: Bedrock and Vertex against the Anthropic-format relay");
    providerPaths = await measureProviderPaths(regional, suite.providerPaths);
    log(`${suite.frontLoad.streams} streams at concurrency ${suite.frontLoad.concurrency} through the front Worker`);
    frontLoad = await measureFrontLoad(regional, { ...suite.frontLoad, directives: streamDirectives(suite.frontLoad.concurrency) });
  } finally {
    await regional.stop();
  }
  const byLocation = await measureByLocation({ ...suite.byLocation, log });

  const results: BenchResults = {
    meta: {
      mode,
      startedAt: startedAt.toISOString(),
      durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
      node: process.version,
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}`,
      loadAverage: { before: loadBefore, after: loadavg()[0] ?? Number.NaN },
      otherProcessesCores: foreignCores(),
      loadGenerator: LOAD_GENERATOR,
      paths: {
        ...Object.fromEntries(measured.map(({ name, description }) => [name, description])),
        direct: "straight to the simulator (the baseline)",
      },
      definitions: [
        `Streams: "sim:ttft=0 sim:tokens=<concurrency> sim:tps=${STREAM_TPS}" (stream: true), ${suite.requestsPerArm} per arm per level; tenant limits 1e9 requests/min, 1e12 tokens/min, no budget.`,
        "Every figure interleaves gateway and direct requests in one closed loop (request k goes to arm k mod 2), same client, same run.",
      ],
    },
    ttfb: { requestsPerArm: suite.requestsPerArm, levels: measured.flatMap((m) => m.results.levels) },
    fidelity: measured.flatMap((m) => (m.results.fidelity ? [m.results.fidelity] : [])),
    throughput: measured.flatMap((m) => (m.results.throughput ? [m.results.throughput] : [])),
    roundTrips: measured.flatMap((m) => (m.results.roundTrips ? [m.results.roundTrips] : [])),
    memory: measured.flatMap((m) => m.results.memory.map((memory) => ({ path: m.name, ...memory }))),
    classifier,
    bundles,
    byLocation: byLocation.rows,
    byLocationSetup: byLocation.setup,
    frontLoad,
    providerPaths,
    skipped: measured.flatMap((m) => m.results.skipped),
  };
  await report(
    results,
    measured.filter(({ full }) => full).map(({ name }) => name),
    resultsDir,
  );
}

await main();
