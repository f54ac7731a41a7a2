import { luaScript } from "../storage/scripts.js";

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
 * The hot path in one script: reads the key and tenant records (so a revocation or a
 * disabled tenant takes effect on the very next request), drops reservations whose
 * holder died, then reserves the request's worst-case cost against the daily and
 * monthly budgets (and, for a key with a share of the daily budget, against that share),
 * or refuses. Atomic, so concurrent requests cannot overrun a budget.
 *
 * KEYS: key record, tenant, day usage, month usage, reservations, reservation expiry,
 *       the key's day usage
 * ARGV: reservation id, amount (micro-USD), now (ms), expires at (ms),
 *       the key's share of the daily budget (0..1, or "" for none)
 * Returns {status, keyJson, tenantJson, usedMicroUsd, budgetMicroUsd}
 */
export const AUTHORIZE = luaScript(`${RELEASE}
local function num(value) return tonumber(value) or 0 end
local function micro(usd)
  if usd == nil or usd == cjson.null then return nil end
  return math.floor(usd * 1000000 + 0.5)
end
local keyJson = redis.call("GET", KEYS[1])
if not keyJson then return {"unknown_key", "", "", 0, 0} end
local tenantJson = redis.call("GET", KEYS[2])
if not tenantJson then return {"unknown_tenant", keyJson, "", 0, 0} end
local key = cjson.decode(keyJson)
if key.revokedAt ~= nil and key.revokedAt ~= cjson.null then return {"revoked_key", keyJson, tenantJson, 0, 0} end
local tenant = cjson.decode(tenantJson)
if tenant.disabled then return {"tenant_disabled", keyJson, tenantJson, 0, 0} end

for _, id in ipairs(redis.call("ZRANGEBYSCORE", KEYS[6], "-inf", ARGV[3], "LIMIT", 0, 50)) do
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

for _, usage in ipairs({KEYS[3], KEYS[4], KEYS[7]}) do redis.call("HINCRBY", usage, "total|reserved", amount) end
redis.call("PEXPIRE", KEYS[3], 7776000000)
redis.call("PEXPIRE", KEYS[4], 69120000000)
redis.call("PEXPIRE", KEYS[7], 7776000000)
redis.call("HSET", KEYS[5], ARGV[1], ARGV[2] .. "|" .. KEYS[3] .. "|" .. KEYS[4] .. "|" .. KEYS[7])
redis.call("ZADD", KEYS[6], ARGV[4], ARGV[1])
return {"ok", keyJson, tenantJson, dayUsed + amount, 0}
`);

/**
 * Ends a request, exactly once: releases its reservation (if it still holds one) and,
 * when it was served, adds its actual usage and cost to the tenant's day and month
 * counters and the key's day counters.
 * A settlement marker makes a retried settlement (storage answered but the reply was
 * lost) a no-op instead of counting twice.
 *
 * KEYS: reservations, reservation expiry, day usage, month usage, settlement marker,
 *       the key's day usage
 * ARGV: reservation id, served (1/0), model, input, output, cache write, cache read,
 *       cost, cost on the strongest model, estimated (1/0)
 * Returns 1 when settled now, 0 when it had been settled before.
 */
export const SETTLE = luaScript(`${RELEASE}
if not redis.call("SET", KEYS[5], "1", "NX", "EX", 172800) then return 0 end
release(KEYS[1], KEYS[2], ARGV[1])
if ARGV[2] == "1" then
  local model = ARGV[3]
  local fields = {"input", "output", "cache_write", "cache_read", "cost", "cost_strongest", "estimated"}
  for _, usage in ipairs({KEYS[3], KEYS[4], KEYS[6]}) do
    redis.call("HINCRBY", usage, model .. "|requests", 1)
    redis.call("HINCRBY", usage, "total|requests", 1)
    for i, field in ipairs(fields) do
      local value = tonumber(ARGV[3 + i])
      if value ~= 0 then
        redis.call("HINCRBY", usage, model .. "|" .. field, value)
        redis.call("HINCRBY", usage, "total|" .. field, value)
      end
    end
  end
end
return 1
`);
