import type { Redis } from "@upstash/redis";
import { redisKeys } from "../../storage/keys.js";
import { luaScript, runScript } from "../../storage/scripts.js";
import { parse } from "../../tenants/store.js";
import type { Condition } from "./rules.js";

/**
 * Moves each alert of the scopes evaluated between firing and resolved, atomically on
 * the primary, so that whichever isolate or region evaluates, a change is announced
 * once. A change stays pending until its message was delivered (then `sent` is set), and
 * is offered again at the next evaluation until then. A resolved alert is dropped once
 * its resolve message was sent, or at once if its firing message never was; alerts of a
 * scope that no longer gets alerts are dropped without a message.
 *
 * KEYS: the state hash. ARGV: now (ms), number of scopes evaluated, the scopes, then per
 * condition holding now its id and JSON. Returns {id, "firing"|"resolved", stored JSON}
 * for every change not yet delivered.
 */
const TRANSITIONS = luaScript(`
local now = tonumber(ARGV[1])
local scopeCount = tonumber(ARGV[2])
local evaluated = {}
for i = 3, 2 + scopeCount do evaluated[ARGV[i]] = true end
local holding = {}
for i = 3 + scopeCount, #ARGV, 2 do holding[ARGV[i]] = ARGV[i + 1] end
local pending = {}
local function offer(id, entry)
  local json = cjson.encode(entry)
  redis.call("HSET", KEYS[1], id, json)
  if not entry.sent then
    pending[#pending + 1] = id
    pending[#pending + 1] = entry.status
    pending[#pending + 1] = json
  end
end
local stored = redis.call("HGETALL", KEYS[1])
local known = {}
for i = 1, #stored, 2 do
  local id, entry = stored[i], cjson.decode(stored[i + 1])
  known[id] = true
  local condition = holding[id]
  if condition then
    local decoded = cjson.decode(condition)
    if entry.status == "firing" then
      entry.condition = decoded
      offer(id, entry)
    elseif not entry.sent then
      -- Back before its resolve message went out: it never stopped, as far as anyone was told.
      offer(id, {status = "firing", since = entry.firedAt, sent = true, scope = decoded.scope, condition = decoded})
    else
      offer(id, {status = "firing", since = now, sent = false, scope = decoded.scope, condition = decoded})
    end
  elseif evaluated[entry.scope] then
    if entry.status == "firing" then
      if entry.sent then
        offer(id, {status = "resolved", since = now, firedAt = entry.since, sent = false, scope = entry.scope, condition = entry.condition})
      else
        redis.call("HDEL", KEYS[1], id)
      end
    else
      offer(id, entry)
    end
  else
    -- Its scope no longer gets alerts.
    redis.call("HDEL", KEYS[1], id)
  end
end
for id, condition in pairs(holding) do
  if not known[id] then
    local decoded = cjson.decode(condition)
    offer(id, {status = "firing", since = now, sent = false, scope = decoded.scope, condition = decoded})
  end
end
return pending
`);

/** Marks a change delivered: a firing alert keeps its state (sent), a resolved one is dropped. */
const DELIVERED = luaScript(`
local current = redis.call("HGET", KEYS[1], ARGV[1])
if not current then return 0 end
local entry = cjson.decode(current)
if entry.status ~= ARGV[2] or tostring(entry.since) ~= ARGV[3] then return 0 end
if entry.status == "resolved" then
  redis.call("HDEL", KEYS[1], ARGV[1])
else
  entry.sent = true
  redis.call("HSET", KEYS[1], ARGV[1], cjson.encode(entry))
end
return 1
`);

export interface StoredAlert {
  status: "firing" | "resolved";
  since: number;
  /** When it began firing (resolved alerts). */
  firedAt?: number;
  sent: boolean;
  scope: string;
  condition: Condition & { scope: string };
}

export interface AlertChange {
  id: string;
  alert: StoredAlert;
}

export class AlertState {
  constructor(private readonly redis: Redis) {}

  /** Applies an evaluation of `scopes`: the conditions holding now. Returns the changes to announce. */
  async apply(now: number, scopes: readonly string[], holding: ReadonlyArray<Condition & { scope: string }>): Promise<AlertChange[]> {
    const args = [now, scopes.length, ...scopes, ...holding.flatMap((condition) => [condition.id, JSON.stringify(condition)])];
    const flat = await runScript<unknown[]>(this.redis, TRANSITIONS, [redisKeys.alertState()], args);
    const changes: AlertChange[] = [];
    for (let index = 0; index + 2 < flat.length; index += 3) {
      const alert = parse<StoredAlert>(flat[index + 2])!;
      alert.scope ??= alert.condition.scope;
      changes.push({ id: String(flat[index]), alert });
    }
    return changes;
  }

  async delivered(change: AlertChange): Promise<void> {
    await runScript(this.redis, DELIVERED, [redisKeys.alertState()], [change.id, change.alert.status, change.alert.since]);
  }

  /** Every alert firing or waiting to be announced. */
  async current(): Promise<AlertChange[]> {
    const raw = (await this.redis.hgetall<Record<string, unknown>>(redisKeys.alertState())) ?? {};
    return Object.entries(raw).map(([id, value]) => ({ id, alert: parse<StoredAlert>(value)! }));
  }
}
