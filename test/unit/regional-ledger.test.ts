import { env } from "cloudflare:workers";
import type { Redis } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { refusalOf } from "./fixtures/refusal.js";
import { GatewayError } from "../../shared/http/errors.js";
import type { AdmissionRequest } from "../../shared/ledger/admission.js";
import { DEFAULT_LEASE_TUNING, type LeaseTuning } from "../../shared/ledger/leases.js";
import { type Defer, Ledger } from "../../shared/ledger/ledger.js";
import { drainOutbox, outboxLength } from "../../shared/ledger/outbox.js";
import type { Served } from "../../shared/ledger/settlement.js";
import type { MeteredResponse } from "../../shared/metering/usage.js";
import type { RequestReport } from "../../shared/metrics/samples.js";
import { priceTable } from "../../shared/pricing/cost.js";
import { DEFAULT_PRICES } from "../../shared/pricing/prices.js";
import { redisKeys, usagePeriods } from "../../shared/storage/keys.js";
import { redisClient } from "../../shared/storage/redis.js";
import { type TenantInput, tenantInputSchema } from "../../shared/tenants/model.js";
import { TenantStore } from "../../shared/tenants/store.js";

// The regional ledger against real Redis: a primary and three regions' own databases
// (databases 0-3 of one redis-server, each behind its own Upstash bridge).
const bindings = env as unknown as { UPSTASH_REDIS_REST_URL: string; UPSTASH_REDIS_REST_TOKEN: string; UNIT_REGION_REDIS_REST_URLS: string };
const token = bindings.UPSTASH_REDIS_REST_TOKEN;
const primary = redisClient({ url: bindings.UPSTASH_REDIS_REST_URL, token });
const regionDatabases = bindings.UNIT_REGION_REDIS_REST_URLS.split(",").map((url) => redisClient({ url, token }));
/** A primary nobody answers for: connections are refused. */
const deadPrimary = redisClient({ url: "http://127.0.0.1:9", token });
const tenants = new TenantStore(primary);
const DEFAULTS = { requestsPerMinute: 600, tokensPerMinute: 2_000_000 };
const TUNING: LeaseTuning = { ...DEFAULT_LEASE_TUNING, replicaRefreshMs: 40, replicaMaxAgeMs: 2_500, downForMs: 300 };
const WORST_CASE = 1_000;
const prices = priceTable(DEFAULT_PRICES);

/** Collects deferred work (what waitUntil would run) so a test can wait for it. */
function deferrals() {
  const pending: Promise<unknown>[] = [];
  const defer: Defer = (work) => {
    pending.push(work.catch(() => undefined));
  };
  const settled = async () => {
    while (pending.length > 0) await Promise.all(pending.splice(0));
  };
  return { defer, settled };
}

function regionLedger(id: string, local: Redis, options: { primary?: Redis; drainsScheduled?: string[] } = {}) {
  return new Ledger({
    primary: options.primary ?? primary,
    region: { redis: local, id, count: 3 },
    defaults: DEFAULTS,
    storageTimeoutMs: 2_000,
    tuning: TUNING,
    spool: async () => {
      throw new Error("nothing should need the spool here");
    },
    scheduleDrain: async () => {
      options.drainsScheduled?.push(id);
    },
    keepReplicaFresh: async () => undefined,
  });
}

async function fixture(input: { limits?: Partial<TenantInput["limits"]> } = {}) {
  const tenant = (await tenants.createTenant(tenantInputSchema.parse({ name: "regional ledger", ...input, id: `rl-${crypto.randomUUID().slice(0, 8)}` })))!;
  const { record: key } = await tenants.createKey(tenant.id, { kind: "secret", label: "", requestsPerMinute: null, tokensPerMinute: null });
  const request = (fields: Partial<AdmissionRequest> = {}): Omit<AdmissionRequest, "deadlineMs"> => ({
    reservationId: crypto.randomUUID(),
    keyHash: key.hash,
    key,
    tenant,
    reserveMicroUsd: WORST_CASE,
    tokens: 100,
    reservationTtlMs: 60_000,
    region: "",
    visitor: null,
    checkPolicy: true,
    headStart: false,
    now: new Date(),
    ...fields,
  });
  return { tenant, key, request };
}

