import type { Redis } from "@upstash/redis";
import { GatewayError } from "../http/errors.js";
import { StorageHealth, withinTimeout } from "../storage/health.js";
import { SingleFlight } from "../storage/single-flight.js";
import { usagePeriods } from "../storage/keys.js";
import type { WriteCoalescer } from "../storage/write-coalescer.js";
import { type Admission, type AdmissionRequest, AdmissionVoided, admitOnPrimary, PolicyChanged } from "./admission.js";
import type { RequestReport } from "../metrics/samples.js";
import type { DefaultLimits } from "./buckets.js";
import { creditCap, creditTarget, type LeaseTuning, leaseExcess, leaseTarget, topUp } from "./leases.js";
import { admitInRegion, type LocalFigures, type LocalOutcome, type RegionalPlan } from "./local-admission.js";
import { drainOutbox, givePastLeasesBack, returnLease } from "./outbox.js";
import type { LeaseScope } from "./regional-plan.js";
import { Replica } from "./replica.js";
import { replenish, type ReplenishOrder } from "./replenish.js";
import { type Served, type Settlement, settlementOf, writeLocalSettlement, writeSettlement } from "./settlement.js";

export type StorageFailMode = "open" | "closed";

/** A region's own database, next to it on the hot path. */
export interface RegionDatabase {
  redis: Redis;
  /** This region's id (its outbox and leases are kept under it on the primary). */
  id: string;
  /** Regions sharing the limits: while the primary is unreachable each enforces 1/count of a shared limit. */
  count: number;
}

export interface LedgerOptions {
  /** The primary database: tenants, keys, authoritative budgets and usage. */
  primary: Redis;
  /** The region's own database; without one every request is decided on the primary. */
  region: RegionDatabase | null;
  defaults: DefaultLimits;
  /** Longest wait for storage on the hot path before the fail mode applies. */
  storageTimeoutMs: number;
  /**
   * Settlement writes of the isolate, one coalescer per database: those made while one is
   * in flight go together when it ends (its `maxWaitMs` at least `storageTimeoutMs`).
   */
  settlementWrites: { primary: WriteCoalescer; region: WriteCoalescer };
  tuning: LeaseTuning;
  /** Keeps a settlement durably until storage takes it (the region's spool). */
  spool: (settlement: Settlement) => Promise<void>;
  /** Asks the spool to drain the outbox later (the primary did not answer). */
  scheduleDrain: () => Promise<void>;
  /** Asks the region's background worker to keep the replica fresh while requests use it. */
  keepReplicaFresh: () => Promise<void>;
  /** Sees each request's settlement as it is made, before it is written (the isolate's own metrics). */
  onSettled?: (settlement: Settlement) => void;
}

export interface AdmissionOutcome {
  admission: Admission;
  /** Set when storage did not answer in time and the request is served anyway (fail open). */
  failedOpen: boolean;
  /** Why the primary decided in a region with its own database ("" when the region did, or has none). */
  primaryReason: string;
}

/** Runs work after the response (waitUntil); failures are logged, never thrown. */
export type Defer = (work: Promise<unknown>) => void;

/**
 * Settles a request: what served it, or null when no upstream call could have been
 * charged. Resolves with the settlement written (or spooled), or null on a second call.
 */
export type Settle = (served: Served | null, report: RequestReport | null) => Promise<Settlement | null>;

/** Waits after a failed settlement write before the next try; then the spool takes over. */
const SETTLE_RETRY_DELAYS_MS = [250, 1_000, 3_000];
/** Background work (drains, top-ups, syncs) may take this many storage timeouts. */
const BACKGROUND_TIMEOUT_FACTOR = 5;
/** How often an isolate reminds the region's background worker that the replica is in use. */
const KEEP_FRESH_REMINDER_MS = 60_000;
/** Storage clocks may run a little ahead of the Worker's; an admission is void this long after its deadline. */
const CLOCK_SKEW_ALLOWANCE_MS = 1_000;

/**
 * The reservation lifecycle of a region: admit (limits and a budget reservation, one
 * storage call), then settle exactly once (usage, cost, release, limit corrections),
 * with the spool behind it so that no settlement is lost while storage is down.
 *
 * With a database of its own, the region decides locally: the replicated key and tenant,
 * a budget lease and rate credits handed out by the primary, its own buckets for widget
 * visitors. Its settlements queue in its outbox and are applied on the primary off the
 * critical path. Whatever the region cannot decide alone (a record not replicated yet, a
 * lease or credit run short, its database down) is decided on the primary as in a region
 * without one, and what was missing is fetched afterwards.
 */
