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
