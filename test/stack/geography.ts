/** Client locations the benchmark reports on, as Cloudflare would put them in request.cf. */
export const CLIENT_LOCATIONS = [
  { name: "New York", latitude: 40.71, longitude: -74.01, continent: "NA", country: "US" },
  { name: "Frankfurt", latitude: 50.11, longitude: 8.68, continent: "EU", country: "DE" },
  { name: "Singapore", latitude: 1.35, longitude: 103.82, continent: "AS", country: "SG" },
  { name: "Sydney", latitude: -33.87, longitude: 151.21, continent: "OC", country: "AU" },
  { name: "Sao Paulo", latitude: -23.55, longitude: -46.63, continent: "SA", country: "BR" },
] as const;

/**
 * Each region's gateway sits next to its own upstream endpoint, so its upstream adds
 * only a short hop (milliseconds), applied by that region's simulator. A stack with
 * distance (test/stack/network) delays the upstream links instead.
 */
export const REGION_UPSTREAM_LATENCY_MS: Record<string, number> = {
  "us-east": 2,
  "eu-west": 2,
  "ap-southeast": 2,
};

/** A client's city as request.cf gives it (the bench's CLIENT_LOCATIONS). */
export interface ClientPlace {
  name: string;
  latitude: number;
  longitude: number;
  continent: string;
  country: string;
}

/** The MF-CF-Blob header with which workerd puts a client in `location` (request.cf; local only). */
export function cfBlobHeaders(location: ClientPlace): Record<string, string> {
  return {
    "MF-CF-Blob": JSON.stringify({ latitude: String(location.latitude), longitude: String(location.longitude), continent: location.continent, country: location.country }),
  };
}