export class Ledger {
  private readonly primaryHealth: StorageHealth;
  private readonly regionHealth: StorageHealth;
  private readonly replica: Replica | null;
  /**
   * Background work, one flight of each at a time: the replica's sync ("sync"), the
   * outbox's drain ("drain"), each lease's top-up (the lease's local key).
   */
  private readonly background: SingleFlight<string>;
  private lastSyncAt = 0;
  private drainAgain = false;
  private lastKeepFreshAt = 0;

  constructor(private readonly options: LedgerOptions) {
    this.primaryHealth = new StorageHealth(options.tuning.downForMs);
    this.regionHealth = new StorageHealth(options.tuning.downForMs);
    this.replica = options.region ? new Replica(options.region.redis, options.primary) : null;
    this.background = new SingleFlight(BACKGROUND_TIMEOUT_FACTOR * options.storageTimeoutMs);
  }

  /** The region's replica of keys and tenants, when it has a database of its own and it answers. */
  replicaIfUp(): { replica: Replica; maxAgeMs: number } | null {
    if (!this.replica || this.regionHealth.isDown()) return null;
    return { replica: this.replica, maxAgeMs: this.primaryHealth.isDown() ? 0 : this.options.tuning.replicaMaxAgeMs };
  }

  /** Notes how a call to a database went, for the health views that route work. */
  observe(side: "primary" | "region", ok: boolean): void {
    const health = side === "primary" ? this.primaryHealth : this.regionHealth;
    if (ok) health.markUp();
    else health.markDown();
  }

  /**
   * Admission under the storage-fault policy. When storage does not answer in time, the
   * admission is voided (it does nothing if it lands later), then a tenant that fails
   * open is served without a reservation and settled later, one that fails closed gets
   * a clear 503.
   */
  async admit(request: Omit<AdmissionRequest, "deadlineMs">, failMode: StorageFailMode, defer: Defer): Promise<AdmissionOutcome> {
    const local = await this.admitLocally(request, defer, !this.primaryHealth.isDown());
    if (local?.kind === "admitted") {
      this.topUp(local.plan, local.figures, request, defer);
      return { admission: local.admission, failedOpen: false, primaryReason: "" };
    }
    const primaryReason = local?.reason ?? "";
    const admission = await this.admitOnPrimaryUnlessStranded(request, local);
    if (admission) {
      if (local?.kind === "to_primary") defer(this.repair(local, request, admission));
      return { admission, failedOpen: false, primaryReason };
    }
    // The primary did not answer this request. A region that only lacked a fresh replica or
    // rate credit decides alone now (any replica age, limits at its regional share); a
    // lease is still needed.
    if (local?.kind === "to_primary" && (local.reason === "replica_stale" || local.reason === "credit_short")) {
      const retried = await this.admitLocally(request, defer, false);
      if (retried?.kind === "admitted") {
        defer(this.voidOnPrimary(request));
        return { admission: retried.admission, failedOpen: false, primaryReason: "primary_unreachable" };
      }
    }
    if (failMode === "closed") defer(this.voidOnPrimary(request));
    return this.unmetered(request, failMode, primaryReason);
  }

  /**
   * Admission on the primary. When the region's lease was too small for the request and
   * the primary refuses for budget, what the region still holds is lease the primary counts
   * as committed although nothing can draw on it: it is given back, and the primary asked once more.
   */
  private async admitOnPrimaryUnlessStranded(request: Omit<AdmissionRequest, "deadlineMs">, local: LocalOutcome | null): Promise<Admission | null> {
    try {
      return await this.admitOnPrimary(request);
    } catch (error) {
      const stranded = local?.kind === "to_primary" && local.reason === "lease_short" && (local.lease?.available ?? 0) > 0;
      if (!stranded || !(error instanceof GatewayError) || error.status !== 402) throw error;
      if (!(await returnLease(this.options.region!.redis, local.plan.lease, "all"))) throw error;
      // Whatever the drain lands, the primary decides with it.
      await this.drain().catch(() => undefined);
      return this.admitOnPrimary({ ...request, reservationId: crypto.randomUUID() });
    }
  }

