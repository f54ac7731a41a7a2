import type { Redis } from "@upstash/redis";
import { GatewayError } from "../http/errors.js";
import { minuteOf, refusalField } from "../metrics/samples.js";
import { redisKeys, usagePeriods } from "../storage/keys.js";
import { runScript } from "../storage/scripts.js";
import { keyRefusals, pinRefusal } from "../tenants/key-refusals.js";
import { type KeyRecord, type Tenant, policyVersion } from "../tenants/model.js";
import { parse } from "../tenants/store.js";
import type { Visitor } from "../widget/visitor.js";
import {
  type Bucket,
  type BucketState,
  type DefaultLimits,
  admissionBuckets,
  bucketArgs,
  bucketKey,
  bucketStates,
  isVisitorScope,
  rateLimitHeaders,
} from "./buckets.js";
import { type Headroom, headroomOf } from "./headroom.js";
import type { LeaseScope } from "./regional-plan.js";
import { type Audience, budgetRefusal, rateLimitRefusal } from "./refusals.js";
import { ADMIT } from "./scripts/primary.js";
import type { ChargedBucket, LedgerSide } from "./settlement.js";

export interface AdmissionRequest {
  /** Names the budget reservation and, later, the settlement. */
  reservationId: string;
  keyHash: string;
  /** Key and tenant as last seen (from the isolate cache); the script checks they are current. */
  key: KeyRecord;
  tenant: Tenant;
  /** Worst-case cost of the request, reserved against the budgets (micro-USD). */
  reserveMicroUsd: number;
  /** Likely tokens (input estimate + max_tokens), taken from the per-minute token limits. */
  tokens: number;
  /** Longest the request may hold its reservation before it is presumed dead. */
  reservationTtlMs: number;
  /** This region: a tenant pinned elsewhere is refused. */
  region: string;
  /** A widget visitor: their own limits and the key's share of the daily budget apply. */
  visitor: Visitor | null;
  /** Storage time (ms since the epoch) after which the admission must do nothing; 0 for none. */
  deadlineMs: number;
  /** Refuse with PolicyChanged when the key or tenant changed since `key` and `tenant` were read. */
  checkPolicy: boolean;
  /** The upstream call already started (a refusal is then counted as such in the metrics). */
  headStart: boolean;
  now: Date;
}

export interface Admission {
  /** The key and tenant as the script read them: current. */
  key: KeyRecord;
  tenant: Tenant;
  reservationId: string;
  /** When the buckets were charged (Date.now()), for corrections that must not give back what has drained since. */
  admittedAt: number;
  periods: { day: string; month: string };
  /** The token buckets the estimate was taken from, to be corrected when the request ends. */
  tokenBuckets: ChargedBucket[];
  headers: Record<string, string>;
  /** What it left of the limits and budget, for the isolate's view of the caller. */
  headroom: Headroom;
  /** Where it was admitted (and is settled). */
  side: LedgerSide;
  /** The budget lease it holds a reservation on (region side, tenants with a budget). */
  lease: LeaseScope | null;
}

/** The admission reached storage after its deadline, or after the request was settled: it did nothing. */
export class AdmissionVoided extends Error {}

type Reply = [status: string, keyJson: unknown, tenantJson: unknown, ...figures: unknown[]];

/**
 * The key's or tenant's policy changed since the isolate cached them: the request must be
 * decided again (features, routing, price, limits) with the current records.
 */
export class PolicyChanged extends Error {
  constructor(
    readonly key: KeyRecord,
    readonly tenant: Tenant,
  ) {
    super("the key's or tenant's policy changed");
  }
}

/**
 * Authentication re-check, region pin, budgets and rate limits in ONE atomic Upstash
 * call (the ADMIT script): nothing is taken unless everything admits, so a refusal has
 * nothing to give back. When the key's or tenant's policy changed since this isolate read
 * it (and `checkPolicy` is set), nothing is taken either and PolicyChanged carries the
 * current records, so the caller decides again (one more round trip, only after a change).
 */
