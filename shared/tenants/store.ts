import type { Redis } from "@upstash/redis";
import { sha256Hex } from "../auth/constant-time.js";
import { redisKeys } from "../storage/keys.js";
import { luaScript, runScript } from "../storage/scripts.js";
import { keyPreview, newKey, newKeyId } from "./key-format.js";
import {
  type KeyInput,
  type KeyRecord,
  type KeyUpdate,
  type Tenant,
  type TenantInput,
  type TenantUpdate,
  tenantInputSchema,
} from "./model.js";
import { updatedWidgetConfig, widgetConfigSchema } from "../widget/config.js";

/** Key record and its tenant in one round trip; the tenant key is only known from the record. */
const LOOKUP = luaScript(`
local keyJson = redis.call("GET", KEYS[1])
if not keyJson then return {"", ""} end
local tenantId = cjson.decode(keyJson).tenantId
return {keyJson, redis.call("GET", "${redisKeys.tenant("")}" .. tenantId) or ""}
`);

/**
 * Writes a key or tenant record and notes the change in the primary's change log (a
 * sorted set of record keys by change number), atomically: regions replicate from the
 * log, so a write it missed would never reach them. Modes: "set"; "create" (only when
 * absent); "edit" (only when present and, for keys, not revoked: an edit must never
 * bring a key back).
 * KEYS: record, change log, change counter. ARGV: JSON, mode.
 */
const PUT_RECORD = luaScript(`
local current = redis.call("GET", KEYS[1])
if ARGV[2] == "create" and current then return "exists" end
if ARGV[2] == "edit" then
  if not current then return "missing" end
  local revokedAt = cjson.decode(current).revokedAt
  if revokedAt ~= nil and revokedAt ~= cjson.null then return "revoked" end
end
redis.call("SET", KEYS[1], ARGV[1])
redis.call("ZADD", KEYS[2], redis.call("INCR", KEYS[3]), KEYS[1])
return "ok"
`);

type PutMode = "set" | "create" | "edit";

export interface KeyLookup {
  key: KeyRecord;
  tenant: Tenant | null;
}

export interface CreatedKey {
  /** The plaintext key: shown once, never stored. */
  secret: string;
  record: KeyRecord;
}

export class TenantStore {
  constructor(private readonly redis: Redis) {}

  async createTenant(input: TenantInput): Promise<Tenant | null> {
    const now = new Date().toISOString();
    const { id = `t_${crypto.randomUUID().slice(0, 8)}`, ...rest } = input;
    const tenant: Tenant = { id, ...rest, createdAt: now, updatedAt: now };
    if ((await this.put(redisKeys.tenant(id), tenant, "create")) !== "ok") return null;
    await this.redis.sadd(redisKeys.tenantIds(), id);
    return tenant;
  }

  async getTenant(id: string): Promise<Tenant | null> {
    return parse<Tenant>(await this.redis.get<string>(redisKeys.tenant(id)));
  }

  async listTenants(): Promise<Tenant[]> {
    const ids = await this.redis.smembers(redisKeys.tenantIds());
    if (ids.length === 0) return [];
    const records = await this.redis.mget<(string | null)[]>(...ids.map(redisKeys.tenant));
    return records.flatMap((record) => parse<Tenant>(record) ?? []).sort((a, b) => a.id.localeCompare(b.id));
  }

  async updateTenant(id: string, update: TenantUpdate): Promise<Tenant | null> {
    const current = await this.getTenant(id);
    if (!current) return null;
    const { createdAt, updatedAt: _previousUpdate, ...settings } = current;
    const merged = tenantInputSchema.parse({
      ...settings,
      ...update,
      id,
      limits: { ...current.limits, ...update.limits },
      modelPolicy: { ...current.modelPolicy, ...update.modelPolicy },
    });
    const tenant: Tenant = { ...merged, id, createdAt, updatedAt: new Date().toISOString() };
    await this.put(redisKeys.tenant(id), tenant, "set");
    return tenant;
  }