  private async admitLocally(request: Omit<AdmissionRequest, "deadlineMs">, defer: Defer, primaryReachable: boolean): Promise<LocalOutcome | null> {
    const region = this.options.region;
    if (!region || this.regionHealth.isDown()) return null;
    const { storageTimeoutMs, defaults, tuning } = this.options;
    const deadlineMs = Date.now() + storageTimeoutMs + CLOCK_SKEW_ALLOWANCE_MS;
    const admitting = admitInRegion(
      region.redis,
      defaults,
      { ...request, deadlineMs },
      { primaryReachable, regionCount: region.count, replicaMaxAgeMs: primaryReachable ? tuning.replicaMaxAgeMs : 0 },
    );
    try {
      const outcome = await withinTimeout(admitting, storageTimeoutMs);
      this.regionHealth.markUp();
      return outcome;
    } catch (error) {
      if (error instanceof GatewayError || error instanceof PolicyChanged || error instanceof AdmissionVoided) throw error;
      admitting.catch(() => undefined);
      this.regionHealth.markDown();
      defer(this.voidLocally(request));
      return null;
    }
  }

  /** After a local admission: top up lease and credits, give back unneeded lease, refresh the replica. */
  private topUp(plan: RegionalPlan, figures: LocalFigures, request: Omit<AdmissionRequest, "deadlineMs">, defer: Defer): void {
    const { tuning } = this.options;
    const order: ReplenishOrder = {
      tenantId: request.tenant.id,
      lease: plan.lease,
      leaseWanted: 0,
      leaseSmallest: request.reserveMicroUsd,
      leaseGranted: figures.leaseGranted,
      credits: [],
    };
    if (figures.leaseAvailable >= 0) {
      const target = leaseTarget(figures.leaseSpendLastMinute, request.reserveMicroUsd, tuning);
      order.leaseWanted = topUp(figures.leaseAvailable, target);
      const excess = leaseExcess(figures.leaseAvailable, target);
      if (excess > 0) defer(this.giveBack(plan.lease, excess));
    }
    const regions = this.options.region!.count;
    for (const { placed, credit, usedLastMinute } of figures.credits) {
      const wanted = topUp(credit, creditTarget(usedLastMinute, placed.bucket.cost, placed.bucket.capacity, regions, tuning));
      if (wanted > 0) order.credits.push({ placed, wanted, cap: creditCap(placed.bucket.capacity, regions, tuning) });
    }
    if (order.leaseWanted > 0 || order.credits.length > 0) defer(this.replenish(order));
    if (Date.now() - figures.replicaReadAt > tuning.replicaRefreshMs) defer(this.sync());
    this.keepReplicaFresh(defer);
  }

  /** Tells the region's background worker, at most once a minute per isolate, that the replica is in use. */
  private keepReplicaFresh(defer: Defer): void {
    if (Date.now() - this.lastKeepFreshAt < KEEP_FRESH_REMINDER_MS) return;
    this.lastKeepFreshAt = Date.now();
    defer(this.options.keepReplicaFresh());
  }

  /** After the primary decided for the region: fetch what the region lacked. */
  private async repair(local: Extract<LocalOutcome, { kind: "to_primary" }>, request: Omit<AdmissionRequest, "deadlineMs">, admission: Admission): Promise<void> {
    const { tuning } = this.options;
    switch (local.reason) {
      case "not_replicated":
        await this.replica!.copy(request.keyHash, admission.key, admission.tenant);
        return;
      case "replica_stale":
        // Traffic too sparse to keep the replica fresh: the region's background worker will.
        this.lastKeepFreshAt = Date.now();
        await Promise.all([this.options.keepReplicaFresh().catch(() => undefined), this.sync()]);
        return;
      case "lease_short": {
        const lease = local.lease!;
        const target = leaseTarget(lease.spendLastMinute, request.reserveMicroUsd, tuning);
        const topUp = this.replenish({
          tenantId: request.tenant.id,
          lease: local.plan.lease,
          leaseWanted: target - Math.max(0, lease.available),
          leaseSmallest: request.reserveMicroUsd,
          leaseGranted: lease.granted,
          credits: [],
        });
        // A new day's first request here: what is left of the tenant's leases of past days goes back.
        await Promise.all([topUp, lease.granted === 0 ? this.sweepLeases(request.tenant.id) : undefined]);
        return;
      }
      case "credit_short": {
        // How fast the region uses the limit is not known here (this request was admitted on
        // the primary): ask for the region's whole share, so the next requests decide locally.
        const regions = this.options.region!.count;
        return this.replenish({
          tenantId: request.tenant.id,
          lease: local.plan.lease,
          leaseWanted: 0,
          leaseSmallest: 0,
          leaseGranted: 0,
          credits: local.plan.buckets
            .filter((placed) => placed.placement === "credit")
            .map((placed) => ({ placed, cap: creditCap(placed.bucket.capacity, regions, tuning) }))
            .filter(({ placed, cap }) => placed.bucket.cost <= cap)
            .map(({ placed, cap }) => ({ placed, wanted: cap, cap })),
        });
      }
    }
  }

