import { greatCircleKm, type Coordinates } from "./distance.js";
import { CONTINENT_REGIONS, isContinent, type Region } from "./regions.js";

/** Where a client is, as Cloudflare reports it on `request.cf` (coordinates arrive as strings). */
export interface ClientLocation {
  latitude?: string | number;
  longitude?: string | number;
  continent?: string;
}

/**
 * The client's location from `request.cf`. Takes the request rather than `cf` because
 * workers-types types a plain `Request`'s `cf` as incoming or outgoing properties.
 */
export function clientLocation(request: { cf?: unknown }): ClientLocation {
  const cf = request.cf;
  if (typeof cf !== "object" || cf === null) return {};
  const { latitude, longitude, continent } = cf as Record<string, unknown>;
  return {
    latitude: typeof latitude === "string" || typeof latitude === "number" ? latitude : undefined,
    longitude: typeof longitude === "string" || typeof longitude === "number" ? longitude : undefined,
    continent: typeof continent === "string" ? continent : undefined,
  };
}

export interface RankedRegion {
  region: Region;
  /** Great-circle distance from the client; null unless the basis is "distance". */
  distanceKm: number | null;
  /** How the whole ranking was decided; the same for every entry of one ranking. */
  basis: "distance" | "continent" | "default";
}

export interface RankingOptions {
  /** The tenant's region pin: only these region ids are candidates. null = no pin. */
  pin: readonly string[] | null;
  defaultRegionId: string;
}

/**
 * Orders the candidate regions nearest first: by great-circle distance when the
 * client's coordinates are known, else by the continent table, else the default
 * region first. Ties and unlisted regions keep the order of `regions`.
 * A pin that names no known region yields no candidates at all.
 */
export function rankRegions(
  location: ClientLocation | undefined,
  regions: readonly Region[],
  options: RankingOptions,
): RankedRegion[] {
  const pin = options.pin;
  const candidates = pin === null ? [...regions] : regions.filter((region) => pin.includes(region.id));

  const client = coordinatesOf(location);
  if (client) {
    return candidates
      .map((region) => ({ region, distanceKm: greatCircleKm(client, region), basis: "distance" as const }))
      .sort((a, b) => a.distanceKm - b.distanceKm);
  }

  const continent = location?.continent?.toUpperCase();
  if (continent !== undefined && isContinent(continent)) {
    return preferring(candidates, CONTINENT_REGIONS[continent]).map((region) => ({
      region,
      distanceKm: null,
      basis: "continent",
    }));
  }

  return preferring(candidates, [options.defaultRegionId]).map((region) => ({
    region,
    distanceKm: null,
    basis: "default",
  }));
}

/** The candidates listed in `preferredIds`, in that order, then the rest in their own order. */
function preferring(candidates: readonly Region[], preferredIds: readonly string[]): Region[] {
  const rank = (region: Region): number => {
    const index = preferredIds.indexOf(region.id);
    return index === -1 ? preferredIds.length : index;
  };
  return [...candidates].sort((a, b) => rank(a) - rank(b));
}

function coordinatesOf(location: ClientLocation | undefined): Coordinates | null {
  const latitude = finiteNumber(location?.latitude);
  const longitude = finiteNumber(location?.longitude);
  if (latitude === null || longitude === null) return null;
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return null;
  return { latitude, longitude };
}

function finiteNumber(value: string | number | undefined): number | null {
  // Number("") and Number("  ") are 0, which would put a client at 0°N 0°E.
  if (value === undefined || (typeof value === "string" && value.trim() === "")) return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}
