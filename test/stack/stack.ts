import { AdminClient } from "../../shared/admin-client/client.js";
import { REGIONS } from "../../shared/geo/regions.js";
import { type DemoSite, startDemoSite } from "./demo-site/server.js";
import { REGION_UPSTREAM_LATENCY_MS } from "./geography.js";
import { Network } from "./network/network.js";
import { type DelayedTopology, delayedTopology } from "./network/stack-links.js";
import { startRedisServer, type RedisServer } from "./redis/redis-server.js";
import { startSimulator, type Simulator } from "./simulator/server.js";
import { startTurnstile, type TurnstileStandIn } from "./turnstile/server.js";
import { startUpstashBridge, type UpstashBridge } from "./upstash-bridge/server.js";
import { type WorkerBundle, workerBundles } from "./workers/build.js";
import { type RequestLogLine, RequestLogs, parseRequestLogLine } from "./workers/request-logs.js";
import { type RegionRoutes, stackWorkers } from "./stack-workers.js";
import { type LocalWorker, startWorkerd, type WorkerOutput } from "./workers/workerd.js";

export type { RequestLogLine } from "./workers/request-logs.js";

export interface StackOptions {
  /** "single": one gateway (region "local"). "regions": the front Worker plus one gateway per region. */
  topology?: "single" | "regions";
  /** Multiplies every simulated delay: 1 = realistic, 0.02 = 50x faster, 0 = none. */
  timeScale?: number;
  /** Fixed ports for a human-facing stack (the entry point, redis, bridge, demo page); random free ports otherwise. */
  ports?: Partial<Record<"gateway" | "bridge" | "redis" | "demo", number>>;
  /** Talk to the real Anthropic API with this key instead of the simulators. */
  anthropicApiKey?: string;
  /** Read secrets from the local secrets file (`.dev.vars`, as wrangler dev does); `npm start` does, tests never. */
  localSecrets?: boolean;
  /** The gateways' stream idle timeout; tests shorten it. */
  streamIdleTimeoutMs?: number;
  /** Retries before the first byte; short by default so that tests of upstream faults stay fast. */
  retry?: { deadlineMs: number; baseDelayMs: number };
  /** The gateways' time-to-first-token limit and storage timeout; tests shorten them. */
  firstTokenTimeoutMs?: number;
  storageTimeoutMs?: number;
  /** How many provider keys the gateways pool (the simulators accept them all). */
  providerKeys?: number;
  /** Further gateway variables (wrangler.toml [vars] names), e.g. shorter timeouts for a test. */
  vars?: Record<string, string>;
  /** The front Worker's breaker cool-down; tests shorten it. */
  breakerCoolDownMs?: number;
  /**
   * Regions topology: each region has a database of its own next to the primary (each
   * behind its own Upstash bridge), as deployed; false: every region uses the primary
   * alone (the design before regional databases, for comparison). Default true.
   */
  regionDatabases?: boolean;
  /**
   * Regions topology: every network link gets the one-way delay of its distance
   * (test/stack/network): client -> front Worker, front Worker -> each region and the
   * primary, each region -> the primary, its own database and each upstream endpoint.
   * `stack.network` moves the client (New York at start). Off by default.
   */
  distance?: boolean;
  /** The "dev" tenant's own rate limits; by default it has the gateways' default limits. */
  devTenantLimits?: { requestsPerMinute?: number; tokensPerMinute?: number };
  /** Called with every request log line as the Workers write it. */
  onRequestLog?: (line: RequestLogLine) => void;
  /** Called with everything else the Workers (or workerd) write: errors, warnings. */
  onWorkerOutput?: (output: WorkerOutput) => void;
  /** Request log lines kept in memory per Worker (a long-running stack keeps the latest); all by default. */
  logLimit?: number;
  /** Echo everything the Workers write to the terminal. */
  echo?: boolean;
  /** Run the gateways' Cron Trigger every minute, as Cloudflare does (`npm start`); tests call stack.scheduled() instead. */
  cron?: boolean;
  /** Opens workerd's V8 inspector on this loopback port (profiling only; never on a measured or tested path). */
  inspectorPort?: number;
}

