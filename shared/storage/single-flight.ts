import { withinTimeout } from "./health.js";

/**
 * One piece of work per key at a time in an isolate, shared by the requests that ask for
 * it meanwhile. In Workers the I/O a request starts stops when that request is cancelled,
 * and its promise then never settles: so a flight not heard from (started or renewed) for
 * `maxAgeMs` is presumed dead, and the next caller starts a new one; a caller that joins
 * another's flight waits no longer than `maxAgeMs` (with a timer of its own, which also
 * keeps workerd from cancelling it as hung while it waits on another request's promise).
 */
export class SingleFlight<K = string> {
  private readonly flights = new Map<K, { promise: Promise<unknown>; aliveAt: number }>();

  constructor(private readonly maxAgeMs: number) {}

  /** Whether a flight for `key` is under way (and not presumed dead). */
  has(key: K, now = Date.now()): boolean {
    const flight = this.flights.get(key);
    return flight !== undefined && now - flight.aliveAt < this.maxAgeMs;
  }

  /** A flight that goes on (another round of its work) says so, and is not presumed dead. */
  renew(key: K, now = Date.now()): void {
    const flight = this.flights.get(key);
    if (flight) flight.aliveAt = now;
  }

  /** The flight for `key` under way, or a new one of `start()`. */
  run<T>(key: K, start: () => Promise<T>, now = Date.now()): Promise<T> {
    const current = this.flights.get(key);
    if (current && now - current.aliveAt < this.maxAgeMs) return withinTimeout(current.promise as Promise<T>, this.maxAgeMs);
    for (const [other, flight] of this.flights) if (now - flight.aliveAt >= this.maxAgeMs) this.flights.delete(other);
    const flight = {
      promise: start().finally(() => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      }),
      aliveAt: now,
    };
    this.flights.set(key, flight);
    return flight.promise as Promise<T>;
  }
}
