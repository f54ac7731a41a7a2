import type { Redis } from "@upstash/redis";
import { redisKeys } from "../storage/keys.js";
import { runScript } from "../storage/scripts.js";
import type { LeaseScope, PlacedBucket } from "./regional-plan.js";
import { REPLENISH } from "./scripts/primary.js";
import { LEASE_APPLY } from "./scripts/region.js";

/** What a region asks the primary for, off its critical path. */
export interface ReplenishOrder {
  tenantId: string;
  lease: LeaseScope;
  /** Budget lease wanted (micro-USD; 0: none), the smallest worth having (a request's worst case), and the granted total the region knows. */
  leaseWanted: number;
  leaseSmallest: number;
  leaseGranted: number;
  /** Credit wanted per limit, and the most the region may hold of it. */
  credits: Array<{ placed: PlacedBucket; wanted: number; cap: number }>;
}

/**
 * One call to the primary (REPLENISH) for lease and credits, then one to the region's
 * database to take them in. A lost reply costs nothing: the granted total is
 * cumulative, so the next order gets the earlier grant back; credit taken but never
 * received (or beyond the region's cap) is lost to the limit (it drains within a minute).
 */
export async function replenish(local: Redis, primary: Redis, region: string, divisor: number, creditTtlMs: number, order: ReplenishOrder): Promise<void> {
  const { lease, credits } = order;
  const [granted, spent, returned, ...perBucket] = await runScript<number[]>(
    primary,
    REPLENISH,
    [redisKeys.tenant(order.tenantId), lease.primaryKey, ...lease.lines, ...credits.map(({ placed }) => placed.primaryKey)],
    [
      region,
      order.leaseWanted,
      order.leaseSmallest,
      order.leaseGranted,
      divisor,
      lease.share,
      lease.lines.length,
      credits.length,
      ...credits.flatMap(({ placed, wanted }) => [placed.bucket.capacity, wanted]),
    ],
  );
  if (Number(granted) < 0) return; // the tenant is gone
  await runScript(
    local,
    LEASE_APPLY,
    [lease.localKey, redisKeys.localLeases(), ...credits.map(({ placed }) => placed.localKey)],
    [
      order.leaseWanted > 0 ? Number(granted) : -1,
      Number(spent),
      Number(returned),
      creditTtlMs,
      ...credits.flatMap(({ cap }, i) => [...perBucket.slice(3 * i, 3 * i + 3).map(Number), cap]),
    ],
  );
}
