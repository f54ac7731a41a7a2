import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT, WRANGLER_CONFIG, workerEntry } from "./wrangler-config.js";

const run = promisify(execFile);
const WRANGLER = join(REPO_ROOT, "node_modules/wrangler/bin/wrangler.js");

/** Where built bundles are kept, one folder per state of the sources (gitignored). */
const BUILD_CACHE = join(REPO_ROOT, ".edgegate/build");
/** What decides a bundle: the Workers' sources, the build configuration and the toolchain's versions. */
const SOURCE_DIRS = ["functions", "shared"];
const SOURCE_FILES = ["wrangler.toml", "package-lock.json", "tsconfig.json"];
/** Cache folders kept besides the one in use. */
const KEEP_OLD_BUILDS = 3;

/** One environment's Worker as `wrangler deploy --dry-run` built it. */
export interface WorkerBundle {
  /** "" for the default environment. */
  environment: string;
  /** The name `wrangler deploy` gives the Worker (e.g. edgegate-gateway-us-east): service bindings refer to it. */
  workerName: string;
  /** wrangler's output directory: exactly the modules it would upload (plus README.md and source maps). */
  outdir: string;
  /** The entry module's file name inside outdir. */
  main: string;
  /** wrangler's own output of the build (its size report). */
  output: string;
}

interface EsbuildMetafile {
  outputs: Record<string, { entryPoint?: string }>;
}

/**
 * `wrangler deploy --dry-run --outdir <dir>/dist` for one environment. The entry module
 * is the output esbuild built from the environment's `main` (wrangler's build metadata,
 * `--metafile`), never a guess among the output files (text modules such as
 * widget.browser.js sit beside it); the Worker's name is the one wrangler reports
 * it would deploy.
 */
async function dryRunBuild(environment: string, dir: string): Promise<WorkerBundle> {
  const outdir = join(dir, "dist");
  const metafile = join(dir, "bundle-meta.json");
  const report = join(dir, "wrangler-output.ndjson");
  const { WRANGLER_LOG: _level, ...env } = process.env;
  const { stdout, stderr } = await run(
    process.execPath,
    [WRANGLER, "deploy", "--dry-run", "--config", WRANGLER_CONFIG, "--outdir", outdir, "--metafile", metafile, ...(environment ? ["--env", environment] : [])],
    {
      cwd: REPO_ROOT,
      env: { ...env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0", WRANGLER_OUTPUT_FILE_PATH: report },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const { main } = await workerEntry(environment);
  const { outputs } = JSON.parse(await readFile(metafile, "utf8")) as EsbuildMetafile;
  const entry = Object.entries(outputs).find(([, output]) => output.entryPoint && resolve(REPO_ROOT, output.entryPoint) === main);
  if (!entry) throw new Error(`wrangler's build metadata names no output built from ${main} (environment "${environment || "default"}")`);
  const deployed = (await readFile(report, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type?: string; worker_name?: string })
    .find((line) => line.type === "deploy");
  if (!deployed?.worker_name) throw new Error(`wrangler reported no Worker name for environment "${environment || "default"}"`);
  return { environment, workerName: deployed.worker_name, outdir, main: relative(outdir, resolve(REPO_ROOT, entry[0])), output: `${stdout}\n${stderr}` };
}

/** SHA-256 over the paths and contents of everything that goes into a bundle (a few hundred small files: milliseconds). */
async function sourceHash(): Promise<string> {
  const files = [...SOURCE_FILES];
  for (const dir of SOURCE_DIRS) {
    for (const entry of await readdir(join(REPO_ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(relative(REPO_ROOT, join(entry.parentPath, entry.name)));
    }
  }
  const hash = createHash("sha256");
  for (const file of files.sort()) {
    hash.update(`${file}\0`);
    hash.update(await readFile(join(REPO_ROOT, file)));
    hash.update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

const inProcess = new Map<string, Promise<WorkerBundle>>();

/**
 * Every environment's bundle for the current sources, built in parallel the first
 * time and then taken from `.edgegate/build/<source hash>/<environment>/`. A build goes
 * to a temporary folder renamed into place when complete, so processes that build
 * at the same time (parallel test files) never see half a bundle.
 */
export async function workerBundles(environments: readonly string[]): Promise<WorkerBundle[]> {
  const hash = await sourceHash();
  const bundles = await Promise.all(
    environments.map((environment) => {
      const key = `${hash}/${environment}`;
      let bundle = inProcess.get(key);
      if (!bundle) {
        bundle = cachedBundle(hash, environment);
        inProcess.set(key, bundle);
        bundle.catch(() => inProcess.delete(key));
      }
      return bundle;
    }),
  );
  await pruneOldBuilds(hash);
  return bundles;
}

async function cachedBundle(hash: string, environment: string): Promise<WorkerBundle> {
  const dir = join(BUILD_CACHE, hash, environment || "default");
  const recorded = join(dir, "bundle.json");
  const cached = await readFile(recorded, "utf8").catch(() => null);
  if (cached) return { ...(JSON.parse(cached) as Omit<WorkerBundle, "outdir">), outdir: join(dir, "dist") };

  await mkdir(join(BUILD_CACHE, hash), { recursive: true });
  const building = await mkdtemp(join(BUILD_CACHE, hash, `.building-${environment || "default"}-`));
  try {
    const bundle = await dryRunBuild(environment, building);
    const { outdir: _outdir, ...record } = bundle;
    await writeFile(join(building, "bundle.json"), JSON.stringify(record));
    await rename(building, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process finished the same build first: keep theirs.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
      await rm(building, { recursive: true, force: true });
    });
    return { ...record, outdir: join(dir, "dist") };
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    throw error;
  }
}

async function pruneOldBuilds(current: string): Promise<void> {
  const entries = await readdir(BUILD_CACHE).catch(() => [] as string[]);
  const dated = await Promise.all(
    entries.filter((name) => name !== current).map(async (name) => ({ name, mtime: (await stat(join(BUILD_CACHE, name))).mtimeMs })),
  );
  const stale = dated.sort((a, b) => b.mtime - a.mtime).slice(KEEP_OLD_BUILDS);
  await Promise.all(stale.map(({ name }) => rm(join(BUILD_CACHE, name), { recursive: true, force: true })));
}
