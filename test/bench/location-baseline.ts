import type { DelayedLink } from "../stack/network/delay-proxy.js";
import { type Network, targetOf } from "../stack/network/network.js";
import { regionPlace, type UpstreamEntry, upstreamEndpointId, upstreamPlace } from "../stack/network/places.js";
import type { Stack } from "../stack/stack.js";
import { type LocalWorker, startWorkerd } from "../stack/workers/workerd.js";
import { miniflareWorkerOptions } from "../stack/workers/wrangler-config.js";
import type { Endpoint } from "./load.js";
import { PASSTHROUGH_WORKER } from "./passthrough.js";

/** At the colo: sends the request on, unread, to the region the x-baseline-region header names. */
const FRONT_FORWARDER = `
export default {
  async fetch(request, env) {
    const region = env[request.headers.get("x-baseline-region") ?? ""];
    if (!region) return new Response("x-baseline-region names no region binding", { status: 400 });
    return region.fetch(request);
  },
};
`;

const FRONT = "baseline-front";

export interface LocationBaseline {
  /** The client's way in, through the forwarder at the colo, to `region`. */
  endpoint(region: string): Endpoint;
  /** The endpoint each region's forwarder calls, by region: its upstream chain's first. */
  upstreams: ReadonlyMap<string, UpstreamEntry>;
  dispose(): Promise<void>;
}

/** `us-east` -> `REGION_US_EAST`. */
const bindingOf = (region: string): string => `REGION_${region.toUpperCase().replaceAll("-", "_")}`;

/** The first entry of a region's upstream chain in wrangler.toml: the endpoint that serves it when healthy. */
async function firstUpstream(environment: string): Promise<UpstreamEntry> {
  const chain = (await miniflareWorkerOptions(environment)).bindings?.UPSTREAM_CHAIN;
  const entries = (typeof chain === "string" ? JSON.parse(chain) : [{ kind: "anthropic" }]) as UpstreamEntry[];
  return entries[0] ?? { kind: "anthropic" };
}

/**
 * The by-location baseline: the same delayed links without the gateway's work. A
 * forwarding Worker at the colo (reached over a client link of its own) passes each
 * request over a service binding (a link of its own from the colo to the region) to a
 * forwarding Worker in the serving region, which sends it to that region's simulator
 * over a link to the endpoint that serves the gateway's requests there. Same places,
 * hence the same delays, and the same simulator as the gateway; the forwarders run in a
 * workerd of their own, as the bench's passthrough floor does. What the gateway adds
 * over this is its own work and its storage round trips.
 */
export async function startLocationBaseline(stack: Stack, network: Network): Promise<LocationBaseline> {
  const { compatibilityDate, compatibilityFlags } = await miniflareWorkerOptions("");
  const sockets = new Map<string, string>();
  const into = (worker: string) => () => {
    const url = sockets.get(worker);
    if (!url) throw new Error(`a link into ${worker} opened before workerd served it`);
    return targetOf(url)();
  };
  const entry = await network.link("baseline: client -> forwarder", "client city", "client city", "internet", into(FRONT));
  const regions: Array<{ region: string; binding: DelayedLink; upstream: DelayedLink; first: UpstreamEntry }> = [];
  for (const deployment of stack.deployments) {
    if (!deployment.simulator) throw new Error("the by-location baseline needs the simulators");
    const first = await firstUpstream(deployment.region);
    const place = regionPlace(deployment.region);
    const endpointId = upstreamEndpointId(first);
    regions.push({
      region: deployment.region,
      first,
      binding: await network.link(`baseline: forwarder -> ${deployment.region}`, "client city", place, "backbone", into(deployment.region)),
      upstream: await network.link(`baseline: ${deployment.region} -> ${endpointId}`, place, upstreamPlace(first), "internet", targetOf(deployment.simulator.url)),
    });
  }
  const worker = (name: string, script: string, rest: Partial<LocalWorker["options"]>): LocalWorker => ({
    options: { name, modules: true, script, compatibilityDate, compatibilityFlags, ...rest },
    port: 0,
  });
  const workerd = await startWorkerd(
    [
      worker(FRONT, FRONT_FORWARDER, {
        serviceBindings: Object.fromEntries(
          regions.map(({ region, binding }) => [bindingOf(region), { external: { address: binding.address, http: { cfBlobHeader: "MF-CF-Blob" } } }]),
        ),
      }),
      ...regions.map(({ region, upstream }) =>
        worker(region, PASSTHROUGH_WORKER, { bindings: { UPSTREAM: upstream.url, KEY: stack.providerKeys[0] ?? "" } }),
      ),
    ],
    () => {},
  );
  for (const [name, url] of workerd.urls) sockets.set(name, url);
  return {
    endpoint: (region) => ({ name: "baseline", origin: entry.url, headers: { "x-baseline-region": bindingOf(region) } }),
    upstreams: new Map(regions.map(({ region, first }) => [region, first])),
    dispose: workerd.stop,
  };
}
