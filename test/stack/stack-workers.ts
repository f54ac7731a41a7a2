import type { WorkerBundle } from "./workers/build.js";
import { type SimulatedUpstream, simulatedUpstreams } from "./local-upstreams.js";
import { bundleWorkerOptions, type LocalWorker } from "./workers/workerd.js";
import { localSecrets, miniflareWorkerOptions } from "./workers/wrangler-config.js";

/** What the stack's Workers are given besides wrangler.toml. */
export interface StackWorkersPlan {
  /** Each regional gateway: its REGION, its wrangler environment, its simulator (null: the real API). */
  regions: ReadonlyArray<{
    region: string;
    environment: string;
    simulator: SimulatedUpstream | null;
    /** The region's own database (REGION_REDIS_REST_URL / _TOKEN), or null for the primary alone. */
    database: Record<string, string> | null;
  }>;
  /** The front Worker's environment in the regional topology; null for a single gateway. */
  edgeEnvironment: string | null;
  /** Port of the entry point (the front Worker, or the single gateway); 0 picks one. Regions behind a front Worker take free ports. */
  entryPort: number;
  storage: { UPSTASH_REDIS_REST_URL: string; UPSTASH_REDIS_REST_TOKEN: string };
  anthropicApiKey: string;
  adminToken: string;
  gatewaySecret: string;
  /** Further gateway variables a test sets. */
  vars: Record<string, string>;
  turnstileVerifyUrl: string;
  /** Apply the local secrets file (`.dev.vars`) under the stack's own settings. */
  localSecrets: boolean;
  /** Gateway vars the stack sets (undefined: wrangler.toml's value stands). */
  tuning: Record<string, number | undefined>;
  breakerCoolDownMs: number;
}

/** The Workers to serve from `bundles`: the front Worker (if any) first, then each region's gateway. */
export async function stackWorkers(bundles: readonly WorkerBundle[], plan: StackWorkersPlan): Promise<LocalWorker[]> {
  const bundleOf = (environment: string): WorkerBundle => {
    const bundle = bundles.find((candidate) => candidate.environment === environment);
    if (!bundle) throw new Error(`no bundle was built for environment "${environment || "default"}"`);
    return bundle;
  };
  const secrets = (environment: string): Promise<Record<string, string>> => (plan.localSecrets ? localSecrets(environment) : Promise.resolve({}));
  const tuning = Object.fromEntries(
    Object.entries(plan.tuning).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])),
  );
  const gateways = await Promise.all(
    plan.regions.map(async ({ region, environment, simulator, database }) => ({
      options: await bundleWorkerOptions(bundleOf(environment), {
        ...(await upstreams(environment, simulator)),
        ...(await secrets(environment)),
        ...plan.storage,
        ...database,
        ANTHROPIC_API_KEY: plan.anthropicApiKey,
        UPSTREAM_BASE_URL: simulator?.url ?? "https://api.anthropic.com",
        ADMIN_TOKEN: plan.adminToken,
        GATEWAY_SECRET: plan.gatewaySecret,
        TURNSTILE_VERIFY_URL: plan.turnstileVerifyUrl,
        ...tuning,
        ...plan.vars,
        REGION: region,
      }),
      port: plan.edgeEnvironment === null ? plan.entryPort : 0,
    })),
  );
  if (plan.edgeEnvironment === null) return gateways;
  const edge = await bundleWorkerOptions(bundleOf(plan.edgeEnvironment), {
    ...(await secrets(plan.edgeEnvironment)),
    ...plan.storage,
    BREAKER_COOL_DOWN_MS: String(plan.breakerCoolDownMs),
  });
  return [{ options: edge, port: plan.entryPort }, ...gateways];
}

/**
 * A region's upstream chain: wrangler.toml's, pointed at the region's simulator; with the
 * real API, the Anthropic API alone unless the local secrets file sets a chain (and the
 * credentials it needs).
 */
async function upstreams(environment: string, simulator: SimulatedUpstream | null): Promise<Record<string, string>> {
  if (!simulator) return { UPSTREAM_CHAIN: JSON.stringify([{ kind: "anthropic" }]) };
  const configured = (await miniflareWorkerOptions(environment)).bindings?.UPSTREAM_CHAIN;
  return simulatedUpstreams(typeof configured === "string" ? configured : undefined, simulator);
}
