import { HOURLY_RETENTION_MS, METRICS_RETENTION_MS } from "../../metrics/samples.js";
import { metricsKeysLua } from "../../storage/keys.js";

/**
 * Lua shared by the ledger's scripts, on the primary database and on a region's own.
 * Each script is assembled from these parts, so one rule is written once.
 */

/** Redis's own clock in ms: the same for every isolate that talks to one database. */
export const CLOCK = `
local function clock()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function num(value) return tonumber(value) or 0 end
`;

/**
 * Per-minute limits as token buckets kept by what they owe: a bucket of `capacity` units
 * drains its use at `capacity` per minute, continuously (requests per minute and tokens
 * per minute alike). Keeping the use rather than the level means a raised limit gives its
 * extra room at once, and a lowered one takes effect at once (use above the new capacity
 * counts as a full bucket). State is a hash {u = use, t = ms of it}; idle buckets expire
 * once they would be empty anyway.
 */
export const BUCKETS = `
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
-- {"limited", index, waitMs} for the bucket that needs the longest wait. Buckets marked
-- in skip are left out (a region's credits, checked on their own). Redis runs Lua 5.1:
-- no goto, hence the nesting.
local function bucketsCheck(first, argFirst, count, now, skip)
  local uses = {}
  local refused = nil
  for i = 1, count do
    if not (skip and skip[i]) then
      local capacity, cost = tonumber(ARGV[argFirst + 2 * i - 2]), tonumber(ARGV[argFirst + 2 * i - 1])
      local use = bucketUse(KEYS[first + i - 1], capacity, now)
      if cost > capacity then return {"too_large", i, 0}, uses end
      if use + cost > capacity then
        local wait = math.ceil((use + cost - capacity) * 60000 / capacity)
        if refused == nil or wait > refused[3] then refused = {"limited", i, wait} end
      end
      uses[i] = use
    end
  end
  return refused, uses
end
-- Takes the costs of the buckets not skipped; returns {remaining, msUntilEmpty} per
-- bucket, flattened (zeros for skipped ones, which the caller fills in).
local function bucketsTake(first, argFirst, count, uses, now, skip)
  local info = {}
  for i = 1, count do
    local remaining, untilEmpty = 0, 0
    if not (skip and skip[i]) then
      local capacity, cost = tonumber(ARGV[argFirst + 2 * i - 2]), tonumber(ARGV[argFirst + 2 * i - 1])
      local use = uses[i] + cost
      bucketStore(KEYS[first + i - 1], use, now)
      remaining, untilEmpty = math.floor(capacity - use), math.ceil(use * 60000 / capacity)
    end
    info[#info + 1] = remaining
    info[#info + 1] = untilEmpty
  end
  return info
end
-- Corrects a bucket from what a request was charged (at chargedAt) to what it used. A
-- refund gives back only what of the charge has not drained since it was taken, so the
-- bucket never holds more room than its limit allows.
local function bucketCorrect(key, capacity, correction, charged, chargedAt, now)
  if correction < 0 then
    local undrained = math.max(0, charged - math.max(0, now - chargedAt) * capacity / 60000)
    correction = -math.min(-correction, undrained)
  end
  if correction ~= 0 then bucketStore(key, math.max(0, bucketUse(key, capacity, now) + correction), now) end
end
`;

/**
 * Budget reservations: a hash id -> "amount|key|key..." (the hashes whose `field` holds
 * the amount) and a sorted set of their expiry times. Releasing subtracts the amount
 * again; a reservation whose holder died is released when it expires.
 */
export const RESERVATIONS = `
local function release(reservations, expiry, id, field)
  local entry = redis.call("HGET", reservations, id)
  if not entry then return 0 end
  local amount = nil
  for part in string.gmatch(entry, "[^|]+") do
    if amount == nil then amount = tonumber(part)
    else redis.call("HINCRBY", part, field, -amount) end
  end
  redis.call("HDEL", reservations, id)
  redis.call("ZREM", expiry, id)
  return 1
end
local function releaseExpired(reservations, expiry, now, field)
  for _, id in ipairs(redis.call("ZRANGEBYSCORE", expiry, "-inf", now, "LIMIT", 0, 50)) do
    release(reservations, expiry, id, field)
  end
end
local function reserve(reservations, expiry, id, amount, expiresAt, field, holders)
  for _, holder in ipairs(holders) do redis.call("HINCRBY", holder, field, amount) end
  redis.call("HSET", reservations, id, amount .. "|" .. table.concat(holders, "|"))
  redis.call("ZADD", expiry, expiresAt, id)
end
`;

