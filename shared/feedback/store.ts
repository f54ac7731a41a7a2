import type { Redis } from "@upstash/redis";
import type { RequestRecord } from "../ledger/settlement.js";
import { redisKeys } from "../storage/keys.js";
import { luaScript, runScript } from "../storage/scripts.js";
import { parse } from "../tenants/store.js";

export type Rating = "up" | "down";

/**
 * Records a rating on a request, once per request (a new rating replaces the old one):
 * the counters "<tier scope>|feedback_up" / "_down" in the usage hashes of the period the
 * request was made in. Only the tenant that made the request, and for a widget request
 * only its visitor, may rate it.
 * KEYS: request record, rating marker, day usage, month usage, the key's day usage.
 * ARGV: tenant id, visitor ("" = a secret key), rating, tier scope.
 * Returns "ok", "unchanged" or "unknown".
 */
const RATE = luaScript(`
local json = redis.call("GET", KEYS[1])
if not json then return "unknown" end
local record = cjson.decode(json)
if record.tenantId ~= ARGV[1] then return "unknown" end
if ARGV[2] ~= "" and record.visitor ~= ARGV[2] then return "unknown" end
local previous = redis.call("GET", KEYS[2])
if previous == ARGV[3] then return "unchanged" end
redis.call("SET", KEYS[2], ARGV[3], "EX", 604800)
for i = 3, 5 do
  if previous then redis.call("HINCRBY", KEYS[i], ARGV[4] .. "|feedback_" .. previous, -1) end
  redis.call("HINCRBY", KEYS[i], ARGV[4] .. "|feedback_" .. ARGV[3], 1)
end
return "ok"
`);

export type RatingOutcome = "ok" | "unchanged" | "unknown";

/** The record of a request the tenant may rate, or null (unknown, expired, or another tenant's). */
export async function ratedRequest(redis: Redis, requestId: string, tenantId: string): Promise<RequestRecord | null> {
  const record = parse<RequestRecord>(await redis.get(redisKeys.requestRecord(requestId)));
  return record && record.tenantId === tenantId ? record : null;
}

export async function rate(redis: Redis, requestId: string, record: RequestRecord, visitor: string | null, rating: Rating): Promise<RatingOutcome> {
  const { tenantId, keyId, periods } = record;
  return runScript<RatingOutcome>(
    redis,
    RATE,
    [
      redisKeys.requestRecord(requestId),
      redisKeys.feedback(requestId),
      redisKeys.dailyUsage(tenantId, periods.day),
      redisKeys.monthlyUsage(tenantId, periods.month),
      redisKeys.keyDailyUsage(tenantId, keyId, periods.day),
    ],
    [tenantId, visitor ?? "", rating, record.tierScope],
  );
}
