/**
 * The region's provider keys. A single key throttles around 50 requests a minute
 * and degrades past 10-15 concurrent requests, so requests go to the key with the
 * fewest in flight, and a key that was rate-limited sits out until its retry-after.
 * Per isolate: each isolate balances its own share of the traffic.
 */
export class KeyPool {
  private readonly inFlight: number[];
  private readonly limitedUntil: number[];

  constructor(readonly keys: readonly string[]) {
    if (keys.length === 0) throw new Error("The key pool needs at least one provider key (ANTHROPIC_API_KEY).");
    this.inFlight = keys.map(() => 0);
    this.limitedUntil = keys.map(() => 0);
  }

  /** The least-loaded key that is not resting, or null when every key is rate-limited. */
  acquire(now: number): number | null {
    let best: number | null = null;
    for (let index = 0; index < this.keys.length; index++) {
      if (this.limitedUntil[index]! > now) continue;
      if (best === null || this.inFlight[index]! < this.inFlight[best]!) best = index;
    }
    if (best !== null) this.inFlight[best]! += 1;
    return best;
  }

  release(index: number): void {
    this.inFlight[index] = Math.max(0, this.inFlight[index]! - 1);
  }

  markRateLimited(index: number, until: number): void {
    this.limitedUntil[index] = Math.max(this.limitedUntil[index]!, until);
  }

  /** Whether `acquire` would find a key now, without taking it. */
  acquireWouldSucceed(now: number): boolean {
    return this.limitedUntil.some((until) => until <= now);
  }

  /** When the first resting key becomes usable again. */
  nextAvailableAt(): number {
    return Math.min(...this.limitedUntil);
  }

  inFlightCounts(): readonly number[] {
    return this.inFlight;
  }
}
