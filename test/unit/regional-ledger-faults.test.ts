import { afterEach, describe, expect, it, vi } from "vitest";
import { GatewayError } from "../../shared/http/errors.js";
import type { AdmissionRequest } from "../../shared/ledger/admission.js";
import { creditCap, creditTarget } from "../../shared/ledger/leases.js";
import { Ledger } from "../../shared/ledger/ledger.js";
import { redisKeys } from "../../shared/storage/keys.js";
import {
  DEFAULTS,
  dayUsage,
  deferrals,
  expectBudgetInvariant,
  fixture,
  primary,
  regionDatabases,
  regionLedger,
  reportOf,
  served,
  settlementWrites,
  tenants,
  TUNING,
  warmUp,
  WORST_CASE,
} from "./fixtures/regional-ledger.js";

// Faults and edge cases of the regional ledger, each first found failing by a review.

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Admits and settles one request at a time (each spending `spend`), until a budget refusal; returns the sides admitted on. */
async function spendUntilRefused(ledger: Ledger, request: () => Omit<AdmissionRequest, "deadlineMs">, tenantId: string, spend: number, most: number) {
  const sides: string[] = [];
  for (let i = 0; i < most; i++) {
    const { defer, settled } = deferrals();
    try {
      const { admission } = await ledger.admit(request(), "closed", defer);
      sides.push(admission.side);
      await ledger.settler(admission, defer)(served(spend), reportOf(tenantId));
    } catch (error) {
      await settled();
      if (error instanceof GatewayError && error.status === 402) return { sides, refused: true };
      throw error;
    }
    await settled();
    await pause(TUNING.replicaRefreshMs);
  }
  return { sides, refused: false };
}

describe("the regional ledger under faults and edge cases", () => {
  it("a lone region spends the whole budget before it is refused (no lease left stranded too small to use)", async () => {
    const budget = 10 * WORST_CASE;
    const { tenant, request } = await fixture({ limits: { dailyBudgetUsd: budget / 1e6 } });
    const ledger = regionLedger("rv-strand", regionDatabases[0]!);
    const { sides } = await spendUntilRefused(ledger, () => request(), tenant.id, WORST_CASE, 12);
    expect(sides.length).toBe(10);
    expect((await dayUsage(tenant.id))["total|cost"]).toBe(budget);
    await expectBudgetInvariant(tenant.id, budget, [{ id: "rv-strand", local: regionDatabases[0]! }]);
  });

  it("a region database that lost its copy of a lease does not spend the lease twice", async () => {
    const budget = 100 * WORST_CASE;
    const { tenant, request } = await fixture({ limits: { dailyBudgetUsd: budget / 1e6 } });
    const local = regionDatabases[1]!;
    await spendUntilRefused(regionLedger("rv-flush", local), () => request(), tenant.id, WORST_CASE, 40);
    await local.flushdb(); // a new (or flushed, or evicted) region database
    const { refused } = await spendUntilRefused(regionLedger("rv-flush", local), () => request(), tenant.id, WORST_CASE, 200);
    expect(refused).toBe(true);
    expect((await dayUsage(tenant.id))["total|cost"]).toBeLessThanOrEqual(budget);
    await expectBudgetInvariant(tenant.id, budget, [{ id: "rv-flush", local }]);
  });

  it("a request admitted by a replica without the budget is not drawn from the lease", async () => {
    const { tenant, key, request } = await fixture();
    const local = regionDatabases[2]!;
    const ledger = regionLedger("rv-mismatch", local);
    await warmUp(ledger, () => request());
    // The operator adds a daily budget; this isolate learned it (e.g. from the primary's PolicyChanged), the replica not yet.
    const budgeted = (await tenants.updateTenant(tenant.id, { limits: { dailyBudgetUsd: 0.001 } }))!;
    const { defer, settled } = deferrals();
    const { admission } = await ledger.admit(request({ tenant: budgeted, key, checkPolicy: false }), "closed", defer);
    await ledger.settler(admission, defer)(served(700), reportOf(tenant.id));
    await settled();
    expect(admission.lease).toBeNull(); // the replica's tenant has no budget: nothing was reserved on a lease
    expect((await dayUsage(tenant.id))["total|leased"] ?? 0).toBeGreaterThanOrEqual(0);
    expect((await dayUsage(tenant.id))["total|cost"]).toBe(700);
  });
});

