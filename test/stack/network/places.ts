import type { Coordinates } from "../../../shared/geo/distance.js";
import { regionById } from "../../../shared/geo/regions.js";

/** A place a link of the local topology starts or ends at (pure data). */
export interface Place extends Coordinates {
  name: string;
}

/**
 * One end of a link: a fixed place, or the client's city, where both the client and
 * the Cloudflare colo it reaches are (Cloudflare has a colo in each of the cities the
 * bench measures from). The client moves at run time, so such an end is resolved when
 * a byte crosses the link.
 */
export type LinkEnd = Place | "client city";

export function regionPlace(regionId: string): Place {
  const region = regionById(regionId);
  if (!region) throw new Error(`no region "${regionId}" in shared/geo/regions.ts`);
  return { name: `${region.id} (${region.name})`, latitude: region.latitude, longitude: region.longitude };
}

/** A region's own Upstash database: in the region's cloud region. */
export function regionDatabasePlace(regionId: string): Place {
  return { ...regionPlace(regionId), name: `${regionId}'s own database` };
}

/** The primary Upstash database (tenants, keys, authoritative budgets): in us-east-1, N. Virginia. */
export const PRIMARY_DATABASE: Place = { ...regionPlace("us-east"), name: "primary database (N. Virginia)" };

/**
 * The Anthropic API. Its hostname answers from Cloudflare's network near the caller, but
 * a stream's first byte comes from where the model runs: assumed US East (N. Virginia).
 */
export const ANTHROPIC_API: Place = { name: "Anthropic API (assumed US East, N. Virginia)", latitude: 39.04, longitude: -77.49 };

/**
 * Bedrock's regional endpoints by AWS region. A cross-region inference profile (apac)
 * may run the model in another region of its geography: assumed the endpoint's own.
 */
const BEDROCK_ENDPOINTS: Readonly<Record<string, Place>> = {
  "ap-southeast-1": { name: "Bedrock ap-southeast-1 (Singapore)", latitude: 1.29, longitude: 103.85 },
};

/** Vertex AI's regional endpoints by location. */
const VERTEX_ENDPOINTS: Readonly<Record<string, Place>> = {
  "europe-west1": { name: "Vertex AI europe-west1 (St. Ghislain, Belgium)", latitude: 50.45, longitude: 3.82 },
};

/** An entry of a region's upstream chain (UPSTREAM_CHAIN), as far as its place goes. */
export interface UpstreamEntry {
  kind: string;
  region?: unknown;
  location?: unknown;
}

/** Where an upstream chain entry's endpoint is; throws for an endpoint the model has no place for. */
export function upstreamPlace(entry: UpstreamEntry): Place {
  const known = (table: Readonly<Record<string, Place>>, key: unknown): Place => {
    const place = typeof key === "string" ? table[key] : undefined;
    if (!place) throw new Error(`the distance model has no place for the ${entry.kind} endpoint "${String(key)}": add it to test/stack/network/places.ts`);
    return place;
  };
  switch (entry.kind) {
    case "anthropic":
      return ANTHROPIC_API;
    case "bedrock":
      return known(BEDROCK_ENDPOINTS, entry.region);
    case "vertex":
      return known(VERTEX_ENDPOINTS, entry.location);
    default:
      throw new Error(`the distance model knows no upstream of kind "${entry.kind}"`);
  }
}

/** A stable name for an upstream entry's endpoint ("anthropic", "bedrock:ap-southeast-1", "vertex:europe-west1"). */
export function upstreamEndpointId(entry: UpstreamEntry): string {
  switch (entry.kind) {
    case "bedrock":
      return `bedrock:${String(entry.region)}`;
    case "vertex":
      return `vertex:${String(entry.location)}`;
    default:
      return entry.kind;
  }
}
