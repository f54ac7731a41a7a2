import { type BreakerConfig, DEFAULT_BREAKER_CONFIG } from "../../shared/geo/circuit-breaker.js";
import type { Region } from "../../shared/geo/regions.js";

/** The front Worker's environment: one service binding per region, plus the primary database. */
export interface EdgeEnv {
  /** Region used when the client's location is unknown. */
  DEFAULT_REGION?: string;
  MAX_BODY_BYTES?: string;
  /** Longest a client may take to send its request body (ms). */
  BODY_TIMEOUT_MS?: string;
  /** Circuit breaker: consecutive failures that open it, and how long it stays open. */
  BREAKER_FAILURE_THRESHOLD?: string;
  BREAKER_COOL_DOWN_MS?: string;
  /** The primary database, read for key -> region pin. */
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  [binding: `REGION_${string}`]: Fetcher | undefined;
}

/** `eu-west` -> `REGION_EU_WEST`, the service binding of that region's gateway. */
export function regionBinding(region: Region): `REGION_${string}` {
  return `REGION_${region.id.toUpperCase().replaceAll("-", "_")}`;
}

export function breakerConfig(env: EdgeEnv): BreakerConfig {
  const threshold = Number(env.BREAKER_FAILURE_THRESHOLD);
  const coolDown = Number(env.BREAKER_COOL_DOWN_MS);
  return {
    ...DEFAULT_BREAKER_CONFIG,
    failureThreshold: Number.isInteger(threshold) && threshold > 0 ? threshold : DEFAULT_BREAKER_CONFIG.failureThreshold,
    coolDownMs: coolDown > 0 ? coolDown : DEFAULT_BREAKER_CONFIG.coolDownMs,
  };
}
