import type { Redis } from "@upstash/redis";
import { minuteOf } from "../metrics/samples.js";
import { redisKeys, usagePeriods } from "../storage/keys.js";
import { runScript } from "../storage/scripts.js";
import { type KeyRecord, type Tenant, policyVersion } from "../tenants/model.js";
import { parse } from "../tenants/store.js";
import {
  type Admission,
  type AdmissionRequest,
  admissionRefusal,
  AdmissionVoided,
  keyShareOf,
  PolicyChanged,
  refusalPrefix,
  visibleHeaders,
} from "./admission.js";
import { headroomOf } from "./headroom.js";
import { type BucketState, type DefaultLimits, admissionBuckets } from "./buckets.js";
import { type LeaseScope, leaseScope, type PlacedBucket, placeBuckets } from "./regional-plan.js";
import { LOCAL_ADMIT } from "./scripts/region.js";

/** What the region's database knew when it admitted: the inputs of the top-up decisions. */
export interface LocalFigures {
  /** Lease left after this request's reservation (-1: the tenant has no budget). */
  leaseAvailable: number;
  leaseSpendLastMinute: number;
  leaseGranted: number;
  /** When the replica was last read from the primary (gateway clock, ms). */
  replicaReadAt: number;
  credits: Array<{ placed: PlacedBucket; credit: number; usedLastMinute: number }>;
}

/** Why the region could not decide on its own: the primary decides this request. */
export type PrimaryReason = "not_replicated" | "replica_stale" | "lease_short" | "credit_short";

export type LocalOutcome =
  | { kind: "admitted"; admission: Admission; figures: LocalFigures; plan: RegionalPlan }
  | { kind: "to_primary"; reason: PrimaryReason; plan: RegionalPlan; lease: { available: number; spendLastMinute: number; granted: number } | null };

/** The keys a request touches in the region's database. */
export interface RegionalPlan {
  lease: LeaseScope;
  buckets: PlacedBucket[];
}

export interface RegionContext {
  primaryReachable: boolean;
  regionCount: number;
  /** Oldest replica the admission may use (ms of age; 0 = any, while the primary is unreachable). */
  replicaMaxAgeMs: number;
}

/**
 * Admission in the region's own database (one round trip): the replicated records, the
 * region's budget lease, its rate credits and local buckets. Refusals it is sure of (a
 * revoked key, a visitor's limit) are final; when it lacks what it needs it says why,
 * and the primary decides.
 */
