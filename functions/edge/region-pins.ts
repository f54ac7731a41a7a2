import { sha256Hex } from "../../shared/auth/constant-time.js";
import { presentedKey, widgetKeyOf } from "../../shared/auth/presented-key.js";
import { withinTimeout } from "../../shared/storage/health.js";
import { redisClient } from "../../shared/storage/redis.js";
import { SingleFlight } from "../../shared/storage/single-flight.js";
import { KeyCache } from "../../shared/tenants/key-cache.js";
import { TenantStore } from "../../shared/tenants/store.js";
import type { EdgeEnv } from "./env.js";

/** After this long the front Worker refreshes a cached pin (in the background); pins change rarely and only by an operator. */
const PIN_CACHE_MS = 30_000;
/** The longest a request waits for a pin lookup (the primary's answer). */
const PIN_LOOKUP_TIMEOUT_MS = 2_000;

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

/** Lookups in flight, per key hash: concurrent requests for one key share one. */
const lookups = new SingleFlight(PIN_LOOKUP_TIMEOUT_MS);

/**
 * The region pin of the tenant behind the request's key (a widget's comes in the URL):
 * null when the tenant has none, when there is no key or the key is unknown (the region
 * then refuses the request itself). A key seen before is answered from the isolate's
 * cache at once; past 30 s the cache is refreshed in the background (one lookup per key
 * at a time), so no request waits for the primary after the first, nor longer than
 * PIN_LOOKUP_TIMEOUT_MS. If the primary does not answer, the last known pin stands, or
 * none: the region enforces the pin anyway and says where to go.
 */
export async function regionPinOf(request: Request, env: EdgeEnv, waitUntil: (work: Promise<unknown>) => void): Promise<readonly string[] | null> {
  const key = presentedKey(request.headers) ?? widgetKeyOf(new URL(request.url));
  if (!key || !env.UPSTASH_REDIS_REST_URL || !env.UPSTASH_REDIS_REST_TOKEN) return null;
  const keyHash = await sha256Hex(key);
  const learned = learnedPins.get(keyHash);
  if (learned && learned.until > Date.now()) return learned.pin;
  const store = new TenantStore(redisClient({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, requestTimeoutMs: PIN_LOOKUP_TIMEOUT_MS }));
  const known = cache.get(keyHash, Number.POSITIVE_INFINITY, Date.now());
  if (known) {
    if (Date.now() - known.fetchedAt > PIN_CACHE_MS) waitUntil(lookUp(store, keyHash));
    return known.tenant.regionPin;
  }
  // The lookup's starter has no timer of its own in it (a script call can take two requests).
  await withinTimeout(lookUp(store, keyHash), PIN_LOOKUP_TIMEOUT_MS).catch(() => undefined);
  return cache.get(keyHash, Number.POSITIVE_INFINITY, Date.now())?.tenant.regionPin ?? null;
}

function lookUp(store: TenantStore, keyHash: string): Promise<void> {
  return lookups
    .run(keyHash, async () => {
      const found = await store.lookupKey(keyHash);
      if (found?.tenant) cache.set(keyHash, found.key, found.tenant, Date.now());
      else cache.delete(keyHash);
    })
    .catch(() => undefined);
}
