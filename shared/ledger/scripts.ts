import { luaScript } from "../storage/scripts.js";

/**
 * Per-minute limits in Redis, as token buckets kept by what they owe: a bucket of
 * `capacity` units drains its use at `capacity` per minute, continuously (requests per
 * minute and tokens per minute alike). Keeping the use rather than the level means a
 * raised limit gives its extra room at once, and a lowered one takes effect at once (use
 * above the new capacity counts as a full bucket). State is a hash {u = use, t = ms of
 * it}; idle buckets expire once they would be empty anyway. Time is Redis's own clock,
 * the same for every isolate and region.
 */
const BUCKETS = `
local function clock()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function bucketUse(key, capacity, now)
  local state = redis.call("HMGET", key, "u", "t")
  local use, at = tonumber(state[1]), tonumber(state[2])
  if use == nil or at == nil then return 0 end
  return math.min(capacity, math.max(0, use - math.max(0, now - at) * capacity / 60000))
end
local function bucketStore(key, use, now)
  redis.call("HSET", key, "u", tostring(use), "t", now)
  redis.call("PEXPIRE", key, 120000)
end
-- Checks buckets KEYS[first..] with ARGV capacity/cost pairs from ARGV[argFirst];
-- returns nil and the uses when all have room, else {"too_large", index, 0}, or
-- {"limited", index, waitMs} for the bucket that needs the longest wait.
local function bucketsCheck(first, argFirst, count, now)
  local uses = {}
  local refused = nil
  for i = 1, count do
    local capacity, cost = tonumber(ARGV[argFirst + 2 * i - 2]), tonumber(ARGV[argFirst + 2 * i - 1])
    local use = bucketUse(KEYS[first + i - 1], capacity, now)
    if cost > capacity then return {"too_large", i, 0}, uses end
    if use + cost > capacity then
      local wait = math.ceil((use + cost - capacity) * 60000 / capacity)
      if refused == nil or wait > refused[3] then refused = {"limited", i, wait} end
    end
    uses[i] = use
  end
  return refused, uses
end
-- Takes the costs; returns {remaining, msUntilEmpty} per bucket, flattened.
local function bucketsTake(first, argFirst, count, uses, now)
  local info = {}
  for i = 1, count do
    local capacity, cost = tonumber(ARGV[argFirst + 2 * i - 2]), tonumber(ARGV[argFirst + 2 * i - 1])
    local use = uses[i] + cost
    bucketStore(KEYS[first + i - 1], use, now)
    info[#info + 1] = math.floor(capacity - use)
    info[#info + 1] = math.ceil(use * 60000 / capacity)
  end
  return info
end
`;

/**
 * Releases one reservation: subtracts its amount from every usage hash it was added to.
 * An entry is "amount|usageKey|usageKey|...".
 */
const RELEASE = `
local function release(reservations, expiry, id)
  local entry = redis.call("HGET", reservations, id)
  if not entry then return 0 end
  local amount = nil
  for part in string.gmatch(entry, "[^|]+") do
    if amount == nil then amount = tonumber(part)
    else redis.call("HINCRBY", part, "total|reserved", -amount) end
  end
  redis.call("HDEL", reservations, id)
  redis.call("ZREM", expiry, id)
  return 1
end
`;

/**
 * The hot path in one atomic script, so nothing is consumed unless everything admits:
 * - void: the reservation was settled or voided already, or the deadline has passed
 *   (an admission that lands after the gateway gave up on it does nothing);
 * - the key and tenant records (a revocation, a disabled tenant, a new region pin take
 *   effect on the very next request); "stale" when they changed since the gateway read
 *   them, so it can redo the decision with the current policy;
 * - reservations whose holder died are dropped;
 * - budgets: the worst-case cost against the daily and monthly budgets, and a widget
 *   key's share of the daily budget;
 * - rate limits: every bucket must have room for its cost.
 * Then the buckets are charged and the worst case is reserved.
 *
 * KEYS: key record, tenant, day usage, month usage, reservations, reservation expiry,
 *       the key's day usage, this reservation's settlement marker, then the buckets
 * ARGV: reservation id, amount (micro-USD), reservation lifetime (ms), deadline (ms since
 *       the epoch, 0 = none), the key's share of the daily budget ("" = none), the policy
 *       version the gateway decided with ("" = any), this region ("" = no pin check),
 *       number of buckets, then capacity and cost per bucket
 * Returns {status, keyJson, tenantJson, a, b, c...}:
 *   ok: bucket remaining and ms-until-empty pairs; *_budget: used and budget (micro-USD);
 *   limited / too_large: the bucket's index and ms until it has room.
 */
