import { AdminClient } from "../../shared/admin-client/client.js";
import { startSimulator, type Simulator } from "./simulator/server.js";
import { startRedisServer, type RedisServer } from "./redis/redis-server.js";
import { startUpstashBridge, type UpstashBridge } from "./upstash-bridge/server.js";
import { findFreePort } from "./ports.js";
import { startWranglerDev, type WranglerDev } from "./wrangler-dev.js";

export interface StackOptions {
  /** Multiplies every simulated delay: 1 = realistic, 0.02 = 50x faster, 0 = none. */
  timeScale?: number;
  /** Fixed ports for a human-facing stack; random free ports when absent. */
  ports?: Partial<Record<"gateway" | "simulator" | "bridge" | "redis", number>>;
  /** Talk to the real Anthropic API with this key instead of the simulator. */
  anthropicApiKey?: string;
  /** The gateway's stream idle timeout; tests shorten it. */
  streamIdleTimeoutMs?: number;
  /** Echo wrangler's output to the terminal. */
  echo?: boolean;
}

export interface Stack {
  gateway: WranglerDev;
  /** Null when the stack talks to the real Anthropic API. */
  simulator: Simulator | null;
  bridge: UpstashBridge;
  redis: RedisServer;
  /** The admin API, with the stack's admin token. */
  admin: AdminClient;
  /** A secret key of the "dev" tenant, created at start. */
  clientKey: string;
  stop(): Promise<void>;
}

export const DEV_TENANT_ID = "dev";
export const ADMIN_TOKEN = "edgegate-local-admin-token";
const SIMULATOR_PROVIDER_KEY = "sk-ant-simulator";
const BRIDGE_TOKEN = "edgegate-local-upstash-token";

/** Starts redis-server, the Upstash bridge, the simulator and the gateway in workerd, all on loopback. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const port = async (name: keyof NonNullable<StackOptions["ports"]>): Promise<number> =>
    options.ports?.[name] ?? findFreePort();
  const started: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const close of started.reverse()) await close().catch(() => {});
  };
  try {
    const redis = await startRedisServer({ port: await port("redis") });
    started.push(() => redis.stop());
    const bridge = await startUpstashBridge({ port: await port("bridge"), redisUrl: redis.url, token: BRIDGE_TOKEN });
    started.push(() => bridge.close());
    const simulator = options.anthropicApiKey
      ? null
      : await startSimulator({ port: await port("simulator"), timeScale: options.timeScale ?? 1, apiKeys: [SIMULATOR_PROVIDER_KEY] });
    if (simulator) started.push(() => simulator.close());
    const gateway = await startWranglerDev({
      port: await port("gateway"),
      echo: options.echo,
      vars: {
        ANTHROPIC_API_KEY: options.anthropicApiKey ?? SIMULATOR_PROVIDER_KEY,
        UPSTREAM_BASE_URL: simulator?.url ?? "https://api.anthropic.com",
        UPSTASH_REDIS_REST_URL: bridge.url,
        UPSTASH_REDIS_REST_TOKEN: BRIDGE_TOKEN,
        ADMIN_TOKEN,
        STREAM_IDLE_TIMEOUT_MS: String(options.streamIdleTimeoutMs ?? 60_000),
        REGION: "local",
      },
    });
    started.push(() => gateway.stop());
    const admin = new AdminClient(gateway.url, ADMIN_TOKEN);
    await admin.createTenant({ id: DEV_TENANT_ID, name: "Local development" });
    const { key: clientKey } = await admin.createKey(DEV_TENANT_ID, { label: "local stack" });
    return { gateway, simulator, bridge, redis, admin, clientKey, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
