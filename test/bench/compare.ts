/**
 * `npm run bench:compare -- --base <git ref>`: the gateway as built from <ref> (default
 * main) and as built from the working tree, side by side in one run, each in its own
 * workerd on the same stack (storage, simulator, tenant), with the passthrough floor,
 * the storage floor (passthrough plus the gateway's two Upstash round trips) and the
 * simulator directly: every batch interleaves the five arms request by request
 * in one closed loop, so all of them see the same machine noise. For each arm: added
 * time to first byte (p50 / p90 / p99 over direct), CPU per request and per relayed
 * event (/proc/<pid>/stat of its workerd), relay gap distortion. Prints a table and
 * writes it to results/compare.md.
 *
 * Options: --base <ref>; --levels 1,16,64 (concurrency of the TTFB batches);
 * --requests <n> per arm per TTFB batch (default 300); --repeat <n> (default 1: each
 * batch again, in the same order, for medians across repeats); --parts ttfb,cpu,fidelity (which to run).
 */
import { execFileSync, execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { promisify } from "node:util";
import type { WorkerBundle } from "../stack/workers/build.js";
import { startWorkerd } from "../stack/workers/workerd.js";
import { REPO_ROOT } from "../stack/workers/wrangler-config.js";
import { RequestLogs, parseRequestLogLine } from "../stack/workers/request-logs.js";
import { startBenchStack, type GatewayPath } from "./bench-stack.js";
import { FIDELITY_DIRECTIVES, fidelityArm } from "./fidelity.js";
import { type Endpoint, type Exchange, header, LoadClient, runInterleaved, streamingBody, warmUp } from "./load.js";
import { startPassthrough } from "./passthrough.js";
import { measureCpu, startForeignCpuMeter } from "./processes.js";
import { median } from "./stats.js";
import { armResult, isOk, streamDirectives } from "./ttfb.js";
import { withNewWorkerd } from "./workerd-process.js";

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    base: { type: "string", default: "main" },
    levels: { type: "string", default: "1,16,64" },
    requests: { type: "string", default: "300" },
    repeat: { type: "string", default: "1" },
    parts: { type: "string", default: "ttfb,cpu,fidelity" },
  },
});
const log = (message: string): void => console.error(`[compare ${(performance.now() / 1000).toFixed(0)} s] ${message}`);

/** The default environment's bundle as <ref> builds it: the tree exported to a temporary folder (kept per commit) and built there. */
async function bundleAt(ref: string): Promise<{ commit: string; bundle: WorkerBundle }> {
  const commit = execFileSync("git", ["rev-parse", ref], { cwd: REPO_ROOT }).toString().trim();
  const root = join(tmpdir(), `edgegate-compare-${commit.slice(0, 12)}`);
  if (!existsSync(join(root, "package.json"))) {
    await mkdir(root, { recursive: true });
    execFileSync("sh", ["-c", `git archive ${commit} | tar -x -C ${root}`], { cwd: REPO_ROOT });
    await symlink(join(REPO_ROOT, "node_modules"), join(root, "node_modules"));
  }
  const script = 'const { workerBundles } = await import("./test/stack/workers/build.ts"); console.log(JSON.stringify((await workerBundles([""]))[0]));';
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "--eval", script], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  return { commit, bundle: JSON.parse(stdout.trim().split("\n").at(-1)!) as WorkerBundle };
}

interface Arm {
  path: GatewayPath;
  pid: number | null;
}

interface Row {
  arm: string;
  batch: string;
  addedP50: number;
  addedP90: number;
  addedP99: number;
  toUpstreamAddedP50: number;
  backAddedP50: number;
  cpuMsPerRequest: number;
  events: number;
  errors: number;
  /** Cores busy outside the bench during the batch. */
  otherCores: number;
}

interface FidelityRow {
  arm: string;
  p50: number;
  p99: number;
  addedP99: number;
}

