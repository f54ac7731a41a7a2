import type { Redis } from "@upstash/redis";
import { createMiddleware } from "hono/factory";
import { FailureThrottle, UnknownKeys } from "../../shared/auth/failures.js";
import type { GatewayConfig, GatewayEnv } from "../../shared/config/env.js";
import { GatewayError } from "../../shared/http/errors.js";
import { REGIONS } from "../../shared/geo/regions.js";
import { HeadroomView } from "../../shared/ledger/headroom.js";
import { Ledger } from "../../shared/ledger/ledger.js";
import type { Settlement } from "../../shared/ledger/settlement.js";
import { AlertSettingsStore } from "../../shared/metrics/alerts/settings.js";
import { AlertState } from "../../shared/metrics/alerts/state.js";
import { IsolateMetrics } from "../../shared/metrics/isolate-view.js";
import { RecentFirstTokens } from "../../shared/metrics/recent-first-tokens.js";
import { MetricsStore } from "../../shared/metrics/store.js";
import { type PricedModel, type PriceTable, priceTable } from "../../shared/pricing/cost.js";
import { ProviderConfigError } from "../../shared/providers/chain-config.js";
import { redisClient } from "../../shared/storage/redis.js";
import { WriteCoalescer } from "../../shared/storage/write-coalescer.js";
import { KeyCache } from "../../shared/tenants/key-cache.js";
import { TenantStore } from "../../shared/tenants/store.js";
import { EndpointPool } from "../../shared/upstream/endpoint-pool.js";
import { regionEndpoints } from "../../shared/upstream/region-endpoints.js";
import type { GatewayAppEnv } from "./context.js";

/** What the gateway's routes use, built once per isolate and configuration. */
export interface Services {
  redis: Redis;
  tenants: TenantStore;
  keyCache: KeyCache;
  prices: PriceTable;
  /** The deep tier's model: what requests would cost without routing. */
  strongest: PricedModel;
  ledger: Ledger;
  /** The region's upstream endpoints, in chain order. */
  upstream: EndpointPool;
  /** Each caller's headroom at its last admission: the upstream call may start before the next one is decided. */
  headroom: HeadroomView;
  /** Key hashes recently found unknown, and the per-network throttles of failed authentications. */
  unknownKeys: UnknownKeys;
  authFailures: FailureThrottle;
  adminFailures: FailureThrottle;
  /** The stored metrics (primary), this isolate's own, and each model's recent first tokens in this region (SLO routing). */
  metrics: MetricsStore;
  isolateMetrics: IsolateMetrics;
  firstTokens: RecentFirstTokens;
  alertSettings: AlertSettingsStore;
  alertState: AlertState;
}

/** Failed authentications a client network may make per minute, with API keys and with the admin token. */
export const AUTH_FAILURES_PER_MINUTE = 30;
export const ADMIN_FAILURES_PER_MINUTE = 10;
/** How recent an admission must be for the next upstream call to start before its own admission is decided. */
const HEAD_START_VIEW_MS = 10_000;
/** Most settlement writes an isolate sends to a database in one request (one pipeline). */
const SETTLEMENT_BATCH_MAX = 64;
/** How long an isolate remembers that a key is unknown. */
const UNKNOWN_KEY_MEMORY_MS = 30_000;

let cached: { config: GatewayConfig; services: Services } | null = null;

/** The isolate's services for `config` (built on first use). */
export function gatewayServices(config: GatewayConfig, env: GatewayEnv): Services {
  if (cached?.config !== config) {
    if (!config.redis.url || !config.redis.token) {
      throw new GatewayError(
        "api_error",
        "The gateway's storage is not configured: set UPSTASH_REDIS_REST_URL and the UPSTASH_REDIS_REST_TOKEN secret.",
        { status: 503 },
      );
    }
    const redis = redisClient(config.redis);
    const regionRedis = config.regionRedis ? redisClient(config.regionRedis) : null;
    const prices = priceTable(config.prices);
    const strongest = prices.priceOf(config.routing.tierModels.deep);
    if (!strongest) {
      throw new GatewayError("api_error", `The deep tier's model ${config.routing.tierModels.deep} has no price: add it to PRICING_JSON.`, {
        status: 503,
      });
    }
    // Metrics and alerts take their own Upstash client: their reads are never batched with a request's admission.
    const background = redisClient(config.redis, "background");
    const metrics = new MetricsStore(background);
    const isolateMetrics = new IsolateMetrics();
    const firstTokens = new RecentFirstTokens(config.region, metrics, config.firstTokens);
    const settlementWrites = () => new WriteCoalescer({ maxBatch: SETTLEMENT_BATCH_MAX, maxWaitMs: config.storageTimeoutMs });
    cached = {
      config,
      services: {
        redis,
        tenants: new TenantStore(redis),
        keyCache: new KeyCache(),
        prices,
        strongest,
        ledger: new Ledger({
          primary: redis,
          region: regionRedis ? { redis: regionRedis, id: config.region, count: REGIONS.length } : null,
          defaults: config.defaultLimits,
          storageTimeoutMs: config.storageTimeoutMs,
          settlementWrites: { primary: settlementWrites(), region: settlementWrites() },
          tuning: config.leases,
          spool: (settlement) => spoolOf(env, config.region, settlement)?.add(settlement) ?? Promise.resolve(),
          scheduleDrain: () => spoolOf(env, config.region, null)?.drainLater() ?? Promise.resolve(),
          keepReplicaFresh: () => spoolOf(env, config.region, null)?.keepReplicaFresh() ?? Promise.resolve(),
          onSettled: ({ metrics: sample }) => {
            if (!sample) return;
            isolateMetrics.record(sample.minute, sample.increments);
            firstTokens.record(sample.increments);
          },
        }),
        upstream: new EndpointPool(endpointsOf(config, env)),
        headroom: new HeadroomView(HEAD_START_VIEW_MS),
        unknownKeys: new UnknownKeys(UNKNOWN_KEY_MEMORY_MS),
        authFailures: new FailureThrottle("auth", AUTH_FAILURES_PER_MINUTE),
        adminFailures: new FailureThrottle("admin", ADMIN_FAILURES_PER_MINUTE),
        metrics,
        isolateMetrics,
        firstTokens,
        alertSettings: new AlertSettingsStore(background),
        alertState: new AlertState(background),
      },
    };
  }
  return cached.services;
}

function endpointsOf(config: GatewayConfig, env: GatewayEnv) {
  try {
    return regionEndpoints(
      { chain: config.upstreamChain, anthropicApiKeys: config.upstreamApiKeys, anthropicBaseUrl: config.upstreamBaseUrl },
      env as unknown as Record<string, unknown>,
    );
  } catch (error) {
    if (!(error instanceof ProviderConfigError)) throw error;
    throw new GatewayError("api_error", `The region's upstream endpoints are misconfigured: ${error.message}.`, { status: 503 });
  }
}

/** The region's durable spool, which keeps settlements until storage takes them and drains the outbox when the primary is back. */
function spoolOf(env: GatewayEnv, region: string, settlement: Settlement | null) {
  const namespace = env.USAGE_SPOOL;
  if (!namespace) {
    // Without a spool binding the record survives only in the log, for reconciliation.
    console.error(JSON.stringify({ msg: "no USAGE_SPOOL binding: nothing can be kept for later", settlement }));
    return null;
  }
  return namespace.get(namespace.idFromName(region));
}

/** Provides the services to routes that need storage (everything but /healthz). */
export const withServices = createMiddleware<GatewayAppEnv>(async (c, next) => {
  c.set("services", gatewayServices(c.get("config"), c.env));
  await next();
});
