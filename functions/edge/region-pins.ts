import { sha256Hex } from "../../shared/auth/constant-time.js";
import { presentedKey, widgetKeyOf } from "../../shared/auth/presented-key.js";
import { redisClient } from "../../shared/storage/redis.js";
import { KeyCache } from "../../shared/tenants/key-cache.js";
import { TenantStore } from "../../shared/tenants/store.js";
import type { EdgeEnv } from "./env.js";

/** How long the front Worker trusts a cached pin; pins change rarely and only by an operator. */
const PIN_CACHE_MS = 30_000;

const cache = new KeyCache();
/** Pins a region reported for a key (newer than the cached tenant), kept as long as a cached pin. */
const learnedPins = new Map<string, { pin: string[]; until: number }>();
const MAX_LEARNED = 10_000;

/** Remembers the pin a region reported for the request's key, so the next request goes straight there. */
export async function rememberPin(request: Request, pin: string[]): Promise<void> {
  const key = presentedKey(request.headers) ?? widgetKeyOf(new URL(request.url));
  if (!key) return;
  const keyHash = await sha256Hex(key);
  if (learnedPins.size >= MAX_LEARNED) learnedPins.delete(learnedPins.keys().next().value!);
  learnedPins.set(keyHash, { pin, until: Date.now() + PIN_CACHE_MS });
}

/**
 * The region pin of the tenant behind the request's key (a widget's comes in the URL): null when the tenant has none,
 * when there is no key or the key is unknown (the region then refuses the request
 * itself). One lookup per key per isolate every 30 s; cached otherwise.
 */
export async function regionPinOf(request: Request, env: EdgeEnv): Promise<readonly string[] | null> {
  const key = presentedKey(request.headers) ?? widgetKeyOf(new URL(request.url));
  if (!key || !env.UPSTASH_REDIS_REST_URL || !env.UPSTASH_REDIS_REST_TOKEN) return null;
  const keyHash = await sha256Hex(key);
  const learned = learnedPins.get(keyHash);
  if (learned && learned.until > Date.now()) return learned.pin;
  const now = Date.now();
  let entry = cache.get(keyHash, PIN_CACHE_MS, now);
  if (!entry) {
    const redis = redisClient({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
    const found = await new TenantStore(redis).lookupKey(keyHash);
    if (!found?.tenant) return null;
    cache.set(keyHash, found.key, found.tenant, now);
    entry = { key: found.key, tenant: found.tenant, fetchedAt: now };
  }
  return entry.tenant.regionPin;
}
