import type { Redis } from "@upstash/redis";
import type { GatewayConfig } from "../../shared/config/env.js";
import { RateLimits } from "../../shared/limits/rate-limits.js";
import { type PriceTable, priceTable } from "../../shared/pricing/cost.js";
import { redisClient } from "../../shared/storage/redis.js";
import { KeyCache } from "../../shared/tenants/key-cache.js";
import { TenantStore } from "../../shared/tenants/store.js";

/** What the gateway's routes use, built once per isolate and configuration. */
export interface Services {
  redis: Redis;
  tenants: TenantStore;
  rateLimits: RateLimits;
  keyCache: KeyCache;
  prices: PriceTable;
}

let cached: { config: GatewayConfig; services: Services } | null = null;

export function services(config: GatewayConfig): Services {
  if (cached?.config !== config) {
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
