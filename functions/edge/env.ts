import type { Region } from "../../shared/geo/regions.js";

/** The front Worker's environment: one service binding per region, plus the primary database. */
export interface EdgeEnv {
  /** Region used when the client's location is unknown. */
  DEFAULT_REGION?: string;
  MAX_BODY_BYTES?: string;
  /** The primary database, read for key -> region pin. */
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  [binding: `REGION_${string}`]: Fetcher | undefined;
}

/** `eu-west` -> `REGION_EU_WEST`, the service binding of that region's gateway. */
export function regionBinding(region: Region): `REGION_${string}` {
  return `REGION_${region.id.toUpperCase().replaceAll("-", "_")}`;
}