/**
 * The key and tenant records checked together: a revocation, a disabled tenant or a new
 * region pin refuse; "stale" when they changed since the gateway read them (ARGV policy
 * version), so it can decide again with the current policy. Returns the refusal status,
 * or nil and the decoded records.
 */
export const POLICY = `
local function field(value) if value == nil or value == cjson.null then return "" end return value end
local function micro(usd)
  if usd == nil or usd == cjson.null then return nil end
  return math.floor(usd * 1000000 + 0.5)
end
local function policyCheck(keyJson, tenantJson, region, version)
  local key = cjson.decode(keyJson)
  local tenant = cjson.decode(tenantJson)
  if key.revokedAt ~= nil and key.revokedAt ~= cjson.null then return "revoked_key" end
  if tenant.disabled then return "tenant_disabled" end
  if region ~= "" and type(tenant.regionPin) == "table" then
    local pinned = false
    for _, pin in ipairs(tenant.regionPin) do if pin == region then pinned = true end end
    if not pinned then return "pinned_elsewhere" end
  end
  if version ~= "" and version ~= field(tenant.updatedAt) .. "|" .. field(key.updatedAt) then return "stale" end
  return nil, key, tenant
end
-- What counts against a budget line: settled cost, open reservations, and the budget
-- leases regions hold.
local function committed(usage)
  local figures = redis.call("HMGET", usage, "total|cost", "total|reserved", "total|leased")
  return num(figures[1]) + num(figures[2]) + num(figures[3])
end
`;

/**
 * Adds a served request's usage to usage hashes: one request and each named counter,
 * per model, in total, per provider ("@provider") and per routing tier ("~tier", or
 * "~chosen>served" for an audited request). And keeps, for a week, who made the request
 * and how it was routed, for the feedback that may come on it.
 */
export const USAGE = `
local function addUsage(usageKeys, model, provider, counters, tierScope)
  local scopes = {model, "total"}
  if provider ~= "" then scopes[#scopes + 1] = "@" .. provider end
  if tierScope ~= "" then scopes[#scopes + 1] = tierScope end
  for _, usage in ipairs(usageKeys) do
    for _, scope in ipairs(scopes) do redis.call("HINCRBY", usage, scope .. "|requests", 1) end
    for _, counter in ipairs(counters) do
      local name, value = counter[1], tonumber(counter[2])
      if value ~= 0 then
        for _, scope in ipairs(scopes) do redis.call("HINCRBY", usage, scope .. "|" .. name, value) end
      end
    end
  end
end
local function keepRequest(key, record)
  if key ~= "" and record ~= "" then redis.call("SET", key, record, "EX", 604800) end
end
`;

/**
 * Adds metric increments ({{field, amount}...}, fields "region|tenant|model|provider|metric")
 * of a minute to that minute's hash, its hour's and the running totals, each in full, in
 * the field's tenant's own hash and pooled (tenant "*"): readers touch only the hashes
 * their question needs, and a figure that arrives late (a region's outbox after an outage)
 * still lands in its hour. Minutes and hours expire after their retention; totals stay.
 */
export const METRICS = `${metricsKeysLua}
local function addMetrics(minute, increments)
  if #increments == 0 then return end
  local periods = {metricsMinuteKey(minute), metricsHourKey(math.floor(minute / 60)), metricsTotalKey()}
  local retention = {${METRICS_RETENTION_MS}, ${HOURLY_RETENTION_MS}}
  local expiring = {}
  for _, increment in ipairs(increments) do
    local field, amount = increment[1], tonumber(increment[2])
    local region, tenant, rest = string.match(field, "^([^|]*)|([^|]*)|(.*)$")
    if region then
      local pooled = region .. "|*|" .. rest
      for p, key in ipairs(periods) do
        local own, pool = metricsOfTenantKey(key, tenant), metricsPooledKey(key)
        redis.call("HINCRBY", key, field, amount)
        redis.call("HINCRBY", own, field, amount)
        redis.call("HINCRBY", pool, pooled, amount)
        if retention[p] then
          expiring[key], expiring[own], expiring[pool] = retention[p], retention[p], retention[p]
        end
      end
    end
  end
  for key, ms in pairs(expiring) do redis.call("PEXPIRE", key, ms) end
end
`;
