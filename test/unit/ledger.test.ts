import { describe, expect, it } from "vitest";
import { unitRedis as redis } from "./fixtures/redis.js";
import { refusalOf } from "./fixtures/refusal.js";
import { GatewayError } from "../../shared/http/errors.js";
import { type AdmissionRequest, AdmissionVoided, admitOnPrimary as admit, PolicyChanged } from "../../shared/ledger/admission.js";
import { bucketKey } from "../../shared/ledger/buckets.js";
import { takeFromBuckets } from "../../shared/ledger/limits.js";
import { type Settlement, writeSettlement } from "../../shared/ledger/settlement.js";
import { NO_USAGE } from "../../shared/pricing/cost.js";
import { redisKeys, usagePeriods } from "../../shared/storage/keys.js";
import { type KeyRecord, type Tenant, tenantInputSchema } from "../../shared/tenants/model.js";

// The ledger's scripts against real Redis (behind the Upstash bridge, started by the project's global setup).
const DEFAULTS = { requestsPerMinute: 600, tokensPerMinute: 2_000_000 };

async function fixture(limits: Partial<Tenant["limits"]> = {}, extra: Partial<Tenant> = {}) {
  const id = `ledger-${crypto.randomUUID().slice(0, 8)}`;
  const now = new Date().toISOString();
  const tenant: Tenant = { ...tenantInputSchema.parse({ name: id, limits }), id, createdAt: now, updatedAt: now, ...extra };
  const key: KeyRecord = {
    id: `key_${id}`,
    tenantId: id,
    kind: "secret",
    label: "",
    hash: `hash-${id}`,
    preview: "",
    requestsPerMinute: null,
    tokensPerMinute: null,
    widget: null,
    createdAt: now,
    updatedAt: now,
    revokedAt: null,
  };
  await redis.set(redisKeys.tenant(id), JSON.stringify(tenant));
  await redis.set(redisKeys.key(key.hash), JSON.stringify(key));
  const request = (fields: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
    reservationId: crypto.randomUUID(),
    keyHash: key.hash,
    key,
    tenant,
    reserveMicroUsd: 1_000,
    tokens: 100,
    reservationTtlMs: 60_000,
    region: "unit",
    visitor: null,
    deadlineMs: 0,
    checkPolicy: true,
    headStart: false,
    now: new Date(),
    ...fields,
  });
  return { tenant, key, request };
}

async function reserved(tenantId: string): Promise<number> {
  return Number((await redis.hget(redisKeys.dailyUsage(tenantId, usagePeriods(new Date()).day), "total|reserved")) ?? 0);
}

function settlement(admitted: { tenantId: string; keyId: string; reservationId: string }, fields: Partial<Settlement> = {}): Settlement {
  return {
    ...admitted,
    periods: usagePeriods(new Date()),
    served: false,
    model: "claude-sonnet-4-6",
    provider: "",
    usage: NO_USAGE,
    costMicroUsd: 0,
    strongestCostMicroUsd: 0,
    estimated: false,
    tokenCorrections: [],
    side: "primary",
    lease: null,
    metrics: null,
    tierScope: "",
    requestRecord: null,
    ...fields,
  };
}

describe("admission", () => {
  it("reserves the worst case and takes from every bucket in one call", async () => {
    const { tenant, request } = await fixture({ requestsPerMinute: 10 });
    const admission = await admit(redis, DEFAULTS, request());
    expect(admission.headers["x-ratelimit-limit-requests"]).toBe("10");
    expect(admission.headers["x-ratelimit-remaining-requests"]).toBe("9");
    expect(await reserved(tenant.id)).toBe(1_000);
  });

  it("refuses a budget it would overrun with 402 billing_error, never retried by SDKs", async () => {
    const { tenant, request } = await fixture({ dailyBudgetUsd: 0.0025 });
    await admit(redis, DEFAULTS, request());
    await admit(redis, DEFAULTS, request());
    const refused = await refusalOf(admit(redis, DEFAULTS, request({ headStart: true })));
    expect([refused.status, refused.type, refused.headers["x-should-retry"]]).toEqual([402, "billing_error", "false"]);
    // Counted in the metrics by the same script, and as a refusal after a head start.
    const totals = (await redis.hgetall<Record<string, number>>(redisKeys.metricsTotal())) ?? {};
    expect([totals[`unit|${tenant.id}|-|-|refused:budget`], totals[`unit|${tenant.id}|-|-|refused:head_start`]].map(Number)).toEqual([1, 1]);
    expect(refused.headers["retry-after"]).toBeUndefined();
    expect(await reserved(tenant.id)).toBe(2_000);
  });

  it("refuses a full bucket with the wait it really needs, and takes nothing then", async () => {
    const { request } = await fixture({ tokensPerMinute: 6_000 });
    await admit(redis, DEFAULTS, request({ tokens: 5_000 }));
    const refused = await refusalOf(admit(redis, DEFAULTS, request({ tokens: 3_000 })));
    expect(refused.type).toBe("rate_limit_error");
    // 2,000 more tokens at 100 a second: about 20 s, not 1 s.
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(19);
    const tooBig = await refusalOf(admit(redis, DEFAULTS, request({ tokens: 7_000 })));
    expect(tooBig.headers["x-should-retry"]).toBe("false");
    expect(tooBig.message).toContain("more than your account's limit");
  });

  it("takes nothing and hands back the current records when the policy changed since the caller read it", async () => {
    const { tenant, request } = await fixture({ requestsPerMinute: 2 });
    await admit(redis, DEFAULTS, request());
    await admit(redis, DEFAULTS, request());
    expect((await refusalOf(admit(redis, DEFAULTS, request()))).status).toBe(429);
    const raised = { ...tenant, limits: { ...tenant.limits, requestsPerMinute: 600 }, updatedAt: new Date(Date.now() + 1).toISOString() };
    await redis.set(redisKeys.tenant(tenant.id), JSON.stringify(raised));
    // The caller still holds the old tenant (as an isolate cache would).
    const changed = await admit(redis, DEFAULTS, request()).catch((error: unknown) => error);
    expect(changed).toBeInstanceOf(PolicyChanged);
    expect((changed as PolicyChanged).tenant.limits.requestsPerMinute).toBe(600);
    const admission = await admit(redis, DEFAULTS, request({ tenant: (changed as PolicyChanged).tenant }));
    expect(admission.headers["x-ratelimit-limit-requests"]).toBe("600");
  });

  it("refuses a tenant pinned elsewhere with the pin, so the front Worker can route there", async () => {
    const { request } = await fixture({}, { regionPin: ["eu-west"] });
    const refused = await refusalOf(admit(redis, DEFAULTS, request()));
    expect([refused.status, refused.headers["x-edgegate-pinned"], refused.headers["x-edgegate-upstream-calls"]]).toEqual([403, "eu-west", "0"]);
  });

  it("does nothing when it reaches storage after its deadline, or after its request was settled", async () => {
    const { tenant, key, request } = await fixture();
    await expect(admit(redis, DEFAULTS, request({ deadlineMs: Date.now() - 10 }))).rejects.toBeInstanceOf(AdmissionVoided);
    const late = request();
    await writeSettlement(redis, settlement({ tenantId: tenant.id, keyId: key.id, reservationId: late.reservationId }));
    await expect(admit(redis, DEFAULTS, late)).rejects.toBeInstanceOf(AdmissionVoided);
    expect(await reserved(tenant.id)).toBe(0);
  });
});

