import { describe, expect, it } from "vitest";
import { CACHE_BREAKER_DEFAULTS, CacheApiBreakerStore } from "../../shared/geo/breaker-store.js";
import {
  CLOSED_BREAKER,
  DEFAULT_BREAKER_CONFIG,
  breakerStatus,
  canAttempt,
  isBreakerState,
  recordFailure,
  recordSuccess,
  type BreakerState,
} from "../../shared/geo/circuit-breaker.js";
import { isRegionFailure } from "../../shared/geo/health.js";

const { failureWindowMs, coolDownMs, probeTimeoutMs } = DEFAULT_BREAKER_CONFIG;

function failAt(state: BreakerState, ...times: number[]): BreakerState {
  return times.reduce((current, now) => recordFailure(current, now), state);
}

/** A breaker opened at `at` by three quick failures. */
const openedAt = (at: number) => failAt(CLOSED_BREAKER, at - 2, at - 1, at);

describe("circuit breaker: closed", () => {
  it("opens on the third consecutive failure within the window, and then refuses requests", () => {
    const twice = failAt(CLOSED_BREAKER, 1_000, 2_000);
    expect(twice.status).toBe("closed");
    expect(canAttempt(twice, 2_001)).toMatchObject({ allowed: true, probe: false });
    const thrice = recordFailure(twice, 3_000);
    expect(thrice).toEqual({ status: "open", openedAt: 3_000 });
    expect(canAttempt(thrice, 3_001)).toMatchObject({ allowed: false, probe: false });
  });

  it("does not open for failures spread out beyond the window", () => {
    const spread = failAt(CLOSED_BREAKER, 0, failureWindowMs / 2, failureWindowMs, failureWindowMs * 1.5 + 1);
    expect(spread.status).toBe("closed");
    // Three failures within one window, the oldest about to leave it, do open it.
    expect(recordFailure(spread, failureWindowMs * 2 - 1).status).toBe("open");
  });

  it("counts consecutive failures only: a success in between starts over", () => {
    const state = recordFailure(recordSuccess(failAt(CLOSED_BREAKER, 1, 2), 3), 4);
    expect(state).toEqual({ status: "closed", recentFailures: [4] });
  });

  it("returns the same state object when nothing changes, so callers can skip the write", () => {
    expect(recordSuccess(CLOSED_BREAKER, 5)).toBe(CLOSED_BREAKER);
    expect(canAttempt(CLOSED_BREAKER, 5).state).toBe(CLOSED_BREAKER);
    const open = openedAt(100);
    expect(canAttempt(open, 101).state).toBe(open);
  });

  it("honours a custom threshold", () => {
    const config = { ...DEFAULT_BREAKER_CONFIG, failureThreshold: 1 };
    expect(recordFailure(CLOSED_BREAKER, 10, config)).toEqual({ status: "open", openedAt: 10 });
  });
});

