import type { Redis } from "@upstash/redis";
import { runScript } from "../storage/scripts.js";
import { type Bucket, bucketArgs, bucketKey, bucketStates, rateLimitHeaders } from "./buckets.js";
import { type Audience, rateLimitRefusal } from "./refusals.js";
import { TAKE } from "./scripts/primary.js";

/**
 * Takes from per-minute limits outside the Messages hot path, in one storage call:
 * every bucket is charged if all have room, else the request is refused with the wait
 * the first full bucket needs. Resolves with the x-ratelimit-* headers.
 */
export async function takeFromBuckets(redis: Redis, buckets: Bucket[], audience: Audience = "client"): Promise<Record<string, string>> {
  const [status, ...figures] = await runScript<[string, ...unknown[]]>(redis, TAKE, buckets.map(bucketKey), [buckets.length, ...bucketArgs(buckets)]);
  if (status === "ok") return rateLimitHeaders(bucketStates(buckets, figures));
  const [index, waitMs] = figures.map(Number);
  throw rateLimitRefusal(buckets[(index ?? 1) - 1]!, waitMs ?? 0, status === "limited", audience);
}
