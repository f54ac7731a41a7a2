import type { Redis } from "@upstash/redis";
import { type Admission, settleKeys } from "../limits/admission.js";
import { SETTLE } from "../limits/budget-scripts.js";
import type { RateLimits } from "../limits/rate-limits.js";
import { costMicroUsd, type PriceTable } from "../pricing/cost.js";
import { redisKeys } from "../storage/keys.js";
import { runScript } from "../storage/scripts.js";
import type { MeteredResponse } from "./usage.js";

/** Everything needed to settle a request, self-contained so it can be retried or spooled. */
export interface Settlement {
  tenantId: string;
  keyId: string;
  reservationId: string;
  periods: { day: string; month: string };
  served: boolean;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  costMicroUsd: number;
  strongestCostMicroUsd: number;
  estimated: boolean;
}

/** Tokens counted against per-minute token limits: cache reads are excluded, as upstream does. */
export function limitedTokens(metered: MeteredResponse): number {
  const { usage } = metered;
  return usage.inputTokens + usage.cacheCreationInputTokens + usage.outputTokens;
}

/** Prices what a request produced (nothing, when it never reached the upstream). */
export function settlementOf(
  admission: Pick<Admission, "reservationId" | "periods"> & { tenantId: string; keyId: string },
  metered: MeteredResponse | null,
  model: string,
  prices: PriceTable,
): Settlement {
  const usage = metered?.usage ?? { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
  const billedModel = metered?.model ?? model;
  return {
    tenantId: admission.tenantId,
    keyId: admission.keyId,
    reservationId: admission.reservationId,
    periods: admission.periods,
    served: metered !== null,
    model: billedModel,
    ...usage,
    costMicroUsd: metered ? costMicroUsd(usage, prices.priceOf(billedModel)) : 0,
    strongestCostMicroUsd: metered ? costMicroUsd(usage, prices.strongest.price) : 0,
    estimated: metered?.estimated ?? false,
  };
}

/** Writes a settlement: release the reservation, add usage and cost. Exactly once per reservation id. */
export function writeSettlement(redis: Redis, settlement: Settlement): Promise<unknown> {
  return runScript(redis, SETTLE, settleKeys(settlement), [
    settlement.reservationId,
    settlement.served ? 1 : 0,
    settlement.model,
    settlement.inputTokens,
    settlement.outputTokens,
    settlement.cacheCreationInputTokens,
    settlement.cacheReadInputTokens,
    settlement.costMicroUsd,
    settlement.strongestCostMicroUsd,
    settlement.estimated ? 1 : 0,
  ]);
}

/**
 * Ends a request's accounting in one round trip: the settlement itself, the token
 * limits corrected from the estimate to the actual count, and the key's last use.
 * Called off the critical path (waitUntil). Only the settlement must land; the
 * corrections are best effort.
 */
export async function settle(
  redis: Redis,
  rateLimits: RateLimits,
  admission: Admission,
  settlement: Settlement,
  limitedTokenCount: number,
): Promise<void> {
  const writing = writeSettlement(redis, settlement);
  const correcting = rateLimits
    .adjust(admission.tokenChecks.map((check) => ({ ...check, rate: limitedTokenCount - check.rate })))
    .catch(() => undefined);
  const stamping = redis.set(redisKeys.keyLastUsed(admission.key.id), Date.now()).catch(() => undefined);
  await Promise.all([writing, correcting, stamping]);
}
