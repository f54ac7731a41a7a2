import { CLIENT_LOCATIONS, cfBlobHeaders } from "../stack/geography.js";
import { DISTANCE_MODEL, type DistanceModel, type LinkKind } from "../stack/network/distance-model.js";
import type { LinkReport, Network } from "../stack/network/network.js";
import { PRIMARY_DATABASE, regionPlace, type UpstreamEntry, upstreamEndpointId, upstreamPlace } from "../stack/network/places.js";
import { type Stack, startStack } from "../stack/stack.js";
import { type Endpoint, type Exchange, header, LoadClient, runPaced, streamingBody } from "./load.js";
import { type LocationBaseline, startLocationBaseline } from "./location-baseline.js";
import { type Percentiles, type Summary, subtractSummaries, summarize } from "./stats.js";
import { isOk } from "./ttfb.js";

/** The two designs the table compares. */
export const DESIGNS = {
  /** Every region's hot path calls the primary database (regionDatabases: false). */
  today: { regionDatabases: false, label: "today (primary only)" },
  /** Each region decides on its own database, with leases and credits from the primary (regionDatabases: true). */
  regional: { regionDatabases: true, label: "regional databases" },
} as const;

export type Design = keyof typeof DESIGNS;

/** The client the target compares every other with: next to the primary (Virginia). */
export const NEXT_TO_PRIMARY = "New York";
/** Issue 17's target: each region's added time within this of what a client next to the primary gets. */
export const TARGET_WITHIN_MS = 3;

/** First byte at once, a short stream: the bench measures time to first byte. */
const DIRECTIVES = "sim:ttft=0 sim:tokens=2 sim:tps=1000";

export interface DesignFigures {
  /** Time to first byte, send -> first body byte, of the gateway path and of the baseline, ms. */
  gateway: Summary;
  baseline: Summary;
  /** Gateway percentile minus baseline percentile. */
  added: Percentiles;
  failed: number;
  /** Measured gateway requests the region decided on its own database; the others went to the primary, for these reasons. */
  admittedInRegion: number;
  primaryReasons: Record<string, number>;
  /**
   * The links during the measurement: connections opened, by link (each paid the link's
   * handshakes: a front Worker -> primary database one is a pin lookup), and the proxies'
   * timing error over all chunks (ms; mean weighted by chunks).
   */
  links: { connectionsOpened: Record<string, number>; lateness: { mean: number; max: number } };
}

export interface LocationRow {
  location: string;
  servedBy: string;
  /** The upstream endpoints that served the measured gateway requests, with counts (both designs). */
  upstreams: Record<string, number>;
  /** The endpoint the baseline's region forwarder calls (the chain's first). */
  baselineUpstream: string;
  /** The distance model's round trips on the baseline's path (client - colo - region - endpoint), ms. */
  modelledPathMs: number;
  /** The distance model's round trip between the serving region and the primary database, ms. */
  modelledPrimaryRoundTripMs: number;
  designs: Record<Design, DesignFigures>;
}

/** A link of the topology and its one-way delay for each client city. */
export interface LinkDelays {
  name: string;
  from: string;
  to: string;
  kind: LinkKind;
  oneWayMsByCity: Record<string, number>;
}

export interface ByLocationSetup {
  model: DistanceModel;
  /** Gateway requests (and as many baseline requests) a second, from each city. */
  ratePerSecond: number;
  requestsPerArm: number;
  regionWarmUpSeconds: number;
  warmUpSeconds: number;
  directives: string;
  /** The regional-databases stack's links (the design today has the same, less each region's own database). */
  links: LinkDelays[];
}

export interface ByLocationOptions {
  requestsPerArm: number;
  ratePerSecond: number;
  /**
   * Seconds of traffic at the same rate sent straight to every region at once, before the
   * first city: a region sizes its rate credits and budget lease from its last minute of
   * use, so a tenant new to a region goes to the primary for credit for several seconds
   * (about 13 s at 10 requests/s) before the region decides alone.
   */
  regionWarmUpSeconds: number;
  /**
   * Seconds of the same traffic from each city before its measurement (discarded): the
   * replica, budget leases and rate credits sized from the region's recent use, the front
   * Worker's pin cache, kept-alive connections on every link.
   */
  warmUpSeconds: number;
  log(message: string): void;
}

