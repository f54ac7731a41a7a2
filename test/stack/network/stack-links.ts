import type { RegionRoutes } from "../stack-workers.js";
import type { DelayedLink } from "./delay-proxy.js";
import { type LinkTarget, type Network, targetOf } from "./network.js";
import { PRIMARY_DATABASE, regionDatabasePlace, regionPlace, upstreamEndpointId, upstreamPlace } from "./places.js";

export interface DelayedTopologyInput {
  /** The primary database's bridge. */
  primaryUrl: string;
  regions: ReadonlyArray<{ region: string; simulatorUrl: string; databaseUrl: string | null }>;
}

/** The regional stack's links, each delayed by the distance model. */
export interface DelayedTopology {
  /** Where each region's gateway reaches its databases and upstream endpoints. */
  routes: ReadonlyMap<string, RegionRoutes>;
  /** Where the front Worker (at the client's colo) reaches the primary, and each region's service binding goes. */
  edge: { primary: string; regionAddresses: ReadonlyMap<string, string> };
  /** The client's way in: client -> the front Worker at the colo in its city. */
  entry: DelayedLink;
  /** Points the links into Workers at the Workers' sockets, once workerd has opened them. */
  connectWorkers(entryUrl: string, regionUrls: ReadonlyMap<string, string>): void;
}

const ENTRY = "front Worker";

/**
 * Opens every link of the regional topology on `network`: client -> front Worker (the
 * colo in the client's city); front Worker -> each region (its service binding) and ->
 * the primary database (pin lookups); each region -> the primary, -> its own database,
 * and -> each upstream endpoint of its chain (opened as the chain is read: the Anthropic
 * API, Bedrock and Vertex AI of one simulator each through a link of their own).
 */
export async function delayedTopology(network: Network, { primaryUrl, regions }: DelayedTopologyInput): Promise<DelayedTopology> {
  const workerUrls = new Map<string, string>();
  const intoWorker =
    (worker: string): LinkTarget =>
    () => {
      const url = workerUrls.get(worker);
      if (!url) throw new Error(`a link into ${worker} opened before workerd served it`);
      return targetOf(url)();
    };
  const entry = await network.link(`client -> ${ENTRY}`, "client city", "client city", "internet", intoWorker(ENTRY));
  const edgePrimary = await network.link(`${ENTRY} -> primary database`, "client city", PRIMARY_DATABASE, "internet", targetOf(primaryUrl));
  const regionAddresses = new Map<string, string>();
  const routes = new Map<string, RegionRoutes>();
  for (const { region, simulatorUrl, databaseUrl } of regions) {
    const place = regionPlace(region);
    const binding = await network.link(`${ENTRY} -> ${region}`, "client city", place, "backbone", intoWorker(region));
    regionAddresses.set(region, binding.address);
    const primary = await network.link(`${region} -> primary database`, place, PRIMARY_DATABASE, "internet", targetOf(primaryUrl));
    const database = databaseUrl
      ? await network.link(`${region} -> own database`, place, regionDatabasePlace(region), "internet", targetOf(databaseUrl))
      : null;
    const upstreamLinks = new Map<string, Promise<DelayedLink>>();
    routes.set(region, {
      primary: primary.url,
      database: database?.url ?? null,
      upstream: async (upstream) => {
        const id = upstreamEndpointId(upstream);
        let link = upstreamLinks.get(id);
        if (!link) {
          link = network.link(`${region} -> ${id}`, place, upstreamPlace(upstream), "internet", targetOf(simulatorUrl));
          upstreamLinks.set(id, link);
        }
        return (await link).url;
      },
    });
  }
  return {
    routes,
    edge: { primary: edgePrimary.url, regionAddresses },
    entry,
    connectWorkers: (entryUrl, regionUrls) => {
      workerUrls.set(ENTRY, entryUrl);
      for (const [region, url] of regionUrls) workerUrls.set(region, url);
    },
  };
}
