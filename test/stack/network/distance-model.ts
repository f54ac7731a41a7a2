import { type Coordinates, greatCircleKm } from "../../../shared/geo/distance.js";

/**
 * How long bytes take between two places (pure, no I/O): great-circle kilometres,
 * stretched to the length of a real fibre route, at the speed of light in fibre, plus
 * a fixed cost for the equipment at both ends of the link.
 */
export interface DistanceModel {
  /** Light in glass (refractive index about 1.47) covers about 204 km per ms: 200 is the usual round figure. */
  fibreKmPerMs: number;
  /**
   * Fibre routes are longer than great circles (cables follow coasts, land at a few
   * stations, cross at a few points). 1.3 gives 71 ms of round trip Virginia - Ireland and
   * 202 ms Virginia - Singapore, in line with the round trips usually reported between
   * those cloud regions (about 70-80 ms and 200-230 ms) and with the README's earlier
   * estimate (0.013 ms of round trip per km).
   */
  routeStretch: number;
  /**
   * One way, per link, whatever its length: routers, switches and load balancers at both
   * ends, and the networks between. A placed Worker runs in a Cloudflare data centre near
   * its cloud region, not inside it, so even its call to a database in that region
   * crosses a few networks: 1 ms each way (2 ms of round trip) for a link inside one
   * metro. (It also keeps every delay at or above Node's 1 ms timer granularity.)
   */
  perHopMs: number;
}

export const DISTANCE_MODEL: DistanceModel = { fibreKmPerMs: 200, routeStretch: 1.3, perHopMs: 1 };

/**
 * What a new connection costs before its first request byte can leave, in round trips.
 * "internet": TCP (1) then TLS 1.3 (1), as every HTTPS call from a Worker or a client
 * pays on a new connection (the local links are plain HTTP, so the model adds TLS's).
 * "backbone": a service binding from the front Worker to a region's Worker travels
 * inside Cloudflare's network, with no connection of the caller's own to set up.
 */
export const HANDSHAKE_ROUND_TRIPS = { internet: 2, backbone: 0 } as const;

export type LinkKind = keyof typeof HANDSHAKE_ROUND_TRIPS;

/** One-way delay of a link between two places, in ms. */
export function oneWayDelayMs(from: Coordinates, to: Coordinates, model: DistanceModel = DISTANCE_MODEL): number {
  return (greatCircleKm(from, to) * model.routeStretch) / model.fibreKmPerMs + model.perHopMs;
}

/** Time a new connection over a link waits before its first bytes leave (the handshakes' round trips), in ms. */
export function handshakeMs(kind: LinkKind, oneWayMs: number): number {
  return HANDSHAKE_ROUND_TRIPS[kind] * 2 * oneWayMs;
}
