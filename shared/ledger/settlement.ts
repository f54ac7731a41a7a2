import type { Redis } from "@upstash/redis";
import type { MeteredResponse } from "../metering/usage.js";
import { type BilledUsage, costMicroUsd, NO_USAGE, type PricedModel, type PriceTable } from "../pricing/cost.js";
import { redisKeys } from "../storage/keys.js";
import { runScript } from "../storage/scripts.js";
import type { Bucket } from "./buckets.js";
import { type Increments, minuteOf, type RequestReport, sampleIncrements } from "../metrics/samples.js";
import type { LeaseScope } from "./regional-plan.js";
import { SETTLE } from "./scripts/primary.js";
import { LOCAL_SETTLE } from "./scripts/region.js";

/** Where a request was admitted, and so where it is settled. */
export type LedgerSide = "primary" | "region";

/** A token bucket charged at admission: the bucket, its Redis key, and the database holding it. */
export interface ChargedBucket {
  bucket: Bucket;
  key: string;
  side: LedgerSide;
}

/** A token bucket to correct from the estimate charged (at `chargedAt`) to the actual count. */
export interface TokenCorrection {
  bucket: string;
  side: LedgerSide;
  capacity: number;
  correction: number;
  charged: number;
  chargedAt: number;
}

/** Everything needed to settle a request, self-contained so it can be retried or spooled. */
export interface Settlement {
  tenantId: string;
  keyId: string;
  reservationId: string;
  periods: { day: string; month: string };
  /** False when no upstream call could have been charged: only the reservation is released. */
  served: boolean;
  model: string;
  /** The endpoint that served (e.g. "vertex:europe-west1"); "" when none did. */
  provider: string;
  usage: BilledUsage;
  costMicroUsd: number;
  /** What the same usage would have cost on the strongest (deep tier) model. */
  strongestCostMicroUsd: number;
  estimated: boolean;
  tokenCorrections: TokenCorrection[];
  /** Admitted on the primary, or in the region (settled there, then applied on the primary from its outbox). */
  side: LedgerSide;
  /** The budget lease the request was admitted against (region side, tenants with a budget). */
  lease: LeaseScope | null;
  /** What the request adds to the metrics, in the minute it ended; null when it has no report. */
  metrics: { minute: number; increments: Increments } | null;
  /** The usage scope of its routing ("~light", "~light>standard" for an audited request; "" = none). */
  tierScope: string;
  /** Kept a week for the feedback that may come on the request (served requests only). */
  requestRecord: { key: string; json: string } | null;
}

/** What feedback on a request needs to know of it. */
export interface RequestRecord {
  tenantId: string;
  keyId: string;
  tierScope: string;
  model: string;
  /** The widget visitor who made it, if any: only they may rate it. */
  visitor: string | null;
  periods: { day: string; month: string };
}

export interface SettlementSubject {
  tenantId: string;
  keyId: string;
  reservationId: string;
  periods: { day: string; month: string };
  /** The token buckets charged at admission (none when admission failed open), and when. */
  tokenBuckets: readonly ChargedBucket[];
  admittedAt: number;
  side: LedgerSide;
  lease: LeaseScope | null;
}

/** Tokens counted against per-minute token limits: cache reads are excluded, as upstream does. */
export function limitedTokens(usage: BilledUsage): number {
  return usage.inputTokens + usage.cacheCreationInputTokens + usage.outputTokens;
}

/** What served a request and how to price it. */
export interface Served {
  metered: MeteredResponse;
  /** The model requested of the upstream; the one it reports serving is billed when the table knows it. */
  model: string;
  /** The endpoint that served, and its price relative to list price. */
  endpoint: { provider: string; priceBasisPoints: number };
  prices: PriceTable;
  /** The deep tier's model, for what the request would have cost without routing. */
  strongest: PricedModel;
  /** The request: its id, how it was routed, and the widget visitor who made it. */
  request: { id: string; tierScope: string; visitor: string | null };
}

/**
 * Prices what a request produced, at the price of the model the upstream says served it
 * (the requested model's when the upstream names one the table does not know). With
 * nothing served, the reservation is released and the token buckets get the whole
 * estimate back.
 */
export function settlementOf(subject: SettlementSubject, served: Served | null, report: RequestReport | null = null): Settlement {
  const usage = served?.metered.usage ?? NO_USAGE;
  const reportedModel = served?.metered.model ?? null;
  const reported = reportedModel ? served!.prices.priceOf(reportedModel) : null;
  const priced = served ? (reported ?? served.prices.priceOf(served.model)) : null;
  if (served && !priced) throw new Error(`no price for ${served.model}: it should have been refused before the upstream call`);
  const used = limitedTokens(usage);
  const cost = served && priced ? costMicroUsd(usage, priced, served.endpoint.priceBasisPoints) : 0;
  const strongestCost = served ? costMicroUsd(usage, served.strongest, served.endpoint.priceBasisPoints) : 0;
  return {
    tenantId: subject.tenantId,
    keyId: subject.keyId,
    reservationId: subject.reservationId,
    periods: subject.periods,
    served: served !== null,
    model: reported ? reportedModel! : (served?.model ?? ""),
    provider: served?.endpoint.provider ?? "",
    usage,
    costMicroUsd: cost,
    strongestCostMicroUsd: strongestCost,
    estimated: served?.metered.estimated ?? false,
    tokenCorrections: subject.tokenBuckets.map(({ bucket, key, side }) => ({
      bucket: key,
      side,
      capacity: bucket.capacity,
      correction: used - bucket.cost,
      charged: bucket.cost,
      chargedAt: subject.admittedAt,
    })),
    side: subject.side,
    lease: subject.lease,
    tierScope: served?.request.tierScope ?? "",
    requestRecord: served && {
      key: redisKeys.requestRecord(served.request.id),
      json: JSON.stringify({
        tenantId: subject.tenantId,
        keyId: subject.keyId,
        tierScope: served.request.tierScope,
        model: reported ? reportedModel! : served.model,
        visitor: served.request.visitor,
        periods: subject.periods,
      } satisfies RequestRecord),
    },
    metrics: report && {
      minute: minuteOf(Date.now()),
      increments: sampleIncrements({
        ...report,
        dimensions: { ...report.dimensions, model: reported ? reportedModel! : report.dimensions.model },
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        cacheReadTokens: usage.cacheReadInputTokens,
        cacheWriteTokens: usage.cacheCreationInputTokens,
        costMicroUsd: cost,
        strongestCostMicroUsd: strongestCost,
      }),
    },
  };
}

