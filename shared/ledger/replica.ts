import type { Redis } from "@upstash/redis";
import { redisKeys } from "../storage/keys.js";
import { runScript } from "../storage/scripts.js";
import type { KeyRecord, Tenant } from "../tenants/model.js";
import { parse } from "../tenants/store.js";
import { LOOKUP_REPLICA, REPLICATE } from "./scripts/region.js";
import { SYNC } from "./scripts/primary.js";

/** Records changed on the primary that one sync call brings at most. */
const SYNC_BATCH = 500;

export type ReplicaLookup =
  | { status: "ok"; key: KeyRecord; tenant: Tenant }
  | { status: "miss" | "replica_stale" };

const KEY_PREFIX = redisKeys.key("");
const TENANT_PREFIX = redisKeys.tenant("");

/**
 * The region's copy of the key and tenant records, in its own database. It holds the
 * records the region has met (a miss is read from the primary and copied in) and follows
 * the primary's change log, so a revocation or a new policy reaches it within
 * `replicaRefreshMs` of traffic; the hot path refuses to use a copy older than
 * `replicaMaxAgeMs` while the primary is reachable.
 */
export class Replica {
  constructor(
    private readonly local: Redis,
    private readonly primary: Redis,
  ) {}

  async lookup(keyHash: string, maxAgeMs: number): Promise<ReplicaLookup> {
    const [status, keyJson, tenantJson] = await runScript<[string, unknown, unknown]>(
      this.local,
      LOOKUP_REPLICA,
      [redisKeys.replicaKeys(), redisKeys.replicaTenants(), redisKeys.replicaState()],
      [keyHash, Date.now(), maxAgeMs],
    );
    const key = parse<KeyRecord>(keyJson);
    const tenant = parse<Tenant>(tenantJson);
    if (status === "ok" && key && tenant) return { status: "ok", key, tenant };
    return { status: status === "replica_stale" ? "replica_stale" : "miss" };
  }

  /** Copies records just read from the primary (unless the replica already has newer ones). */
  async copy(keyHash: string, key: KeyRecord, tenant: Tenant): Promise<void> {
    await runScript(
      this.local,
      REPLICATE,
      [redisKeys.replicaKeys(), redisKeys.replicaTenants(), redisKeys.replicaState()],
      ["", "", Date.now(), "k", keyHash, JSON.stringify(key), "t", tenant.id, JSON.stringify(tenant)],
    );
  }

  /**
   * Brings the replica up to the primary's change log. A replica without a cursor starts
   * empty from the log's head (its old copies cannot be trusted); records it meets later
   * are read through.
   */
  async sync(): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const cursor = await this.local.hget<string | number>(redisKeys.replicaState(), "cursor");
      const readAt = Date.now();
      const [next, ...changed] = await runScript<[number, ...string[]]>(
        this.primary,
        SYNC,
        [redisKeys.changes(), redisKeys.changeCounter()],
        [cursor === null ? -1 : Number(cursor), SYNC_BATCH],
      );
      const records: string[] = [];
      for (let i = 0; i < changed.length; i += 2) {
        const recordKey = String(changed[i]);
        const json = typeof changed[i + 1] === "string" ? (changed[i + 1] as string) : JSON.stringify(changed[i + 1] ?? "");
        if (recordKey.startsWith(KEY_PREFIX)) records.push("k", recordKey.slice(KEY_PREFIX.length), json);
        else if (recordKey.startsWith(TENANT_PREFIX)) records.push("t", recordKey.slice(TENANT_PREFIX.length), json);
      }
      const complete = changed.length / 2 < SYNC_BATCH;
      // The replica counts as read at `readAt` only once it has every change up to then.
      await runScript(
        this.local,
        REPLICATE,
        [redisKeys.replicaKeys(), redisKeys.replicaTenants(), redisKeys.replicaState()],
        [next, cursor === null ? "reset" : "", complete ? readAt : 0, ...records],
      );
      if (complete) return;
    }
  }
}
