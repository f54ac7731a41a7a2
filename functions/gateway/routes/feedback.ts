import { type Context, Hono } from "hono";
import * as z from "zod/mini";
import { type RecordedRating, recordRating, tuneFromFeedback } from "../../../shared/feedback/record.js";
import { readJsonBody } from "../../../shared/http/body.js";
import { requestBuckets } from "../../../shared/ledger/buckets.js";
import { takeFromBuckets } from "../../../shared/ledger/limits.js";
import type { GatewayAppEnv } from "../context.js";

/** A rating is a few dozen bytes. */
const FEEDBACK_BODY_LIMIT = 4 * 1024;

const ratingSchema = z.strictObject({
  /** The x-request-id of the answer rated. */
  request_id: z.string().check(z.regex(/^egr_[a-z0-9]{8,64}$/, "an x-request-id of one of your answers (egr_...)")),
  rating: z.enum(["up", "down"]),
});

/**
 * POST /v1/feedback: a tenant rates one of its answers, by the x-request-id the answer
 * came with. Ratings are counted by the tier and model that served it (GET /v1/usage,
 * by_tier and audit); with modelPolicy.autoTune, they may move the tenant's thresholds.
 */
export const feedback = new Hono<GatewayAppEnv>().post("/v1/feedback", async (c) => {
  const { key, tenant } = c.get("caller");
  const headers = await takeFromBuckets(c.get("services").redis, requestBuckets(key, tenant, c.get("config").defaultLimits));
  return c.json(await rateAnswer(c, tenant.id, null), 200, headers);
});

/**
 * Reads a rating from the request and records it for the tenant's answer (a widget
 * visitor's own, or null for a secret key's), letting it move the tenant's thresholds.
 */
export async function rateAnswer(c: Context<GatewayAppEnv>, tenantId: string, visitor: string | null): Promise<RecordedRating> {
  const { redis, tenants } = c.get("services");
  const config = c.get("config");
  const body = await readJsonBody(c.req.raw, ratingSchema, { ...config.body, maxBytes: Math.min(FEEDBACK_BODY_LIMIT, config.body.maxBytes) });
  const recorded = await recordRating(redis, { tenantId, requestId: body.request_id, rating: body.rating, visitor });
  if (recorded.changed) c.executionCtx.waitUntil(tuneFromFeedback(redis, tenants, tenantId, config.routing.thresholds).catch(() => null));
  return recorded;
}
