import { luaScript } from "../../storage/scripts.js";
import { BUCKETS, CLOCK, METRICS, POLICY, RESERVATIONS, USAGE } from "./lua-parts.js";

/**
 * Admission on the primary database, in one atomic script, so nothing is consumed unless
 * everything admits. Serves every request in a region without a database of its own,
 * and in a region with one whenever the local decision cannot be made (no lease or
 * credit left, a record not replicated yet, the region's database down):
 * - void: the reservation was settled or voided already, or the deadline has passed
 *   (an admission that lands after the gateway gave up on it does nothing);
 * - the key and tenant records (POLICY);
 * - reservations whose holder died are dropped;
 * - budgets: the worst-case cost against the daily and monthly budgets, and a widget
 *   key's share of the daily budget, counting what is settled, reserved and leased;
 * - rate limits: every bucket must have room for its cost.
 * Then the buckets are charged and the worst case is reserved.
 *
 * A budget or rate refusal is counted in the metrics (METRICS), in this same call.
 *
 * KEYS: key record, tenant, day usage, month usage, reservations, reservation expiry,
 *       the key's day usage, this reservation's settlement marker, then the buckets
 * ARGV: reservation id, amount (micro-USD), reservation lifetime (ms), deadline (ms since
 *       the epoch, 0 = none), the key's share of the daily budget ("" = none), the policy
 *       version the gateway decided with ("" = any), this region ("" = no pin check),
 *       the metrics' minute (UTC minutes since the epoch), the refusal counters' field prefix, "1" when the
 *       upstream call already started, number of buckets, then capacity and cost per bucket
 * Returns {status, keyJson, tenantJson, a, b, c...}:
 *   ok: bucket remaining and ms-until-empty pairs; *_budget: used and budget (micro-USD);
 *   limited / too_large: the bucket's index and ms until it has room.
 */
export const ADMIT = luaScript(`${CLOCK}${BUCKETS}${RESERVATIONS}${POLICY}${METRICS}
local function countRefusal(kind, reply)
  local increments = {{ARGV[9] .. kind, 1}}
  if ARGV[10] == "1" then increments[2] = {ARGV[9] .. "head_start", 1} end
  addMetrics(tonumber(ARGV[8]), increments)
  return reply
end
local now = clock()
if redis.call("EXISTS", KEYS[8]) == 1 then return {"void", "", ""} end
local deadline = tonumber(ARGV[4])
if deadline > 0 and now > deadline then return {"void", "", ""} end

local keyJson = redis.call("GET", KEYS[1])
if not keyJson then return {"unknown_key", "", ""} end
local tenantJson = redis.call("GET", KEYS[2])
if not tenantJson then return {"unknown_tenant", keyJson, ""} end
local refused, key, tenant = policyCheck(keyJson, tenantJson, ARGV[7], ARGV[6])
if refused then return {refused, keyJson, tenantJson} end

releaseExpired(KEYS[5], KEYS[6], now, "total|reserved")

local amount = tonumber(ARGV[2])
local dayUsed = committed(KEYS[3])
local daily = micro(tenant.limits.dailyBudgetUsd)
if daily and dayUsed + amount > daily then return countRefusal("budget", {"daily_budget", keyJson, tenantJson, dayUsed, daily}) end
local monthUsed = committed(KEYS[4])
local monthly = micro(tenant.limits.monthlyBudgetUsd)
if monthly and monthUsed + amount > monthly then return countRefusal("budget", {"monthly_budget", keyJson, tenantJson, monthUsed, monthly}) end
local share = tonumber(ARGV[5])
if daily and share then
  local keyUsed = committed(KEYS[7])
  local keyDaily = math.floor(daily * share)
  if keyUsed + amount > keyDaily then return countRefusal("budget", {"key_daily_budget", keyJson, tenantJson, keyUsed, keyDaily}) end
end

local count = tonumber(ARGV[11])
local limited, uses = bucketsCheck(9, 12, count, now)
if limited then return countRefusal("rate", {limited[1], keyJson, tenantJson, limited[2], limited[3]}) end
local info = bucketsTake(9, 12, count, uses, now)

reserve(KEYS[5], KEYS[6], ARGV[1], amount, now + tonumber(ARGV[3]), "total|reserved", {KEYS[3], KEYS[4], KEYS[7]})
redis.call("PEXPIRE", KEYS[3], 7776000000)
redis.call("PEXPIRE", KEYS[4], 69120000000)
redis.call("PEXPIRE", KEYS[7], 7776000000)
local reply = {"ok", keyJson, tenantJson}
for _, value in ipairs(info) do reply[#reply + 1] = value end
return reply
`);