describe("circuit breaker: open and half-open", () => {
  const t = 50_000;
  const open = openedAt(t);

  it("lets exactly one probe through once the cool-down is over", () => {
    expect(canAttempt(open, t + coolDownMs - 1).allowed).toBe(false);
    expect(breakerStatus(open, t + coolDownMs - 1)).toBe("open");
    const first = canAttempt(open, t + coolDownMs);
    expect(first).toMatchObject({ allowed: true, probe: true });
    expect(first.state).toEqual({ status: "half-open", probeLeaseExpiresAt: t + coolDownMs + probeTimeoutMs });
    expect(breakerStatus(open, t + coolDownMs)).toBe("half-open");
    const second = canAttempt(first.state, t + coolDownMs + 1);
    expect(second).toMatchObject({ allowed: false, probe: false });
    expect(second.state).toBe(first.state);
  });

  it("closes when the probe succeeds", () => {
    const probing = canAttempt(open, t + coolDownMs).state;
    const closed = recordSuccess(probing, t + coolDownMs + 200);
    expect(closed).toEqual(CLOSED_BREAKER);
    expect(canAttempt(closed, t + coolDownMs + 201)).toMatchObject({ allowed: true, probe: false });
  });

  it("re-opens, with a fresh cool-down, when the probe fails", () => {
    const failedAt = t + coolDownMs + 300;
    const reopened = recordFailure(canAttempt(open, t + coolDownMs).state, failedAt);
    expect(reopened).toEqual({ status: "open", openedAt: failedAt });
    expect(canAttempt(reopened, failedAt + coolDownMs - 1).allowed).toBe(false);
    expect(canAttempt(reopened, failedAt + coolDownMs).probe).toBe(true);
  });

  it("lets another probe through when the probe's lease runs out without a result", () => {
    const probing = canAttempt(open, t + coolDownMs).state;
    const expiry = t + coolDownMs + probeTimeoutMs;
    expect(canAttempt(probing, expiry - 1).allowed).toBe(false);
    const next = canAttempt(probing, expiry);
    expect(next).toMatchObject({ allowed: true, probe: true, state: { status: "half-open", probeLeaseExpiresAt: expiry + probeTimeoutMs } });
  });

  it("ignores results of requests sent before it opened, until the cool-down is over", () => {
    expect(recordSuccess(open, t + 1)).toBe(open);
    expect(recordFailure(open, t + coolDownMs - 1)).toBe(open);
    expect(recordSuccess(open, t + coolDownMs)).toEqual(CLOSED_BREAKER);
    expect(recordFailure(open, t + coolDownMs)).toEqual({ status: "open", openedAt: t + coolDownMs });
  });

  it("survives a JSON round trip, and rejects malformed stored values", () => {
    for (const state of [CLOSED_BREAKER, failAt(CLOSED_BREAKER, 1), open, canAttempt(open, t + coolDownMs).state]) {
      const copy: unknown = JSON.parse(JSON.stringify(state));
      expect(isBreakerState(copy)).toBe(true);
      expect(copy).toEqual(state);
    }
    for (const bad of [null, "open", {}, { status: "open" }, { status: "closed", recentFailures: ["x"] }, { status: "ajar", openedAt: 1 }]) {
      expect(isBreakerState(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("isRegionFailure", () => {
  it("counts connect errors and 5xx (529 included), not 2xx-4xx", () => {
    for (const status of [null, 500, 502, 503, 504, 529]) expect(isRegionFailure(status), String(status)).toBe(true);
    for (const status of [200, 201, 400, 401, 403, 404, 413, 429, 499]) expect(isRegionFailure(status), String(status)).toBe(false);
  });
});

describe("CacheApiBreakerStore (Workers Cache API)", () => {
  const freshCache = () => `breakers-test-${crypto.randomUUID()}`;

  /** A clock the test moves by hand, shared by the stores of one test. */
  function clock(start: number) {
    const time = { now: start };
    return { time, now: () => time.now };
  }

  it("reads closed for a region never written", async () => {
    expect(await new CacheApiBreakerStore({ cacheName: freshCache() }).get("us-east")).toEqual(CLOSED_BREAKER);
  });

  it("round-trips a state through the cache, with the configured TTL", async () => {
    const cacheName = freshCache();
    const open: BreakerState = { status: "open", openedAt: 1234 };
    await new CacheApiBreakerStore({ cacheName }).put("eu-west", open);

    expect(await new CacheApiBreakerStore({ cacheName }).get("eu-west")).toEqual(open);
    const entry = await (await caches.open(cacheName)).match(`${CACHE_BREAKER_DEFAULTS.keyPrefix}eu-west`);
    expect(entry?.headers.get("cache-control")).toBe(`max-age=${CACHE_BREAKER_DEFAULTS.ttlSeconds}`);
    expect(await entry?.json()).toMatchObject({ state: open });
  });

  it("shares writes between isolates, each re-reading the cache once its memo is 250 ms old", async () => {
    const cacheName = freshCache();
    const { time, now } = clock(1_000_000);
    const isolateA = new CacheApiBreakerStore({ cacheName, now });
    const isolateB = new CacheApiBreakerStore({ cacheName, now });
    const open: BreakerState = { status: "open", openedAt: time.now };

    await isolateA.put("ap-southeast", open);
    expect(await isolateB.get("ap-southeast")).toEqual(open);

    time.now += 1;
    await isolateB.put("ap-southeast", CLOSED_BREAKER);
    time.now += 100;
    expect(await isolateA.get("ap-southeast")).toEqual(open);
    time.now += CACHE_BREAKER_DEFAULTS.memoMs;
    expect(await isolateA.get("ap-southeast")).toEqual(CLOSED_BREAKER);
  });

  it("keeps this isolate's own newer write when the cache has lost it", async () => {
    const cacheName = freshCache();
    const { time, now } = clock(2_000_000);
    const store = new CacheApiBreakerStore({ cacheName, now });
    const open: BreakerState = { status: "open", openedAt: time.now };
    await store.put("us-east", open);
    await (await caches.open(cacheName)).delete(`${CACHE_BREAKER_DEFAULTS.keyPrefix}us-east`);

    time.now += CACHE_BREAKER_DEFAULTS.memoMs * 4;
    expect(await store.get("us-east")).toEqual(open);
  });

  it("treats a malformed cache entry as absent", async () => {
    const cacheName = freshCache();
    const response = new Response('{"state":{"status":"ajar"},"writtenAt":1}', { headers: { "cache-control": "max-age=60" } });
    await (await caches.open(cacheName)).put(`${CACHE_BREAKER_DEFAULTS.keyPrefix}eu-west`, response);
    expect(await new CacheApiBreakerStore({ cacheName }).get("eu-west")).toEqual(CLOSED_BREAKER);
  });

  it("gives the half-open probe lease to exactly one of many concurrent requests in an isolate", async () => {
    const cacheName = freshCache();
    const { time, now } = clock(3_000_000);
    await new CacheApiBreakerStore({ cacheName, now }).put("eu-west", { status: "open", openedAt: time.now });
    time.now += coolDownMs;

    const isolate = new CacheApiBreakerStore({ cacheName, now });
    const decisions = await Promise.all(
      Array.from({ length: 8 }, () => isolate.update("eu-west", (state) => canAttempt(state, time.now))),
    );
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(1);
    expect(decisions.filter((decision) => decision.probe)).toHaveLength(1);

    // Another isolate of the colo sees the lease and sends no probe of its own.
    time.now += 1;
    const otherIsolate = new CacheApiBreakerStore({ cacheName, now });
    expect((await otherIsolate.update("eu-west", (state) => canAttempt(state, time.now))).allowed).toBe(false);
  });

  it("stores nothing when an update changes nothing", async () => {
    const cacheName = freshCache();
    const store = new CacheApiBreakerStore({ cacheName });
    const decision = await store.update("us-east", (state) => canAttempt(state, 1));
    expect(decision).toMatchObject({ allowed: true, probe: false });
    expect(await (await caches.open(cacheName)).match(`${CACHE_BREAKER_DEFAULTS.keyPrefix}us-east`)).toBeUndefined();
  });
});