export const ADMIT = luaScript(`${BUCKETS}${RELEASE}
local function num(value) return tonumber(value) or 0 end
local function micro(usd)
  if usd == nil or usd == cjson.null then return nil end
  return math.floor(usd * 1000000 + 0.5)
end
local function field(value) if value == nil or value == cjson.null then return "" end return value end
local now = clock()
if redis.call("EXISTS", KEYS[8]) == 1 then return {"void", "", ""} end
local deadline = tonumber(ARGV[4])
if deadline > 0 and now > deadline then return {"void", "", ""} end

local keyJson = redis.call("GET", KEYS[1])
if not keyJson then return {"unknown_key", "", ""} end
local tenantJson = redis.call("GET", KEYS[2])
if not tenantJson then return {"unknown_tenant", keyJson, ""} end
local key = cjson.decode(keyJson)
local tenant = cjson.decode(tenantJson)
if key.revokedAt ~= nil and key.revokedAt ~= cjson.null then return {"revoked_key", keyJson, tenantJson} end
if tenant.disabled then return {"tenant_disabled", keyJson, tenantJson} end
if ARGV[7] ~= "" and type(tenant.regionPin) == "table" then
  local pinned = false
  for _, region in ipairs(tenant.regionPin) do if region == ARGV[7] then pinned = true end end
  if not pinned then return {"pinned_elsewhere", keyJson, tenantJson} end
end
if ARGV[6] ~= "" and ARGV[6] ~= field(tenant.updatedAt) .. "|" .. field(key.updatedAt) then
  return {"stale", keyJson, tenantJson}
end

for _, id in ipairs(redis.call("ZRANGEBYSCORE", KEYS[6], "-inf", now, "LIMIT", 0, 50)) do
  release(KEYS[5], KEYS[6], id)
end

local amount = tonumber(ARGV[2])
local dayUsed = num(redis.call("HGET", KEYS[3], "total|cost")) + num(redis.call("HGET", KEYS[3], "total|reserved"))
local monthUsed = num(redis.call("HGET", KEYS[4], "total|cost")) + num(redis.call("HGET", KEYS[4], "total|reserved"))
local daily = micro(tenant.limits.dailyBudgetUsd)
if daily and dayUsed + amount > daily then return {"daily_budget", keyJson, tenantJson, dayUsed, daily} end
local monthly = micro(tenant.limits.monthlyBudgetUsd)
if monthly and monthUsed + amount > monthly then return {"monthly_budget", keyJson, tenantJson, monthUsed, monthly} end
local share = tonumber(ARGV[5])
if daily and share then
  local keyUsed = num(redis.call("HGET", KEYS[7], "total|cost")) + num(redis.call("HGET", KEYS[7], "total|reserved"))
  local keyDaily = math.floor(daily * share)
  if keyUsed + amount > keyDaily then return {"key_daily_budget", keyJson, tenantJson, keyUsed, keyDaily} end
end

local count = tonumber(ARGV[8])
local refused, uses = bucketsCheck(9, 9, count, now)
if refused then return {refused[1], keyJson, tenantJson, refused[2], refused[3]} end
local info = bucketsTake(9, 9, count, uses, now)

for _, usage in ipairs({KEYS[3], KEYS[4], KEYS[7]}) do redis.call("HINCRBY", usage, "total|reserved", amount) end
redis.call("PEXPIRE", KEYS[3], 7776000000)
redis.call("PEXPIRE", KEYS[4], 69120000000)
redis.call("PEXPIRE", KEYS[7], 7776000000)
redis.call("HSET", KEYS[5], ARGV[1], ARGV[2] .. "|" .. KEYS[3] .. "|" .. KEYS[4] .. "|" .. KEYS[7])
redis.call("ZADD", KEYS[6], now + tonumber(ARGV[3]), ARGV[1])
local reply = {"ok", keyJson, tenantJson}
for _, value in ipairs(info) do reply[#reply + 1] = value end
return reply
`);

