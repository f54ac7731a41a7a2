import type { KeyRecord, Tenant } from "./model.js";

export interface CachedKey {
  key: KeyRecord;
  tenant: Tenant;
  fetchedAt: number;
}

const MAX_ENTRIES = 10_000;

/**
 * Key and tenant records per isolate, by key hash. Entries say how old they are;
 * each caller decides how stale it may accept (the hot path re-validates in its
 * one round trip anyway, other routes accept a few seconds).
 */
export class KeyCache {
  private readonly entries = new Map<string, CachedKey>();

  get(keyHash: string, maxAgeMs: number, now: number): CachedKey | null {
    const entry = this.entries.get(keyHash);
    return entry && now - entry.fetchedAt <= maxAgeMs ? entry : null;
  }

  set(keyHash: string, key: KeyRecord, tenant: Tenant, now: number): void {
    this.entries.delete(keyHash);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(keyHash, { key, tenant, fetchedAt: now });
  }

  delete(keyHash: string): void {
    this.entries.delete(keyHash);
  }
}
