import type { Redis } from "@upstash/redis";
import type { MeteredResponse } from "../metering/usage.js";
import { type BilledUsage, costMicroUsd, NO_USAGE, type PricedModel, type PriceTable } from "../pricing/cost.js";
import { redisKeys } from "../storage/keys.js";
import { runScript } from "../storage/scripts.js";
import { type Bucket, bucketKey } from "./buckets.js";
import { SETTLE } from "./scripts.js";

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
  /** Token buckets to correct from the estimate they were charged (at `chargedAt`) to the actual count. */
  tokenCorrections: Array<{ bucket: string; capacity: number; correction: number; charged: number; chargedAt: number }>;
}

export interface SettlementSubject {
  tenantId: string;
  keyId: string;
  reservationId: string;
  periods: { day: string; month: string };
  /** The token buckets charged at admission (none when admission failed open), and when. */
  tokenBuckets: readonly Bucket[];
  admittedAt: number;
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
}

/**
 * Prices what a request produced, at the price of the model the upstream says served it
 * (the requested model's when the upstream names one the table does not know). With
 * nothing served, the reservation is released and the token buckets get the whole
 * estimate back.
 */
export function settlementOf(subject: SettlementSubject, served: Served | null): Settlement {
  const usage = served?.metered.usage ?? NO_USAGE;
  const reportedModel = served?.metered.model ?? null;
  const reported = reportedModel ? served!.prices.priceOf(reportedModel) : null;
  const priced = served ? (reported ?? served.prices.priceOf(served.model)) : null;
  if (served && !priced) throw new Error(`no price for ${served.model}: it should have been refused before the upstream call`);
  const used = limitedTokens(usage);
  return {
    tenantId: subject.tenantId,
    keyId: subject.keyId,
    reservationId: subject.reservationId,
    periods: subject.periods,
    served: served !== null,
    model: reported ? reportedModel! : (served?.model ?? ""),
    provider: served?.endpoint.provider ?? "",
    usage,
    costMicroUsd: served && priced ? costMicroUsd(usage, priced, served.endpoint.priceBasisPoints) : 0,
    strongestCostMicroUsd: served ? costMicroUsd(usage, served.strongest, served.endpoint.priceBasisPoints) : 0,
    estimated: served?.metered.estimated ?? false,
    tokenCorrections: subject.tokenBuckets.map((bucket) => ({
      bucket: bucketKey(bucket),
      capacity: bucket.capacity,
      correction: used - bucket.cost,
      charged: bucket.cost,
      chargedAt: subject.admittedAt,
    })),
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

/**
 * Writes a settlement in one script: release the reservation, add usage and cost,
 * correct the token buckets. Exactly once per reservation id; a settlement without
 * usage also voids an admission of the same id that reaches storage later.
 */
export function writeSettlement(redis: Redis, settlement: Settlement): Promise<unknown> {
  const { tenantId, keyId, periods, reservationId } = settlement;
  const named = counters(settlement);
  return runScript(
    redis,
    SETTLE,
    [
      redisKeys.reservations(tenantId),
      redisKeys.reservationExpiry(tenantId),
      redisKeys.dailyUsage(tenantId, periods.day),
      redisKeys.monthlyUsage(tenantId, periods.month),
      redisKeys.settled(reservationId),
      redisKeys.keyDailyUsage(tenantId, keyId, periods.day),
      redisKeys.keyLastUsed(keyId),
      ...settlement.tokenCorrections.map((correction) => correction.bucket),
    ],
    [
      reservationId,
      settlement.served ? 1 : 0,
      settlement.model,
      settlement.provider ?? "",
      named.length,
      ...named.flat(),
      settlement.tokenCorrections.length,
      ...settlement.tokenCorrections.flatMap((correction) => [correction.capacity, correction.correction, correction.charged, correction.chargedAt]),
    ],
  );
}