  /** Gives back what is left of a tenant's leases of past days (its first request of a day in the region). */
  async sweepLeases(tenantId: string): Promise<void> {
    if (await givePastLeasesBack(this.options.region!.redis, usagePeriods(new Date()).day, tenantId)) await this.drain();
  }

  /** Gives back unneeded lease (all that is left of one no request will draw on again). */
  private async giveBack(lease: LeaseScope, amount: number | "all"): Promise<void> {
    if (await returnLease(this.options.region!.redis, lease, amount)) await this.drain();
  }

  private async afterLocalSettlement(settlement: Settlement): Promise<void> {
    // Admitted on an earlier day: nothing draws on that lease any more, so the rest of it goes back.
    if (settlement.lease && settlement.periods.day !== usagePeriods(new Date()).day) {
      await returnLease(this.options.region!.redis, settlement.lease, "all");
    }
    await this.drain();
  }

  private async replenish(order: ReplenishOrder): Promise<void> {
    const region = this.options.region!;
    if (this.primaryHealth.isDown() || this.background.has(order.lease.localKey)) return;
    await this.background.run(order.lease.localKey, () =>
      this.onPrimary(replenish(region.redis, this.options.primary, region.id, this.options.tuning.leaseHeadroomDivisor, this.options.tuning.creditTtlMs, order)),
    );
  }

  /** Brings the replica up to date: one sync at a time per isolate, at most one per refresh interval. */
  sync(): Promise<void> {
    const replica = this.replica;
    if (!replica || this.primaryHealth.isDown()) return Promise.resolve();
    if (!this.background.has("sync")) {
      if (Date.now() - this.lastSyncAt < this.options.tuning.replicaRefreshMs / 2) return Promise.resolve();
      this.lastSyncAt = Date.now();
    }
    return this.background.run("sync", () => this.onPrimary(replica.sync()));
  }

  /**
   * Applies the outbox on the primary. One drain at a time per isolate; settlements that
   * arrive meanwhile are taken by one more round. When the primary does not answer, the
   * spool is asked to retry later, so records land even if no request comes.
   */
  drain(): Promise<void> {
    const region = this.options.region;
    if (!region) return Promise.resolve();
    if (this.background.has("drain")) this.drainAgain = true;
    return this.background.run("drain", async () => {
      do {
        this.background.renew("drain");
        this.drainAgain = false;
        try {
          await this.onPrimary(drainOutbox(region.redis, this.options.primary, region.id));
        } catch {
          await this.options.scheduleDrain();
          return;
        }
      } while (this.drainAgain);
    });
  }

  /**
   * Runs background work that calls the primary (a drain, a top-up, a sync) within its own,
   * longer time limit. It may make several calls, to both databases: only a success says
   * something of the primary; a failure or slowness never marks it down for the hot path.
   */
  private async onPrimary<T>(work: Promise<T>): Promise<T> {
    try {
      const result = await withinTimeout(work, BACKGROUND_TIMEOUT_FACTOR * this.options.storageTimeoutMs);
      this.primaryHealth.markUp();
      return result;
    } catch (error) {
      work.catch(() => undefined);
      throw error;
    }
  }

