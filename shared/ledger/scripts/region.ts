import { luaScript } from "../../storage/scripts.js";
import { BUCKETS, CLOCK, POLICY, RESERVATIONS } from "./lua-parts.js";

/**
 * Scripts on a region's own database: the hot path's one round trip, and the state it
 * decides with (replicated records, the region's budget leases and rate credits, the
 * outbox of settlements for the primary).
 *
 * A rate credit is a hash {a, ax, b, bx: two slots of units and their expiry (ms), rem,
 * rs: the primary bucket's remaining and ms-until-empty when last taken from, u, ut:
 * units used in about the last minute, decayed}. Two slots, so that credit taken later
 * never extends the life of credit taken earlier: units are spent within a few seconds
 * of being taken from the primary's bucket, which bounds the overshoot of the limit.
 */
const CREDITS = `
local function creditUsable(key, now)
  local c = redis.call("HMGET", key, "a", "ax", "b", "bx")
  local a = num(c[2]) > now and num(c[1]) or 0
  local b = num(c[4]) > now and num(c[3]) or 0
  return a, b
end
local function decayed(value, at, now)
  return num(value) * math.exp(-math.max(0, now - num(at)) / 60000)
end
`;

/**
 * Outbox sequence numbers: a counter that starts from the clock (10,000 per second), so
 * that a region database that lost its counter (a new or flushed database) still numbers
 * records above everything the primary has applied, and none is skipped as a duplicate.
 */
const OUTBOX = `
local function nextSeq(counter)
  if redis.call("EXISTS", counter) == 0 then
    redis.call("SET", counter, tonumber(redis.call("TIME")[1]) * 10000)
  end
  return redis.call("INCR", counter)
end
`;

/**
 * Admission against the region's own database, in one atomic script:
 * - void, as on the primary;
 * - the replicated key and tenant records: "miss" when not replicated yet,
 *   "replica_stale" when the replica is older than allowed; then POLICY;
 * - a tenant with a budget: the worst-case cost must fit in this region's budget lease
 *   ("lease_short" otherwise: the primary decides);
 * - per-minute limits: credit buckets ("c": the tenant's and key's limits, shared across
 *   regions) spend credit taken from the primary ("credit_short" when too little is
 *   left); local buckets ("b": a widget visitor's and network's limits, and every limit
 *   while the primary is unreachable) are token buckets here.
 * Then credits and buckets are charged and the worst case is reserved against the lease.
 *
 * A refusal of a local bucket is counted in the metrics through the outbox (a record
 * with only metric increments), in this same call.
 *
 * KEYS: replicated keys, replicated tenants, replica state, the lease, reservations,
 *       reservation expiry, this reservation's settlement marker, outbox, outbox
 *       counter, then the buckets
 * ARGV: reservation id, amount (micro-USD), reservation lifetime (ms), deadline (ms, 0 =
 *       none), policy version ("" = any), region, key hash, tenant id, the gateway's clock
 *       (ms), oldest replica accepted (ms of age, 0 = any), the metrics' minute hash (on
 *       the primary), the refusal counters' field prefix, "1" when the upstream call
 *       already started, bucket kinds ("c"/"b" per bucket), then capacity and cost per bucket
 * Returns {status, keyJson, tenantJson, ...}; ok: lease available after (-1: no budget, so
 *   nothing was reserved), lease spend in about the last minute, lease granted total, when the replica was read
 *   (ms), then per bucket remaining, ms-until-full, use in about the last minute and
 *   credit left; lease_short: available, spend in about the last minute, granted total;
 *   limited / too_large: the bucket's index and ms until it has room; credit_short: the
 *   bucket's index.
 */
