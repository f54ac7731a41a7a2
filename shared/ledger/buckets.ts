import type { KeyRecord, Tenant } from "../tenants/model.js";
import type { Visitor } from "../widget/visitor.js";

export type Dimension = "requests" | "tokens" | "sessions" | "ratings";

/**
 * Whose limit a bucket keeps: the tenant, one key, (widget keys) one visitor or one
 * network, or one network's failed authentications (`auth`, `admin`).
 */
export type Scope = "tenant" | "key" | "visitor" | "ip" | "auth" | "admin";

/** One per-minute limit: a token bucket of `capacity` units, refilled at `capacity` a minute. */
export interface Bucket {
  scope: Scope;
  /** The tenant id, key id, or "<key id>:<visitor or network hash>". */
  id: string;
  dimension: Dimension;
  capacity: number;
  /** Units this request takes: 1 request, or its estimated tokens. */
  cost: number;
}

/** What a bucket looked like right after a request was admitted. */
export interface BucketState {
  bucket: Bucket;
  remaining: number;
  /** Until the bucket is back to its whole capacity. */
  msUntilReset: number;
}

export interface DefaultLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

/** Per-minute tokens of a publishable key across all its visitors, when the key sets none. */
export const WIDGET_KEY_TOKENS_PER_MINUTE = 1_000_000;

export function bucketKey(bucket: Pick<Bucket, "scope" | "id" | "dimension">): string {
  return `eg:b:${bucket.scope}:${bucket.id}:${bucket.dimension}`;
}

/**
 * The limits a request is admitted against, from the key's and tenant's current records:
 * the tenant's requests and tokens per minute (or the defaults), the key's own, and for a
 * widget visitor the visitor's, the network's and the key's token limit across visitors.
 */
export function admissionBuckets(
  key: KeyRecord,
  tenant: Tenant,
  defaults: DefaultLimits,
  tokens: number,
  visitor: Visitor | null,
): Bucket[] {
  const buckets: Bucket[] = [
    ...requestBuckets(key, tenant, defaults),
    { scope: "tenant", id: tenant.id, dimension: "tokens", capacity: tenant.limits.tokensPerMinute ?? defaults.tokensPerMinute, cost: tokens },
  ];
  const keyTokens = key.tokensPerMinute ?? (key.widget ? WIDGET_KEY_TOKENS_PER_MINUTE : null);
  if (keyTokens !== null) buckets.push({ scope: "key", id: key.id, dimension: "tokens", capacity: keyTokens, cost: tokens });
  const limits = key.widget?.visitorLimits;
  if (visitor && limits) {
    const visitorId = `${key.id}:${visitor.id}`;
    const networkId = `${key.id}:${visitor.networkId}`;
    buckets.push(
      { scope: "visitor", id: visitorId, dimension: "requests", capacity: limits.requestsPerMinute, cost: 1 },
      { scope: "visitor", id: visitorId, dimension: "tokens", capacity: limits.tokensPerMinute, cost: tokens },
      { scope: "ip", id: networkId, dimension: "requests", capacity: limits.ipRequestsPerMinute, cost: 1 },
      { scope: "ip", id: networkId, dimension: "tokens", capacity: limits.ipTokensPerMinute, cost: tokens },
    );
  }
  return buckets;
}

/** One request from the tenant's and the key's requests-per-minute limits. */
export function requestBuckets(key: KeyRecord, tenant: Tenant, defaults: DefaultLimits): Bucket[] {
  const buckets: Bucket[] = [
    { scope: "tenant", id: tenant.id, dimension: "requests", capacity: tenant.limits.requestsPerMinute ?? defaults.requestsPerMinute, cost: 1 },
  ];
  if (key.requestsPerMinute !== null) buckets.push({ scope: "key", id: key.id, dimension: "requests", capacity: key.requestsPerMinute, cost: 1 });
  return buckets;
}

/** Bucket scopes a widget visitor may see figures of: their own, never the tenant's or the key's. */
export function isVisitorScope(scope: Scope): boolean {
  return scope === "visitor" || scope === "ip";
}

/** The Redis arguments of a list of buckets: capacity and cost of each, in order. */
export function bucketArgs(buckets: readonly Bucket[]): number[] {
  return buckets.flatMap((bucket) => [bucket.capacity, bucket.cost]);
}

/** Bucket states from a script's flattened {remaining, msUntilReset} pairs. */
export function bucketStates(buckets: readonly Bucket[], pairs: readonly unknown[]): BucketState[] {
  return buckets.map((bucket, index) => ({
    bucket,
    remaining: Number(pairs[2 * index] ?? 0),
    msUntilReset: Number(pairs[2 * index + 1] ?? 0),
  }));
}

/** The tightest limit per dimension, as x-ratelimit-* headers (reset: seconds until the whole limit is available again). */
export function rateLimitHeaders(states: readonly BucketState[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const dimension of ["requests", "tokens"] as const satisfies Dimension[]) {
    let tightest: BucketState | null = null;
    for (const state of states) {
      if (state.bucket.dimension !== dimension) continue;
      if (!tightest || state.remaining < tightest.remaining) tightest = state;
    }
    if (!tightest) continue;
    headers[`x-ratelimit-limit-${dimension}`] = String(tightest.bucket.capacity);
    headers[`x-ratelimit-remaining-${dimension}`] = String(Math.max(0, Math.min(tightest.bucket.capacity, tightest.remaining)));
    headers[`x-ratelimit-reset-${dimension}`] = String(Math.ceil(Math.max(0, tightest.msUntilReset) / 1000));
  }
  return headers;
}

/** Whole seconds to wait, at least 1: the value of a retry-after header. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}