/**
 * Ends a request, exactly once: releases its reservation (if it still holds one); when
 * it was served, adds its usage and cost to the tenant's day and month counters and the
 * key's day counters; corrects the token buckets from the estimate to the actual count
 * (a refund never gives back more than was used, so remaining never exceeds the limit). The settlement marker makes a
 * retried settlement a no-op, and voids an admission that lands after it.
 *
 * KEYS: reservations, reservation expiry, day usage, month usage, settlement marker,
 *       the key's day usage, the key's last use, then the token buckets to correct
 * ARGV: reservation id, served (1/0), model, provider ("" = none), number of counters,
 *       then name and value per counter (kept per model, in total and per provider as
 *       "@<provider>"), number of buckets, then per bucket its capacity, the correction
 *       (positive: more was used than charged; negative: a refund), what was charged
 *       and when (ms since the epoch)
 * Returns 1 when settled now, 0 when it had been settled before.
 */
export const SETTLE = luaScript(`${BUCKETS}${RELEASE}
if not redis.call("SET", KEYS[5], "1", "NX", "EX", 172800) then return 0 end
release(KEYS[1], KEYS[2], ARGV[1])
local counters = tonumber(ARGV[5])
local now = clock()
if ARGV[2] == "1" then
  redis.call("SET", KEYS[7], now)
  local scopes = {ARGV[3], "total"}
  if ARGV[4] ~= "" then scopes[#scopes + 1] = "@" .. ARGV[4] end
  for _, usage in ipairs({KEYS[3], KEYS[4], KEYS[6]}) do
    for _, scope in ipairs(scopes) do redis.call("HINCRBY", usage, scope .. "|requests", 1) end
    for i = 1, counters do
      local name, value = ARGV[4 + 2 * i], tonumber(ARGV[5 + 2 * i])
      if value ~= 0 then
        for _, scope in ipairs(scopes) do redis.call("HINCRBY", usage, scope .. "|" .. name, value) end
      end
    end
  end
end
local argFirst = 6 + 2 * counters
local buckets = tonumber(ARGV[argFirst])
for i = 1, buckets do
  local at = argFirst + 4 * i - 3
  local capacity, correction = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
  local charged, chargedAt = tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  -- A refund gives back only what of the charge has not drained since it was taken.
  if correction < 0 then
    local undrained = math.max(0, charged - math.max(0, now - chargedAt) * capacity / 60000)
    correction = -math.min(-correction, undrained)
  end
  local key = KEYS[7 + i]
  bucketStore(key, math.max(0, bucketUse(key, capacity, now) + correction), now)
end
return 1
`);

/**
 * Rate limits outside the Messages hot path (sign-ups of widget sessions, failed
 * authentications, count_tokens): charges every bucket if all have room.
 * KEYS: the buckets. ARGV: number of buckets, then capacity and cost per bucket.
 * Returns {"ok", remaining, msUntilEmpty, ...} or {"limited"|"too_large", index, waitMs}.
 */
export const TAKE = luaScript(`${BUCKETS}
local now = clock()
local count = tonumber(ARGV[1])
local refused, uses = bucketsCheck(1, 2, count, now)
if refused then return refused end
local reply = {"ok"}
for _, value in ipairs(bucketsTake(1, 2, count, uses, now)) do reply[#reply + 1] = value end
return reply
`);