export const LOCAL_ADMIT = luaScript(`${CLOCK}${BUCKETS}${RESERVATIONS}${POLICY}${CREDITS}${OUTBOX}
local function countRefusal(kind, reply)
  local increments = {{ARGV[12] .. kind, 1}}
  if ARGV[13] == "1" then increments[2] = {ARGV[12] .. "head_start", 1} end
  local record = cjson.encode({s = 0, u = {}, lu = "", m = "", p = "", c = {}, l = "", ln = {}, x = 0, b = {}, mk = ARGV[11], mx = increments})
  redis.call("RPUSH", KEYS[8], nextSeq(KEYS[9]) .. "|" .. record)
  return reply
end
local now = clock()
if redis.call("EXISTS", KEYS[7]) == 1 then return {"void", "", ""} end
local deadline = tonumber(ARGV[4])
if deadline > 0 and now > deadline then return {"void", "", ""} end
local maxAge = tonumber(ARGV[10])
local replicaAt = tonumber(redis.call("HGET", KEYS[3], "at"))
if maxAge > 0 and (replicaAt == nil or tonumber(ARGV[9]) - replicaAt > maxAge) then return {"replica_stale", "", ""} end

local keyJson = redis.call("HGET", KEYS[1], ARGV[7])
if not keyJson then return {"miss", "", ""} end
local tenantJson = redis.call("HGET", KEYS[2], ARGV[8])
if not tenantJson then return {"miss", keyJson, ""} end
local refused, key, tenant = policyCheck(keyJson, tenantJson, ARGV[6], ARGV[5])
if refused then return {refused, keyJson, tenantJson} end

local amount = tonumber(ARGV[2])
local daily = micro(tenant.limits.dailyBudgetUsd)
local budgeted = daily ~= nil or micro(tenant.limits.monthlyBudgetUsd) ~= nil
local available, spendRate, granted = -1, 0, 0
if budgeted then
  releaseExpired(KEYS[5], KEYS[6], now, "v")
  local lease = redis.call("HMGET", KEYS[4], "g", "s", "r", "v", "sr", "st")
  granted = num(lease[1])
  available = granted - num(lease[2]) - num(lease[3]) - num(lease[4])
  spendRate = decayed(lease[5], lease[6], now)
  if available < amount then return {"lease_short", keyJson, tenantJson, available, spendRate, granted} end
end

local kinds = ARGV[14]
local count = #kinds
local isCredit = {}
for i = 1, count do isCredit[i] = string.sub(kinds, i, i) == "c" end
local limited, uses = bucketsCheck(10, 15, count, now, isCredit)
if limited then return countRefusal("rate", {limited[1], keyJson, tenantJson, limited[2], limited[3]}) end
for i = 1, count do
  if isCredit[i] then
    local cost = tonumber(ARGV[15 + 2 * i - 1])
    local a, b = creditUsable(KEYS[9 + i], now)
    if cost > tonumber(ARGV[15 + 2 * i - 2]) then return countRefusal("rate", {"too_large", keyJson, tenantJson, i, 0}) end
    if a + b < cost then return {"credit_short", keyJson, tenantJson, i} end
  end
end

local info = bucketsTake(10, 15, count, uses, now, isCredit)
local reply = {"ok", keyJson, tenantJson, budgeted and available - amount or -1, spendRate, granted, replicaAt or 0}
for i = 1, count do
  local remaining, untilFull, recent, credit = info[2 * i - 1], info[2 * i], 0, 0
  if isCredit[i] then
    local key, cost = KEYS[9 + i], tonumber(ARGV[15 + 2 * i - 1])
    local a, b = creditUsable(key, now)
    local fromA = math.min(a, cost)
    local state = redis.call("HMGET", key, "rem", "rs", "u", "ut")
    recent = decayed(state[3], state[4], now) + cost
    redis.call("HSET", key, "a", a - fromA, "b", b - (cost - fromA), "u", tostring(recent), "ut", now)
    credit = a + b - cost
    remaining, untilFull = num(state[1]) + credit, num(state[2])
  end
  reply[#reply + 1] = remaining
  reply[#reply + 1] = untilFull
  reply[#reply + 1] = recent
  reply[#reply + 1] = credit
end
if budgeted then reserve(KEYS[5], KEYS[6], ARGV[1], amount, now + tonumber(ARGV[3]), "v", {KEYS[4]}) end
return reply
`);

/**
 * Ends a request admitted locally, exactly once: releases its reservation on the lease,
 * counts its cost as spent from the lease, queues its settlement for the primary in the
 * outbox (under the next sequence number), and corrects local token buckets.
 *
 * KEYS: reservations, reservation expiry, settlement marker, the lease, outbox, outbox
 *       counter, then the local buckets to correct
 * ARGV: reservation id, cost spent from the lease (micro-USD), record for the primary (""
 *       = none), number of corrections, then per bucket capacity, correction, charged, chargedAt
 * Returns the record's sequence number, 0 when none was queued, -1 when settled before.
 */
