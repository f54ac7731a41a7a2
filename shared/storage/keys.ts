/** Every Redis key edgegate uses, in one place. */
export const redisKeys = {
  tenant: (tenantId: string) => `eg:t:${tenantId}`,
  tenantIds: () => "eg:tenants",
  /** Key record, addressed by the SHA-256 of the plaintext key. */
  key: (keyHash: string) => `eg:k:${keyHash}`,
  /** Hash of key id -> key hash, per tenant, for listing and revoking by id. */
  tenantKeys: (tenantId: string) => `eg:tk:${tenantId}`,
  keyLastUsed: (keyId: string) => `eg:lu:${keyId}`,
  dailyUsage: (tenantId: string, day: string) => `eg:u:${tenantId}:d:${day}`,
  monthlyUsage: (tenantId: string, month: string) => `eg:u:${tenantId}:m:${month}`,
  /** One key's usage per day (for its share of the daily budget). */
  keyDailyUsage: (tenantId: string, keyId: string, day: string) => `eg:u:${tenantId}:k:${keyId}:d:${day}`,
  /** Open budget reservations: id -> "amount|usageKey|...", and their expiry times. */
  reservations: (tenantId: string) => `eg:r:${tenantId}`,
  reservationExpiry: (tenantId: string) => `eg:rz:${tenantId}`,
  /** Marks a request as settled (for two days), so a retried settlement cannot count twice. */
  settled: (reservationId: string) => `eg:s:${reservationId}`,
  /** Set while a widget visitor's session counts as having passed the Turnstile challenge. */
  turnstilePassed: (keyId: string, visitorId: string) => `eg:wt:${keyId}:${visitorId}`,
  rateLimitPrefix: (dimension: "requests" | "tokens") => `eg:rl:${dimension}`,
} as const;

/** UTC calendar day and month of a moment, as used in usage keys. */
export function usagePeriods(now: Date): { day: string; month: string } {
  const iso = now.toISOString();
  return { day: iso.slice(0, 10), month: iso.slice(0, 7) };
}

/** When the daily and monthly budgets that contain `now` reset (UTC). */
export function periodResets(now: Date): { day: Date; month: Date } {
  return {
    day: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)),
    month: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)),
  };
}
