import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dirname, "../..");
export const WRANGLER_CONFIG = join(REPO_ROOT, "wrangler.toml");

/** One Worker of wrangler.toml. */
export interface WorkerConfig {
  /** "" for the top-level (default) environment, else the [env.<name>] name. */
  environment: string;
}

/** wrangler's CLI module takes a couple of seconds to import: loaded on demand, once. */
const wrangler = (): Promise<typeof import("wrangler")> => import("wrangler");

/** The default environment followed by every [env.*] section, read with wrangler's own parser. */
export async function readWorkerConfigs(): Promise<WorkerConfig[]> {
  const { experimental_readRawConfig } = await wrangler();
  const raw = experimental_readRawConfig({ config: WRANGLER_CONFIG }).rawConfig as { env?: Record<string, unknown> };
  return [{ environment: "" }, ...Object.keys(raw.env ?? {}).map((environment) => ({ environment }))];
}

/**
 * Miniflare options for one environment as wrangler dev derives them (compatibility,
 * vars, Durable Objects and other bindings), without the script.
 */
export async function miniflareWorkerOptions(environment: string): Promise<Record<string, unknown>> {
  const { unstable_getMiniflareWorkerOptions } = await wrangler();
  const { workerOptions } = unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG, environment || undefined);
  return workerOptions as Record<string, unknown>;
}

/** The environment's entry module (`main`, absolute), as wrangler resolves it. */
export async function workerEntry(environment: string): Promise<{ main: string }> {
  const { unstable_getMiniflareWorkerOptions } = await wrangler();
  const { main } = unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG, environment || undefined);
  if (!main) throw new Error(`wrangler.toml gives environment "${environment}" no main module`);
  return { main };
}