interface DesignRun {
  rows: Array<Omit<LocationRow, "designs"> & { figures: DesignFigures }>;
  links: LinkDelays[];
}

/**
 * Time to first byte by client city, measured end to end with every link delayed by
 * the distance model (test/stack/network), for both designs: a regional stack with
 * distance per design, the client moved city by city, gateway requests (through the
 * front Worker at the client's colo) interleaved with baseline requests over the same
 * delayed links without the gateway (location-baseline.ts), at a steady rate.
 */
export async function measureByLocation(options: ByLocationOptions): Promise<{ rows: LocationRow[]; setup: ByLocationSetup }> {
  const runs = {} as Record<Design, DesignRun>;
  for (const design of Object.keys(DESIGNS) as Design[]) {
    options.log(`by location, ${DESIGNS[design].label}: every link delayed`);
    runs[design] = await measureDesign(design, options);
  }
  const rows = runs.today.rows.map(({ figures, ...row }, index): LocationRow => {
    const regional = runs.regional.rows[index]!;
    return { ...row, upstreams: mergeCounts(row.upstreams, regional.upstreams), designs: { today: figures, regional: regional.figures } };
  });
  return {
    rows,
    setup: {
      model: DISTANCE_MODEL,
      ratePerSecond: options.ratePerSecond,
      requestsPerArm: options.requestsPerArm,
      regionWarmUpSeconds: options.regionWarmUpSeconds,
      warmUpSeconds: options.warmUpSeconds,
      directives: DIRECTIVES,
      links: runs.regional.links,
    },
  };
}

async function measureDesign(design: Design, options: ByLocationOptions): Promise<DesignRun> {
  const stack = await startStack({ topology: "regions", timeScale: 1, distance: true, regionDatabases: DESIGNS[design].regionDatabases });
  const client = new LoadClient();
  let baseline: LocationBaseline | null = null;
  try {
    const network = stack.network!;
    baseline = await startLocationBaseline(stack, network);
    const key = await benchKey(stack);
    await warmUpRegions(stack, client, key, options);
    const rows: DesignRun["rows"] = [];
    const links = new Map<string, LinkDelays>();
    for (const location of CLIENT_LOCATIONS) {
      network.placeClient(location);
      for (const { name, from, to, kind, oneWayMs } of network.report()) {
        const link = links.get(name) ?? { name, from, to, kind, oneWayMsByCity: {} };
        link.oneWayMsByCity[location.name] = oneWayMs;
        links.set(name, link);
      }
      const row = await measureCity(stack, network, baseline, client, { "x-api-key": key, ...cfBlobHeaders(location) }, options);
      rows.push({ location: location.name, ...row });
      options.log(`  ${location.name} (${row.servedBy}): added p50 ${row.figures.added.p50.toFixed(1)} ms`);
    }
    return { rows, links: [...links.values()] };
  } finally {
    client.close();
    await baseline?.dispose();
    await stack.stop();
  }
}