/** What a served request used: `inputTokens` of Haiku 4.5 ($1 per million: 1 token = 1 micro-USD). */
function served(inputTokens: number): Served {
  const metered: MeteredResponse = {
    model: "claude-haiku-4-5",
    usage: { inputTokens, outputTokens: 0, cacheCreationInputTokens: 0, cacheCreation1hInputTokens: 0, cacheReadInputTokens: 0, webSearchRequests: 0 },
    stopReason: "end_turn",
    usageReported: true,
    estimated: false,
    generatedChars: 0,
    contentDeltas: 1,
    firstTokenAt: null,
    upstreamError: null,
    completed: true,
  };
  return {
    metered,
    model: "claude-haiku-4-5",
    endpoint: { provider: "anthropic", priceBasisPoints: 10_000 },
    prices,
    strongest: prices.priceOf("claude-haiku-4-5")!,
    request: { id: `egr_${crypto.randomUUID()}`, tierScope: "~light", visitor: null },
  };
}

/** What the pipeline reports of a completed request, for its metrics. */
function reportOf(tenantId: string): RequestReport {
  return {
    dimensions: { region: "unit", tenant: tenantId, model: "claude-haiku-4-5", provider: "anthropic" },
    outcome: "completed",
    tier: "light",
    ttftMs: 420,
    outputTokensPerSecond: 80,
    upstreamError: null,
    headStart: false,
  };
}

async function dayUsage(tenantId: string): Promise<Record<string, number>> {
  const hash = (await primary.hgetall<Record<string, number>>(redisKeys.dailyUsage(tenantId, usagePeriods(new Date()).day))) ?? {};
  return Object.fromEntries(Object.entries(hash).map(([name, value]) => [name, Number(value)]));
}

/** settled + reserved + leased never exceeds the budget, and no region holds more lease than the primary granted it. */
async function expectBudgetInvariant(tenantId: string, budgetMicroUsd: number, regions: Array<{ id: string; local: Redis }>) {
  const day = await dayUsage(tenantId);
  const committed = (day["total|cost"] ?? 0) + (day["total|reserved"] ?? 0) + (day["total|leased"] ?? 0);
  expect(committed).toBeLessThanOrEqual(budgetMicroUsd);
  const scope = `${tenantId}:${usagePeriods(new Date()).day}`;
  const onPrimary = (await primary.hgetall<Record<string, number>>(redisKeys.lease(scope))) ?? {};
  for (const { id, local } of regions) {
    const lease = (await local.hgetall<Record<string, number>>(redisKeys.localLease(scope))) ?? {};
    const figure = (field: string) => Number(lease[field] ?? 0);
    expect(figure("g") - figure("s") - figure("r") - figure("v")).toBeGreaterThanOrEqual(0);
    expect(figure("g")).toBeLessThanOrEqual(Number(onPrimary[`${id}|g`] ?? 0));
  }
}

/** Admits until a request is decided in the region, waiting for the deferred work in between. */
async function warmUp(ledger: Ledger, request: () => Omit<AdmissionRequest, "deadlineMs">) {
  const sides: string[] = [];
  for (let i = 0; i < 6; i++) {
    const { defer, settled } = deferrals();
    const { admission } = await ledger.admit(request(), "closed", defer);
    sides.push(admission.side);
    await ledger.settler(admission, defer)(null, null);
    await settled();
    if (admission.side === "region") return sides;
    await new Promise((resolve) => setTimeout(resolve, TUNING.replicaRefreshMs));
  }
  throw new Error(`never admitted in the region: ${sides.join(", ")}`);
}

