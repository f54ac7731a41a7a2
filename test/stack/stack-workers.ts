import type { WorkerBundle } from "./workers/build.js";
import { type SimulatedUpstream, simulatedUpstreams } from "./local-upstreams.js";
import type { UpstreamEntry } from "./network/places.js";
import { bundleWorkerOptions, type LocalWorker } from "./workers/workerd.js";
import { localSecrets, miniflareWorkerOptions } from "./workers/wrangler-config.js";

/**
 * Where a regional gateway reaches what lies outside workerd: straight on loopback, or
 * through delayed links in a stack with distance (test/stack/network).
 */
export interface RegionRoutes {
  /** The primary database's bridge (UPSTASH_REDIS_REST_URL). */
  primary: string;
  /** The region's own database's bridge (REGION_REDIS_REST_URL), or null for the primary alone. */
  database: string | null;
  /** The simulator's origin as the region reaches the endpoint of an upstream chain entry. */
  upstream(entry: UpstreamEntry): Promise<string>;
}

/** What the stack's Workers are given besides wrangler.toml. */
export interface StackWorkersPlan {
  /** Each regional gateway: its REGION, its wrangler environment, its simulator (null: the real API), its routes. */
  regions: ReadonlyArray<{
    region: string;
    environment: string;
    simulator: SimulatedUpstream | null;
    routes: RegionRoutes;
  }>;
  /**
   * The front Worker in the regional topology (null for a single gateway): its environment,
   * where it reaches the primary, and, in a stack with distance, the address that each
   * region's service binding goes to (a delayed link to the region's socket) by region.
   */
  edge: { environment: string; primary: string; regionAddresses: ReadonlyMap<string, string> | null } | null;
  /** Port of the entry point (the front Worker, or the single gateway); 0 picks one. Regions behind a front Worker take free ports. */
  entryPort: number;
  /** The bridges' bearer token (every database's). */
  storageToken: string;
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
    plan.regions.map(async ({ region, environment, simulator, routes }) => ({
      options: await bundleWorkerOptions(bundleOf(environment), {
        ...(await upstreams(environment, simulator, routes)),
        ...(await secrets(environment)),
        UPSTASH_REDIS_REST_URL: routes.primary,
        UPSTASH_REDIS_REST_TOKEN: plan.storageToken,
        ...(routes.database ? { REGION_REDIS_REST_URL: routes.database, REGION_REDIS_REST_TOKEN: plan.storageToken } : {}),
        ANTHROPIC_API_KEY: plan.anthropicApiKey,
        UPSTREAM_BASE_URL: simulator ? await routes.upstream({ kind: "anthropic" }) : "https://api.anthropic.com",
        ADMIN_TOKEN: plan.adminToken,
        GATEWAY_SECRET: plan.gatewaySecret,
        TURNSTILE_VERIFY_URL: plan.turnstileVerifyUrl,
        ...tuning,
        ...plan.vars,
        REGION: region,
      }),
      port: plan.edge === null ? plan.entryPort : 0,
    })),
  );
  if (plan.edge === null) return gateways;
  const edgeBundle = bundleOf(plan.edge.environment);
  const edge = await bundleWorkerOptions(edgeBundle, {
    ...(await secrets(plan.edge.environment)),
    UPSTASH_REDIS_REST_URL: plan.edge.primary,
    UPSTASH_REDIS_REST_TOKEN: plan.storageToken,
    BREAKER_COOL_DOWN_MS: String(plan.breakerCoolDownMs),
  });
  const regionAddresses = plan.edge.regionAddresses;
  if (regionAddresses) {
    const regionOf = new Map(plan.regions.map(({ region, environment }) => [bundleOf(environment).workerName, region]));
    edge.serviceBindings = throughLinks(edge.serviceBindings ?? {}, (workerName) => {
      const region = regionOf.get(workerName);
      return region === undefined ? undefined : regionAddresses.get(region);
    });
  }
  return [{ options: edge, port: plan.entryPort }, ...gateways];
}

type ServiceBindings = NonNullable<LocalWorker["options"]["serviceBindings"]>;

/**
 * Service bindings to the Workers that `addressOf` names an address for, sent there
 * instead as HTTP (a delayed link to the Worker's own socket) with `request.cf` in the
 * MF-CF-Blob header, which the Worker's socket reads back: the same request, across
 * the distance. Other bindings stay in-process.
 */
function throughLinks(bindings: ServiceBindings, addressOf: (workerName: string) => string | undefined): ServiceBindings {
  return Object.fromEntries(
    Object.entries(bindings).map(([binding, service]) => {
      const name = typeof service === "string" ? service : typeof service === "object" && service !== null && "name" in service ? service.name : undefined;
      const address = typeof name === "string" ? addressOf(name) : undefined;
      return [binding, address ? { external: { address, http: { cfBlobHeader: "MF-CF-Blob" } } } : service];
    }),
  );
}

/**
 * A region's upstream chain: wrangler.toml's, pointed at the region's simulator; with the
 * real API, the Anthropic API alone unless the local secrets file sets a chain (and the
 * credentials it needs).
 */
async function upstreams(environment: string, simulator: SimulatedUpstream | null, routes: RegionRoutes): Promise<Record<string, string>> {
  if (!simulator) return { UPSTREAM_CHAIN: JSON.stringify([{ kind: "anthropic" }]) };
  const configured = (await miniflareWorkerOptions(environment)).bindings?.UPSTREAM_CHAIN;
  return simulatedUpstreams(typeof configured === "string" ? configured : undefined, simulator, (entry) => routes.upstream(entry));
}