export async function admitInRegion(local: Redis, defaults: DefaultLimits, request: AdmissionRequest, context: RegionContext): Promise<LocalOutcome> {
  const { key, tenant } = request;
  const periods = usagePeriods(request.now);
  const buckets = placeBuckets(admissionBuckets(key, tenant, defaults, request.tokens, request.visitor), context.primaryReachable, context.regionCount);
  const plan: RegionalPlan = { lease: leaseScope(tenant.id, periods, keyShareOf(request)), buckets };
  const reply = await runScript<[string, unknown, unknown, ...unknown[]]>(
    local,
    LOCAL_ADMIT,
    [
      redisKeys.replicaKeys(),
      redisKeys.replicaTenants(),
      redisKeys.replicaState(),
      plan.lease.localKey,
      redisKeys.reservations(tenant.id),
      redisKeys.reservationExpiry(tenant.id),
      redisKeys.settled(request.reservationId),
      redisKeys.outbox(),
      redisKeys.outboxSeq(),
      ...buckets.map((placed) => placed.localKey),
    ],
    [
      request.reservationId,
      request.reserveMicroUsd,
      request.reservationTtlMs,
      request.deadlineMs,
      request.checkPolicy ? policyVersion(key, tenant) : "",
      request.region,
      request.keyHash,
      key.tenantId,
      Date.now(),
      context.replicaMaxAgeMs,
      redisKeys.metricsMinute(minuteOf(Date.now())),
      refusalPrefix(request),
      request.headStart ? "1" : "",
      buckets.map((placed) => (placed.placement === "credit" ? "c" : "b")).join(""),
      ...buckets.flatMap((placed) => [placed.bucket.capacity, placed.bucket.cost]),
    ],
  );
  const [status, keyJson, tenantJson, ...figures] = reply;
  const numbers = figures.map(Number);
  switch (status) {
    case "ok":
      return admitted(request, plan, keyJson, tenantJson, numbers, periods);
    case "miss":
      return { kind: "to_primary", reason: "not_replicated", plan, lease: null };
    case "replica_stale":
      return { kind: "to_primary", reason: "replica_stale", plan, lease: null };
    case "lease_short":
      return { kind: "to_primary", reason: "lease_short", plan, lease: { available: numbers[0]!, spendLastMinute: numbers[1]!, granted: numbers[2]! } };
    case "credit_short":
      return { kind: "to_primary", reason: "credit_short", plan, lease: null };
    case "void":
      throw new AdmissionVoided("the admission reached storage after its deadline");
  }
  const current = { key: parse<KeyRecord>(keyJson) ?? key, tenant: parse<Tenant>(tenantJson) ?? tenant };
  if (status === "stale") {
    // The replica may lag a record this isolate read from the primary: then the primary decides.
    if (isOlder(current, request)) return { kind: "to_primary", reason: "replica_stale", plan, lease: null };
    throw new PolicyChanged(current.key, current.tenant);
  }
  throw admissionRefusal(
    status,
    figures,
    buckets.map((placed) => placed.bucket),
    request,
    current.tenant,
    request.visitor ? "visitor" : "client",
  );
}

function isOlder(replica: { key: KeyRecord; tenant: Tenant }, known: { key: KeyRecord; tenant: Tenant }): boolean {
  return (replica.key.updatedAt ?? "") < (known.key.updatedAt ?? "") || (replica.tenant.updatedAt ?? "") < (known.tenant.updatedAt ?? "");
}

function admitted(
  request: AdmissionRequest,
  plan: RegionalPlan,
  keyJson: unknown,
  tenantJson: unknown,
  numbers: number[],
  periods: { day: string; month: string },
): LocalOutcome {
  const [leaseAvailable, leaseSpendLastMinute, leaseGranted, replicaReadAt, ...perBucket] = numbers;
  const states: BucketState[] = plan.buckets.map((placed, i) => ({
    bucket: placed.bucket,
    remaining: perBucket[4 * i]!,
    msUntilReset: perBucket[4 * i + 1]!,
  }));
  const admission: Admission = {
    key: parse<KeyRecord>(keyJson) ?? request.key,
    tenant: parse<Tenant>(tenantJson) ?? request.tenant,
    reservationId: request.reservationId,
    admittedAt: Date.now(),
    periods,
    tokenBuckets: plan.buckets
      .filter((placed) => placed.bucket.dimension === "tokens")
      .map((placed) =>
        placed.placement === "credit"
          ? { bucket: placed.bucket, key: placed.primaryKey, side: "primary" }
          : { bucket: placed.bucket, key: placed.localKey, side: "region" },
      ),
    headers: visibleHeaders(states, request.visitor ? "visitor" : "client"),
    // Whether a budget applied is what the script saw in the replica, not this isolate's copy.
    headroom: headroomOf(states, leaseAvailable! >= 0 ? leaseAvailable! : Number.POSITIVE_INFINITY),
    side: "region",
    lease: leaseAvailable! >= 0 ? plan.lease : null,
  };
  return {
    kind: "admitted",
    admission,
    plan,
    figures: {
      leaseAvailable: leaseAvailable!,
      leaseSpendLastMinute: leaseSpendLastMinute!,
      leaseGranted: leaseGranted!,
      replicaReadAt: replicaReadAt!,
      credits: plan.buckets.flatMap((placed, i) =>
        placed.placement === "credit" ? [{ placed, usedLastMinute: perBucket[4 * i + 2]!, credit: perBucket[4 * i + 3]! }] : [],
      ),
    },
  };
}
