import type { Redis } from "@upstash/redis";
import { redisKeys } from "../storage/keys.js";
import { runScript } from "../storage/scripts.js";
import { type LeaseScope, leaseScopeOfLocalKey } from "./regional-plan.js";
import { APPLY } from "./scripts/primary.js";
import { LEASE_RETURN, OUTBOX_TRIM } from "./scripts/region.js";

/** Outbox records sent to the primary per call. */
const DRAIN_BATCH = 200;
/** Calls one drain makes at most (the rest waits for the next). */
const DRAIN_ROUNDS = 20;

/**
 * Moves a region's outbox to the primary: applies the oldest records there (exactly
 * once, by sequence number) and drops them here. Resolves with the records left.
 */
export async function drainOutbox(local: Redis, primary: Redis, region: string): Promise<number> {
  let left = 0;
  for (let round = 0; round < DRAIN_ROUNDS; round++) {
    const records = await local.lrange<string>(redisKeys.outbox(), 0, DRAIN_BATCH - 1);
    if (records.length === 0) return 0;
    const applied = await runScript<number>(primary, APPLY, [redisKeys.appliedOutbox()], [region, ...records.map(String)]);
    left = await runScript<number>(local, OUTBOX_TRIM, [redisKeys.outbox()], [applied]);
    if (left === 0) return 0;
  }
  return left;
}

/** Records in the outbox, waiting for the primary. */
export function outboxLength(local: Redis): Promise<number> {
  return local.llen(redisKeys.outbox());
}

/**
 * Gives back unused lease (`amount`, or all that is neither spent nor reserved) through
 * the outbox, behind the settlements drawn from it. Resolves with whether anything was returned.
 */
export async function returnLease(local: Redis, lease: LeaseScope, amount: number | "all"): Promise<boolean> {
  const record = `{"l":${JSON.stringify(lease.primaryKey)},"ln":${JSON.stringify(lease.lines)},"r":AMOUNT}`;
  const seq = await runScript<number>(
    local,
    LEASE_RETURN,
    [lease.localKey, redisKeys.localLeases(), redisKeys.outbox(), redisKeys.outboxSeq()],
    [amount === "all" ? -1 : amount, record],
  );
  return seq > 0;
}

/**
 * Gives back all that is left of the leases of days before `today` (of one tenant, or of
 * all), which no request will draw on again. A lease with reservations still open keeps
 * them and is swept again later. Resolves with whether anything was given back (then the
 * outbox has records to drain).
 */
export async function givePastLeasesBack(local: Redis, today: string, tenantId: string | null): Promise<boolean> {
  let returned = false;
  for (const key of (await local.smembers(redisKeys.localLeases())).map(String)) {
    const scope = leaseScopeOfLocalKey(key);
    if (!scope || scope.day >= today || (tenantId !== null && scope.tenantId !== tenantId)) continue;
    returned = (await returnLease(local, scope, "all")) || returned;
  }
  return returned;
}
