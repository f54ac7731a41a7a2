import { CLOSED_BREAKER, isBreakerState, type BreakerState } from "./circuit-breaker.js";

export interface BreakerStore {
  /** The region's breaker state; closed when nothing is stored. */
  get(regionId: string): Promise<BreakerState>;
  put(regionId: string, state: BreakerState): Promise<void>;
  /**
   * Applies `change` to the current state and stores the `state` it returns when
   * that is a different object. No other update of this store runs between the
   * read and the write, so concurrent requests in one isolate cannot both take
   * the half-open probe lease: `update(id, (s) => canAttempt(s, now))`.
   */
  update<R extends { state: BreakerState }>(regionId: string, change: (current: BreakerState) => R): Promise<R>;
}

export interface CacheApiBreakerStoreOptions {
  /** Name passed to `caches.open`. */
  cacheName?: string;
  /** Cache key of a region: this prefix plus the URL-encoded region id. */
  keyPrefix?: string;
  /** Lifetime of a stored state in the cache; longer than any breaker window. */
  ttlSeconds?: number;
  /** How long this isolate trusts its memo before reading the cache again. */
  memoMs?: number;
  now?: () => number;
}

export const CACHE_BREAKER_DEFAULTS = {
  cacheName: "edgegate-breakers",
  keyPrefix: "https://breaker.edgegate.internal/",
  ttlSeconds: 300,
  memoMs: 250,
} as const;

/** A state as written to the cache; `writtenAt` lets the newest write win. */
interface StoredState {
  state: BreakerState;
  writtenAt: number;
}

interface MemoEntry extends StoredState {
  checkedAt: number;
}

const NEVER_WRITTEN: StoredState = { state: CLOSED_BREAKER, writtenAt: Number.NEGATIVE_INFINITY };

/**
 * Breaker states in the Workers Cache API, so that every isolate of the front
 * Worker in a Cloudflare colo shares them, with a per-isolate memo that is
 * re-read from the cache at most every `memoMs` to keep the hot path fast.
 *
 * The Cache API is per colo (never replicated) and eventually consistent, and
 * concurrent writers simply overwrite each other. That is fine for a breaker:
 * at worst another colo or isolate sends a few more requests to a failing
 * region, or two isolates both probe it. On hosts where the Cache API does
 * nothing (*.workers.dev, previews) or fails, each isolate keeps its own view
 * in its memo, so the store never throws: write failures are logged.
 *
 * Create one instance per isolate (module scope), not per request.
 */
export class CacheApiBreakerStore implements BreakerStore {
  private readonly cacheName: string;
  private readonly keyPrefix: string;
  private readonly ttlSeconds: number;
  private readonly memoMs: number;
  private readonly now: () => number;
  private readonly memo = new Map<string, MemoEntry>();
  private readonly pendingReads = new Map<string, Promise<void>>();
  private cache: Promise<Cache> | null = null;

  constructor(options: CacheApiBreakerStoreOptions = {}) {
    this.cacheName = options.cacheName ?? CACHE_BREAKER_DEFAULTS.cacheName;
    this.keyPrefix = options.keyPrefix ?? CACHE_BREAKER_DEFAULTS.keyPrefix;
    this.ttlSeconds = options.ttlSeconds ?? CACHE_BREAKER_DEFAULTS.ttlSeconds;
    this.memoMs = options.memoMs ?? CACHE_BREAKER_DEFAULTS.memoMs;
    this.now = options.now ?? Date.now;
  }

  async get(regionId: string): Promise<BreakerState> {
    await this.refresh(regionId);
    return this.current(regionId);
  }

  async put(regionId: string, state: BreakerState): Promise<void> {
    const stored = { state, writtenAt: this.now() };
    this.memo.set(regionId, { ...stored, checkedAt: stored.writtenAt });
    await this.write(regionId, stored);
  }

  async update<R extends { state: BreakerState }>(regionId: string, change: (current: BreakerState) => R): Promise<R> {
    await this.refresh(regionId);
    // From here to put()'s memo write nothing awaits, so the change is atomic within the isolate.
    const current = this.current(regionId);
    const result = change(current);
    if (result.state !== current) await this.put(regionId, result.state);
    return result;
  }

  private current(regionId: string): BreakerState {
    return this.memo.get(regionId)?.state ?? CLOSED_BREAKER;
  }

  /** Re-reads the cache when the memo is stale; concurrent callers share one read. */
  private refresh(regionId: string): Promise<void> {
    const entry = this.memo.get(regionId);
    if (entry && this.now() - entry.checkedAt < this.memoMs) return Promise.resolve();
    let pending = this.pendingReads.get(regionId);
    if (!pending) {
      pending = this.read(regionId).finally(() => this.pendingReads.delete(regionId));
      this.pendingReads.set(regionId, pending);
    }
    return pending;
  }

  private async read(regionId: string): Promise<void> {
    const cached = await this.readCache(regionId);
    // The memo may hold a write of this isolate newer than the cache entry (a put
    // still in flight, or a cache that stores nothing): the newest write wins.
    const known = this.memo.get(regionId) ?? NEVER_WRITTEN;
    const newest = cached && cached.writtenAt > known.writtenAt ? cached : known;
    this.memo.set(regionId, { state: newest.state, writtenAt: newest.writtenAt, checkedAt: this.now() });
  }

  private async readCache(regionId: string): Promise<StoredState | null> {
    try {
      const response = await (await this.openCache()).match(this.key(regionId));
      if (!response) return null;
      const body: unknown = await response.json();
      return isStoredState(body) ? body : null;
    } catch {
      return null;
    }
  }

  private async write(regionId: string, stored: StoredState): Promise<void> {
    try {
      const response = new Response(JSON.stringify(stored), {
        headers: { "content-type": "application/json", "cache-control": `max-age=${this.ttlSeconds}` },
      });
      await (await this.openCache()).put(this.key(regionId), response);
    } catch (error) {
      console.error(`breaker state of region ${regionId} not written to the cache: ${String(error)}`);
    }
  }

  private openCache(): Promise<Cache> {
    this.cache ??= caches.open(this.cacheName).catch((error: unknown) => {
      this.cache = null;
      throw error;
    });
    return this.cache;
  }

  private key(regionId: string): string {
    return this.keyPrefix + encodeURIComponent(regionId);
  }
}

function isStoredState(value: unknown): value is StoredState {
  if (typeof value !== "object" || value === null) return false;
  const stored = value as Record<string, unknown>;
  return Number.isFinite(stored.writtenAt) && isBreakerState(stored.state);
}