/** Warm-up, then the measurement, from the city the network has the client in. */
async function measureCity(
  stack: Stack,
  network: Network,
  baseline: LocationBaseline,
  client: LoadClient,
  gatewayHeaders: Record<string, string>,
  options: ByLocationOptions,
): Promise<Omit<DesignRun["rows"][number], "location">> {
  const body = streamingBody(DIRECTIVES);
  const gateway: Endpoint = { name: "gateway", origin: stack.gateway.url, headers: gatewayHeaders };
  const servedBy = await servingRegion(client, gateway, body);
  const endpoints = [gateway, baseline.endpoint(servedBy)];
  const pace = { ratePerSecond: options.ratePerSecond };
  await runPaced(client, endpoints, body, { ...pace, perEndpoint: Math.max(1, Math.round(options.warmUpSeconds * options.ratePerSecond)) });
  network.resetTraffic();
  const { exchanges } = await runPaced(client, endpoints, body, { ...pace, perEndpoint: options.requestsPerArm });
  const of = (name: string): Exchange[] => exchanges.filter((exchange) => exchange.endpoint === name);
  const lines = await Promise.all(of("gateway").filter(isOk).map((exchange) => stack.gateway.waitForLog(header(exchange, "x-request-id") ?? "")));
  const traffic = network.report();
  const chunks = traffic.reduce((sum, link) => sum + link.chunks, 0);
  const gatewayTtfb = ttfb(of("gateway"));
  const baselineTtfb = ttfb(of("baseline"));
  const upstream = baseline.upstreams.get(servedBy)!;
  return {
    servedBy,
    upstreams: count(lines.map((line) => String(line.provider))),
    baselineUpstream: upstreamEndpointId(upstream),
    ...modelled(network, servedBy, upstream),
    figures: {
      gateway: gatewayTtfb,
      baseline: baselineTtfb,
      added: subtractSummaries(gatewayTtfb, baselineTtfb),
      failed: exchanges.filter((exchange) => !isOk(exchange)).length,
      admittedInRegion: lines.filter((line) => line.admitted_on === "region").length,
      primaryReasons: count(lines.filter((line) => line.admitted_on !== "region").map((line) => String(line.primary_reason ?? "no region database"))),
      links: {
        connectionsOpened: Object.fromEntries(traffic.filter((link) => link.connections > 0).map((link) => [link.name, link.connections])),
        lateness: {
          mean: traffic.reduce((sum, link) => sum + (link.chunks > 0 ? link.lateness.mean * link.chunks : 0), 0) / Math.max(1, chunks),
          max: Math.max(...traffic.filter((link) => link.chunks > 0).map((link) => link.lateness.max)),
        },
      },
    },
  };
}

/** The bench tenant's traffic at the measurement's rate, straight to every region's gateway at once. */
async function warmUpRegions(stack: Stack, client: LoadClient, key: string, options: ByLocationOptions): Promise<void> {
  const perEndpoint = Math.round(options.regionWarmUpSeconds * options.ratePerSecond);
  if (perEndpoint === 0) return;
  const body = streamingBody(DIRECTIVES);
  await Promise.all(
    stack.deployments.map(({ region, gateway }) =>
      runPaced(client, [{ name: region, origin: gateway.url, headers: { "x-api-key": key } }], body, { ratePerSecond: options.ratePerSecond, perEndpoint }),
    ),
  );
}

/** A tenant whose rate limits never refuse, with a daily budget far above what the bench spends (so budget leases are in play). */
async function benchKey(stack: Stack): Promise<string> {
  const tenant = await stack.admin.createTenant({
    id: "by-location",
    name: "By location",
    limits: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000, dailyBudgetUsd: 1_000 },
  });
  return (await stack.admin.createKey(tenant.id, { label: "bench" })).key;
}

/** The region the front Worker routes the client to (one request, the first of the warm-up in effect). */
async function servingRegion(client: LoadClient, gateway: Endpoint, body: Buffer): Promise<string> {
  const exchange = await client.post(gateway, "/v1/messages", body);
  const region = header(exchange, "x-edgegate-region");
  if (!isOk(exchange) || !region) throw new Error(`the front Worker did not serve the bench's request: ${exchange.error ?? exchange.status}`);
  return region;
}

/** The model's figures for the client's current city served by `region`. */
function modelled(network: Network, region: string, upstream: UpstreamEntry): Pick<LocationRow, "modelledPathMs" | "modelledPrimaryRoundTripMs"> {
  const place = regionPlace(region);
  return {
    modelledPathMs:
      2 * (network.oneWayMs("client city", "client city") + network.oneWayMs("client city", place) + network.oneWayMs(place, upstreamPlace(upstream))),
    modelledPrimaryRoundTripMs: 2 * network.oneWayMs(place, PRIMARY_DATABASE),
  };
}

function ttfb(exchanges: readonly Exchange[]): Summary {
  return summarize(exchanges.filter(isOk).map((exchange) => exchange.firstByteAt - exchange.sentAt));
}

function count(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function mergeCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const merged = { ...a };
  for (const [name, value] of Object.entries(b)) merged[name] = (merged[name] ?? 0) + value;
  return merged;
}
