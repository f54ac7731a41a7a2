import { DurableObject } from "cloudflare:workers";
import { redisClient } from "../storage/redis.js";
import { drainOutbox } from "./outbox.js";
import { type Settlement, writeLocalSettlement, writeSettlement } from "./settlement.js";

interface SpoolEnv {
  REGION?: string;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  REGION_REDIS_REST_URL?: string;
  REGION_REDIS_REST_TOKEN?: string;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;
const DRAIN_PENDING = "drain";

/**
 * What a region could not write while a database was down, kept in Durable Object
 * storage (durable, unlike an isolate) and retried on an alarm with growing backoff:
 * settlements (for the primary, or for the region's own database), and the region's
 * outbox, drained to the primary once it answers again. Settlements are idempotent (a
 * marker per reservation id) and the outbox is applied by sequence number, so a retry
 * after a lost reply cannot count twice.
 */
export class UsageSpool extends DurableObject<SpoolEnv> {
  async add(settlement: Settlement): Promise<void> {
    await this.ctx.storage.put(`settlement:${settlement.reservationId}`, settlement);
    await this.wake();
  }

  /** The primary did not take the region's outbox: try again later, even if no request comes. */
  async drainLater(): Promise<void> {
    await this.ctx.storage.put(DRAIN_PENDING, true);
    await this.wake();
  }

  async pending(): Promise<number> {
    return (await this.ctx.storage.list({ prefix: "settlement:" })).size + ((await this.ctx.storage.get(DRAIN_PENDING)) ? 1 : 0);
  }

  private async wake(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + FIRST_RETRY_MS);
  }

  override async alarm(): Promise<void> {
    const primary = redisClient({ url: this.env.UPSTASH_REDIS_REST_URL ?? "", token: this.env.UPSTASH_REDIS_REST_TOKEN ?? "" });
    const region = this.env.REGION_REDIS_REST_URL
      ? redisClient({ url: this.env.REGION_REDIS_REST_URL, token: this.env.REGION_REDIS_REST_TOKEN ?? "" })
      : null;
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
    if (region && (await this.ctx.storage.get(DRAIN_PENDING))) {
      try {
        if ((await drainOutbox(region, primary, this.env.REGION ?? "local")) === 0) await this.ctx.storage.delete(DRAIN_PENDING);
        else failures++;
      } catch {
        failures++;
      }
    }
    if (failures > 0) {
      const attempt = ((await this.ctx.storage.get<number>("attempt")) ?? 0) + 1;
      await this.ctx.storage.put("attempt", attempt);
      await this.ctx.storage.setAlarm(Date.now() + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt));
    } else {
      await this.ctx.storage.delete("attempt");
    }
  }
}
