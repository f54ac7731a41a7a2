import type { Redis } from "@upstash/redis";
import { type Admission, settleKeys } from "../limits/admission.js";
import { SETTLE } from "../limits/budget-scripts.js";
import type { RateLimits } from "../limits/rate-limits.js";
import { costMicroUsd, type PriceTable } from "../pricing/cost.js";
import { redisKeys } from "../storage/keys.js";
import { runScript } from "../storage/scripts.js";
import type { MeteredResponse } from "./usage.js";

export interface SettledUsage {
  costMicroUsd: number;
  strongestCostMicroUsd: number;
  tokens: number;
}

/** Tokens counted against per-minute token limits: cache reads are excluded, as upstream does. */
export function limitedTokens(metered: MeteredResponse): number {
  const { usage } = metered;
  return usage.inputTokens + usage.cacheCreationInputTokens + usage.outputTokens;
}

/**
 * Ends a request's accounting in one round trip: releases its budget reservation,
 * adds the actual usage and cost (and what the strongest model would have cost) to the
 * day and month counters, corrects the token limits from the estimate to the actual
 * count, and stamps the key's last use. Called off the critical path (waitUntil).
 */
export async function settle(
  redis: Redis,
  rateLimits: RateLimits,
  prices: PriceTable,
  admission: Admission,
  metered: MeteredResponse | null,
  model: string,
): Promise<SettledUsage> {
  const served = metered !== null;
  const usage = metered?.usage ?? { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
  const billedModel = metered?.model ?? model;
  const cost = served ? costMicroUsd(usage, prices.priceOf(billedModel)) : 0;
  const strongestCost = served ? costMicroUsd(usage, prices.strongest.price) : 0;
  const tokens = metered ? limitedTokens(metered) : 0;

  const settling = runScript(redis, SETTLE, settleKeys(admission.tenant.id, admission.periods), [
    admission.reservationId,
    served ? 1 : 0,
    billedModel,
    usage.inputTokens,
    usage.outputTokens,
    usage.cacheCreationInputTokens,
    usage.cacheReadInputTokens,
    cost,
    strongestCost,
    metered?.estimated ? 1 : 0,
  ]);
  const correcting = rateLimits.adjust(admission.tokenChecks.map((check) => ({ ...check, rate: tokens - check.rate })));
  const stamping = redis.set(redisKeys.keyLastUsed(admission.key.id), Date.now());
  await Promise.all([settling, correcting, stamping]);
  return { costMicroUsd: cost, strongestCostMicroUsd: strongestCost, tokens };
}