  /** Admission on the primary, or null when it did not answer in time. */
  private async admitOnPrimary(request: Omit<AdmissionRequest, "deadlineMs">): Promise<Admission | null> {
    const { primary, defaults, storageTimeoutMs } = this.options;
    const deadlineMs = Date.now() + storageTimeoutMs + CLOCK_SKEW_ALLOWANCE_MS;
    const admitting = admitOnPrimary(primary, defaults, { ...request, deadlineMs });
    try {
      const admission = await withinTimeout(admitting, storageTimeoutMs);
      this.primaryHealth.markUp();
      return admission;
    } catch (error) {
      if (error instanceof GatewayError || error instanceof PolicyChanged || error instanceof AdmissionVoided) throw error; // a refusal or a new policy; anything else means storage failed us
      admitting.catch(() => undefined);
      this.primaryHealth.markDown();
      return null;
    }
  }

  /**
   * Storage could not admit the request. A tenant that fails open is served without a
   * reservation and settled later (its settlement voids the attempt, should it land late);
   * one that fails closed gets a clear 503.
   */
  private unmetered(request: Omit<AdmissionRequest, "deadlineMs">, failMode: StorageFailMode, primaryReason: string): AdmissionOutcome {
    if (failMode === "closed") {
      throw new GatewayError(
        "api_error",
        "Usage storage is unavailable, and this account does not serve requests it cannot meter; retry shortly.",
        { status: 503, headers: { "retry-after": "5" } },
      );
    }
    return { admission: emptyAdmission(request, "primary"), failedOpen: true, primaryReason };
  }

  /**
   * Voids an admission that storage did not answer in time, in case it lands late anyway.
   * One try, no spool: a late admission is void by its own deadline already; this covers
   * storage whose clock runs behind (and keeps an outage from multiplying writes).
   */
  private voidOnPrimary(request: Omit<AdmissionRequest, "deadlineMs">): Promise<unknown> {
    const write = writeSettlement(this.options.primary, settlementOf(subjectOf(emptyAdmission(request, "primary")), null));
    return withinTimeout(write, this.options.storageTimeoutMs).catch(() => undefined);
  }

  private voidLocally(request: Omit<AdmissionRequest, "deadlineMs">): Promise<unknown> {
    const write = writeLocalSettlement(this.options.region!.redis, settlementOf(subjectOf(emptyAdmission(request, "region")), null));
    return withinTimeout(write, this.options.storageTimeoutMs).catch(() => undefined);
  }

  /**
   * The request's settle function. Only the first call settles: a later one (an error
   * path after the answer was already being settled) must not replace the real usage.
   * A few quick retries while the request's waitUntil lasts, then the durable spool.
   * Each try goes through the isolate's settlement writes: at once when none is in flight,
   * else together with the others that came meanwhile, when it ends.
   * A region-side settlement is written in the region's database and its outbox drained.
   */
  settler(admission: Admission, defer: Defer): Settle {
    const { primary, region, storageTimeoutMs, spool, settlementWrites } = this.options;
    let settling = false;
    return async (served, report) => {
      if (settling) return null;
      settling = true;
      const settlement = settlementOf(subjectOf(admission), served, report);
      this.options.onSettled?.(settlement);
      const local = settlement.side === "region";
      // The write's own timeout bounds the batch that carries it; the outer one bounds the try, held time included.
      const write = (): Promise<unknown> =>
        withinTimeout(local ? writeLocalSettlement(region!.redis, settlement) : writeSettlement(primary, settlement), storageTimeoutMs);
      const writes = local ? settlementWrites.region : settlementWrites.primary;
      for (let attempt = 0; ; attempt++) {
        try {
          await withinTimeout(writes.write(write), storageTimeoutMs);
          if (local) defer(this.afterLocalSettlement(settlement));
          return settlement;
        } catch {
          const delay = SETTLE_RETRY_DELAYS_MS[attempt];
          if (delay === undefined) break;
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
      await spool(settlement);
      return settlement;
    };
  }
}

/** An admission that holds nothing: for voiding an attempt, or serving unmetered. */
function emptyAdmission(request: Omit<AdmissionRequest, "deadlineMs">, side: Admission["side"]): Admission {
  return {
    key: request.key,
    tenant: request.tenant,
    reservationId: request.reservationId,
    admittedAt: Date.now(),
    periods: usagePeriods(request.now),
    tokenBuckets: [],
    headers: {},
    headroom: { requests: 0, tokens: 0, budgetMicroUsd: null },
    side,
    lease: null,
  };
}

function subjectOf(admission: Admission) {
  return { ...admission, tenantId: admission.tenant.id, keyId: admission.key.id };
}