/** Counter names in the usage hashes, per model and in total. */
function counters(settlement: Settlement): Array<[string, number]> {
  const { usage } = settlement;
  return [
    ["input", usage.inputTokens],
    ["output", usage.outputTokens],
    ["cache_write", usage.cacheCreationInputTokens],
    ["cache_write_1h", usage.cacheCreation1hInputTokens],
    ["cache_read", usage.cacheReadInputTokens],
    ["web_search", usage.webSearchRequests],
    ["cost", settlement.costMicroUsd],
    ["cost_strongest", settlement.strongestCostMicroUsd],
    ["estimated", settlement.estimated ? 1 : 0],
  ];
}

function usageKeys(settlement: Settlement): string[] {
  const { tenantId, keyId, periods } = settlement;
  return [redisKeys.dailyUsage(tenantId, periods.day), redisKeys.monthlyUsage(tenantId, periods.month), redisKeys.keyDailyUsage(tenantId, keyId, periods.day)];
}

function correctionArgs(corrections: readonly TokenCorrection[]): number[] {
  return corrections.flatMap((correction) => [correction.capacity, correction.correction, correction.charged, correction.chargedAt]);
}

/**
 * Writes a primary-side settlement in one script: release the reservation, add usage and
 * cost, correct the token buckets. Exactly once per reservation id; a settlement without
 * usage also voids an admission of the same id that reaches storage later.
 */
export function writeSettlement(redis: Redis, settlement: Settlement): Promise<unknown> {
  const { tenantId, keyId, reservationId } = settlement;
  const named = counters(settlement);
  const [day, month, keyDay] = usageKeys(settlement);
  return runScript(
    redis,
    SETTLE,
    [
      redisKeys.reservations(tenantId),
      redisKeys.reservationExpiry(tenantId),
      day!,
      month!,
      redisKeys.settled(reservationId),
      keyDay!,
      redisKeys.keyLastUsed(keyId),
      settlement.requestRecord?.key ?? redisKeys.requestRecord(""),
      ...settlement.tokenCorrections.map((correction) => correction.bucket),
    ],
    [
      reservationId,
      settlement.served ? 1 : 0,
      settlement.model,
      settlement.provider ?? "",
      settlement.tierScope,
      settlement.requestRecord?.json ?? "",
      named.length,
      ...named.flat(),
      settlement.tokenCorrections.length,
      ...correctionArgs(settlement.tokenCorrections),
      settlement.metrics?.minute ?? 0,
      settlement.metrics?.increments.length ?? 0,
      ...(settlement.metrics?.increments.flat() ?? []),
    ],
  );
}

/**
 * What the primary must apply of a region-side settlement (the APPLY script's record),
 * or null when there is nothing: not served and no primary bucket to correct.
 */
export function outboxRecord(settlement: Settlement): string | null {
  const corrections = settlement.tokenCorrections.filter((correction) => correction.side === "primary" && correction.correction !== 0);
  if (!settlement.served && corrections.length === 0 && !settlement.metrics) return null;
  return JSON.stringify({
    s: settlement.served ? 1 : 0,
    u: usageKeys(settlement),
    lu: redisKeys.keyLastUsed(settlement.keyId),
    m: settlement.model,
    p: settlement.provider,
    ts: settlement.tierScope,
    rq: settlement.requestRecord?.key ?? "",
    rj: settlement.requestRecord?.json ?? "",
    c: counters(settlement),
    l: settlement.lease?.primaryKey ?? "",
    ln: settlement.lease?.lines ?? [],
    x: settlement.lease ? settlement.costMicroUsd : 0,
    b: corrections.map((correction) => [correction.bucket, correction.capacity, correction.correction, correction.charged, correction.chargedAt]),
    ...(settlement.metrics && { mk: redisKeys.metricsMinute(settlement.metrics.minute), mx: settlement.metrics.increments }),
  });
}

/**
 * Writes a region-side settlement in the region's database, in one script: release the
 * reservation on the lease, count the cost as spent from it, queue the record for the
 * primary in the outbox, correct the region's own buckets. Exactly once per reservation id.
 */
export function writeLocalSettlement(redis: Redis, settlement: Settlement): Promise<number> {
  const { tenantId, reservationId, lease } = settlement;
  const local = settlement.tokenCorrections.filter((correction) => correction.side === "region");
  return runScript<number>(
    redis,
    LOCAL_SETTLE,
    [
      redisKeys.reservations(tenantId),
      redisKeys.reservationExpiry(tenantId),
      redisKeys.settled(reservationId),
      lease?.localKey ?? redisKeys.localLease("none"),
      redisKeys.outbox(),
      redisKeys.outboxSeq(),
      ...local.map((correction) => correction.bucket),
    ],
    [reservationId, lease ? settlement.costMicroUsd : 0, outboxRecord(settlement) ?? "", local.length, ...correctionArgs(local)],
  );
}
