import { withinTimeout } from "./health.js";

/**
 * One piece of work per key at a time in an isolate, shared by the requests that ask for
 * it meanwhile. In Workers the I/O a request starts stops when that request is cancelled,
 * and its promise then never settles: so a flight older than `maxAgeMs` is presumed dead
 * and the next caller starts a new one, and a caller that joins another's flight waits no
 * longer than what is left of its age (with a timer of its own, which also keeps workerd
 * from cancelling it as hung while it waits on another request's promise).
 */
export class SingleFlight<K = string> {
  private readonly flights = new Map<K, { promise: Promise<unknown>; startedAt: number }>();

  constructor(private readonly maxAgeMs: number) {}

  /** Whether a flight for `key` is under way (and not presumed dead). */
  has(key: K, now = Date.now()): boolean {
    const flight = this.flights.get(key);
    return flight !== undefined && now - flight.startedAt < this.maxAgeMs;
  }

  /** The flight for `key` under way, or a new one of `start()`. */
  run<T>(key: K, start: () => Promise<T>, now = Date.now()): Promise<T> {
    const current = this.flights.get(key);
    if (current && now - current.startedAt < this.maxAgeMs) {
      return withinTimeout(current.promise as Promise<T>, this.maxAgeMs - (now - current.startedAt));
    }
    const flight = {
      promise: start().finally(() => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      }),
      startedAt: now,
    };
    this.flights.set(key, flight);
    return flight.promise as Promise<T>;
  }
}
