import { describe, expect, it } from "vitest";
import { greatCircleKm } from "../../shared/geo/distance.js";
import { clientLocation, rankRegions, type ClientLocation, type RankingOptions } from "../../shared/geo/ranking.js";
import { CONTINENT_REGIONS, DEFAULT_REGION_ID, REGIONS, regionById, type Region } from "../../shared/geo/regions.js";

const CITIES = {
  newYork: { latitude: 40.7128, longitude: -74.006 },
  london: { latitude: 51.5074, longitude: -0.1278 },
  frankfurt: { latitude: 50.1109, longitude: 8.6821 },
  singapore: { latitude: 1.2903, longitude: 103.8519 },
  sydney: { latitude: -33.8688, longitude: 151.2093 },
  saoPaulo: { latitude: -23.5505, longitude: -46.6333 },
};

const unpinned: RankingOptions = { pin: null, defaultRegionId: DEFAULT_REGION_ID };
const ids = (location: ClientLocation | undefined, options = unpinned, regions: readonly Region[] = REGIONS) =>
  rankRegions(location, regions, options).map((ranked) => ranked.region.id);

describe("region table", () => {
  it("has unique ids, a known default, and continent lists that name each known region once", () => {
    const regionIds = REGIONS.map((region) => region.id);
    expect(new Set(regionIds).size).toBe(regionIds.length);
    expect(regionIds).toEqual(expect.arrayContaining(["us-east", "eu-west", "ap-southeast"]));
    expect(regionById(DEFAULT_REGION_ID)?.cloudRegion).toBe("aws:us-east-1");
    expect(regionById("nowhere")).toBeUndefined();
    for (const [continent, preferred] of Object.entries(CONTINENT_REGIONS)) {
      expect(new Set(preferred).size, continent).toBe(preferred.length);
      for (const id of preferred) expect(regionById(id), `${continent} -> ${id}`).toBeDefined();
    }
    expect(Object.keys(CONTINENT_REGIONS).sort()).toEqual(["AF", "AN", "AS", "EU", "NA", "OC", "SA"]);
  });
});

describe("greatCircleKm", () => {
  it("measures known distances", () => {
    expect(greatCircleKm(CITIES.london, CITIES.newYork)).toBeGreaterThan(5560);
    expect(greatCircleKm(CITIES.london, CITIES.newYork)).toBeLessThan(5580);
    expect(greatCircleKm(CITIES.newYork, CITIES.london)).toBeCloseTo(greatCircleKm(CITIES.london, CITIES.newYork), 6);
    expect(greatCircleKm(CITIES.sydney, CITIES.sydney)).toBe(0);
  });

  it("stays finite for antipodal points (half the circumference)", () => {
    const distance = greatCircleKm({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 180 });
    expect(distance).toBeCloseTo(Math.PI * 6371.0088, 3);
    expect(greatCircleKm({ latitude: 90, longitude: 0 }, { latitude: -90, longitude: 0 })).toBeCloseTo(distance, 3);
  });
});

describe("rankRegions by distance", () => {
  it.each([
    ["New York", CITIES.newYork, "us-east"],
    ["London", CITIES.london, "eu-west"],
    ["Frankfurt", CITIES.frankfurt, "eu-west"],
    ["Singapore", CITIES.singapore, "ap-southeast"],
    ["Sydney", CITIES.sydney, "ap-southeast"],
    ["São Paulo", CITIES.saoPaulo, "us-east"],
  ])("sends %s to %s first", (_city, location, nearest) => {
    const ranked = rankRegions(location, REGIONS, unpinned);
    expect(ranked[0]?.region.id).toBe(nearest);
    expect(ranked.map((r) => r.region.id).sort()).toEqual(REGIONS.map((r) => r.id).sort());
    const distances = ranked.map((r) => r.distanceKm ?? Number.NaN);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(ranked.every((r) => r.basis === "distance")).toBe(true);
  });

  it("reads coordinates given as strings, as request.cf has them, even when the continent disagrees", () => {
    const ranked = rankRegions({ latitude: "-33.86880", longitude: "151.20930", continent: "NA" }, REGIONS, unpinned);
    expect(ranked[0]).toMatchObject({ region: { id: "ap-southeast" }, basis: "distance" });
    expect(ranked[0]?.distanceKm).toBeCloseTo(greatCircleKm(CITIES.sydney, regionById("ap-southeast")!), 6);
  });

  it("picks up a region added to the table", () => {
    const saoPauloRegion = { id: "sa-east", name: "São Paulo", latitude: -23.5, longitude: -46.6, cloudRegion: "aws:sa-east-1", geography: "sa" };
    expect(ids(CITIES.saoPaulo, unpinned, [...REGIONS, saoPauloRegion])[0]).toBe("sa-east");
    expect(ids(CITIES.newYork, unpinned, [...REGIONS, saoPauloRegion])[0]).toBe("us-east");
  });
});