/**
 * Ends a request admitted on the primary, exactly once: releases its reservation (if it
 * still holds one); when it was served, adds its usage and cost to the tenant's day and
 * month counters and the key's day counters; corrects the token buckets from the
 * estimate to the actual count. The settlement marker makes a retried settlement a
 * no-op, and voids an admission that lands after it.
 *
 * KEYS: reservations, reservation expiry, day usage, month usage, settlement marker,
 *       the key's day usage, the key's last use, the request's record (for feedback),
 *       then the token buckets to correct
 * ARGV: reservation id, served (1/0), model, provider ("" = none), tier scope ("" = none),
 *       the request's record ("" = none), number of counters,
 *       then name and value per counter, number of buckets, then per bucket its capacity,
 *       the correction (positive: more was used than charged; negative: a refund), what
 *       was charged and when (ms since the epoch), then the metrics' minute (UTC minutes
 *       since the epoch), number of metric increments and field / amount per increment
 * Returns 1 when settled now, 0 when it had been settled before.
 */
export const SETTLE = luaScript(`${CLOCK}${BUCKETS}${RESERVATIONS}${USAGE}${METRICS}
if not redis.call("SET", KEYS[5], "1", "NX", "EX", 172800) then return 0 end
release(KEYS[1], KEYS[2], ARGV[1], "total|reserved")
local now = clock()
local counters = {}
for i = 1, tonumber(ARGV[7]) do counters[i] = {ARGV[6 + 2 * i], ARGV[7 + 2 * i]} end
if ARGV[2] == "1" then
  redis.call("SET", KEYS[7], now)
  addUsage({KEYS[3], KEYS[4], KEYS[6]}, ARGV[3], ARGV[4], counters, ARGV[5])
  keepRequest(KEYS[8], ARGV[6])
end
local argFirst = 8 + 2 * #counters
local buckets = tonumber(ARGV[argFirst])
for i = 1, buckets do
  local at = argFirst + 4 * i - 3
  bucketCorrect(KEYS[8 + i], tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3]), now)
end
local metricsAt = argFirst + 4 * buckets + 1
local increments = {}
for i = 1, tonumber(ARGV[metricsAt + 1]) do increments[i] = {ARGV[metricsAt + 2 * i], ARGV[metricsAt + 2 * i + 1]} end
addMetrics(tonumber(ARGV[metricsAt]), increments)
return 1
`);

/**
 * Rate limits outside the Messages hot path (sign-ups of widget sessions, failed
 * authentications, count_tokens): charges every bucket if all have room.
 * KEYS: the buckets. ARGV: number of buckets, then capacity and cost per bucket.
 * Returns {"ok", remaining, msUntilEmpty, ...} or {"limited"|"too_large", index, waitMs}.
 */
export const TAKE = luaScript(`${CLOCK}${BUCKETS}
local now = clock()
local count = tonumber(ARGV[1])
local refused, uses = bucketsCheck(1, 2, count, now)
if refused then return refused end
local reply = {"ok"}
for _, value in ipairs(bucketsTake(1, 2, count, uses, now)) do reply[#reply + 1] = value end
return reply
`);

/**
 * Hands a region what it decides with locally, off its critical path:
 * - a budget lease: part of the headroom of a lease scope's budget lines (day, month,
 *   and a widget key's share of the day), at most 1/divisor of the smallest headroom, so
 *   leases shrink as the tenant nears its budget and no lease can take the last of it;
 *   nothing when that is less than the smallest useful lease (one request's worst case),
 *   so no lease is stranded too small to admit anything. Leases are cumulative per region
 *   ("<region>|g" granted, "|s" spent, "|r" returned): when the region's known total is
 *   behind (an earlier reply was lost), the earlier grant is handed back instead of a new
 *   one; the spent and returned totals come back too, so a region whose database lost its
 *   copy never spends a lease twice.
 * - rate credits: units taken from the primary's per-minute buckets, up to what each
 *   has room for.
 *
 * KEYS: tenant record, lease scope, the scope's budget lines (day, month[, key day]), then the buckets
 * ARGV: region, lease wanted (micro-USD, 0 = none), the smallest useful lease, the region's
 *       known granted total, headroom divisor, the key's share of the daily budget ("" =
 *       none), number of budget lines, number of buckets, then capacity and units wanted per bucket
 * Returns {granted total, spent total, returned total, then taken, remaining, ms-until-empty per bucket}.
 */
