/** A regional gateway deployment (one wrangler environment of the gateway Worker). */
export interface Region {
  /** Matches the wrangler environment name and the gateway's REGION var. */
  id: string;
  name: string;
  latitude: number;
  longitude: number;
  /** Placement hint: the cloud region the deployment runs next to, e.g. "aws:us-east-1". */
  cloudRegion: string;
  /** Where a tenant pinned here may have its prompts processed (see shared/providers/geography.ts). */
  geography: string;
}

/** Continent codes as Cloudflare reports them in `request.cf.continent`. */
export type Continent = "AF" | "AN" | "AS" | "EU" | "NA" | "OC" | "SA";

/** Adding a region: one entry here, plus its wrangler environment. */
export const REGIONS: readonly Region[] = [
  { id: "us-east", name: "N. Virginia", latitude: 39.0438, longitude: -77.4874, cloudRegion: "aws:us-east-1", geography: "us" },
  { id: "eu-west", name: "Ireland", latitude: 53.3498, longitude: -6.2603, cloudRegion: "aws:eu-west-1", geography: "eu" },
  { id: "ap-southeast", name: "Singapore", latitude: 1.3521, longitude: 103.8198, cloudRegion: "aws:ap-southeast-1", geography: "apac" },
];

export const DEFAULT_REGION_ID = "us-east";

/**
 * Region preference by continent, for clients whose coordinates are unknown.
 * Regions a list leaves out rank after the listed ones.
 */
export const CONTINENT_REGIONS: Readonly<Record<Continent, readonly string[]>> = {
  AF: ["eu-west", "us-east", "ap-southeast"],
  AN: ["ap-southeast", "us-east", "eu-west"],
  AS: ["ap-southeast", "eu-west", "us-east"],
  EU: ["eu-west", "us-east", "ap-southeast"],
  NA: ["us-east", "eu-west", "ap-southeast"],
  OC: ["ap-southeast", "us-east", "eu-west"],
  SA: ["us-east", "eu-west", "ap-southeast"],
};

export function regionById(id: string, regions: readonly Region[] = REGIONS): Region | undefined {
  return regions.find((region) => region.id === id);
}

export function isContinent(value: string): value is Continent {
  return Object.hasOwn(CONTINENT_REGIONS, value);
}
