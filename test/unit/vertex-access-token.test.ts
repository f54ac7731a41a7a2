import { describe, expect, it } from "vitest";
import { type AccessToken, AccessTokenCache, AccessTokenTimeout } from "../../shared/providers/vertex/access-token.js";

const HOUR_MS = 3_600_000;
const MARGIN_MS = 5 * 60_000;

/** A mint whose tokens the test hands out by hand, counting the calls. */
function manualMint() {
  const pending: Array<{ resolve: (token: AccessToken) => void; reject: (error: Error) => void }> = [];
  let calls = 0;
  const mint = (): Promise<AccessToken> => {
    calls += 1;
    return new Promise((resolve, reject) => pending.push({ resolve, reject }));
  };
  return {
    mint,
    calls: () => calls,
    issue(token: string, expiresAt: number): void {
      pending.shift()!.resolve({ token, expiresAt });
    },
    fail(error: Error): void {
      pending.shift()!.reject(error);
    },
  };
}

function cacheWith(mint: () => Promise<AccessToken>, clock: { now: number }, waitLimitMs = 10_000): AccessTokenCache {
  return new AccessTokenCache(mint, { refreshMarginMs: MARGIN_MS, waitLimitMs, now: () => clock.now });
}

const signal = (): AbortSignal => new AbortController().signal;

/** A cache that has minted "t1", valid for an hour from time 0. */
async function cacheHoldingT1() {
  const clock = { now: 0 };
  const minted = manualMint();
  const cache = cacheWith(minted.mint, clock);
  const first = cache.get(signal());
  minted.issue("t1", HOUR_MS);
  await first;
  return { clock, minted, cache };
}
const settled = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe("AccessTokenCache", () => {
  it("makes one mint for 50 concurrent callers and hands them all its token", async () => {
    const clock = { now: 0 };
    const minted = manualMint();
    const cache = cacheWith(minted.mint, clock);
    const callers = Array.from({ length: 50 }, () => cache.get(signal()));
    await settled();
    expect(minted.calls()).toBe(1);
    minted.issue("t1", HOUR_MS);
    expect(new Set(await Promise.all(callers))).toEqual(new Set(["t1"]));
    expect(await cache.get(signal())).toBe("t1");
    expect(minted.calls()).toBe(1);
  });

  it("refreshes shortly before expiry: one caller waits for the new token, the others keep the valid one", async () => {
    const { clock, minted, cache } = await cacheHoldingT1();

    clock.now = HOUR_MS - MARGIN_MS + 1;
    const refresher = cache.get(signal());
    const others = await Promise.all(Array.from({ length: 49 }, () => cache.get(signal())));
    expect(others.every((token) => token === "t1")).toBe(true);
    expect(minted.calls()).toBe(2);
    minted.issue("t2", clock.now + HOUR_MS);
    expect(await refresher).toBe("t2");
    expect(await cache.get(signal())).toBe("t2");
  });

  it("makes every caller wait for the one mint once the token has expired", async () => {
    const { clock, minted, cache } = await cacheHoldingT1();

    clock.now = HOUR_MS + 1;
    const callers = Array.from({ length: 50 }, () => cache.get(signal()));
    await settled();
    expect(minted.calls()).toBe(2);
    minted.issue("t2", clock.now + HOUR_MS);
    expect(new Set(await Promise.all(callers))).toEqual(new Set(["t2"]));
  });

  it("refreshes at half the lifetime when the token lives shorter than twice the margin", async () => {
    const clock = { now: 0 };
    const minted = manualMint();
    const cache = cacheWith(minted.mint, clock);
    const first = cache.get(signal());
    minted.issue("short", 60_000);
    await first;
    clock.now = 29_000;
    expect(await cache.get(signal())).toBe("short");
    expect(minted.calls()).toBe(1);
    clock.now = 31_000;
    const refresher = cache.get(signal());
    expect(minted.calls()).toBe(2);
    minted.issue("next", clock.now + 60_000);
    expect(await refresher).toBe("next");
  });

  it("does not cache a failed mint: its waiters get the error, the next caller mints again", async () => {
    const clock = { now: 0 };
    const minted = manualMint();
    const cache = cacheWith(minted.mint, clock);
    const callers = [cache.get(signal()), cache.get(signal())];
    minted.fail(new Error("invalid_grant"));
    for (const caller of callers) await expect(caller).rejects.toThrow("invalid_grant");
    const retry = cache.get(signal());
    expect(minted.calls()).toBe(2);
    minted.issue("t1", HOUR_MS);
    expect(await retry).toBe("t1");
  });

  it("keeps the valid token when a refresh fails", async () => {
    const { clock, minted, cache } = await cacheHoldingT1();
    clock.now = HOUR_MS - 1000;
    const refresher = cache.get(signal());
    minted.fail(new Error("token endpoint down"));
    expect(await refresher).toBe("t1");
  });

  it("forgets a token the provider refused", async () => {
    const { minted, cache } = await cacheHoldingT1();
    cache.invalidate("other");
    expect(await cache.get(signal())).toBe("t1");
    cache.invalidate("t1");
    const next = cache.get(signal());
    minted.issue("t2", HOUR_MS);
    expect(await next).toBe("t2");
  });

  it("stops a caller's wait when its own signal aborts, without disturbing the others", async () => {
    const clock = { now: 0 };
    const minted = manualMint();
    const cache = cacheWith(minted.mint, clock);
    const controller = new AbortController();
    const leaving = cache.get(controller.signal);
    const staying = cache.get(signal());
    controller.abort(new Error("client left"));
    await expect(leaving).rejects.toThrow("client left");
    minted.issue("t1", HOUR_MS);
    expect(await staying).toBe("t1");
  });

  it("gives up on a mint that never settles, and the next caller starts a new one", async () => {
    const clock = { now: 0 };
    const minted = manualMint();
    const cache = cacheWith(minted.mint, clock, 20);
    await expect(cache.get(signal())).rejects.toBeInstanceOf(AccessTokenTimeout);
    clock.now = 25;
    const next = cache.get(signal());
    expect(minted.calls()).toBe(2);
    minted.issue("lost", HOUR_MS);
    minted.issue("t2", HOUR_MS);
    expect(await next).toBe("t2");
  });
});
