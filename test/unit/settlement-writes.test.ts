import { afterEach, describe, expect, it, vi } from "vitest";
import { dayUsage, deferrals, fixture, primaryLedger, reportOf, served } from "./fixtures/regional-ledger.js";

// Settlements through the real Upstash client (auto-pipelining on) to real Redis behind the bridge.

afterEach(() => {
  vi.restoreAllMocks();
});

/** Lets the client's auto-pipelining send what was issued (it waits two microtasks); no answer can arrive meanwhile. */
async function afterPipelineSent(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe("settlement writes", () => {
  it("made while one is in flight reach Upstash together, in one request of EVALSHA commands", async () => {
    const { tenant, request } = await fixture();
    const ledger = primaryLedger();
    const { defer, settled } = deferrals();
    const admissions = [];
    for (let i = 0; i < 6; i++) admissions.push((await ledger.admit(request(), "closed", defer)).admission);
    // The first settlement also has Redis load the script (EVALSHA, then EVAL).
    await ledger.settler(admissions.shift()!, defer)(served(10), reportOf(tenant.id));

    const fetch = vi.spyOn(globalThis, "fetch");
    const settling = [];
    for (const admission of admissions) {
      settling.push(ledger.settler(admission, defer)(served(10), reportOf(tenant.id)));
      await afterPipelineSent(); // without holding, each settlement would be a request of its own
    }
    await Promise.all(settling);
    await settled();

    const bodies = fetch.mock.calls.map(([, init]) => JSON.parse(String(init?.body)) as string[][]);
    expect(bodies.map((commands) => commands.map(([name]) => name))).toEqual([["evalsha"], ["evalsha", "evalsha", "evalsha", "evalsha"]]);
    const day = await dayUsage(tenant.id);
    expect([day["total|input"], day["total|reserved"] ?? 0]).toEqual([60, 0]);
  });
});
