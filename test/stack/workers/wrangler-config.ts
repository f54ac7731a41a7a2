import { join } from "node:path";
import type { WorkerOptions } from "miniflare";

export const REPO_ROOT = join(import.meta.dirname, "../../..");
export const WRANGLER_CONFIG = join(REPO_ROOT, "wrangler.toml");

/** One Worker of wrangler.toml. */
interface WorkerConfig {
  /** "" for the top-level (default) environment, else the [env.<name>] name. */
  environment: string;
}

/** wrangler's CLI module takes a couple of seconds to import: loaded on demand, once. */
const wrangler = (): Promise<typeof import("wrangler")> => import("wrangler");

/**
 * Runs one of wrangler's config readers with its logger at "error": they warn about
 * every top-level var the front Worker's environment does not repeat, which is on
 * purpose here (it needs none of the gateway's vars).
 */
function quietly<T>(read: () => T): T {
  const previous = process.env.WRANGLER_LOG;
  process.env.WRANGLER_LOG = "error";
  try {
    return read();
  } finally {
    if (previous === undefined) delete process.env.WRANGLER_LOG;
    else process.env.WRANGLER_LOG = previous;
  }
}

/** The default environment followed by every [env.*] section, read with wrangler's own parser. */
export async function readWorkerConfigs(): Promise<WorkerConfig[]> {
  const { experimental_readRawConfig } = await wrangler();
  const raw = quietly(() => experimental_readRawConfig({ config: WRANGLER_CONFIG }).rawConfig) as { env?: Record<string, unknown> };
  return [{ environment: "" }, ...Object.keys(raw.env ?? {}).map((environment) => ({ environment }))];
}

/**
 * Miniflare options for one environment as wrangler dev derives them (compatibility,
 * module rules, vars, Durable Objects, service bindings), without the script.
 */
export async function miniflareWorkerOptions(environment: string): Promise<WorkerOptions> {
  const { unstable_getMiniflareWorkerOptions } = await wrangler();
  const { workerOptions } = quietly(() => unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG, environment || undefined));
  return workerOptions as WorkerOptions;
}

/** The environment's entry module (`main`, absolute), as wrangler resolves it. */
export async function workerEntry(environment: string): Promise<{ main: string }> {
  const { unstable_getMiniflareWorkerOptions } = await wrangler();
  const { main } = quietly(() => unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG, environment || undefined));
  if (!main) throw new Error(`wrangler.toml gives environment "${environment}" no main module`);
  return { main };
}

/**
 * Secrets from the local secrets file, read as `wrangler dev` reads them: `.dev.vars.<env>`
 * or `.dev.vars` next to wrangler.toml (else `.env` files); {} when there is none.
 */
export async function localSecrets(environment: string): Promise<Record<string, string>> {
  const { unstable_getVarsForDev } = await wrangler();
  const bindings = quietly(() => unstable_getVarsForDev(WRANGLER_CONFIG, undefined, {}, environment || undefined, true));
  return Object.fromEntries(
    Object.entries(bindings).map(([name, binding]) => [name, typeof binding.value === "string" ? binding.value : JSON.stringify(binding.value)]),
  );
}
