import type { Redis } from "@upstash/redis";
import type { Thresholds } from "../classify/index.js";
import { GatewayError } from "../http/errors.js";
import { ratingCounts } from "../metering/usage-report.js";
import { redisKeys, usagePeriods } from "../storage/keys.js";
import type { TenantStore } from "../tenants/store.js";
import { rate, type Rating, ratedRequest } from "./store.js";
import { tunedThresholds } from "./tune.js";

/** A rating on a request: who gives it (a widget visitor only rates their own answers). */
export interface RatingInput {
  tenantId: string;
  requestId: string;
  rating: Rating;
  visitor: string | null;
}

/** What a rating was recorded against. */
export interface RecordedRating {
  request_id: string;
  rating: Rating;
  /** The tier that served the request ("light", "standard", "deep"), and for an audited request the tier the classifier chose. */
  tier: string;
  audited_from: string | null;
  model: string;
  changed: boolean;
}

/**
 * Records a rating by the tier and model that served the request. A request that is not
 * the caller's, not served, or over a week old is "not found" (never telling whose it is).
 */
export async function recordRating(redis: Redis, input: RatingInput): Promise<RecordedRating> {
  const record = await ratedRequest(redis, input.requestId, input.tenantId);
  if (!record || (input.visitor !== null && record.visitor !== input.visitor)) {
    throw new GatewayError("not_found_error", `No answer ${input.requestId} of yours can be rated: ratings take the x-request-id of an answer served in the last 7 days.`);
  }
  const outcome = await rate(redis, input.requestId, record, input.visitor, input.rating);
  if (outcome === "unknown") throw new GatewayError("not_found_error", `No answer ${input.requestId} of yours can be rated.`);
  const [chosen, served] = record.tierScope.slice(1).split(">");
  return {
    request_id: input.requestId,
    rating: input.rating,
    tier: served ?? chosen ?? "",
    audited_from: served ? chosen! : null,
    model: record.model,
    changed: outcome === "ok",
  };
}

/** Thresholds move at most one step per tenant in this time. */
const TUNE_INTERVAL_S = 3_600;

/**
 * Lets the tenant's own feedback move its routing thresholds, within the bounds it set
 * (modelPolicy.autoTune), at most one step an hour: see tunedThresholds. Resolves with
 * the new thresholds, or null when nothing moved.
 */
export async function tuneFromFeedback(redis: Redis, tenants: TenantStore, tenantId: string, defaults: Thresholds): Promise<Thresholds | null> {
  const tenant = await tenants.getTenant(tenantId);
  const bounds = tenant?.modelPolicy.autoTune ?? null;
  if (!tenant || !bounds) return null;
  const month = (await redis.hgetall<Record<string, string | number>>(redisKeys.monthlyUsage(tenantId, usagePeriods(new Date()).month))) ?? {};
  const current = tenant.modelPolicy.thresholds ?? defaults;
  const next = tunedThresholds(ratingCounts(month), current, bounds);
  if (!next) return null;
  if ((await redis.set(redisKeys.autoTuned(tenantId), "1", { nx: true, ex: TUNE_INTERVAL_S })) === null) return null;
  await tenants.updateTenant(tenantId, { modelPolicy: { thresholds: next } });
  console.log(JSON.stringify({ msg: "routing thresholds moved by feedback", tenant_id: tenantId, from: current, to: next }));
  return next;
}
