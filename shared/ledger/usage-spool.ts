import { DurableObject } from "cloudflare:workers";
import { gatewayConfig, type GatewayEnv } from "../config/env.js";
import { redisClient } from "../storage/redis.js";
import { periodResets, redisKeys, usagePeriods } from "../storage/keys.js";
import { drainOutbox, givePastLeasesBack } from "./outbox.js";
import { Replica } from "./replica.js";
import { type Settlement, writeLocalSettlement, writeSettlement } from "./settlement.js";

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;
const DRAIN_PENDING = "drain";
const KEEP_FRESH_UNTIL = "keep-fresh-until";
const LAST_SWEEP = "last-lease-sweep";
/** Leases of past days are given back at least this often while the worker runs. */
const SWEEP_EVERY_MS = 3_600_000;
/** Between batches of a large outbox (after an outage), the next batch goes this soon. */
const NEXT_BATCH_MS = 100;
/** The replica is kept fresh this long after the last request that needed it. */
const KEEP_FRESH_FOR_MS = 5 * 60_000;

/**
 * The region's background work, in Durable Object storage (durable, unlike an isolate),
 * on one alarm:
 * - settlements that could not be written while a database was down (for the primary,
 *   or for the region's own database), retried with growing backoff;
 * - the region's outbox, drained to the primary once it answers again;
 * - the replica of keys and tenants, synced with the primary every REPLICA refresh
 *   interval while requests use it, so that a region with sparse traffic still decides
 *   locally (a replica only refreshed by traffic would be too old at every request);
 * - the leases of past days, given back (hourly while it runs), so none stays counted
 *   against a month's budget after its day.
 * Settlements are idempotent (a marker per reservation id) and the outbox is applied by
 * sequence number, so a retry after a lost reply cannot count twice.
 */
export class UsageSpool extends DurableObject<GatewayEnv> {
  async add(settlement: Settlement): Promise<void> {
    await this.ctx.storage.put(`settlement:${settlement.reservationId}`, settlement);
    await this.wake(Date.now() + FIRST_RETRY_MS);
  }

  /** The primary did not take the region's outbox: try again later, even if no request comes. */
  async drainLater(): Promise<void> {
    await this.ctx.storage.put(DRAIN_PENDING, true);
    await this.wake(Date.now() + FIRST_RETRY_MS);
  }

  /** A request found the replica older than its refresh interval: keep it fresh for a while. */
  async keepReplicaFresh(): Promise<void> {
    await this.ctx.storage.put(KEEP_FRESH_UNTIL, Date.now() + KEEP_FRESH_FOR_MS);
    await this.wake(Date.now());
  }

  async pending(): Promise<number> {
    return (await this.ctx.storage.list({ prefix: "settlement:" })).size + ((await this.ctx.storage.get(DRAIN_PENDING)) ? 1 : 0);
  }

  private async wake(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    const config = gatewayConfig(this.env);
    const primary = redisClient(config.redis);
    const region = config.regionRedis ? redisClient(config.regionRedis) : null;
    let failures = 0;
    for (const [key, settlement] of await this.ctx.storage.list<Settlement>({ prefix: "settlement:" })) {
      try {
        if (settlement.side === "region" && region) await writeLocalSettlement(region, settlement);
        else await writeSettlement(primary, settlement);
        await this.ctx.storage.delete(key);
        if (settlement.side === "region") await this.ctx.storage.put(DRAIN_PENDING, true);
      } catch {
        failures++;
      }
    }
    let next: number | null = null;
    if (region && Date.now() - ((await this.ctx.storage.get<number>(LAST_SWEEP)) ?? 0) > SWEEP_EVERY_MS) {
      try {
        if (await givePastLeasesBack(region, usagePeriods(new Date()).day, null)) await this.ctx.storage.put(DRAIN_PENDING, true);
        await this.ctx.storage.put(LAST_SWEEP, Date.now());
      } catch {
        failures++;
      }
    }
    if (region && (await this.ctx.storage.get(DRAIN_PENDING))) {
      try {
        // A batch applied is progress, not a failure: the next one goes at once, without backoff.
        if ((await drainOutbox(region, primary, config.region)) === 0) await this.ctx.storage.delete(DRAIN_PENDING);
        else next = Date.now() + NEXT_BATCH_MS;
      } catch {
        failures++;
      }
    }
    const keepFreshUntil = (await this.ctx.storage.get<number>(KEEP_FRESH_UNTIL)) ?? 0;
    if (region && Date.now() < keepFreshUntil) {
      await new Replica(region, primary).sync().catch(() => undefined);
      next = Math.min(next ?? Number.POSITIVE_INFINITY, Date.now() + config.leases.replicaRefreshMs);
    }
    if (failures > 0) {
      const attempt = ((await this.ctx.storage.get<number>("attempt")) ?? 0) + 1;
      await this.ctx.storage.put("attempt", attempt);
      const retryAt = Date.now() + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
      next = next === null ? retryAt : Math.min(next, retryAt);
    } else {
      await this.ctx.storage.delete("attempt");
    }
    if (next === null && region && (await region.scard(redisKeys.localLeases())) > 0) {
      // Idle, but holding leases: wake after midnight (UTC) to give back the day's.
      next = periodResets(new Date()).day.getTime() + 60_000;
      await this.ctx.storage.delete(LAST_SWEEP);
    }
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }
}