describe("a region with its own database", () => {
  it("decides on the primary until it has the records, credit and lease it needs, then locally", async () => {
    const { tenant, request } = await fixture({ limits: { dailyBudgetUsd: 1 } });
    const ledger = regionLedger("r-warm", regionDatabases[0]!);
    const sides = await warmUp(ledger, () => request());
    expect(sides.at(-1)).toBe("region");
    expect(sides.slice(0, -1).every((side) => side === "primary")).toBe(true);

    const { defer, settled } = deferrals();
    const { admission } = await ledger.admit(request(), "closed", defer);
    expect(admission.side).toBe("region");
    expect(admission.headers["x-ratelimit-limit-requests"]).toBe("600");
    await ledger.settler(admission, defer)(served(700), reportOf(tenant.id));
    await settled();
    // The outbox was applied on the primary: the usage is there, once, and drawn from the lease.
    const day = await dayUsage(tenant.id);
    expect(day["total|cost"]).toBe(700);
    expect(day["total|requests"]).toBe(1);
    // The metrics came with the settlement: in the minute's hash and the totals, once.
    const series = `unit|${tenant.id}|claude-haiku-4-5|anthropic`;
    const totals = (await primary.hgetall<Record<string, number>>(redisKeys.metricsTotal())) ?? {};
    expect([totals[`${series}|requests:completed`], totals[`${series}|cost_micro_usd`], totals[`${series}|tier:light`]].map(Number)).toEqual([1, 700, 1]);
    expect(await outboxLength(regionDatabases[0]!)).toBe(0);
    await expectBudgetInvariant(tenant.id, 1_000_000, [{ id: "r-warm", local: regionDatabases[0]! }]);
  });

  it("applies an outbox once however often it is drained", async () => {
    const { tenant, request } = await fixture();
    const local = regionDatabases[1]!;
    const ledger = regionLedger("r-once", local);
    await warmUp(ledger, () => request());
    const { defer } = deferrals();
    const { admission } = await ledger.admit(request(), "open", defer);
    // Settle without letting the ledger drain, then drain from three "isolates" at once.
    await ledger.settler(admission, () => undefined)(served(50), reportOf(tenant.id));
    await Promise.all([drainOutbox(local, primary, "r-once"), drainOutbox(local, primary, "r-once"), drainOutbox(local, primary, "r-once")]);
    await drainOutbox(local, primary, "r-once");
    expect((await dayUsage(tenant.id))["total|requests"]).toBe(1);
  });

  it("refuses a revoked key in the region once the replica follows the change log", async () => {
    const { tenant, key, request } = await fixture();
    const ledger = regionLedger("r-revoke", regionDatabases[2]!);
    await warmUp(ledger, () => request());
    await tenants.revokeKey(tenant.id, key.id);
    await new Promise((resolve) => setTimeout(resolve, TUNING.replicaRefreshMs));
    await ledger.sync();
    // The caller still holds the old records, as an isolate's cache would.
    const refused = await refusalOf(ledger.admit(request(), "closed", () => undefined));
    expect([refused.status, refused.message]).toEqual([401, expect.stringContaining("revoked")]);
  });

  it("three regions, 40 concurrent requests each, a budget for 10 worst cases: at most 10 admitted, at most the budget spent", async () => {
    const budgetMicroUsd = 10 * WORST_CASE;
    const { tenant, request } = await fixture({ limits: { dailyBudgetUsd: budgetMicroUsd / 1e6 } });
    const regions = regionDatabases.map((local, i) => ({ id: `r-budget-${i}`, local }));
    const ledgers = regions.map(({ id, local }) => regionLedger(id, local));
    const { defer, settled } = deferrals();
    const outcomes = await Promise.all(
      ledgers.flatMap((ledger) =>
        Array.from({ length: 40 }, async () => {
          try {
            const { admission } = await ledger.admit(request(), "closed", defer);
            return { ledger, admission };
          } catch (error) {
            if (error instanceof GatewayError && error.status === 402) return null;
            throw error;
          }
        }),
      ),
    );
    const admitted = outcomes.filter((outcome) => outcome !== null);
    expect(admitted.length).toBeGreaterThan(0);
    expect(admitted.length).toBeLessThanOrEqual(10);
    await expectBudgetInvariant(tenant.id, budgetMicroUsd, regions);
    // Every admitted request spends its whole worst case.
    await Promise.all(admitted.map(({ ledger, admission }) => ledger.settler(admission, defer)(served(WORST_CASE), reportOf(tenant.id))));
    await settled();
    await expectBudgetInvariant(tenant.id, budgetMicroUsd, regions);
    const day = await dayUsage(tenant.id);
    expect(day["total|cost"]).toBe(admitted.length * WORST_CASE);
    expect(day["total|reserved"] ?? 0).toBe(0);
  });

  it("keeps serving on its lease while the primary is down, and every record lands once when it is back", async () => {
    const { tenant, request } = await fixture({ limits: { dailyBudgetUsd: 1 } });
    const local = regionDatabases[0]!;
    const up = regionLedger("r-outage", local);
    await warmUp(up, () => request());
    // Let the lease grow past a few requests' worst case.
    for (let i = 0; i < 3; i++) {
      const { defer, settled } = deferrals();
      await up.settler((await up.admit(request(), "closed", defer)).admission, defer)(served(10), reportOf(tenant.id));
      await settled();
    }
    const usageBefore = (await dayUsage(tenant.id))["total|requests"] ?? 0;

    const drainsScheduled: string[] = [];
    const down = regionLedger("r-outage", local, { primary: deadPrimary, drainsScheduled });
    let servedDuringOutage = 0;
    for (let i = 0; i < 4; i++) {
      const { defer, settled } = deferrals();
      const { admission, failedOpen } = await down.admit(request(), "closed", defer);
      expect([admission.side, failedOpen]).toEqual(["region", false]);
      await down.settler(admission, defer)(served(10), reportOf(tenant.id));
      await settled();
      servedDuringOutage++;
    }
    expect(drainsScheduled.length).toBeGreaterThan(0);
    expect(await outboxLength(local)).toBe(servedDuringOutage);
    expect((await dayUsage(tenant.id))["total|requests"] ?? 0).toBe(usageBefore);

    // The primary is back: one drain applies every record, a second applies nothing more.
    await up.drain();
    await up.drain();
    expect((await dayUsage(tenant.id))["total|requests"]).toBe(usageBefore + servedDuringOutage);
    expect(await outboxLength(local)).toBe(0);
    await expectBudgetInvariant(tenant.id, 1_000_000, [{ id: "r-outage", local }]);
  });

  it("keeps a per-minute limit shared by three regions within one central bucket plus the credit lifetime's share", async () => {
    const limit = 60;
    const { request } = await fixture({ limits: { requestsPerMinute: limit } });
    const ledgers = regionDatabases.map((local, i) => regionLedger(`r-rate-${i}`, local));
    const { defer, settled } = deferrals();
    const startedAt = Date.now();
    const runForMs = 3_000;
    let admitted = 0;
    await Promise.all(
      ledgers.map(async (ledger) => {
        while (Date.now() - startedAt < runForMs) {
          try {
            const { admission } = await ledger.admit(request({ tokens: 1 }), "closed", defer);
            admitted++;
            await ledger.settler(admission, defer)(null, null);
          } catch (error) {
            if (!(error instanceof GatewayError) || error.status !== 429) throw error;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      }),
    );
    await settled();
    const elapsedS = (Date.now() - startedAt) / 1000;
    // One central bucket admits its burst (the limit) plus its rate over the window; the
    // regions together hold at most RATE_OVERSHOOT_SHARE of the limit as credit.
    const central = limit + (limit / 60) * elapsedS;
    const bound = central + limit * TUNING.rateOvershootShare;
    console.log(`shared limit of ${limit}/min over ${elapsedS.toFixed(1)} s from 3 regions: ${admitted} admitted (one central bucket: ${central.toFixed(1)}, bound: ${bound.toFixed(1)})`);
    expect(admitted).toBeGreaterThanOrEqual(limit * 0.8);
    expect(admitted).toBeLessThanOrEqual(Math.floor(bound));
  });

  it("gives back a lease it no longer needs, through the outbox", async () => {
    const { tenant, request } = await fixture({ limits: { dailyBudgetUsd: 100 } });
    const local = regionDatabases[1]!;
    const ledger = regionLedger("r-return", local);
    // A large request makes the lease large; small ones after it make it excess.
    await warmUp(ledger, () => request({ reserveMicroUsd: 200_000 }));
    const { defer, settled } = deferrals();
    await ledger.settler((await ledger.admit(request({ reserveMicroUsd: 200_000 }), "closed", defer)).admission, defer)(served(10), reportOf(tenant.id));
    await settled();
    const leasedBefore = (await dayUsage(tenant.id))["total|leased"] ?? 0;
    for (let i = 0; i < 2; i++) {
      const round = deferrals();
      await ledger.settler((await ledger.admit(request({ reserveMicroUsd: 100 }), "closed", round.defer)).admission, round.defer)(served(10), reportOf(tenant.id));
      await round.settled();
    }
    const leasedAfter = (await dayUsage(tenant.id))["total|leased"] ?? 0;
    expect(leasedAfter).toBeLessThan(leasedBefore / 2);
    await expectBudgetInvariant(tenant.id, 100_000_000, [{ id: "r-return", local }]);
  });
});