export async function admitOnPrimary(redis: Redis, defaults: DefaultLimits, request: AdmissionRequest): Promise<Admission> {
  const periods = usagePeriods(request.now);
  const audience: Audience = request.visitor ? "visitor" : "client";
  const { key, tenant } = request;
  const buckets = admissionBuckets(key, tenant, defaults, request.tokens, request.visitor);
  const share = keyShareOf(request)?.share ?? "";
  const reply = await runScript<Reply>(
    redis,
    ADMIT,
    [
      redisKeys.key(request.keyHash),
      redisKeys.tenant(key.tenantId),
      redisKeys.dailyUsage(key.tenantId, periods.day),
      redisKeys.monthlyUsage(key.tenantId, periods.month),
      redisKeys.reservations(key.tenantId),
      redisKeys.reservationExpiry(key.tenantId),
      redisKeys.keyDailyUsage(key.tenantId, key.id, periods.day),
      redisKeys.settled(request.reservationId),
      ...buckets.map(bucketKey),
    ],
    [
      request.reservationId,
      request.reserveMicroUsd,
      request.reservationTtlMs,
      request.deadlineMs,
      share,
      request.checkPolicy ? policyVersion(key, tenant) : "",
      request.region,
      minuteOf(Date.now()),
      refusalPrefix(request),
      request.headStart ? "1" : "",
      buckets.length,
      ...bucketArgs(buckets),
    ],
  );
  const [status, keyJson, tenantJson, ...figures] = reply;
  const current = { key: parse<KeyRecord>(keyJson) ?? key, tenant: parse<Tenant>(tenantJson) ?? tenant };
  if (status === "stale") throw new PolicyChanged(current.key, current.tenant);
  if (status === "ok") {
    const states = bucketStates(buckets, figures);
    return {
      ...current,
      reservationId: request.reservationId,
      admittedAt: Date.now(),
      periods,
      tokenBuckets: buckets.filter((bucket) => bucket.dimension === "tokens").map((bucket) => ({ bucket, key: bucketKey(bucket), side: "primary" })),
      headers: visibleHeaders(states, audience),
      // The primary's answer says nothing of budget room: only a tenant without a budget has it for sure.
      headroom: headroomOf(states, hasBudget(current.tenant) ? null : Number.POSITIVE_INFINITY),
      side: "primary",
      lease: null,
    };
  }
  throw admissionRefusal(status, figures, buckets, request, current.tenant, audience);
}

/** The field prefix of a request's refusal counters: "<region>|<tenant>|-|-|refused:". */
export function refusalPrefix(request: Pick<AdmissionRequest, "region" | "tenant">): string {
  return refusalField(request.region, request.tenant.id, "");
}

/** A widget visitor's request counts against its key's share of the daily budget too. */
export function keyShareOf(request: Pick<AdmissionRequest, "visitor" | "key">): { keyId: string; share: number } | null {
  return request.visitor && request.key.widget ? { keyId: request.key.id, share: request.key.widget.dailyBudgetShare } : null;
}

/** The x-ratelimit-* headers a caller may see: a widget visitor only their own limits'. */
export function visibleHeaders(states: readonly BucketState[], audience: Audience): Record<string, string> {
  return rateLimitHeaders(audience === "visitor" ? states.filter((state) => isVisitorScope(state.bucket.scope)) : states);
}

/** The error for an admission script's refusal (either database's). */
export function admissionRefusal(
  status: string,
  figures: unknown[],
  buckets: Bucket[],
  request: AdmissionRequest,
  tenant: Tenant,
  audience: Audience,
): Error {
  const [first, second] = figures.map(Number);
  switch (status) {
    case "void":
      return new AdmissionVoided("the admission reached storage after its deadline");
    case "unknown_key":
    case "unknown_tenant":
      return keyRefusals.unknown();
    case "revoked_key":
      return keyRefusals.revoked();
    case "tenant_disabled":
      return keyRefusals.tenantDisabled();
    case "pinned_elsewhere":
      return pinRefusal(tenant.regionPin ?? [], request.region);
    case "daily_budget":
    case "monthly_budget":
    case "key_daily_budget":
      return budgetRefusal(
        status === "monthly_budget" ? "monthly" : "daily",
        { used: first ?? 0, budget: second ?? 0, request: request.reserveMicroUsd },
        request.now,
        // Only widget keys have a budget share; widget visitors never see budget figures.
        status === "key_daily_budget" ? "visitor" : audience,
      );
    case "limited":
    case "too_large":
      return rateLimitRefusal(buckets[(first ?? 1) - 1]!, second ?? 0, status === "limited", audience);
    default:
      return new GatewayError("api_error", `Unexpected admission answer "${status}"; retry, and report the request id if it persists.`);
  }
}

export function hasBudget(tenant: Tenant): boolean {
  return tenant.limits.dailyBudgetUsd !== null || tenant.limits.monthlyBudgetUsd !== null;
}