/** One Worker as the stack serves it on its own loopback port. */
export interface WorkerServer {
  url: string;
  /** The request log lines the Worker wrote (for the front Worker: every region's, as they serve its requests), parsed. */
  logs: RequestLogLine[];
  waitForLog(requestId: string, timeoutMs?: number): Promise<RequestLogLine>;
}

export interface Deployment {
  region: string;
  gateway: WorkerServer;
  /** The region's own database (null when it uses the primary alone): its bridge, and the redis URL behind it. */
  database: UpstashBridge | null;
  databaseRedisUrl: string | null;
  /** Null when the stack talks to the real Anthropic API. */
  simulator: Simulator | null;
}

export interface Stack {
  /** Where clients connect: the front Worker, or the single gateway. */
  gateway: WorkerServer;
  /** The regional gateways, each reachable directly; one ("local") in the single topology. */
  deployments: Deployment[];
  /** The first deployment's simulator (the only one in the single topology). */
  simulator: Simulator | null;
  /** The primary database's bridge (tenants, keys, budgets, usage). */
  bridge: UpstashBridge;
  /**
   * The links' geography when the stack has distance (null otherwise): `placeClient()`
   * moves the client and its colo (send `cfBlobHeaders()` of the same place so that the
   * front Worker routes from there too); `report()` lists every link and its traffic.
   * `gateway.url` is then the client's delayed way in; each region's own URL stays direct.
   */
  network: Network | null;
  /** The bridges' bearer token (the gateways' UPSTASH_REDIS_REST_TOKEN and REGION_REDIS_REST_TOKEN). */
  bridgeToken: string;
  redis: RedisServer;
  /** The admin API, with the stack's admin token. */
  admin: AdminClient;
  adminToken: string;
  /** The provider keys the gateways call upstream with (the simulators accept each); empty with the real API. */
  providerKeys: string[];
  /** A secret key of the "dev" tenant, created at start. */
  clientKey: string;
  /** The demo page (its own origin) with the widget, and the publishable key it embeds. */
  demo: DemoSite;
  widgetKey: string;
  /** The stand-in for Turnstile's siteverify, which every gateway is pointed at. */
  turnstile: TurnstileStandIn;
  /** Rebuilds the bundles from the current sources and, if any changed, restarts the Workers on the same ports; true if it did. */
  rebuild(): Promise<boolean>;
  /** Runs a gateway's Cron Trigger (scheduled handler) for the moment `at` (default now); the first deployment's unless `region` names another. */
  scheduled(options?: { region?: string; at?: Date }): Promise<void>;
  /**
   * The stack's Workers (same bindings, storage, simulators) built from other bundles, e.g.
   * another commit's, to serve beside these on free ports (test/bench/compare.ts).
   */
  workersFrom(bundles: readonly WorkerBundle[]): Promise<LocalWorker[]>;
  stop(): Promise<void>;
}

export const DEV_TENANT_ID = "dev";
export const ADMIN_TOKEN = "edgegate-local-admin-token";
/** Signs widget sessions and answers and keys network hashes; one secret shared by every region. */
const GATEWAY_SECRET = "edgegate-local-gateway-secret";
const simulatorProviderKeys = (count: number): string[] =>
  Array.from({ length: count }, (_, index) => `sk-ant-simulator-${index}`);
const BRIDGE_TOKEN = "edgegate-local-upstash-token";
const EDGE_ENVIRONMENT = "edge";
/** The gateways' Cron Trigger (wrangler.toml [triggers]). */
const CRON = "* * * * *";

