import { describe, expect, it } from "vitest";
import { StorageTimeout } from "../../shared/storage/health.js";
import { SingleFlight } from "../../shared/storage/single-flight.js";

/** A promise and the functions that settle it. */
function pending<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

describe("SingleFlight", () => {
  it("shares one flight among the callers that come while it runs, then starts anew", async () => {
    const flights = new SingleFlight(1_000);
    let started = 0;
    const gate = pending<string>();
    const start = () => {
      started++;
      return gate.promise;
    };
    const first = flights.run("k", start);
    const second = flights.run("k", start);
    expect(flights.has("k")).toBe(true);
    gate.resolve("done");
    expect(await Promise.all([first, second])).toEqual(["done", "done"]);
    expect(started).toBe(1);
    expect(flights.has("k")).toBe(false);
    await flights.run("k", async () => started++);
    expect(started).toBe(2);
  });

  it("presumes a flight dead when not started or renewed for its maximum age: the next caller starts a new one", async () => {
    const flights = new SingleFlight(1_000);
    const never = pending<string>();
    void flights.run("k", () => never.promise, 0);
    flights.renew("k", 800);
    expect(flights.has("k", 1_500)).toBe(true);
    expect(flights.has("k", 1_800)).toBe(false);
    expect(await flights.run("k", async () => "fresh", 1_800)).toBe("fresh");
  });

  it("lets a caller wait on another's flight for its maximum age at most", async () => {
    const flights = new SingleFlight(50);
    const never = pending<string>();
    void flights.run("k", () => never.promise);
    const startedAt = Date.now();
    await expect(flights.run("k", async () => "unused")).rejects.toBeInstanceOf(StorageTimeout);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });
});