async function main(): Promise<void> {
  log(`building ${args.base} and the working tree`);
  const [base, bench] = await Promise.all([bundleAt(args.base), startBenchStack()]);
  const client = new LoadClient();
  const stops: Array<() => Promise<void>> = [];
  try {
    const passthrough = await startPassthrough(bench.direct);
    stops.push(passthrough.dispose);
    const storageFloor = await startPassthrough(bench.direct, { url: bench.stack.bridge.url, token: bench.stack.bridgeToken });
    stops.push(storageFloor.dispose);
    const baseLogs = new RequestLogs();
    const { started: baseWorkerd, workerdPid: basePid } = await withNewWorkerd(async () =>
      startWorkerd(await bench.stack.workersFrom([base.bundle]), (output) => {
        const line = parseRequestLogLine(output.message);
        if (line) baseLogs.add(line);
      }),
    );
    stops.push(baseWorkerd.stop);
    const baseName = `base ${args.base} (${base.commit.slice(0, 7)})`;
    const arms: Arm[] = [
      { path: passthrough.path, pid: passthrough.path.processes()[0]!.pid },
      { path: storageFloor.path, pid: storageFloor.path.processes()[0]!.pid },
      {
        path: {
          ...bench.gateway,
          endpoint: { ...bench.gateway.endpoint, name: baseName, origin: baseWorkerd.urls.get(base.bundle.workerName)! },
          waitForLog: (id) => baseLogs.waitFor(id),
        },
        pid: basePid,
      },
      { path: { ...bench.gateway, endpoint: { ...bench.gateway.endpoint, name: "working tree" } }, pid: bench.gateway.processes()[0]!.pid },
    ];
    const endpoints: Endpoint[] = [bench.direct, ...arms.map((arm) => arm.path.endpoint)];
    log("warming up");
    await runInterleaved(client, endpoints, streamingBody(streamDirectives(4)), { concurrency: 4, perEndpoint: 100 });

    const rows: Row[] = [];
    const fidelity: FidelityRow[] = [];
    const batch = async (batchName: string, directives: string, concurrency: number, perArm: number): Promise<Exchange[]> => {
      const body = streamingBody(directives);
      await warmUp(client, endpoints, body, concurrency);
      const foreign = startForeignCpuMeter();
      const roles = arms.map((arm) => ({ role: arm.path.endpoint.name, pid: arm.pid! }));
      const { result, cpuMs } = await measureCpu(roles, async () => {
        const measured = await runInterleaved(client, endpoints, body, { concurrency, perEndpoint: perArm });
        await Promise.allSettled(
          measured.exchanges.flatMap((exchange) => {
            const arm = arms.find((candidate) => candidate.path.endpoint.name === exchange.endpoint);
            const id = header(exchange, "x-request-id");
            return arm && id ? [arm.path.waitForLog(id)] : [];
          }),
        );
        return measured;
      });
      const otherCores = foreign();
      const wallMs = result.endedAt - result.startedAt;
      const of = (endpoint: string): Exchange[] => result.exchanges.filter((exchange) => exchange.endpoint === endpoint);
      const direct = armResult(of(bench.direct.name), wallMs, bench.simulator);
      for (const arm of arms) {
        const name = arm.path.endpoint.name;
        const measured = armResult(of(name), wallMs, bench.simulator);
        rows.push({
          arm: name,
          batch: batchName,
          addedP50: measured.ttfb.p50 - direct.ttfb.p50,
          addedP90: measured.ttfb.p90 - direct.ttfb.p90,
          addedP99: measured.ttfb.p99 - direct.ttfb.p99,
          toUpstreamAddedP50: measured.segments.toUpstream.p50 - direct.segments.toUpstream.p50,
          backAddedP50: measured.segments.back.p50 - direct.segments.back.p50,
          cpuMsPerRequest: (cpuMs[name] ?? Number.NaN) / Math.max(1, measured.ok),
          events: of(name).filter(isOk).reduce((sum, exchange) => sum + exchange.events.length, 0) / Math.max(1, measured.ok),
          errors: measured.errors,
          otherCores,
        });
      }
      log(`${batchName}: other processes used ${otherCores.toFixed(2)} cores`);
      return result.exchanges;
    };

    const repeats = Number(args.repeat);
    const parts = new Set(args.parts.split(","));
    const levels = parts.has("ttfb") ? args.levels.split(",").filter(Boolean).map(Number) : [];
    for (let round = 0; round < repeats; round++) {
      for (const concurrency of levels) {
        log(`round ${round + 1}: time to first byte at concurrency ${concurrency}`);
        await batch(`ttfb c=${concurrency}`, streamDirectives(concurrency), concurrency, Number(args.requests));
      }
      if (parts.has("cpu")) {
        log(`round ${round + 1}: CPU per event (short and long streams, concurrency 4)`);
        await batch("cpu short", "sim:ttft=0 sim:tokens=1 sim:tps=1000", 4, 200);
        await batch("cpu long", "sim:ttft=0 sim:tokens=200 sim:tps=4000", 4, 60);
      }
      if (!parts.has("fidelity")) continue;
      log(`round ${round + 1}: relay fidelity`);
      const exchanges = await batch("fidelity", FIDELITY_DIRECTIVES, 8, 40);
      const directArm = fidelityArm(exchanges.filter((exchange) => exchange.endpoint === bench.direct.name), bench.simulator);
      for (const arm of arms) {
        const measured = fidelityArm(exchanges.filter((exchange) => exchange.endpoint === arm.path.endpoint.name), bench.simulator);
        fidelity.push({
          arm: arm.path.endpoint.name,
          p50: measured.gapDistortion.p50,
          p99: measured.gapDistortion.p99,
          addedP99: measured.gapDistortion.p99 - directArm.gapDistortion.p99,
        });
      }
    }

    const table = report(rows, fidelity, arms.map((arm) => arm.path.endpoint.name), `Gateway ${baseName} vs the working tree`, repeats);
    console.log(`\n${table}`);
    await writeFile(join(import.meta.dirname, "results", "compare.md"), `${table}\n`);
  } finally {
    client.close();
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await bench.stack.stop();
  }
}

