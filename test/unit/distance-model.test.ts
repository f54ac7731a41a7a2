import { describe, expect, it } from "vitest";
import { greatCircleKm } from "../../shared/geo/distance.js";
import { rankRegions } from "../../shared/geo/ranking.js";
import { DEFAULT_REGION_ID, REGIONS } from "../../shared/geo/regions.js";
import { CLIENT_LOCATIONS } from "../stack/geography.js";
import { DISTANCE_MODEL, HANDSHAKE_ROUND_TRIPS, handshakeMs, oneWayDelayMs } from "../stack/network/distance-model.js";
import {
  ANTHROPIC_API,
  PRIMARY_DATABASE,
  regionDatabasePlace,
  regionPlace,
  upstreamEndpointId,
  upstreamPlace,
} from "../stack/network/places.js";

const roundTrip = (a: Parameters<typeof oneWayDelayMs>[0], b: Parameters<typeof oneWayDelayMs>[1]): number => 2 * oneWayDelayMs(a, b);
const NEW_YORK = { latitude: 40.7128, longitude: -74.006 };
const LONDON = { latitude: 51.5074, longitude: -0.1278 };

describe("distance model", () => {
  it("costs one hop for a link inside one place, and the same both ways", () => {
    const frankfurt = CLIENT_LOCATIONS.find((location) => location.name === "Frankfurt")!;
    expect(oneWayDelayMs(frankfurt, frankfurt)).toBe(DISTANCE_MODEL.perHopMs);
    expect(oneWayDelayMs(NEW_YORK, LONDON)).toBeCloseTo(oneWayDelayMs(LONDON, NEW_YORK), 9);
  });

  it("adds the fibre time of the stretched great circle to the hop", () => {
    // London - New York is about 5,570 km: x 1.3 / 200 km per ms = 36.2 ms, plus 1 ms for the hop.
    expect(oneWayDelayMs(LONDON, NEW_YORK)).toBeGreaterThan(37.0);
    expect(oneWayDelayMs(LONDON, NEW_YORK)).toBeLessThan(37.4);
    const slowGlass = { ...DISTANCE_MODEL, fibreKmPerMs: DISTANCE_MODEL.fibreKmPerMs / 2 };
    const distancePart = oneWayDelayMs(LONDON, NEW_YORK) - DISTANCE_MODEL.perHopMs;
    expect(oneWayDelayMs(LONDON, NEW_YORK, slowGlass) - DISTANCE_MODEL.perHopMs).toBeCloseTo(2 * distancePart, 9);
    const straight = { ...DISTANCE_MODEL, routeStretch: 1 };
    expect(oneWayDelayMs(LONDON, NEW_YORK, straight) - DISTANCE_MODEL.perHopMs).toBeCloseTo(greatCircleKm(LONDON, NEW_YORK) / DISTANCE_MODEL.fibreKmPerMs, 9);
  });

  it("puts the regions as far from the primary as cloud regions are from Virginia (the README's 70 / 200 ms)", () => {
    expect(roundTrip(regionPlace("eu-west"), PRIMARY_DATABASE)).toBeGreaterThan(65);
    expect(roundTrip(regionPlace("eu-west"), PRIMARY_DATABASE)).toBeLessThan(80);
    expect(roundTrip(regionPlace("ap-southeast"), PRIMARY_DATABASE)).toBeGreaterThan(195);
    expect(roundTrip(regionPlace("ap-southeast"), PRIMARY_DATABASE)).toBeLessThan(215);
    expect(roundTrip(regionPlace("us-east"), PRIMARY_DATABASE)).toBe(2 * DISTANCE_MODEL.perHopMs);
  });

  it("puts each region's own database in the region, and its chain's first endpoint close by", () => {
    for (const region of REGIONS) {
      expect(oneWayDelayMs(regionPlace(region.id), regionDatabasePlace(region.id))).toBe(DISTANCE_MODEL.perHopMs);
    }
    expect(oneWayDelayMs(regionPlace("us-east"), upstreamPlace({ kind: "anthropic" }))).toBeLessThan(1.1);
    expect(oneWayDelayMs(regionPlace("ap-southeast"), upstreamPlace({ kind: "bedrock", region: "ap-southeast-1" }))).toBeLessThan(1.2);
    // Ireland to St. Ghislain (Belgium) is about 800 km.
    expect(oneWayDelayMs(regionPlace("eu-west"), upstreamPlace({ kind: "vertex", location: "europe-west1" }))).toBeGreaterThan(5);
    expect(oneWayDelayMs(regionPlace("eu-west"), upstreamPlace({ kind: "vertex", location: "europe-west1" }))).toBeLessThan(7);
    // A region falling back to the Anthropic API crosses to the US.
    expect(roundTrip(regionPlace("ap-southeast"), ANTHROPIC_API)).toBeGreaterThan(195);
  });

  it("orders the regions for every bench city as the front Worker ranks them", () => {
    for (const city of CLIENT_LOCATIONS) {
      const ranked = rankRegions({ latitude: city.latitude, longitude: city.longitude }, REGIONS, { pin: null, defaultRegionId: DEFAULT_REGION_ID });
      const byDelay = [...REGIONS].sort((a, b) => oneWayDelayMs(city, a) - oneWayDelayMs(city, b));
      expect(ranked.map((entry) => entry.region.id), city.name).toEqual(byDelay.map((region) => region.id));
    }
  });

  it("charges a new connection two round trips (TCP and TLS) over the internet, none over the backbone", () => {
    expect(HANDSHAKE_ROUND_TRIPS).toEqual({ internet: 2, backbone: 0 });
    expect(handshakeMs("internet", 50)).toBe(200);
    expect(handshakeMs("backbone", 50)).toBe(0);
  });
});

describe("places", () => {
  it("names the endpoint of each upstream chain entry and finds its place", () => {
    expect(upstreamEndpointId({ kind: "anthropic" })).toBe("anthropic");
    expect(upstreamEndpointId({ kind: "bedrock", region: "ap-southeast-1" })).toBe("bedrock:ap-southeast-1");
    expect(upstreamEndpointId({ kind: "vertex", location: "europe-west1" })).toBe("vertex:europe-west1");
    expect(upstreamPlace({ kind: "anthropic" })).toBe(ANTHROPIC_API);
    const vertex = upstreamPlace({ kind: "vertex", location: "europe-west1" });
    expect(vertex.latitude).toBeGreaterThan(49.5);
    expect(vertex.latitude).toBeLessThan(51.5);
    expect(vertex.longitude).toBeGreaterThan(2.5);
    expect(vertex.longitude).toBeLessThan(6.4);
  });

  it("refuses endpoints and regions it has no place for, saying where to add them", () => {
    expect(() => upstreamPlace({ kind: "bedrock", region: "eu-central-1" })).toThrow(/bedrock endpoint "eu-central-1".*places\.ts/);
    expect(() => upstreamPlace({ kind: "vertex", location: "us-east5" })).toThrow(/vertex endpoint "us-east5"/);
    expect(() => upstreamPlace({ kind: "azure" })).toThrow(/no upstream of kind "azure"/);
    expect(() => regionPlace("mars-north")).toThrow(/no region "mars-north"/);
  });

  it("puts the primary database in N. Virginia, with the us-east region", () => {
    expect(PRIMARY_DATABASE.latitude).toBe(regionPlace("us-east").latitude);
    expect(PRIMARY_DATABASE.longitude).toBe(regionPlace("us-east").longitude);
  });
});
