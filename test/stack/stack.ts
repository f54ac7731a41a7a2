import { AdminClient } from "../../shared/admin-client/client.js";
import { REGIONS } from "../../shared/geo/regions.js";
import { REGION_UPSTREAM_LATENCY_MS } from "./geography.js";
import { findFreePort } from "./ports.js";
import { startRedisServer, type RedisServer } from "./redis/redis-server.js";
import { startSimulator, type Simulator } from "./simulator/server.js";
import { startUpstashBridge, type UpstashBridge } from "./upstash-bridge/server.js";
import { startWranglerDev, type WranglerDev } from "./wrangler-dev.js";
import { type DemoSite, startDemoSite } from "./demo-site/server.js";
import { startTurnstile, type TurnstileStandIn } from "./turnstile/server.js";

export interface StackOptions {
  /** "single": one gateway (region "local"). "regions": the front Worker plus one gateway per region. */
  topology?: "single" | "regions";
  /** Multiplies every simulated delay: 1 = realistic, 0.02 = 50x faster, 0 = none. */
  timeScale?: number;
  /** Fixed ports for a human-facing stack (the entry point, redis, bridge); random free ports otherwise. */
  ports?: Partial<Record<"gateway" | "bridge" | "redis" | "demo", number>>;
  /** Talk to the real Anthropic API with this key instead of the simulators. */
  anthropicApiKey?: string;
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
  /** Echo wrangler's output to the terminal. */
  echo?: boolean;
}

export interface Deployment {
  region: string;
  gateway: WranglerDev;
  /** Null when the stack talks to the real Anthropic API. */
  simulator: Simulator | null;
}

export interface Stack {
  /** Where clients connect: the front Worker, or the single gateway. */
  gateway: WranglerDev;
  /** The regional gateways, each reachable directly; one ("local") in the single topology. */
  deployments: Deployment[];
  /** The first deployment's simulator (the only one in the single topology). */
  simulator: Simulator | null;
  bridge: UpstashBridge;
  redis: RedisServer;
  /** The admin API, with the stack's admin token. */
  admin: AdminClient;
  /** A secret key of the "dev" tenant, created at start. */
  clientKey: string;
  /** The demo page (its own origin) with the widget, and the publishable key it embeds. */
  demo: DemoSite;
  widgetKey: string;
  /** The stand-in for Turnstile's siteverify, which every gateway is pointed at. */
  turnstile: TurnstileStandIn;
  stop(): Promise<void>;
}

export const DEV_TENANT_ID = "dev";
export const ADMIN_TOKEN = "edgegate-local-admin-token";
/** Signs widget sessions and answers and keys network hashes; one secret shared by every region. */
const GATEWAY_SECRET = "edgegate-local-gateway-secret";
const simulatorProviderKeys = (count: number): string[] =>
  Array.from({ length: count }, (_, index) => `sk-ant-simulator-${index}`);
const BRIDGE_TOKEN = "edgegate-local-upstash-token";

/**
 * Starts the local stack on loopback: redis-server, the Upstash bridge, and per region
 * a simulator and a gateway in workerd (wrangler dev), plus the front Worker in the
 * regional topology. Every region shares the one database (the global primary).
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const started: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const close of started.reverse()) await close().catch(() => {});
  };
  try {
    const redis = await startRedisServer({ port: options.ports?.redis ?? 0 });
    started.push(() => redis.stop());
    const bridge = await startUpstashBridge({ port: options.ports?.bridge ?? 0, redisUrl: redis.url, token: BRIDGE_TOKEN });
    started.push(() => bridge.close());
    const storage = { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: BRIDGE_TOKEN };
    const turnstile = await startTurnstile();
    started.push(() => turnstile.close());
    const regional = options.topology === "regions";
    const providerKeys = simulatorProviderKeys(options.providerKeys ?? 1);

    const deploy = async (region: string, environment: string | undefined, port: number): Promise<Deployment> => {
      const simulator = options.anthropicApiKey
        ? null
        : await startSimulator({
            timeScale: options.timeScale ?? 1,
            apiKeys: providerKeys,
            extraLatencyMs: REGION_UPSTREAM_LATENCY_MS[region] ?? 0,
          });
      if (simulator) started.push(() => simulator.close());
      const gateway = await startWranglerDev({
        port,
        environment,
        echo: options.echo,
        vars: {
          ...storage,
          ANTHROPIC_API_KEY: options.anthropicApiKey ?? providerKeys.join(","),
          UPSTREAM_BASE_URL: simulator?.url ?? "https://api.anthropic.com",
          ADMIN_TOKEN,
          GATEWAY_SECRET,
          TURNSTILE_VERIFY_URL: turnstile.verifyUrl,
          ...(options.streamIdleTimeoutMs ? { STREAM_IDLE_TIMEOUT_MS: String(options.streamIdleTimeoutMs) } : {}),
          RETRY_DEADLINE_MS: String(options.retry?.deadlineMs ?? 1_500),
          RETRY_BASE_DELAY_MS: String(options.retry?.baseDelayMs ?? 25),
          ...(options.firstTokenTimeoutMs ? { FIRST_TOKEN_TIMEOUT_MS: String(options.firstTokenTimeoutMs) } : {}),
          ...(options.storageTimeoutMs ? { STORAGE_TIMEOUT_MS: String(options.storageTimeoutMs) } : {}),
          ...options.vars,
          REGION: region,
        },
      });
      started.push(() => gateway.stop());
      return { region, gateway, simulator };
    };

    const deployments = regional
      ? await Promise.all(REGIONS.map(async (region) => deploy(region.id, region.id, await findFreePort())))
      : [await deploy("local", undefined, options.ports?.gateway ?? (await findFreePort()))];
    let entry = deployments[0]!.gateway;
    if (regional) {
      entry = await startWranglerDev({
        port: options.ports?.gateway ?? (await findFreePort()),
        environment: "edge",
        echo: options.echo,
        vars: { ...storage, BREAKER_COOL_DOWN_MS: String(options.breakerCoolDownMs ?? 10_000) },
      });
      started.push(() => entry.stop());
    }

    const admin = new AdminClient(deployments[0]!.gateway.url, ADMIN_TOKEN);
    await admin.createTenant({ id: DEV_TENANT_ID, name: "Local development" });
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
      redis,
      admin,
      clientKey,
      demo,
      widgetKey,
      turnstile,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
