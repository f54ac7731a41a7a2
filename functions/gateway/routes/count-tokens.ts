import { Hono } from "hono";
import { anthropicVersionOf } from "../../../shared/http/anthropic-version.js";
import { readJsonBody } from "../../../shared/http/body.js";
import { requestBuckets } from "../../../shared/ledger/buckets.js";
import { takeFromBuckets } from "../../../shared/ledger/limits.js";
import { checkRequestFeatures } from "../../../shared/request-policy/features.js";
import { routeRequest } from "../../../shared/routing/policy.js";
import { upstreamFailureResponse } from "../../../shared/upstream/errors.js";
import { residencyOf } from "../../../shared/upstream/residency.js";
import { countTokensRequestSchema } from "../../../shared/validation/messages.js";
import type { GatewayAppEnv } from "../context.js";

/**
 * POST /v1/messages/count_tokens: relayed to an upstream endpoint of the region. Free of
 * charge upstream, but it spends the operator's upstream rate limits, so it takes from
 * the tenant's requests per minute like any other request.
 */
export const countTokens = new Hono<GatewayAppEnv>().post("/v1/messages/count_tokens", async (c) => {
  const config = c.get("config");
  const { key, tenant } = c.get("caller");
  const { redis, upstream } = c.get("services");
  const anthropicVersion = anthropicVersionOf(c.req.raw.headers, config.anthropicVersions);
  const parsed = await readJsonBody(c.req.raw, countTokensRequestSchema, config.body);
  const features = checkRequestFeatures(parsed, c.req.header("anthropic-beta") ?? null, tenant.allowedFeatures ?? [], config.features, { countOnly: true });
  const headers = await takeFromBuckets(redis, requestBuckets(key, tenant, config.defaultLimits));
  const { model: requested, ...body } = parsed;
  const model = routeRequest({ ...body, model: requested }, tenant.modelPolicy, config.routing).model;
  // The first endpoint of the chain that serves the model within the tenant's residency counts.
  const allowed = residencyOf(tenant);
  const eligible = (index: number) => allowed(upstream.endpoints[index]!) && upstream.endpoints[index]!.provider.modelId(model) !== null;
  // With every such endpoint resting after failures, the first one answers (and says when to retry).
  const acquired = upstream.acquire(Date.now(), eligible);
  const timeout = AbortSignal.timeout(config.upstreamTimeoutMs);
  const target = acquired ?? upstream.endpoints.findIndex((_, index) => eligible(index));
  if (target < 0) return upstreamFailureResponse({ kind: "no-endpoint", model }, c.get("log").requestId);
  try {
    const counted = await upstream.endpoints[target]!.provider.countTokens({
      model,
      body,
      stream: false,
      anthropicVersion,
      betas: features.betas,
      signal: AbortSignal.any([c.req.raw.signal, timeout]),
    });
    const text = await counted.text();
    const response = counted.ok
      ? new Response(text, { status: counted.status, headers: { "content-type": "application/json" } })
      : upstreamFailureResponse({ kind: "response", status: counted.status, headers: counted.headers, body: text }, c.get("log").requestId);
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    return response;
  } catch {
    const kind = c.req.raw.signal.aborted ? "client-gone" : timeout.aborted ? "timeout" : "network";
    return upstreamFailureResponse({ kind }, c.get("log").requestId);
  } finally {
    if (acquired !== null) upstream.release(acquired);
  }
});