describe("leases across days", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("the lease of a day is handed back on a later day, even with no traffic the day after", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-12-10T12:00:00Z"));
    const budget = 40 * WORST_CASE;
    const { tenant, request } = await fixture({ limits: { monthlyBudgetUsd: budget / 1e6 } });
    const ledger = regionLedger("rv-gap", regionDatabases[0]!);
    await spendUntilRefused(ledger, () => request({ now: new Date() }), tenant.id, WORST_CASE, 8);
    const scopeD = redisKeys.lease(`${tenant.id}:2026-12-10`);
    // No traffic in this region on the 11th; the 12th:
    vi.setSystemTime(new Date("2026-12-12T12:00:00Z"));
    const later = await spendUntilRefused(ledger, () => request({ now: new Date() }), tenant.id, WORST_CASE, 60);
    const leaseD = (await primary.hgetall<Record<string, number>>(scopeD)) ?? {};
    const outstandingD = Number(leaseD["rv-gap|g"] ?? 0) - Number(leaseD["rv-gap|s"] ?? 0) - Number(leaseD["rv-gap|r"] ?? 0);
    expect(outstandingD).toBe(0);
    // So the month's budget is spent to the last request, not held back by the 10th's lease.
    expect(later.refused).toBe(true);
    const month = (await primary.hgetall<Record<string, number>>(redisKeys.monthlyUsage(tenant.id, "2026-12"))) ?? {};
    expect(Number(month["total|cost"])).toBe(budget);
  });
});

describe("the primary's health as the hot path sees it", () => {
  it("a slow outbox drain does not make the isolate use a replica of any age while the primary answers", async () => {
    const { tenant, key, request } = await fixture();
    const local = regionDatabases[2]!;
    const ledger = new Ledger({
      primary,
      region: { redis: local, id: "rv-health", count: 3 },
      defaults: DEFAULTS,
      storageTimeoutMs: 60,
      settlementWrites: settlementWrites(60),
      tuning: TUNING,
      spool: async () => undefined,
      scheduleDrain: async () => undefined,
      keepReplicaFresh: async () => undefined,
    });
    await warmUp(ledger, () => request());
    await tenants.revokeKey(tenant.id, key.id);
    await pause(TUNING.replicaMaxAgeMs + 300); // the replica is now too old to be used while the primary answers
    // A backlog in the outbox (e.g. after a primary outage): harmless metric-only records.
    const base = Number(await local.incrby(redisKeys.outboxSeq(), 4000)) - 3999;
    const increments = JSON.stringify(Array.from({ length: 40 }, (_, j) => [`review|x${j}`, 1]));
    const records = Array.from({ length: 4000 }, (_, i) => `${base + i}|{"s":0,"u":{},"lu":"","m":"","p":"","c":{},"l":"","ln":{},"x":0,"b":{},"mk":"eg:mx:review","mx":${increments}}`);
    for (let i = 0; i < records.length; i += 500) await local.rpush(redisKeys.outbox(), ...records.slice(i, i + 500));
    await ledger.drain(); // takes longer than the storage timeout, though the primary answers every call
    const outcome = await ledger.admit(request(), "closed", () => undefined).then(
      ({ admission }) => `admitted on ${admission.side}`,
      (error: unknown) => `refused: ${String(error)}`,
    );
    expect(outcome).toMatch(/refused/);
  });
});

describe("rate credit for small limits", () => {
  it("is not issued when a limit is too small to share within the overshoot bound: the primary decides", () => {
    // 10% of 20 a minute over three regions is less than one request.
    expect(creditCap(20, 3, TUNING)).toBe(0);
    expect(creditTarget(100, 1, 20, 3, TUNING)).toBe(0);
    expect(creditCap(600, 3, TUNING)).toBe(20);
  });
});