export const LOCAL_SETTLE = luaScript(`${CLOCK}${BUCKETS}${RESERVATIONS}${CREDITS}${OUTBOX}
if not redis.call("SET", KEYS[3], "1", "NX", "EX", 172800) then return -1 end
local now = clock()
release(KEYS[1], KEYS[2], ARGV[1], "v")
local cost = tonumber(ARGV[2])
if cost > 0 then
  local lease = redis.call("HMGET", KEYS[4], "sr", "st")
  redis.call("HINCRBY", KEYS[4], "s", cost)
  redis.call("HSET", KEYS[4], "sr", tostring(decayed(lease[1], lease[2], now) + cost), "st", now)
end
local seq = 0
if ARGV[3] ~= "" then
  seq = nextSeq(KEYS[6])
  redis.call("RPUSH", KEYS[5], seq .. "|" .. ARGV[3])
end
for i = 1, tonumber(ARGV[4]) do
  local at = 4 * i + 1
  bucketCorrect(KEYS[6 + i], tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3]), now)
end
return seq
`);

/**
 * Takes in what the primary handed out (REPLENISH): the lease's granted, spent and
 * returned totals, never lowered (replies may arrive out of order, and the region's own
 * spent and returned may be ahead of the primary's, which learns them from the outbox),
 * but raised to the primary's: a database that lost its copy of the lease must not spend
 * it again. The lease joins the set of leases the region holds. New credit per bucket goes
 * in the newer slot after the older slots are merged (keeping the earlier expiry). A
 * region never holds more than its cap of a limit (several isolates may top up at once):
 * the rest is dropped, which only ever leaves the limit unused.
 *
 * KEYS: the lease, the set of leases held, then the credit buckets
 * ARGV: granted, spent and returned totals (granted -1 = the lease is unchanged), credit
 *       lifetime (ms), then per bucket taken, the primary's remaining and ms-until-empty,
 *       and the region's cap
 */
export const LEASE_APPLY = luaScript(`${CLOCK}${CREDITS}
local now = clock()
local granted = tonumber(ARGV[1])
if granted >= 0 then
  local lease = redis.call("HMGET", KEYS[1], "g", "s", "r")
  local figures = {g = granted, s = tonumber(ARGV[2]), r = tonumber(ARGV[3])}
  local current = {g = num(lease[1]), s = num(lease[2]), r = num(lease[3])}
  for field, value in pairs(figures) do
    if value > current[field] then redis.call("HSET", KEYS[1], field, value) end
  end
  if granted > 0 then
    redis.call("SADD", KEYS[2], KEYS[1])
    redis.call("PEXPIRE", KEYS[1], 3024000000)
  end
end
local ttl = tonumber(ARGV[4])
for i = 3, #KEYS do
  local at = 4 * i - 7
  local taken, cap = tonumber(ARGV[at]), tonumber(ARGV[at + 3])
  local key = KEYS[i]
  if taken > 0 then
    local c = redis.call("HMGET", key, "a", "ax", "b", "bx")
    local a, ax, b, bx = num(c[1]), num(c[2]), num(c[3]), num(c[4])
    if ax <= now or a <= 0 then a, ax = 0, 0 end
    if bx <= now or b <= 0 then b, bx = 0, 0 end
    if a > 0 and b > 0 then a, ax = a + b, math.min(ax, bx)
    elseif b > 0 then a, ax = b, bx end
    taken = math.max(0, math.min(taken, cap - a))
    redis.call("HSET", key, "a", a, "ax", ax, "b", taken, "bx", now + ttl)
  end
  redis.call("HSET", key, "rem", ARGV[at + 1], "rs", ARGV[at + 2])
  redis.call("PEXPIRE", key, ttl + 60000)
end
return 1
`);

/**
 * Gives back part of a lease the region does not need: only what is neither spent nor
 * reserved, queued in the outbox behind the settlements drawn from it. A lease with
 * nothing left outstanding leaves the set of leases held.
 * KEYS: the lease, the set of leases held, outbox, outbox counter. ARGV: amount (-1 = all
 * that is available), record for the primary (its "AMOUNT" replaced by the amount returned).
 * Returns the record's sequence number, or 0 when nothing was returned.
 */
