import { greatCircleKm } from "../../shared/geo/distance.js";
import { type Region, REGIONS } from "../../shared/geo/regions.js";

/** Client locations the benchmark reports on, as Cloudflare would put them in request.cf. */
export const CLIENT_LOCATIONS = [
  { name: "New York", latitude: 40.71, longitude: -74.01, continent: "NA", country: "US" },
  { name: "Frankfurt", latitude: 50.11, longitude: 8.68, continent: "EU", country: "DE" },
  { name: "Singapore", latitude: 1.35, longitude: 103.82, continent: "AS", country: "SG" },
  { name: "Sydney", latitude: -33.87, longitude: 151.21, continent: "OC", country: "AU" },
  { name: "Sao Paulo", latitude: -23.55, longitude: -46.63, continent: "SA", country: "BR" },
] as const;

export type ClientLocationSample = (typeof CLIENT_LOCATIONS)[number];

/**
 * Each region's gateway sits next to its own upstream endpoint, so its upstream adds
 * only a short hop (milliseconds), applied by that region's simulator.
 */
export const REGION_UPSTREAM_LATENCY_MS: Record<string, number> = {
  "us-east": 2,
  "eu-west": 2,
  "ap-southeast": 2,
};

/**
 * Time to first token a client loses to distance from the region that serves it: the
 * published comparisons put US-West +140 ms, EU +220 ms and Asia-Pacific +380 ms over
 * US-East for a far-away client (connection set-up and the first bytes cross the
 * distance several times). 0.03 ms per great-circle km matches those three figures
 * within about 15%.
 */
export const TTFT_MS_PER_KM = 0.03;

export function distancePenaltyMs(client: { latitude: number; longitude: number }, region: Region): number {
  return greatCircleKm(client, region) * TTFT_MS_PER_KM;
}

export { REGIONS };
