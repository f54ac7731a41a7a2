/**
 * `npm run bench`: starts the local stack, measures the gateway against the
 * simulator it fronts (every figure interleaved with its baseline in the same
 * run), prints the tables and writes results/latest.{json,md}.
 */
import { cpus, loadavg } from "node:os";
import { type BenchStack, startBenchStack } from "./bench-stack.js";
import { measureByLocation, reportByLocation } from "./by-location.js";
import { type BuiltWorker, buildWorkers } from "./bundle.js";
import { measureClassifier } from "./classifier.js";
import { LOAD_GENERATOR, LoadClient } from "./load.js";
import { type OwnedPath, startMiniflareGateway } from "./miniflare-gateway.js";
import { startPassthrough } from "./passthrough.js";
import { type PathResults, measurePath } from "./path-suite.js";
import { startForeignCpuMeter } from "./processes.js";
import { report } from "./report.js";
import type { BenchResults } from "./results.js";
import { STREAM_TPS } from "./ttfb.js";
import { readWorkerConfigs } from "./wrangler-config.js";

const SUITE = {
  ttfbLevels: [1, 16, 64],
  requestsPerArm: 500,
  fidelity: { concurrency: 8, streamsPerArm: 40 },
  roundTripRequests: 50,
} as const;
/** The throughput sweep starts no new level after this many seconds of the run... */
const SWEEP_BUDGET_S = 180;
/** ...and nothing new starts after this many (the whole run must stay under 5 minutes; one part can take a minute on a busy machine). */
const HARD_BUDGET_S = 220;

const log = (message: string): void => console.error(`[bench ${(performance.now() / 1000).toFixed(0)} s] ${message}`);

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = loadavg()[0] ?? Number.NaN;
  const foreignCores = startForeignCpuMeter();

  log("classifier cost");
  const classifier = await measureClassifier();
  log("starting the stack; building every Worker (wrangler deploy --dry-run, wrangler check startup)");
  const { bench, built } = await startStackAndBuild();
  const client = new LoadClient();
  const owned: OwnedPath[] = [];
  try {
    const defaultWorker = built[0];
    if (!defaultWorker) throw new Error("wrangler.toml has no default environment");
    owned.push(await startPassthrough(bench.direct));
    owned.push(await startMiniflareGateway(defaultWorker, bench.gatewayVars, bench.clientHeaders));
    // The floor and the bare gateway first: wrangler dev's inspector plumbing grows its processes' memory as it runs.
    const paths = [...owned.map((o) => ({ path: o.path, full: o.path.endpoint.name !== "passthrough" })), { path: bench.gateway, full: true }];
    const measured: Array<{ name: string; results: PathResults }> = [];
    for (const { path, full } of paths) {
      const results = await measurePath(client, path, bench, {
        ...SUITE,
        full,
        sweepDeadline: SWEEP_BUDGET_S * 1000,
        hardDeadline: HARD_BUDGET_S * 1000,
        log,
      });
      measured.push({ name: path.endpoint.name, results });
    }

    const results: BenchResults = {
      meta: {
        startedAt: startedAt.toISOString(),
        durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
        node: process.version,
        cpus: `${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}`,
        loadAverage: { before: loadBefore, after: loadavg()[0] ?? Number.NaN },
        otherProcessesCores: foreignCores(),
        loadGenerator: LOAD_GENERATOR,
        paths: {
          ...Object.fromEntries(paths.map(({ path }) => [path.endpoint.name, path.description])),
          direct: "straight to the simulator (the baseline)",
        },
        definitions: [
          `Streams: "sim:ttft=0 sim:tokens=<concurrency> sim:tps=${STREAM_TPS}" (stream: true), ${SUITE.requestsPerArm} per arm per level; tenant limits 1e9 requests/min, 1e12 tokens/min, no budget.`,
          "Every figure interleaves gateway and direct requests in one closed loop (request k goes to arm k mod 2), same client, same run.",
        ],
      },
      ttfb: { requestsPerArm: SUITE.requestsPerArm, levels: measured.flatMap((m) => m.results.levels) },
      fidelity: measured.flatMap((m) => (m.results.fidelity ? [m.results.fidelity] : [])),
      throughput: measured.flatMap((m) => (m.results.throughput ? [m.results.throughput] : [])),
      roundTrips: measured.flatMap((m) => (m.results.roundTrips ? [m.results.roundTrips] : [])),
      memory: measured.flatMap((m) => m.results.memory.map((memory) => ({ path: m.name, ...memory }))),
      classifier,
      bundles: built.map(({ outdir: _outdir, dispose: _dispose, ...bundle }) => bundle),
      skipped: measured.flatMap((m) => m.results.skipped),
    };
    await report(
      results,
      paths.filter(({ full }) => full).map(({ path }) => path.endpoint.name),
    );
  } finally {
    client.close();
    for (const path of owned) await path.dispose();
    await bench.stack.stop();
    await Promise.all(built.map((worker) => worker.dispose()));
  }
}

/** Both at once (they are mostly waiting on child processes); whichever succeeded is cleaned up if the other failed. */
async function startStackAndBuild(): Promise<{ bench: BenchStack; built: BuiltWorker[] }> {
  const configs = await readWorkerConfigs();
  const [started, building] = await Promise.allSettled([startBenchStack(), buildWorkers(configs.map((config) => config.environment))]);
  if (started.status === "fulfilled" && building.status === "fulfilled") return { bench: started.value, built: building.value };
  if (started.status === "fulfilled") await started.value.stack.stop();
  if (building.status === "fulfilled") await Promise.all(building.value.map((worker) => worker.dispose()));
  throw started.status === "rejected" ? started.reason : (building as PromiseRejectedResult).reason;
}

await main();
await reportByLocation(await measureByLocation(log));
