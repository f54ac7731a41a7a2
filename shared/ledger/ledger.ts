import type { Redis } from "@upstash/redis";
import { GatewayError } from "../http/errors.js";
import { usagePeriods } from "../storage/keys.js";
import { type Admission, type AdmissionRequest, admit, PolicyChanged } from "./admission.js";
import type { DefaultLimits } from "./buckets.js";
import { type Served, type Settlement, settlementOf, writeSettlement } from "./settlement.js";

export type StorageFailMode = "open" | "closed";

export interface LedgerOptions {
  redis: Redis;
  defaults: DefaultLimits;
  /** Longest wait for storage on the hot path before the fail mode applies. */
  storageTimeoutMs: number;
  /** Keeps a settlement durably until storage takes it (the region's spool). */
  spool: (settlement: Settlement) => Promise<void>;
}

export interface AdmissionOutcome {
  admission: Admission;
  /** Set when storage did not answer in time and the request is served anyway (fail open). */
  failedOpen: boolean;
}

/**
 * Settles a request: what served it, or null when no upstream call could have been
 * charged. Resolves with the settlement written (or spooled), or null on a second call.
 */
export type Settle = (served: Served | null) => Promise<Settlement | null>;

/** Waits after a failed settlement write before the next try; then the spool takes over. */
const SETTLE_RETRY_DELAYS_MS = [250, 1_000, 3_000];
/** Storage clocks may run a little ahead of the Worker's; an admission is void this long after its deadline. */
const CLOCK_SKEW_ALLOWANCE_MS = 1_000;

class StorageTimeout extends Error {}

function withinTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StorageTimeout(`storage did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    if (timer !== null) clearTimeout(timer);
  });
}

/**
 * The reservation lifecycle of a region: admit (limits and a budget reservation, one
 * storage call), then settle exactly once (usage, cost, release, limit corrections),
 * with the spool behind it so that no settlement is lost while storage is down.
 */
export class Ledger {
  constructor(private readonly options: LedgerOptions) {}

  /**
   * Admission under the storage-fault policy. When storage does not answer in time, the
   * admission is voided (it does nothing if it lands later), then a tenant that fails
   * open is served without a reservation and settled later, one that fails closed gets
   * a clear 503.
   */
  async admit(
    request: Omit<AdmissionRequest, "deadlineMs">,
    failMode: StorageFailMode,
    defer: (work: Promise<unknown>) => void,
  ): Promise<AdmissionOutcome> {
    const { redis, defaults, storageTimeoutMs } = this.options;
    const deadlineMs = Date.now() + storageTimeoutMs + CLOCK_SKEW_ALLOWANCE_MS;
    const admitting = admit(redis, defaults, { ...request, deadlineMs });
    try {
      return { admission: await withinTimeout(admitting, storageTimeoutMs), failedOpen: false };
    } catch (error) {
      if (error instanceof GatewayError || error instanceof PolicyChanged) throw error; // a refusal or a new policy; anything else means storage failed us
      admitting.catch(() => undefined);
      const admission: Admission = {
        key: request.key,
        tenant: request.tenant,
        reservationId: request.reservationId,
        admittedAt: Date.now(),
        periods: usagePeriods(request.now),
        tokenBuckets: [],
        headers: {},
      };
      if (failMode === "closed") {
        defer(this.voidAdmission(admission));
        throw new GatewayError(
          "api_error",
          "Usage storage is unavailable, and this account does not serve requests it cannot meter; retry shortly.",
          { status: 503, headers: { "retry-after": "5" } },
        );
      }
      return { admission, failedOpen: true };
    }
  }

  /**
   * Voids an admission that storage did not answer in time, in case it lands late anyway.
   * One try, no spool: a late admission is void by its own deadline already; this covers
   * storage whose clock runs behind (and keeps an outage from multiplying writes).
   */
  private voidAdmission(admission: Admission): Promise<unknown> {
    const subject = { ...admission, tenantId: admission.tenant.id, keyId: admission.key.id };
    return withinTimeout(writeSettlement(this.options.redis, settlementOf(subject, null)), this.options.storageTimeoutMs).catch(() => undefined);
  }

  /**
   * The request's settle function. Only the first call settles: a later one (an error
   * path after the answer was already being settled) must not replace the real usage.
   * A few quick retries while the request's waitUntil lasts, then the durable spool.
   */
  settler(admission: Admission): Settle {
    const { redis, storageTimeoutMs, spool } = this.options;
    let settling = false;
    return async (served) => {
      if (settling) return null;
      settling = true;
      const subject = { ...admission, tenantId: admission.tenant.id, keyId: admission.key.id };
      const settlement = settlementOf(subject, served);
      for (let attempt = 0; ; attempt++) {
        try {
          await withinTimeout(writeSettlement(redis, settlement), storageTimeoutMs);
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
