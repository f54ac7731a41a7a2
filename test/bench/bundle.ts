import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { type BundleShare, bundleComposition } from "./bundle-composition.js";
import { type WorkerBundle, workerBundles } from "../stack/workers/build.js";
import { REPO_ROOT, WRANGLER_CONFIG } from "../stack/workers/wrangler-config.js";

const run = promisify(execFile);
const WRANGLER = join(REPO_ROOT, "node_modules/wrangler/bin/wrangler.js");
const WRANGLER_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" };

export interface BuiltWorker {
  /** "" for the default environment. */
  environment: string;
  /** The entry module's file name in the dry-run output. */
  main: string;
  /** Size of the uploaded modules (source maps and README excluded), as wrangler counts it. */
  rawBytes: number;
  gzipBytes: number;
  /** wrangler's own "Total Upload" line, for cross-checking. */
  wranglerReport: string | null;
  /** "Worker Startup Time" as wrangler printed it; only printed after a real upload. */
  startupMs: number | null;
  /** Busy (non-idle) time in the start-up CPU profile of `wrangler check startup` (local, this machine); null if not profiled or it failed. */
  localStartupCpuMs: number | null;
  /** SHA-256 of the uploaded modules: environments that share a bundle share it. */
  sha256: string;
  /** Largest contributors to the raw size, from the source map. */
  composition: BundleShare[];
}

const envArgs = (environment: string): string[] => (environment ? ["--env", environment] : []);

/**
 * Every environment's dry-run bundle (the same, cached, build `npm start` and the tests
 * serve), measured; with `profileStartup`, the start-up profile runs once per distinct
 * bundle (regional environments differ only in vars).
 */
export async function measureWorkers(environments: readonly string[], options: { profileStartup: boolean }): Promise<BuiltWorker[]> {
  const measured = await Promise.all((await workerBundles(environments)).map(measureBundle));
  if (!options.profileStartup) return measured;
  const profiles = new Map<string, Promise<number | null>>();
  for (const worker of measured) {
    if (!profiles.has(worker.sha256)) profiles.set(worker.sha256, localStartupCpuMs(worker.environment));
  }
  for (const worker of measured) worker.localStartupCpuMs = (await profiles.get(worker.sha256)) ?? null;
  return measured;
}

async function measureBundle(bundle: WorkerBundle): Promise<BuiltWorker> {
  const files = (await readdir(bundle.outdir)).filter((name) => !name.endsWith(".map") && name !== "README.md");
  const all = Buffer.concat(await Promise.all(files.map((name) => readFile(join(bundle.outdir, name)))));
  const startup = /Worker Startup Time:\s*([\d.]+)\s*ms/.exec(bundle.output);
  return {
    environment: bundle.environment,
    main: bundle.main,
    rawBytes: all.length,
    gzipBytes: gzipSync(all).length, // what wrangler's "gzip:" figure measures
    wranglerReport: /Total Upload:\s*(.+)/.exec(bundle.output)?.[1]?.trim() ?? null,
    startupMs: startup?.[1] ? Number(startup[1]) : null,
    localStartupCpuMs: null,
    sha256: createHash("sha256").update(all).digest("hex"),
    composition: await compositionOf(bundle.outdir, bundle.main),
  };
}

async function compositionOf(outdir: string, main: string): Promise<BundleShare[]> {
  try {
    const [code, map] = await Promise.all([readFile(join(outdir, main), "utf8"), readFile(join(outdir, `${main}.map`), "utf8")]);
    return bundleComposition(code, JSON.parse(map) as Parameters<typeof bundleComposition>[1], {
      mapDir: outdir,
      projectRoot: REPO_ROOT,
    });
  } catch {
    return []; // no source map
  }
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string } }>;
  samples: number[];
  /** Microseconds since the previous sample, one per sample. */
  timeDeltas: number[];
}

/** `wrangler check startup` (alpha) profiles the Worker's start-up locally: its non-idle sampled time in ms. */
async function localStartupCpuMs(environment: string): Promise<number | null> {
  const dir = await mkdtemp(join(tmpdir(), "edgegate-startup-profile-"));
  const outfile = join(dir, "startup.cpuprofile");
  try {
    await run(
      process.execPath,
      [WRANGLER, "check", "startup", "--config", WRANGLER_CONFIG, "--outfile", outfile, ...envArgs(environment)],
      { cwd: REPO_ROOT, env: WRANGLER_ENV, maxBuffer: 16 * 1024 * 1024 },
    );
    const profile = JSON.parse(await readFile(outfile, "utf8")) as CpuProfile;
    const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === "(idle)").map((node) => node.id));
    const busyUs = profile.samples.reduce((sum, node, index) => sum + (idle.has(node) ? 0 : (profile.timeDeltas[index] ?? 0)), 0);
    return busyUs / 1000;
  } catch {
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
