import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import type { BenchResults } from "../bench/results.js";
import { readWorkerConfigs } from "../stack/workers/wrangler-config.js";

const ROOT = join(import.meta.dirname, "../..");
let out: string | undefined;

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

/** Runs `npm run bench -- --smoke` as a user would, writing its results to a temporary folder. */
function runSmokeBench(dir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/bench/run.ts", "--smoke", "--out", dir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => resolve({ code, output }));
  });
}

it("the bench harness runs every part end to end (smoke mode) and writes its tables with both floors", async () => {
  out = await mkdtemp(join(tmpdir(), "edgegate-bench-smoke-"));
  const { code, output } = await runSmokeBench(out);
  expect(code, output.slice(-3_000)).toBe(0);
  const results = JSON.parse(await readFile(join(out, "latest.json"), "utf8")) as BenchResults;
  const markdown = await readFile(join(out, "latest.md"), "utf8");

  expect(results.meta.mode).toBe("smoke");
  const paths = ["passthrough", "node-proxy", "gateway"];
  for (const path of paths) {
    const levels = results.ttfb.levels.filter((level) => level.path === path);
    expect(levels.map((level) => level.concurrency), path).toEqual([1, 4]);
    for (const level of levels) {
      expect(level.gateway.ok, `${path} c=${level.concurrency} ${JSON.stringify(level.gateway.failures)}`).toBe(results.ttfb.requestsPerArm);
      expect(level.direct.ok).toBe(results.ttfb.requestsPerArm);
      expect(level.gateway.ttfb.p50).toBeGreaterThan(0);
    }
    expect(results.fidelity.find((fidelity) => fidelity.path === path)?.gateway.streams, path).toBeGreaterThan(0);
    expect(markdown).toContain(`Path ${path}:`);
  }
  expect(markdown).toContain("above passthrough p50/p90/p99");
  expect(markdown).toContain("above node-proxy p50/p90/p99");
  // Every part of the gateway's suite ran.
  // One admission and one settlement per request; with a head start the admission overlaps the upstream call.
  expect(results.roundTrips.map((trips) => [trips.path, trips.before.max <= 1, trips.before.mean + trips.after.mean])).toEqual([["gateway", true, 2]]);
  expect(results.throughput.map((sweep) => sweep.path)).toEqual(["gateway"]);
  expect(results.skipped).toEqual([]);
  // The entry module wrangler built from each environment's main, never a text module beside it.
  const environments = (await readWorkerConfigs()).map((config) => config.environment);
  expect(results.bundles.map((bundle) => bundle.environment)).toEqual(environments);
  for (const bundle of results.bundles) expect(bundle.main, bundle.environment).toBe("index.js");
  expect(results.byLocation.map((row) => [row.location, row.servedBy])).toEqual([
    ["New York", "us-east"],
    ["Frankfurt", "eu-west"],
    ["Singapore", "ap-southeast"],
    ["Sydney", "ap-southeast"],
    ["Sao Paulo", "us-east"],
  ]);
  expect(results.frontLoad.failed, JSON.stringify(results.frontLoad.failures)).toBe(0);
  // Bedrock and Vertex against the Anthropic-format relay, every request served.
  expect(results.providerPaths.arms.map((arm) => [arm.region, arm.ok, arm.cpu.longEventsPerRequest > arm.cpu.shortEventsPerRequest])).toEqual([
    ["us-east", 3, true],
    ["ap-southeast", 3, true],
    ["eu-west", 3, true],
  ]);
  expect(markdown).toContain("9. Provider paths");
}, 120_000);
