import type { Redis } from "@upstash/redis";
import { redisKeys } from "../storage/keys.js";
import { luaScript, runScript } from "../storage/scripts.js";
import { type Dimension, DIMENSIONS, type Projection } from "./series.js";

/**
 * Reads one metrics hash (the narrowest that answers: see MetricsStore), keeping the fields that pass the filter and summing over the
 * dimensions not kept, on the server: the answer is as small as the query, and each hash
 * is its own command (other clients' commands run between them).
 * KEYS: the hash. ARGV: region, tenant, model, provider ("" = any), which to keep ("1"/"0"
 * per dimension), most fields answered, then metric prefixes (none = every metric).
 * Returns {fields left out for the limit, field, value, field, value...}.
 */
const PROJECT = luaScript(`
local filter = {ARGV[1], ARGV[2], ARGV[3], ARGV[4]}
local keep, limit = ARGV[5], tonumber(ARGV[6])
local prefixes = {}
for i = 7, #ARGV do prefixes[#prefixes + 1] = ARGV[i] end
local sums, order, dropped = {}, {}, 0
local all = redis.call("HGETALL", KEYS[1])
for i = 1, #all, 2 do
  local field, parts, start, ok = all[i], {}, 1, true
  for d = 1, 4 do
    local bar = string.find(field, "|", start, true)
    if not bar then ok = false break end
    local value = string.sub(field, start, bar - 1)
    if filter[d] ~= "" and filter[d] ~= value then ok = false break end
    parts[d] = string.sub(keep, d, d) == "1" and value or "*"
    start = bar + 1
  end
  local metric = string.sub(field, start)
  if ok and #prefixes > 0 then
    ok = false
    for _, prefix in ipairs(prefixes) do
      if string.sub(metric, 1, #prefix) == prefix then ok = true break end
    end
  end
  if ok then
    local key = table.concat(parts, "|") .. "|" .. metric
    local amount = tonumber(all[i + 1])
    if sums[key] then sums[key] = sums[key] + amount
    elseif #order < limit then sums[key] = amount; order[#order + 1] = key
    else dropped = dropped + 1 end
  end
end
local reply = {dropped}
for _, key in ipairs(order) do
  reply[#reply + 1] = key
  reply[#reply + 1] = string.format("%.0f", sums[key])
end
return reply
`);

/** A projected hash: its fields and how many were left out for the limit. */
export interface Projected {
  fields: Map<string, number>;
  dropped: number;
}

/** A period's projected figures: a minute's or an hour's (start in ms since the epoch). */
export interface Period extends Projected {
  startMs: number;
}

/**
 * Reads the metrics the settlement and admission scripts write on the primary (METRICS in
 * ledger/scripts/lua-parts.ts). Each period is read from the narrowest of its hashes that
 * answers the projection: one tenant's when it filters on a tenant, the pooled one when it
 * sums over tenants, the full one only for a breakdown by tenant (an operator's).
 */
export class MetricsStore {
  constructor(private readonly redis: Redis) {}

  /** The running totals since the metrics began. */
  totals(projection: Projection, limit: number): Promise<Projected> {
    return this.project(redisKeys.metricsTotal(), projection, limit);
  }

  /** Minutes first..last (UTC minutes since the epoch), one command each in one request. */
  minutes(first: number, last: number, projection: Projection, limit: number): Promise<Period[]> {
    return this.periods(first, last, 60_000, redisKeys.metricsMinute, projection, limit);
  }

  /** Hours first..last (UTC hours since the epoch). */
  hours(first: number, last: number, projection: Projection, limit: number): Promise<Period[]> {
    return this.periods(first, last, 3_600_000, redisKeys.metricsHour, projection, limit);
  }

  private periods(first: number, last: number, unitMs: number, keyOf: (n: number) => string, projection: Projection, limit: number): Promise<Period[]> {
    const numbers = Array.from({ length: Math.max(0, last - first + 1) }, (_, index) => first + index);
    return Promise.all(numbers.map(async (n) => ({ startMs: n * unitMs, ...(await this.project(keyOf(n), projection, limit)) })));
  }

  private async project(hashKey: string, projection: Projection, limit: number): Promise<Projected> {
    const key = narrowest(hashKey, projection);
    const args = [
      ...DIMENSIONS.map((dimension) => projection.filter[dimension] ?? ""),
      DIMENSIONS.map((dimension: Dimension) => (projection.keep.includes(dimension) ? "1" : "0")).join(""),
      limit,
      ...projection.metricPrefixes,
    ];
    const [dropped, ...flat] = await runScript<Array<string | number>>(this.redis, PROJECT, [key], args);
    const fields = new Map<string, number>();
    for (let index = 0; index + 1 < flat.length; index += 2) fields.set(String(flat[index]), Number(flat[index + 1]));
    return { fields, dropped: Number(dropped) };
  }
}

/** Which of a period's hashes a projection reads. */
function narrowest(hashKey: string, projection: Projection): string {
  if (projection.filter.tenant !== null) return redisKeys.metricsOfTenant(hashKey, projection.filter.tenant);
  if (!projection.keep.includes("tenant")) return redisKeys.metricsPooled(hashKey);
  return hashKey;
}
