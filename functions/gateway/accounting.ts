import type { Context } from "hono";
import { GatewayError } from "../../shared/http/errors.js";
import { type Admission, type AdmissionRequest, admit } from "../../shared/limits/admission.js";
import { type Settlement, settle, limitedTokens, settlementOf } from "../../shared/metering/settle.js";
import type { MeteredResponse } from "../../shared/metering/usage.js";
import { usagePeriods } from "../../shared/storage/keys.js";
import type { GatewayAppEnv } from "./context.js";

/** Waits after a failed settlement before the next try; then the spool takes over. */
const SETTLE_RETRY_DELAYS_MS = [250, 1_000, 3_000];

class StorageTimeout extends Error {}

function withinStorageTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StorageTimeout(`storage did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Admission with the storage-fault policy applied: when Upstash is slow or down, a
 * tenant that fails open is served without limits or a reservation (and settled
 * later), one that fails closed gets a clear 503. The default protects the tenant's
 * wallet for publishable keys (closed) and availability for secret keys (open).
 */
export async function admitWithStoragePolicy(
  c: Context<GatewayAppEnv>,
  request: Omit<AdmissionRequest, "reservationId">,
  defer: (work: Promise<unknown>) => void,
): Promise<Admission> {
  const config = c.get("config");
  const { redis, rateLimits } = c.get("services");
  const reservationId = crypto.randomUUID();
  const admitting = admit(redis, rateLimits, config.defaultLimits, { ...request, reservationId }, defer);
  try {
    return await withinStorageTimeout(admitting, config.storageTimeoutMs);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    admitting.catch(() => undefined); // a late answer settles through the same reservation id
    const mode = request.tenant.storageFailMode ?? (request.key.kind === "publishable" ? "closed" : "open");
    c.get("log").set({ storage: `unavailable, failing ${mode}` });
    if (mode === "closed") {
      throw new GatewayError("api_error", "Usage storage is unavailable, and this account does not serve requests it cannot meter; retry shortly.", {
        status: 503,
        headers: { "retry-after": "5" },
      });
    }
    return {
      key: request.key,
      tenant: request.tenant,
      reservationId,
      periods: usagePeriods(request.now),
      tokenChecks: [],
      headers: {},
    };
  }
}

/**
 * Settles a request so that no usage record is lost: a few quick retries while the
 * request's waitUntil lasts, then the region's durable spool, which retries until
 * storage takes it. Only the first call settles: a later one (an error path after the
 * answer was already being settled) must not replace the real usage with nothing.
 */
export function settler(c: Context<GatewayAppEnv>, admission: Admission) {
  const { redis, rateLimits, prices } = c.get("services");
  const log = c.get("log");
  let settling = false;
  return async (metered: MeteredResponse | null, model: string): Promise<void> => {
    if (settling) return;
    settling = true;
    const settlement = settlementOf({ ...admission, tenantId: admission.tenant.id, keyId: admission.key.id }, metered, model, prices);
    log.set({ cost_usd: settlement.costMicroUsd / 1e6, strongest_model_cost_usd: settlement.strongestCostMicroUsd / 1e6 });
    const tokens = metered ? limitedTokens(metered) : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        await withinStorageTimeout(settle(redis, rateLimits, admission, settlement, tokens), c.get("config").storageTimeoutMs);
        return;
      } catch {
        const delay = SETTLE_RETRY_DELAYS_MS[attempt];
        if (delay === undefined) break;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    log.set({ settlement: "spooled" });
    await spool(c, settlement);
  };
}

async function spool(c: Context<GatewayAppEnv>, settlement: Settlement): Promise<void> {
  const namespace = c.env.USAGE_SPOOL;
  if (!namespace) {
    // Without a spool binding the record survives only in the log, for reconciliation.
    console.error(JSON.stringify({ msg: "settlement lost: no USAGE_SPOOL binding", settlement }));
    return;
  }
  await namespace.get(namespace.idFromName(c.get("config").region)).add(settlement);
}
