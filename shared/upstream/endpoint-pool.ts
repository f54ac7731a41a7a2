import type { Geography } from "../providers/geography.js";
import type { Provider } from "../providers/types.js";

/** One upstream endpoint of the region, with its place in the region's chain. */
export interface Endpoint {
  provider: Provider;
  /** Position in the region's chain: lower is tried first. Keys of one provider share a rank. */
  rank: number;
  /** Where it processes prompts, for tenants' residency. */
  geography: Geography;
  /** Its price relative to list price, in basis points (10,000 = list price). */
  priceBasisPoints: number;
}

/** Why an endpoint rests: rate-limited (429) rests hold across models; the others are about the model that failed. */
export type RestReason = "rate-limited" | "failing";

/**
 * The region's endpoints in chain order. Requests go to the first endpoint in the chain
 * that may serve them and is not resting, and among keys of one provider to the one with
 * the fewest requests in flight (a key throttles around 50 requests a minute and degrades
 * past 10-15 concurrent ones). An endpoint that failed rests until its retry-after (or a
 * backoff), so the next attempt goes down the chain at once. Per isolate: each isolate
 * balances its own share of the traffic.
 */
export class EndpointPool {
  private readonly inFlight: number[];
  private readonly restingUntil: number[];
  private readonly restReason: Array<RestReason | null>;

  constructor(readonly endpoints: readonly Endpoint[]) {
    if (endpoints.length === 0) throw new Error("The region has no upstream endpoint: set UPSTREAM_CHAIN (or ANTHROPIC_API_KEY).");
    this.inFlight = endpoints.map(() => 0);
    this.restingUntil = endpoints.map(() => 0);
    this.restReason = endpoints.map(() => null);
  }

  /** The preferred eligible endpoint that is not resting (taken: release it), or null when every eligible one rests. */
  acquire(now: number, eligible: (index: number) => boolean): number | null {
    let best: number | null = null;
    this.endpoints.forEach((endpoint, index) => {
      if (this.restingUntil[index]! > now || !eligible(index)) return;
      if (best === null) {
        best = index;
        return;
      }
      const current = this.endpoints[best]!;
      if (endpoint.rank < current.rank || (endpoint.rank === current.rank && this.inFlight[index]! < this.inFlight[best]!)) best = index;
    });
    if (best !== null) this.inFlight[best]! += 1;
    return best;
  }

  release(index: number): void {
    this.inFlight[index] = Math.max(0, this.inFlight[index]! - 1);
  }

  rest(index: number, until: number, reason: RestReason): void {
    if (until <= this.restingUntil[index]!) return;
    this.restingUntil[index] = until;
    this.restReason[index] = reason;
  }

  /** Ends the rests for `reason` (a failing model says nothing about the next model). */
  endRests(reason: RestReason): void {
    this.restReason.forEach((current, index) => {
      if (current !== reason) return;
      this.restingUntil[index] = 0;
      this.restReason[index] = null;
    });
  }

  /** When the first eligible resting endpoint is usable again (Infinity when none is eligible). */
  nextAvailableAt(eligible: (index: number) => boolean): number {
    let next = Number.POSITIVE_INFINITY;
    this.restingUntil.forEach((until, index) => {
      if (eligible(index)) next = Math.min(next, until);
    });
    return next;
  }

  /** Why the eligible endpoint that is free soonest rests ("rate-limited" when any eligible one is). */
  restReasonOf(eligible: (index: number) => boolean): RestReason {
    return this.restReason.some((reason, index) => reason === "rate-limited" && eligible(index)) ? "rate-limited" : "failing";
  }
}