  async createKey(tenantId: string, input: KeyInput): Promise<CreatedKey> {
    const secret = newKey(input.kind);
    const now = new Date().toISOString();
    const record: KeyRecord = {
      id: newKeyId(),
      tenantId,
      kind: input.kind,
      label: input.label,
      hash: await sha256Hex(secret),
      preview: keyPreview(secret),
      requestsPerMinute: input.requestsPerMinute,
      tokensPerMinute: input.tokensPerMinute,
      widget: input.kind === "publishable" ? (input.widget ?? widgetConfigSchema.parse({})) : null,
      createdAt: now,
      updatedAt: now,
      revokedAt: null,
    };
    // The listing entry first: a key that exists is always listed (and revocable by id).
    await this.redis.hset(redisKeys.tenantKeys(tenantId), { [record.id]: record.hash });
    await this.put(redisKeys.key(record.hash), record, "set");
    return { secret, record };
  }

  async listKeys(tenantId: string): Promise<Array<KeyRecord & { lastUsedAt: string | null }>> {
    const hashes = Object.values((await this.redis.hgetall<Record<string, string>>(redisKeys.tenantKeys(tenantId))) ?? {});
    if (hashes.length === 0) return [];
    const records = (await this.redis.mget<(string | null)[]>(...hashes.map(redisKeys.key))).flatMap(
      (json) => parse<KeyRecord>(json) ?? [],
    );
    const lastUsed = await this.redis.mget<(number | null)[]>(...records.map((record) => redisKeys.keyLastUsed(record.id)));
    return records
      .map((record, i) => ({ ...record, lastUsedAt: lastUsed[i] ? new Date(Number(lastUsed[i])).toISOString() : null }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Changes an active key's settings; widget fields merge into its widget configuration. */
  async updateKey(record: KeyRecord, update: KeyUpdate): Promise<KeyRecord | "revoked" | null> {
    const { widget, ...fields } = update;
    const updated: KeyRecord = {
      ...record,
      ...fields,
      widget: record.widget && (widget ? updatedWidgetConfig(record.widget, widget) : record.widget),
      updatedAt: new Date().toISOString(),
    };
    const outcome = await this.put(redisKeys.key(record.hash), updated, "edit");
    return outcome === "ok" ? updated : outcome === "revoked" ? "revoked" : null;
  }

  async revokeKey(tenantId: string, keyId: string): Promise<KeyRecord | null> {
    const record = await this.getKey(tenantId, keyId);
    if (!record) return null;
    if (record.revokedAt) return record;
    const now = new Date().toISOString();
    const revoked: KeyRecord = { ...record, revokedAt: now, updatedAt: now };
    await this.put(redisKeys.key(record.hash), revoked, "set");
    return revoked;
  }

  /** Issues a new key with the same settings and revokes the old one. */
  async rotateKey(tenantId: string, keyId: string): Promise<CreatedKey | null> {
    const record = await this.getKey(tenantId, keyId);
    if (!record || record.revokedAt) return null;
    const created = await this.createKey(tenantId, {
      kind: record.kind,
      label: record.label,
      requestsPerMinute: record.requestsPerMinute,
      tokensPerMinute: record.tokensPerMinute,
      widget: record.widget ?? undefined,
    });
    await this.revokeKey(tenantId, keyId);
    return created;
  }

  private put(recordKey: string, record: KeyRecord | Tenant, mode: PutMode): Promise<string> {
    return runScript<string>(this.redis, PUT_RECORD, [recordKey, redisKeys.changes(), redisKeys.changeCounter()], [JSON.stringify(record), mode]);
  }

  async lookupKey(keyHash: string): Promise<KeyLookup | null> {
    const [keyJson, tenantJson] = await runScript<[string, string]>(this.redis, LOOKUP, [redisKeys.key(keyHash)], []);
    const key = parse<KeyRecord>(keyJson);
    return key ? { key, tenant: parse<Tenant>(tenantJson) } : null;
  }

  async getKey(tenantId: string, keyId: string): Promise<KeyRecord | null> {
    const hash = await this.redis.hget<string>(redisKeys.tenantKeys(tenantId), keyId);
    return hash ? parse<KeyRecord>(await this.redis.get<string>(redisKeys.key(hash))) : null;
  }
}

/** Records are stored as JSON strings; the client may already have deserialised them. */
export function parse<T>(value: unknown): T | null {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value !== "string") return value as T;
  try {
    return JSON.parse(value) as T;
  } catch {
    return null;
  }
}
