import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { type BundleShare, bundleComposition } from "./bundle-composition.js";
import { REPO_ROOT, WRANGLER_CONFIG, workerEntry } from "./wrangler-config.js";

const run = promisify(execFile);
/** esbuild's build metadata, written by `wrangler deploy --metafile`; paths relative to the working directory. */
interface EsbuildMetafile {
  outputs: Record<string, { entryPoint?: string }>;
}
const METAFILE = "bundle-meta.json";
const WRANGLER = join(REPO_ROOT, "node_modules/wrangler/bin/wrangler.js");
const WRANGLER_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" };

export interface BuiltWorker {
  /** "" for the default environment. */
  environment: string;
  /** Directory holding the dry-run output (kept until `dispose`). */
  outdir: string;
  /** The entry module's file name inside outdir. */
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
  dispose(): Promise<void>;
}

const envArgs = (environment: string): string[] => (environment ? ["--env", environment] : []);

/**
 * Every environment's Worker, built in parallel; the start-up profile runs once
 * per distinct bundle (regional environments differ only in vars).
 */
export async function buildWorkers(environments: readonly string[]): Promise<BuiltWorker[]> {
  const built = await Promise.all(environments.map(buildWorker));
  const profiles = new Map<string, Promise<number | null>>();
  for (const worker of built) {
    if (!profiles.has(worker.sha256)) profiles.set(worker.sha256, localStartupCpuMs(worker.environment, worker.outdir));
  }
  for (const worker of built) worker.localStartupCpuMs = (await profiles.get(worker.sha256)) ?? null;
  return built;
}

/** `wrangler deploy --dry-run --outdir <tmp>` for one environment, measured (no start-up profile). */
export async function buildWorker(environment: string): Promise<BuiltWorker> {
  const outdir = await mkdtemp(join(tmpdir(), "edgegate-bench-bundle-"));
  const metafile = join(outdir, METAFILE);
  const { stdout, stderr } = await run(
    process.execPath,
    [WRANGLER, "deploy", "--dry-run", "--config", WRANGLER_CONFIG, "--outdir", outdir, "--metafile", metafile, ...envArgs(environment)],
    { cwd: REPO_ROOT, env: WRANGLER_ENV, maxBuffer: 16 * 1024 * 1024 },
  );
  const output = `${stdout}\n${stderr}`;
  const files = (await readdir(outdir)).filter((name) => !name.endsWith(".map") && name !== "README.md" && name !== METAFILE);
  const contents = await Promise.all(files.map((name) => readFile(join(outdir, name))));
  const all = Buffer.concat(contents);
  const main = await entryModule(metafile, outdir, environment);
  const startup = /Worker Startup Time:\s*([\d.]+)\s*ms/.exec(output);
  return {
    environment,
    outdir,
    main,
    rawBytes: all.length,
    gzipBytes: gzipSync(all).length, // what wrangler's "gzip:" figure measures
    wranglerReport: /Total Upload:\s*(.+)/.exec(output)?.[1]?.trim() ?? null,
    startupMs: startup?.[1] ? Number(startup[1]) : null,
    localStartupCpuMs: null,
    sha256: createHash("sha256").update(all).digest("hex"),
    composition: await compositionOf(outdir, main),
    dispose: () => rm(outdir, { recursive: true, force: true }),
  };
}

/**
 * The output file esbuild built from the environment's `main` (wrangler's config,
 * read with its own parser), as wrangler's build metadata names it; never a guess
 * among the output files (text modules such as widget.browser.js sit beside it).
 */
async function entryModule(metafile: string, outdir: string, environment: string): Promise<string> {
  const { main } = await workerEntry(environment);
  const { outputs } = JSON.parse(await readFile(metafile, "utf8")) as EsbuildMetafile;
  const entry = Object.entries(outputs).find(([, output]) => output.entryPoint && resolve(REPO_ROOT, output.entryPoint) === main);
  if (!entry) throw new Error(`wrangler's build metadata names no output built from ${main} (environment "${environment}")`);
  return relative(outdir, resolve(REPO_ROOT, entry[0]));
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
async function localStartupCpuMs(environment: string, outdir: string): Promise<number | null> {
  const outfile = join(outdir, "startup.cpuprofile");
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
  }
}