describe("settlement", () => {
  it("settles once, releases the reservation and never gives back more than was taken", async () => {
    const { tenant, key, request } = await fixture({ tokensPerMinute: 1_000 });
    const admission = await admit(redis, DEFAULTS, request({ tokens: 400 }));
    const [tokens] = admission.tokenBuckets;
    // The answer used 100 tokens of the 400 taken: 300 come back; a larger refund cannot give back more than was taken.
    const written = settlement(
      { tenantId: tenant.id, keyId: key.id, reservationId: admission.reservationId },
      {
        served: true,
        usage: { ...NO_USAGE, inputTokens: 60, outputTokens: 40 },
        costMicroUsd: 77,
        tokenCorrections: [
          { bucket: tokens!.key, side: "primary", capacity: 1_000, correction: -300, charged: 400, chargedAt: admission.admittedAt },
          { bucket: tokens!.key, side: "primary", capacity: 1_000, correction: -900, charged: 400, chargedAt: admission.admittedAt },
        ],
      },
    );
    expect(await writeSettlement(redis, written)).toBe(1);
    expect(await writeSettlement(redis, written)).toBe(0);
    expect(await reserved(tenant.id)).toBe(0);
    const day = await redis.hgetall<Record<string, number>>(redisKeys.dailyUsage(tenant.id, usagePeriods(new Date()).day));
    expect(day).toMatchObject({ "total|cost": 77, "total|requests": 1, "total|input": 60, "total|output": 40 });
    expect(Number(await redis.hget(tokens!.key, "u"))).toBe(0);
  });
});

describe("token corrections", () => {
  it("give back only what of a charge has not drained since it was taken", async () => {
    const { tenant, key, request } = await fixture({ tokensPerMinute: 6_000 });
    const admission = await admit(redis, DEFAULTS, request({ tokens: 3_000 }));
    const [tokens] = admission.tokenBuckets;
    const other = await admit(redis, DEFAULTS, request({ tokens: 2_000 }));
    // Settled as if taken 20 s ago: 2,000 of its 3,000 have drained since, so an answer of 0 tokens gives back 1,000 at most.
    const written = settlement(
      { tenantId: tenant.id, keyId: key.id, reservationId: admission.reservationId },
      { tokenCorrections: [{ bucket: tokens!.key, side: "primary", capacity: 6_000, correction: -3_000, charged: 3_000, chargedAt: admission.admittedAt - 20_000 }] },
    );
    await writeSettlement(redis, written);
    const use = Number(await redis.hget(tokens!.key, "u"));
    expect(use).toBeGreaterThan(3_900);
    expect(use).toBeLessThanOrEqual(4_000);
    void other;
  });
});

describe("limits outside the hot path", () => {
  it("take from every bucket or from none", async () => {
    const id = crypto.randomUUID();
    const buckets = [
      { scope: "auth" as const, id, dimension: "requests" as const, capacity: 2, cost: 1 },
      { scope: "admin" as const, id, dimension: "requests" as const, capacity: 5, cost: 1 },
    ];
    await takeFromBuckets(redis, buckets);
    await takeFromBuckets(redis, buckets);
    const refused = await refusalOf(takeFromBuckets(redis, buckets));
    expect(refused.status).toBe(429);
    expect(Number(await redis.hget(bucketKey(buckets[1]!), "u"))).toBeCloseTo(2, 0);
  });
});
