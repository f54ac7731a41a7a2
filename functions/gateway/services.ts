import type { Redis } from "@upstash/redis";
import { createMiddleware } from "hono/factory";
import type { GatewayConfig } from "../../shared/config/env.js";
import { GatewayError } from "../../shared/http/errors.js";
import { RateLimits } from "../../shared/limits/rate-limits.js";
import { type PriceTable, priceTable } from "../../shared/pricing/cost.js";
import { redisClient } from "../../shared/storage/redis.js";
import { KeyCache } from "../../shared/tenants/key-cache.js";
import { TenantStore } from "../../shared/tenants/store.js";
import type { GatewayAppEnv } from "./context.js";

/** What the gateway's routes use, built once per isolate and configuration. */
export interface Services {
  redis: Redis;
  tenants: TenantStore;
  rateLimits: RateLimits;
  keyCache: KeyCache;
  prices: PriceTable;
}

let cached: { config: GatewayConfig; services: Services } | null = null;

function services(config: GatewayConfig): Services {
  if (cached?.config !== config) {
    if (!config.redis.url || !config.redis.token) {
      throw new GatewayError(
        "api_error",
        "The gateway's storage is not configured: set UPSTASH_REDIS_REST_URL and the UPSTASH_REDIS_REST_TOKEN secret.",
        { status: 503 },
      );
    }
    const redis = redisClient(config.redis);
    cached = {
      config,
      services: {
        redis,
        tenants: new TenantStore(redis),
        rateLimits: new RateLimits(redis),
        keyCache: new KeyCache(),
        prices: priceTable(config.prices),
      },
    };
  }
  return cached.services;
}

/** Provides the services to routes that need storage (everything but /healthz). */
export const withServices = createMiddleware<GatewayAppEnv>(async (c, next) => {
  c.set("services", services(c.get("config")));
  await next();
});