describe("rankRegions without usable coordinates", () => {
  it.each<[string, ClientLocation]>([
    ["missing", { continent: "OC" }],
    ["empty strings", { latitude: "", longitude: " ", continent: "OC" }],
    ["not numbers", { latitude: "abc", longitude: "151.2", continent: "OC" }],
    ["only one of the two", { latitude: "-33.8", continent: "OC" }],
    ["out of range", { latitude: "95", longitude: "151.2", continent: "OC" }],
    ["not finite", { latitude: Number.NaN, longitude: Number.POSITIVE_INFINITY, continent: "OC" }],
  ])("falls back to the continent when coordinates are %s", (_case, location) => {
    const ranked = rankRegions(location, REGIONS, unpinned);
    expect(ranked.map((r) => r.region.id)).toEqual(["ap-southeast", "us-east", "eu-west"]);
    expect(ranked.every((r) => r.basis === "continent" && r.distanceKm === null)).toBe(true);
  });

  it("follows each continent's preference, in any letter case", () => {
    expect(ids({ continent: "EU" })[0]).toBe("eu-west");
    expect(ids({ continent: "af" })[0]).toBe("eu-west");
    expect(ids({ continent: "SA" })[0]).toBe("us-east");
    expect(ids({ continent: "AS" })[0]).toBe("ap-southeast");
  });

  it("ranks regions the continent table leaves out after the listed ones, in table order", () => {
    const extra = { id: "me-central", name: "UAE", latitude: 25.2, longitude: 55.3, cloudRegion: "aws:me-central-1", geography: "me" };
    expect(ids({ continent: "AS" }, unpinned, [extra, ...REGIONS])).toEqual(["ap-southeast", "eu-west", "us-east", "me-central"]);
  });

  it("puts the default region first when neither coordinates nor a known continent are there", () => {
    for (const location of [undefined, {}, { continent: "T1" }, { continent: "" }]) {
      const ranked = rankRegions(location, REGIONS, unpinned);
      expect(ranked.map((r) => r.region.id)).toEqual(["us-east", "eu-west", "ap-southeast"]);
      expect(ranked.every((r) => r.basis === "default" && r.distanceKm === null)).toBe(true);
    }
    expect(ids({}, { pin: null, defaultRegionId: "ap-southeast" })).toEqual(["ap-southeast", "us-east", "eu-west"]);
  });
});

describe("rankRegions with a region pin", () => {
  it("returns only pinned regions, still nearest first", () => {
    expect(ids(CITIES.newYork, { pin: ["eu-west"], defaultRegionId: DEFAULT_REGION_ID })).toEqual(["eu-west"]);
    expect(ids(CITIES.newYork, { pin: ["ap-southeast", "eu-west"], defaultRegionId: DEFAULT_REGION_ID })).toEqual([
      "eu-west",
      "ap-southeast",
    ]);
    expect(ids({ continent: "NA" }, { pin: ["ap-southeast", "eu-west"], defaultRegionId: DEFAULT_REGION_ID })).toEqual([
      "eu-west",
      "ap-southeast",
    ]);
    expect(ids(undefined, { pin: ["ap-southeast"], defaultRegionId: DEFAULT_REGION_ID })).toEqual(["ap-southeast"]);
  });

  it("gets nothing from pinned ids that name no region, and nothing at all from an empty pin", () => {
    expect(ids(CITIES.london, { pin: ["mars-north"], defaultRegionId: DEFAULT_REGION_ID })).toEqual([]);
    expect(ids(CITIES.london, { pin: ["mars-north", "ap-southeast"], defaultRegionId: DEFAULT_REGION_ID })).toEqual(["ap-southeast"]);
    expect(ids(CITIES.london, { pin: [], defaultRegionId: DEFAULT_REGION_ID })).toEqual([]);
  });
});

describe("clientLocation", () => {
  it("reads the location fields of request.cf and ignores anything else", () => {
    expect(clientLocation({ cf: { latitude: "1.29030", longitude: "103.85190", continent: "AS", country: "SG" } })).toEqual({
      latitude: "1.29030",
      longitude: "103.85190",
      continent: "AS",
    });
    expect(clientLocation({ cf: { latitude: true, longitude: null, continent: 7 } })).toEqual({
      latitude: undefined,
      longitude: undefined,
      continent: undefined,
    });
    expect(clientLocation({ cf: undefined })).toEqual({});
    // A Request built in code has no cf at all; this also checks a plain Request is accepted.
    expect(clientLocation(new Request("https://edgegate.test/"))).toEqual({});
  });
});