export const REPLENISH = luaScript(`${CLOCK}${BUCKETS}${POLICY}
local now = clock()
local tenantJson = redis.call("GET", KEYS[1])
if not tenantJson then return {-1, 0, 0} end
local tenant = cjson.decode(tenantJson)
local region, want, smallest, known = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local lines, buckets = tonumber(ARGV[7]), tonumber(ARGV[8])
local lease = redis.call("HMGET", KEYS[2], region .. "|g", region .. "|s", region .. "|r")
local granted = num(lease[1])
if want > 0 and granted <= known then
  local daily = micro(tenant.limits.dailyBudgetUsd)
  local budgets = {daily, micro(tenant.limits.monthlyBudgetUsd)}
  local share = tonumber(ARGV[6])
  if daily and share then budgets[3] = math.floor(daily * share) end
  local headroom = nil
  for i = 1, lines do
    if budgets[i] then
      local room = budgets[i] - committed(KEYS[2 + i])
      if headroom == nil or room < headroom then headroom = room end
    end
  end
  local grant = headroom and math.min(want, math.floor(headroom / tonumber(ARGV[5]))) or 0
  if grant >= smallest and grant > 0 then
    granted = redis.call("HINCRBY", KEYS[2], region .. "|g", grant)
    redis.call("PEXPIRE", KEYS[2], 3456000000)
    for i = 1, lines do redis.call("HINCRBY", KEYS[2 + i], "total|leased", grant) end
  end
end
local reply = {granted, num(lease[2]), num(lease[3])}
local first, argFirst = 3 + lines, 9
for i = 1, buckets do
  local capacity, wanted = tonumber(ARGV[argFirst + 2 * i - 2]), tonumber(ARGV[argFirst + 2 * i - 1])
  local key = KEYS[first + i - 1]
  local use = bucketUse(key, capacity, now)
  local taken = math.max(0, math.min(wanted, math.floor(capacity - use)))
  if taken > 0 then
    use = use + taken
    bucketStore(key, use, now)
  end
  reply[#reply + 1] = taken
  reply[#reply + 1] = math.floor(capacity - use)
  reply[#reply + 1] = math.ceil(use * 60000 / capacity)
end
return reply
`);

/**
 * Applies a region's outbox on the primary, in order and exactly once: records up to the
 * region's highest applied sequence number are skipped, so a batch sent twice (a lost
 * reply, two isolates draining at once) counts once. A record is JSON:
 *   settlement {s = 1 when served, u = usage hashes, lu = last-use key, m = model,
 *               p = provider, ts = tier scope, rq = the request record's key, rj = the
 *               record, c = {{name, value}...}, l = lease scope key or "", ln = its
 *               budget lines, x = cost drawn from the lease, b = corrections of the
 *               primary's buckets {{bucket, capacity, correction, charged, chargedAt}...}}
 *   lease return {l, ln, r = amount}
 * Either may carry metric increments: mk = the minute's hash key, mx = {{field, amount}...};
 * they are added as METRICS adds a settlement's, to the minute mk names (read back from
 * the key: records written before and after a deploy carry the same mk, nothing else).
 * Spend drawn from a lease moves from the region's lease to settled cost, so settled +
 * reserved + leased stays what it was while the request was open.
 *
 * KEYS: the applied sequence numbers. ARGV: region, then "seq|json" per record, in order.
 * Returns the highest sequence number applied.
 */
export const APPLY = luaScript(`${CLOCK}${BUCKETS}${USAGE}${METRICS}
local now = clock()
local region = ARGV[1]
local applied = num(redis.call("HGET", KEYS[1], region))
for i = 2, #ARGV do
  local bar = string.find(ARGV[i], "|", 1, true)
  local seq = tonumber(string.sub(ARGV[i], 1, bar - 1))
  if seq > applied then
    local record = cjson.decode(string.sub(ARGV[i], bar + 1))
    local moved = 0
    if record.r then
      moved = record.r
      redis.call("HINCRBY", record.l, region .. "|r", moved)
    else
      if record.s == 1 then
        redis.call("SET", record.lu, now)
        addUsage(record.u, record.m, record.p, record.c, record.ts or "")
        keepRequest(record.rq or "", record.rj or "")
        for _, usage in ipairs(record.u) do redis.call("PEXPIRE", usage, 69120000000) end
      end
      for _, b in ipairs(record.b) do bucketCorrect(b[1], b[2], b[3], b[4], b[5], now) end
      if record.l ~= "" and record.x > 0 then
        moved = record.x
        redis.call("HINCRBY", record.l, region .. "|s", moved)
      end
    end
    if moved ~= 0 then
      for _, line in ipairs(record.ln) do redis.call("HINCRBY", line, "total|leased", -moved) end
    end
    if record.mx then addMetrics(metricsMinuteOfKey(record.mk), record.mx) end
    applied = seq
    -- After each record: Redis does not undo a script that fails part-way.
    redis.call("HSET", KEYS[1], region, applied)
  end
end
return applied
`);

/**
 * What changed in the key and tenant records since a region's cursor: the log holds each
 * record key once, scored by the number of its latest change. A region that has never
 * synced (cursor -1) starts from now and reads records as it meets them.
 *
 * KEYS: change log, change counter. ARGV: cursor, most records to return.
 * Returns {new cursor, record key, JSON ("" when gone), ...}.
 */
export const SYNC = luaScript(`
local head = tonumber(redis.call("GET", KEYS[2])) or 0
local cursor = tonumber(ARGV[1])
if cursor < 0 then return {head} end
local most = tonumber(ARGV[2])
local changed = redis.call("ZRANGEBYSCORE", KEYS[1], "(" .. cursor, "+inf", "WITHSCORES", "LIMIT", 0, most)
local reply = {head}
for i = 1, #changed, 2 do
  reply[#reply + 1] = changed[i]
  reply[#reply + 1] = redis.call("GET", changed[i]) or ""
end
if #changed / 2 >= most then reply[1] = tonumber(changed[#changed]) end
return reply
`);