/** The run as Markdown: medians across rounds of every figure, per batch and arm. */
function report(rows: Row[], fidelity: FidelityRow[], armNames: string[], title: string, rounds: number): string {
  const f = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : "n/a");
  const lines = [
    `# ${title}`,
    "",
    `Run ${new Date().toISOString()}, ${rounds} round(s), medians across rounds; ms. Load average ${loadavg()[0]?.toFixed(2)}.`,
    "",
    "| batch | arm | added TTFB p50 / p90 / p99 | above passthrough p50 / p99 | added before upstream / on the way back p50 | CPU ms per request | errors | other cores |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const batch of [...new Set(rows.map((row) => row.batch))]) {
    const floor = rows.filter((row) => row.batch === batch && row.arm === "passthrough");
    for (const arm of armNames) {
      const mine = rows.filter((row) => row.batch === batch && row.arm === arm);
      const of = (pick: (row: Row) => number): string => f(median(mine.map(pick)));
      const above = (pick: (row: Row) => number): string => f(median(mine.map((row, index) => pick(row) - (floor[index] ? pick(floor[index]) : Number.NaN))));
      lines.push(
        `| ${batch} | ${arm} | ${of((r) => r.addedP50)} / ${of((r) => r.addedP90)} / ${of((r) => r.addedP99)} | ${above((r) => r.addedP50)} / ${above((r) => r.addedP99)} | ${of((r) => r.toUpstreamAddedP50)} / ${of((r) => r.backAddedP50)} | ${of((r) => r.cpuMsPerRequest)} | ${mine.reduce((sum, row) => sum + row.errors, 0)} | ${of((r) => r.otherCores)} |`,
      );
    }
  }
  lines.push("", "| arm | CPU ms per request (1-token stream) | CPU ms per relayed event | relay gap distortion p50 / p99 | added p99 over direct |", "|---|---|---|---|---|");
  for (const arm of armNames) {
    const short = rows.filter((row) => row.batch === "cpu short" && row.arm === arm);
    const long = rows.filter((row) => row.batch === "cpu long" && row.arm === arm);
    const perEvent = long.map((row, index) => (row.cpuMsPerRequest - short[index]!.cpuMsPerRequest) / (row.events - short[index]!.events));
    const gaps = fidelity.filter((row) => row.arm === arm);
    lines.push(
      `| ${arm} | ${f(median(short.map((row) => row.cpuMsPerRequest)))} | ${median(perEvent).toFixed(4)} | ${f(median(gaps.map((row) => row.p50)))} / ${f(median(gaps.map((row) => row.p99)))} | ${f(median(gaps.map((row) => row.addedP99)))} |`,
    );
  }
  lines.push(
    "",
    "- Every batch interleaves direct, passthrough, storage-floor, base and working-tree requests in one closed loop; added = arm percentile minus direct percentile.",
    "- CPU = /proc/<pid>/stat of each arm's own workerd over the batch, settlements included, per request; per relayed event = (long-stream CPU - 1-token-stream CPU) / (events difference), both at concurrency 4.",
    "- Other cores = cores busy outside the bench's process tree during the batch (noise).",
  );
  return lines.join("\n");
}

await main();
