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
  /** Who made a served request and how it was routed (a week), and the rating it got, for feedback. */
  requestRecord: (requestId: string) => `eg:rq:${requestId}`,
  feedback: (requestId: string) => `eg:fb:${requestId}`,
  /** Set while a tenant's thresholds were shifted by feedback in the last hour. */
  autoTuned: (tenantId: string) => `eg:at:${tenantId}`,
  /** Set while a widget visitor's session counts as having passed the Turnstile challenge. */
  turnstilePassed: (keyId: string, visitorId: string) => `eg:wt:${keyId}:${visitorId}`,
  rateLimitPrefix: (dimension: "requests" | "tokens") => `eg:rl:${dimension}`,
  /** Primary: the change log regions replicate from: record key -> number of its latest change. */
  changes: () => "eg:changes",
  changeCounter: () => "eg:changes:n",
  /** Primary: one budget lease scope's cumulative figures per region ("<region>|g" granted, "|s" spent, "|r" returned). */
  lease: (scope: string) => `eg:ls:${scope}`,
  /** Primary: the highest outbox sequence number of each region applied (hash region -> seq). */
  appliedOutbox: () => "eg:applied",
  /** Region: replicated key records (hash: key hash -> JSON) and tenants (hash: id -> JSON). */
  replicaKeys: () => "eg:rk",
  replicaTenants: () => "eg:rt",
  /** Region: replication state {cursor = last change applied, at = ms the primary was read}. */
  replicaState: () => "eg:replica",
  /** Region: this region's share of a budget lease scope {g, s, r as on the primary; v reserved now; spend rate}. */
  localLease: (scope: string) => `eg:ll:${scope}`,
  /** Region: the leases it holds (a set of local lease keys), swept for past days. */
  localLeases: () => "eg:leases",
  /** Region: credit taken from a primary rate bucket {c = units, x = expiry ms, rem/reset as the primary saw them}. */
  rateCredit: (bucketKey: string) => `eg:cr:${bucketKey}`,
  /** Region: settlements waiting to be applied on the primary, in order, and their sequence counter. */
  /**
   * Metrics (primary): one hash per UTC minute and per UTC hour since the epoch, and the
   * running totals; each also split by tenant (that tenant's fields only) and pooled (the
   * tenant summed over as "*"), so a read touches no more than it answers. The settlement
   * scripts build these names in Lua from the same templates (metricsKeysLua below).
   */
  metricsMinute: (minute: number) => `eg:mx:${minute}`,
  metricsHour: (hour: number) => `eg:mx:h:${hour}`,
  metricsTotal: () => "eg:mx:all",
  metricsOfTenant: (hashKey: string, tenantId: string) => `${hashKey}:t:${tenantId}`,
  metricsPooled: (hashKey: string) => `${hashKey}:p`,
  /** Alerts (primary): each alert's state (hash id -> JSON), alert settings (hash "operator" / tenant id -> JSON). */
  alertState: () => "eg:al:state",
  alertSettings: () => "eg:al:cfg",
  /** Held by the one scheduled run (of any region) that does a minute's work. */
  scheduledRun: (minute: number) => `eg:cron:${minute}`,
  /** Held by the alert evaluation running now (one at a time across regions). */
  alertEvaluation: () => "eg:al:running",
  outbox: () => "eg:outbox",
  outboxSeq: () => "eg:outbox:seq",
} as const;

/**
 * The metrics key templates above as Lua functions (metricsMinuteKey(minute),
 * metricsHourKey(hour), metricsTotalKey(), metricsOfTenantKey(key, tenant),
 * metricsPooledKey(key)) and metricsMinuteOfKey(key), the minute a minute's key names.
 */
export const metricsKeysLua = (() => {
  const mark = "\u0000";
  const [minuteBefore = "", minuteAfter = ""] = redisKeys.metricsMinute(Number.NaN).split("NaN");
  const [hourBefore = "", hourAfter = ""] = redisKeys.metricsHour(Number.NaN).split("NaN");
  const [tenantBefore = "", tenantBetween = "", tenantAfter = ""] = redisKeys.metricsOfTenant(mark, mark).split(mark);
  const [pooledBefore = "", pooledAfter = ""] = redisKeys.metricsPooled(mark).split(mark);
  const lua = (text: string) => JSON.stringify(text);
  return `
local function metricsMinuteKey(minute) return ${lua(minuteBefore)} .. minute .. ${lua(minuteAfter)} end
local function metricsHourKey(hour) return ${lua(hourBefore)} .. hour .. ${lua(hourAfter)} end
local function metricsTotalKey() return ${lua(redisKeys.metricsTotal())} end
local function metricsOfTenantKey(key, tenant) return ${lua(tenantBefore)} .. key .. ${lua(tenantBetween)} .. tenant .. ${lua(tenantAfter)} end
local function metricsPooledKey(key) return ${lua(pooledBefore)} .. key .. ${lua(pooledAfter)} end
local function metricsMinuteOfKey(key) return tonumber(string.sub(key, ${minuteBefore.length + 1}, #key - ${minuteAfter.length})) end
`;
})();

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
