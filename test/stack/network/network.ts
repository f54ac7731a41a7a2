import { CLIENT_LOCATIONS, type ClientPlace } from "../geography.js";
import { type DelayedLink, type LinkTraffic, startDelayedLink } from "./delay-proxy.js";
import { DISTANCE_MODEL, type DistanceModel, HANDSHAKE_ROUND_TRIPS, type LinkKind, oneWayDelayMs } from "./distance-model.js";
import type { LinkEnd, Place } from "./places.js";

/** One link as the report shows it: its ends, its delay for the client's current city (`client`), and its traffic. */
export interface LinkReport extends LinkTraffic {
  name: string;
  from: string;
  to: string;
  kind: LinkKind;
  oneWayMs: number;
}

/** Where a link leads: a loopback address, resolved when a connection opens. */
export type LinkTarget = () => { host: string; port: number };

/** `http://127.0.0.1:8790` -> its host and port. */
export function targetOf(origin: string): LinkTarget {
  const { hostname, port } = new URL(origin);
  return () => ({ host: hostname, port: Number(port) });
}

/**
 * The local stack's geography: delayed links between places (test/stack/network/delay-proxy.ts),
 * each delayed by the distance model, and the client's city, which every link with an
 * end at the client (the client itself, the Cloudflare colo it reaches) follows at once.
 */
export class Network {
  #client: ClientPlace = CLIENT_LOCATIONS[0];
  readonly #links: Array<{ name: string; from: LinkEnd; to: LinkEnd; kind: LinkKind; link: DelayedLink }> = [];

  constructor(readonly model: DistanceModel = DISTANCE_MODEL) {}

  get client(): ClientPlace {
    return this.#client;
  }

  /** Moves the client (and its colo) to `location`; links in use follow from their next byte. */
  placeClient(location: ClientPlace): void {
    this.#client = location;
  }

  oneWayMs(from: LinkEnd, to: LinkEnd): number {
    return oneWayDelayMs(this.#resolve(from), this.#resolve(to), this.model);
  }

  /** Opens a delayed link from `from` to `to` leading to `target`. */
  async link(name: string, from: LinkEnd, to: LinkEnd, kind: LinkKind, target: LinkTarget): Promise<DelayedLink> {
    const link = await startDelayedLink({ oneWayMs: () => this.oneWayMs(from, to), handshakeRoundTrips: HANDSHAKE_ROUND_TRIPS[kind], target });
    this.#links.push({ name, from, to, kind, link });
    return link;
  }

  /** Every link, with its delay for the client's current city and what crossed it since it opened or was last reset. */
  report(): LinkReport[] {
    const label = (end: LinkEnd): string => (end === "client city" ? end : end.name);
    return this.#links.map(({ name, from, to, kind, link }) => ({ name, from: label(from), to: label(to), kind, oneWayMs: this.oneWayMs(from, to), ...link.traffic() }));
  }

  /** Starts every link's traffic counts afresh (e.g. at the start of a measurement). */
  resetTraffic(): void {
    for (const { link } of this.#links) link.resetTraffic();
  }

  async close(): Promise<void> {
    await Promise.all(this.#links.map(({ link }) => link.close()));
    this.#links.length = 0;
  }

  #resolve(end: LinkEnd): Place {
    return end === "client city" ? this.#client : end;
  }
}
