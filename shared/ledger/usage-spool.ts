import { DurableObject } from "cloudflare:workers";
import { redisClient } from "../storage/redis.js";
import { type Settlement, writeSettlement } from "./settlement.js";

interface SpoolEnv {
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;

/**
 * Settlements that could not be written while storage was down, kept in Durable
 * Object storage (durable, unlike an isolate) and retried on an alarm with growing
 * backoff until every one has landed. Settlements are idempotent (a marker per
 * reservation id), so a retry after a lost reply cannot count twice.
 */
export class UsageSpool extends DurableObject<SpoolEnv> {
  async add(settlement: Settlement): Promise<void> {
    await this.ctx.storage.put(`settlement:${settlement.reservationId}`, settlement);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + FIRST_RETRY_MS);
  }

  async pending(): Promise<number> {
    return (await this.ctx.storage.list({ prefix: "settlement:" })).size;
  }

  override async alarm(): Promise<void> {
    const pending = await this.ctx.storage.list<Settlement>({ prefix: "settlement:" });
    const redis = redisClient({ url: this.env.UPSTASH_REDIS_REST_URL ?? "", token: this.env.UPSTASH_REDIS_REST_TOKEN ?? "" });
    let failures = 0;
    for (const [key, settlement] of pending) {
      try {
        await writeSettlement(redis, settlement);
        await this.ctx.storage.delete(key);
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