/**
 * Starts the local stack on loopback: redis-server, the Upstash bridge, and per region
 * a simulator and a gateway, plus the front Worker in the regional topology. The
 * Workers are the dry-run bundles `wrangler deploy` would upload, served by one
 * workerd through Miniflare's API with the deployment's bindings (service bindings,
 * the UsageSpool Durable Object, the Cache API, wrangler.toml's vars per environment).
 * The primary database holds tenants, keys, budgets and usage; in the regional topology
 * each region also has its own database for its hot path (see regionDatabases).
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const started: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const close of started.reverse()) await close().catch(() => {});
    })());
  const regional = options.topology === "regions";
  if (options.distance && (!regional || options.anthropicApiKey)) {
    throw new Error("distance needs the regions topology and the simulators (no anthropicApiKey)");
  }
  const regions = regional ? REGIONS.map((region) => ({ region: region.id, environment: region.id })) : [{ region: "local", environment: "" }];
  const environments = [...regions.map(({ environment }) => environment), ...(regional ? [EDGE_ENVIRONMENT] : [])];
  // Built (or found in the build cache) while the servers start.
  const building = workerBundles(environments);
  building.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
  try {
    const redis = await startRedisServer({ port: options.ports?.redis ?? 0 });
    started.push(() => redis.stop());
    const bridge = await startUpstashBridge({ port: options.ports?.bridge ?? 0, redisUrl: redis.url, token: BRIDGE_TOKEN });
    started.push(() => bridge.close());
    // Database 0 is the primary; region i's own is database i + 1 of the same redis-server.
    const regionRedisUrl = (index: number): string => `${redis.url}/${index + 1}`;
    const databases = await Promise.all(
      regions.map(async (_, index) => {
        if (!regional || options.regionDatabases === false) return null;
        const database = await startUpstashBridge({ port: 0, redisUrl: regionRedisUrl(index), token: BRIDGE_TOKEN });
        started.push(() => database.close());
        return database;
      }),
    );
    const turnstile = await startTurnstile();
    started.push(() => turnstile.close());
    const providerKeys = options.anthropicApiKey ? [] : simulatorProviderKeys(options.providerKeys ?? 1);
    const simulators = await Promise.all(
      regions.map(async ({ region }) => {
        if (options.anthropicApiKey) return null;
        const simulator = await startSimulator({
          timeScale: options.timeScale ?? 1,
          apiKeys: providerKeys,
          // With distance, the upstream links carry the delay instead.
          extraLatencyMs: options.distance ? 0 : (REGION_UPSTREAM_LATENCY_MS[region] ?? 0),
        });
        started.push(() => simulator.close());
        return simulator;
      }),
    );
    let network: Network | null = null;
    let delayed: DelayedTopology | null = null;
    if (options.distance) {
      network = new Network();
      const opened = network;
      started.push(() => opened.close());
      delayed = await delayedTopology(network, {
        primaryUrl: bridge.url,
        regions: regions.map(({ region }, index) => ({ region, simulatorUrl: simulators[index]!.url, databaseUrl: databases[index]?.url ?? null })),
      });
    }
    const routes = regions.map(({ region }, index): RegionRoutes => {
      const simulator = simulators[index];
      return (
        delayed?.routes.get(region) ?? {
          primary: bridge.url,
          database: databases[index]?.url ?? null,
          upstream: async () => simulator!.url,
        }
      );
    });
    const localWorkers = (bundles: readonly WorkerBundle[]): Promise<LocalWorker[]> =>
      stackWorkers(bundles, {
        regions: regions.map((region, index) => ({ ...region, simulator: simulators[index] ?? null, routes: routes[index]! })),
        edge: regional
          ? { environment: EDGE_ENVIRONMENT, primary: delayed?.edge.primary ?? bridge.url, regionAddresses: delayed?.edge.regionAddresses ?? null }
          : null,
        entryPort: options.ports?.gateway ?? 0,
        storageToken: BRIDGE_TOKEN,
        anthropicApiKey: options.anthropicApiKey ?? providerKeys.join(","),
        adminToken: ADMIN_TOKEN,
        gatewaySecret: GATEWAY_SECRET,
        vars: options.vars ?? {},
        turnstileVerifyUrl: turnstile.verifyUrl,
        localSecrets: options.localSecrets ?? false,
        tuning: {
          STREAM_IDLE_TIMEOUT_MS: options.streamIdleTimeoutMs,
          RETRY_DEADLINE_MS: options.retry?.deadlineMs ?? 1_500,
          RETRY_BASE_DELAY_MS: options.retry?.baseDelayMs ?? 25,
          FIRST_TOKEN_TIMEOUT_MS: options.firstTokenTimeoutMs,
          STORAGE_TIMEOUT_MS: options.storageTimeoutMs,
        },
        breakerCoolDownMs: options.breakerCoolDownMs ?? 10_000,
      });
    let bundles = await building;
    const workers = await localWorkers(bundles);
    const workerName = (environment: string): string => bundles.find((bundle) => bundle.environment === environment)!.workerName;

    // Request log lines go to the region that wrote them (every line carries its REGION) and to the entry point.
    const regionLogs = new Map(regions.map(({ region }) => [region, new RequestLogs(options.logLimit)]));
    const entryLogs = regional ? new RequestLogs(options.logLimit) : regionLogs.get("local")!;
    const workerd = await startWorkerd(workers, (output) => {
      if (options.echo) console.log(output.message);
      const line = parseRequestLogLine(output.message);
      if (!line) {
        options.onWorkerOutput?.(output);
        return;
      }
      regionLogs.get(String(line.region))?.add(line);
      if (regional) entryLogs.add(line);
      options.onRequestLog?.(line);
    }, { inspectorPort: options.inspectorPort });
    started.push(() => workerd.stop());
    const serverOf = (workerName: string, logs: RequestLogs): WorkerServer => ({
      url: workerd.urls.get(workerName)!,
      logs: logs.lines,
      waitForLog: (requestId, timeoutMs) => logs.waitFor(requestId, timeoutMs),
    });
    const deployments = regions.map(({ region, environment }, index) => ({
      region,
      gateway: serverOf(workerName(environment), regionLogs.get(region)!),
      database: databases[index] ?? null,
      databaseRedisUrl: databases[index] ? regionRedisUrl(index) : null,
      simulator: simulators[index]!,
    }));
    const entry = regional ? serverOf(workerName(EDGE_ENVIRONMENT), entryLogs) : deployments[0]!.gateway;
    if (delayed) {
      delayed.connectWorkers(entry.url, new Map(deployments.map(({ region, gateway }) => [region, gateway.url])));
      entry.url = delayed.entry.url;
    }
    /** Rebuilds from the current sources; restarts the Workers (same ports) only when a bundle changed. */
    const rebuild = async (): Promise<boolean> => {
      const rebuilt = await workerBundles(environments);
      if (rebuilt.every((bundle, index) => bundle.outdir === bundles[index]?.outdir)) return false;
      await workerd.update(await localWorkers(rebuilt));
      bundles = rebuilt;
      return true;
    };

    const scheduled = ({ region, at }: { region?: string; at?: Date } = {}): Promise<void> => {
      const { environment } = regions.find((candidate) => candidate.region === (region ?? regions[0]!.region)) ?? {};
      if (environment === undefined) throw new Error(`no region "${region}" in this stack`);
      return workerd.scheduled(workerName(environment), at ?? new Date(), CRON);
    };
    if (options.cron) {
      // Each region's trigger fires at the start of every minute, as deployed.
      const everyMinute = setInterval(() => {
        for (const { region } of regions) scheduled({ region }).catch((error: unknown) => options.onWorkerOutput?.({ level: "error", message: String(error) }));
      }, 60_000);
      started.push(async () => clearInterval(everyMinute));
    }
    const admin = new AdminClient(deployments[0]!.gateway.url, ADMIN_TOKEN);
    await admin.createTenant({
      id: DEV_TENANT_ID,
      name: "Local development",
      ...(options.devTenantLimits ? { limits: options.devTenantLimits } : {}),
    });
    const { key: clientKey } = await admin.createKey(DEV_TENANT_ID, { label: "local stack" });
    const demo = await startDemoSite({ gatewayUrl: entry.url, port: options.ports?.demo });
    started.push(() => demo.close());
    const { key: widgetKey } = await admin.createKey(DEV_TENANT_ID, {
      kind: "publishable",
      label: "demo widget",
      widget: {
        allowedOrigins: [demo.origin],
        title: "Ask Acme",
        greeting: "Hi! Ask me about tents, stoves or your order.",
        systemPrompt: "You are the friendly assistant of Acme Outdoor, a shop for camping gear. Answer briefly.",
      },
    });
    demo.useKey(widgetKey);
    return {
      gateway: entry,
      deployments,
      simulator: deployments[0]!.simulator,
      bridge,
      network,
      bridgeToken: BRIDGE_TOKEN,
      redis,
      admin,
      adminToken: ADMIN_TOKEN,
      providerKeys,
      clientKey,
      demo,
      widgetKey,
      turnstile,
      rebuild,
      scheduled,
      workersFrom: async (others) => (await localWorkers(others)).map((worker) => ({ ...worker, port: 0 })),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
