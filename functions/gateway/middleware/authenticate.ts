import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { sha256Hex } from "../../../shared/auth/constant-time.js";
import { clientNetwork, networkId } from "../../../shared/auth/network.js";
import { presentedKey } from "../../../shared/auth/presented-key.js";
import { GatewayError } from "../../../shared/http/errors.js";
import { withinTimeout } from "../../../shared/storage/health.js";
import { keyRefusals, pinRefusal } from "../../../shared/tenants/key-refusals.js";
import type { KeyLookup } from "../../../shared/tenants/store.js";
import type { Caller, GatewayAppEnv } from "../context.js";

/**
 * How stale a cached key may be. Routes that spend money re-validate the key and its
 * policy inside their single storage call, so they accept an older entry; the others
 * accept two seconds, which with the region's replica (at most REPLICA_MAX_AGE_MS old)
 * bounds how long a revoked key or an old policy lasts there.
 */
export const KEY_CACHE_MAX_AGE_MS = { revalidated: 60_000, plain: 2_000 } as const;

/**
 * Resolves the client's key (by its SHA-256: the plaintext is never stored or logged)
 * to a key record and tenant, or answers 401 in Anthropic's format. Publishable keys
 * are refused here: they only work on the widget endpoints.
 */
export function authenticate(options: { revalidatedDownstream: boolean }) {
  const maxAgeMs = options.revalidatedDownstream ? KEY_CACHE_MAX_AGE_MS.revalidated : KEY_CACHE_MAX_AGE_MS.plain;
  return createMiddleware<GatewayAppEnv>(async (c, next) => {
    const presented = presentedKey(c.req.raw.headers);
    if (!presented) {
      throw new GatewayError(
        "authentication_error",
        "Missing API key: send your edgegate key in the x-api-key header or as Authorization: Bearer <key>.",
      );
    }
    const caller = await resolveKey(c, presented, maxAgeMs);
    if (caller.key.kind === "publishable") {
      throw new GatewayError("permission_error", "Publishable keys only work on the widget endpoints; use a secret key here.");
    }
    c.set("caller", caller);
    await next();
  });
}

/**
 * The key's record and tenant (from the isolate cache when fresh enough), refusing
 * unknown and revoked keys, disabled tenants and tenants pinned to another region.
 * Unknown keys are remembered briefly, and failures are throttled per client network.
 */
export async function resolveKey(c: Context<GatewayAppEnv>, presented: string, maxAgeMs: number): Promise<Caller> {
  const { keyCache, unknownKeys, authFailures, redis } = c.get("services");
  const config = c.get("config");
  const keyHash = await sha256Hex(presented);
  const now = Date.now();
  let entry = keyCache.get(keyHash, maxAgeMs, now);
  if (!entry) {
    const network = await networkId(clientNetwork(c.req.raw.headers), config.gatewaySecret);
    authFailures.checkNotBlocked(network, now);
    if (unknownKeys.has(keyHash, now)) throw keyRefusals.unknown();
    const found = await lookupKey(c, keyHash);
    if (!found?.tenant) {
      keyCache.delete(keyHash);
      unknownKeys.add(keyHash, now);
      await authFailures.recordFailure(redis, network, now);
      throw keyRefusals.unknown();
    }
    keyCache.set(keyHash, found.key, found.tenant, now);
    entry = { key: found.key, tenant: found.tenant, fetchedAt: now };
  }
  if (entry.key.revokedAt) throw keyRefusals.revoked();
  if (entry.tenant.disabled) throw keyRefusals.tenantDisabled();
  if (entry.tenant.regionPin && !entry.tenant.regionPin.includes(config.region)) throw pinRefusal(entry.tenant.regionPin, config.region);
  c.get("log").set({ tenant_id: entry.tenant.id, key_id: entry.key.id });
  return { keyHash, key: entry.key, tenant: entry.tenant };
}

/**
 * A key and its tenant: from the region's replica when it has one that is current enough,
 * else from the primary (then copied into the replica, off the critical path).
 */
async function lookupKey(c: Context<GatewayAppEnv>, keyHash: string): Promise<KeyLookup | null> {
  const { tenants, ledger } = c.get("services");
  const { storageTimeoutMs } = c.get("config");
  const local = ledger.replicaIfUp();
  if (local) {
    try {
      const found = await withinTimeout(local.replica.lookup(keyHash, local.maxAgeMs), storageTimeoutMs);
      if (found.status === "ok") return found;
      if (found.status === "replica_stale") c.executionCtx.waitUntil(ledger.sync().catch(() => undefined));
    } catch {
      ledger.observe("region", false);
    }
  }
  try {
    const found = await withinTimeout(tenants.lookupKey(keyHash), storageTimeoutMs);
    ledger.observe("primary", true);
    if (local && found?.tenant) c.executionCtx.waitUntil(local.replica.copy(keyHash, found.key, found.tenant).catch(() => undefined));
    return found;
  } catch {
    ledger.observe("primary", false);
    throw new GatewayError("api_error", "Cannot verify the API key: usage storage is unavailable; retry shortly.", {
      status: 503,
      headers: { "retry-after": "5" },
    });
  }
}
