import { redisKeys } from "../storage/keys.js";
import { type Bucket, bucketKey } from "./buckets.js";
import { fallbackCapacity } from "./leases.js";

/**
 * The budget lines a lease is drawn against: the tenant's day and month, and for a widget
 * visitor whose key has a share of the daily budget, the key's day too (such a key has
 * its own lease). Keys are the primary's usage hashes.
 */
export interface LeaseScope {
  /** The primary's lease record of this scope. */
  primaryKey: string;
  /** The region's share of it, in the region's database. */
  localKey: string;
  lines: string[];
  /** The key's share of the daily budget ("" = none), which the primary turns into the third line's budget. */
  share: string;
}

export function leaseScope(tenantId: string, periods: { day: string; month: string }, keyShare: { keyId: string; share: number } | null): LeaseScope {
  const lines = [redisKeys.dailyUsage(tenantId, periods.day), redisKeys.monthlyUsage(tenantId, periods.month)];
  let scope = `${tenantId}:${periods.day}`;
  if (keyShare) {
    lines.push(redisKeys.keyDailyUsage(tenantId, keyShare.keyId, periods.day));
    scope += `:${keyShare.keyId}`;
  }
  return { primaryKey: redisKeys.lease(scope), localKey: redisKeys.localLease(scope), lines, share: keyShare ? String(keyShare.share) : "" };
}

const LOCAL_LEASE_PREFIX = redisKeys.localLease("");

/**
 * The scope of a lease from its local key ("<tenant>:<day>[:<key id>]"), for giving it
 * back; null for a key that is not one. The key's share is not needed to give back.
 */
export function leaseScopeOfLocalKey(localKey: string): (LeaseScope & { tenantId: string; day: string }) | null {
  if (!localKey.startsWith(LOCAL_LEASE_PREFIX)) return null;
  const [tenantId, day, keyId] = localKey.slice(LOCAL_LEASE_PREFIX.length).split(":");
  if (!tenantId || !day || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const scope = leaseScope(tenantId, { day, month: day.slice(0, 7) }, keyId ? { keyId, share: 0 } : null);
  return { ...scope, tenantId, day };
}

/**
 * Where a bucket is kept when a region decides locally:
 * - "credit": the tenant's and key's limits, shared by all regions: the region spends
 *   credit taken from the primary's bucket (corrections go to the primary's bucket);
 * - "local": a widget visitor's and network's limits (a visitor is served by one region),
 *   and, while the primary is unreachable, every limit at its regional share.
 */
export interface PlacedBucket {
  bucket: Bucket;
  placement: "credit" | "local";
  /** The key in the region's database: the credit record or the local bucket. */
  localKey: string;
  /** The primary's bucket (credits only). */
  primaryKey: string;
}

export function placeBuckets(buckets: readonly Bucket[], primaryReachable: boolean, regionCount: number): PlacedBucket[] {
  return buckets.map((bucket) => {
    if (bucket.scope !== "tenant" && bucket.scope !== "key") return { bucket, placement: "local", localKey: bucketKey(bucket), primaryKey: "" };
    if (primaryReachable) return { bucket, placement: "credit", localKey: redisKeys.rateCredit(bucketKey(bucket)), primaryKey: bucketKey(bucket) };
    const shared = { ...bucket, capacity: fallbackCapacity(bucket.capacity, regionCount) };
    return { bucket: shared, placement: "local", localKey: `${bucketKey(bucket)}:regional`, primaryKey: "" };
  });
}