export const LEASE_RETURN = luaScript(`${CLOCK}${OUTBOX}
local lease = redis.call("HMGET", KEYS[1], "g", "s", "r", "v")
local outstanding = num(lease[1]) - num(lease[2]) - num(lease[3])
local available = outstanding - num(lease[4])
local amount = tonumber(ARGV[1])
if amount < 0 then amount = available end
if amount <= 0 or available < amount then
  if outstanding <= 0 then redis.call("SREM", KEYS[2], KEYS[1]) end
  return 0
end
redis.call("HINCRBY", KEYS[1], "r", amount)
if outstanding - amount <= 0 then redis.call("SREM", KEYS[2], KEYS[1]) end
local seq = nextSeq(KEYS[4])
redis.call("RPUSH", KEYS[3], seq .. "|" .. (string.gsub(ARGV[2], "AMOUNT", tostring(amount))))
return seq
`);

/** Drops outbox records the primary has applied. KEYS: outbox. ARGV: highest applied. Returns what is left. */
export const OUTBOX_TRIM = luaScript(`
local applied = tonumber(ARGV[1])
while true do
  local head = redis.call("LINDEX", KEYS[1], 0)
  if not head then break end
  if tonumber(string.sub(head, 1, string.find(head, "|", 1, true) - 1)) > applied then break end
  redis.call("LPOP", KEYS[1])
end
return redis.call("LLEN", KEYS[1])
`);

/**
 * Writes records read from the primary into the replica: a record older (by updatedAt)
 * than the replica's copy is ignored, so replies arriving out of order cannot bring back
 * an old policy. With a cursor (a sync), the replica's cursor and the time it was read
 * advance; "reset" first empties the replica (it has no cursor, so its copies cannot be
 * trusted to be current).
 *
 * KEYS: replicated keys, replicated tenants, replica state
 * ARGV: cursor ("" = a read-through), "reset" or "", the gateway's clock when the primary
 *       was read (ms), then per record its kind ("k" key hash / "t" tenant id), id and JSON ("" = gone)
 */
export const REPLICATE = luaScript(`
if ARGV[2] == "reset" then redis.call("DEL", KEYS[1], KEYS[2]) end
for i = 4, #ARGV, 3 do
  local hash = ARGV[i] == "k" and KEYS[1] or KEYS[2]
  local id, json = ARGV[i + 1], ARGV[i + 2]
  if json == "" then
    redis.call("HDEL", hash, id)
  else
    local current = redis.call("HGET", hash, id)
    local newer = true
    if current then
      local was, now = cjson.decode(current).updatedAt, cjson.decode(json).updatedAt
      if type(was) == "string" and type(now) == "string" and was > now then newer = false end
    end
    if newer then redis.call("HSET", hash, id, json) end
  end
end
if ARGV[1] ~= "" then
  local state = redis.call("HMGET", KEYS[3], "cursor", "at")
  local cursor, readAt = tonumber(ARGV[1]), tonumber(ARGV[3])
  if state[1] == false or ARGV[2] == "reset" or cursor >= tonumber(state[1]) then
    redis.call("HSET", KEYS[3], "cursor", cursor, "at", math.max(readAt, tonumber(state[2]) or 0))
  end
end
return 1
`);

/**
 * A key and its tenant from the replica, for authentication.
 * KEYS: replicated keys, replicated tenants, replica state. ARGV: key hash, the gateway's
 * clock (ms), oldest replica accepted (ms of age, 0 = any).
 * Returns {"ok" | "miss" | "replica_stale", keyJson, tenantJson}.
 */
export const LOOKUP_REPLICA = luaScript(`
local maxAge = tonumber(ARGV[3])
if maxAge > 0 then
  local at = tonumber(redis.call("HGET", KEYS[3], "at"))
  if at == nil or tonumber(ARGV[2]) - at > maxAge then return {"replica_stale", "", ""} end
end
local keyJson = redis.call("HGET", KEYS[1], ARGV[1])
if not keyJson then return {"miss", "", ""} end
local tenantJson = redis.call("HGET", KEYS[2], cjson.decode(keyJson).tenantId)
if not tenantJson then return {"miss", keyJson, ""} end
return {"ok", keyJson, tenantJson}
`);
