import type { MessageCreateParams } from "@anthropic-ai/sdk/resources/messages";
import { Hono } from "hono";
import { GatewayError } from "../../../shared/http/errors.js";
import { readJsonBody } from "../../../shared/http/body.js";
import { serverTiming } from "../../../shared/http/server-timing.js";
import { admit } from "../../../shared/limits/admission.js";
import { estimateInputTokens } from "../../../shared/metering/estimate.js";
import { settle } from "../../../shared/metering/settle.js";
import { type MeteredResponse, UsageMeter } from "../../../shared/metering/usage.js";
import { round } from "../../../shared/observability/request-log.js";
import { worstCaseCostMicroUsd } from "../../../shared/pricing/cost.js";
import { forwardedHeaders, upstreamClient } from "../../../shared/upstream/client.js";
import { upstreamErrorResponse } from "../../../shared/upstream/errors.js";
import { withPromptCaching } from "../../../shared/upstream/prompt-caching.js";
import { relaySse } from "../../../shared/upstream/relay.js";
import { routeRequest, routingHeaders } from "../../../shared/routing/policy.js";
import { type MessagesRequest, messagesRequestSchema } from "../../../shared/validation/messages.js";
import type { GatewayAppEnv } from "../context.js";
import { logMetered } from "./metered-log.js";

/** Upstream response headers the client gets back unchanged. */
const RELAYED_HEADERS = ["content-type", "request-id"] as const;

/** A reservation outlives its request by this much before it is presumed dead... */
const RESERVATION_GRACE_MS = 5 * 60_000;
/** ...plus the time the longest allowed answer takes at a slow 20 tokens/s. */
const RESERVATION_MS_PER_OUTPUT_TOKEN = 50;

export const messages = new Hono<GatewayAppEnv>().post("/v1/messages", async (c) => {
  const config = c.get("config");
  const log = c.get("log");
  const caller = c.get("caller");
  const { redis, rateLimits, prices, keyCache } = c.get("services");
  const request = await readJsonBody(c.req.raw, messagesRequestSchema, config.maxBodyBytes);
  const stream = request.stream === true;
  enforceMaxTokens(request, caller.tenant.limits.maxTokensPerRequest);
  const decision = routeRequest(request, caller.tenant.modelPolicy, config.routing);
  const model = decision.model;
  log.set({
    model_requested: request.model,
    stream,
    tier: decision.tier,
    score: round(decision.score, 3),
    reasons: decision.reasons.slice(0, 3).join(","),
    downgraded_from: decision.downgrade?.from,
  });

  const defer = (work: Promise<unknown>): void =>
    c.executionCtx.waitUntil(work.catch((error: unknown) => console.error(`deferred work failed: ${String(error)}`)));
  const estimate = estimateInputTokens(request);
  const admission = await admit(
    redis,
    rateLimits,
    config.defaultLimits,
    {
      keyHash: caller.keyHash,
      key: caller.key,
      tenant: caller.tenant,
      reserveMicroUsd: worstCaseCostMicroUsd(estimate.upperBound, request.max_tokens, prices.priceOf(model)),
      tokens: estimate.typical + request.max_tokens,
      reservationTtlMs: RESERVATION_GRACE_MS + request.max_tokens * RESERVATION_MS_PER_OUTPUT_TOKEN,
      now: new Date(),
    },
    defer,
  );
  keyCache.set(caller.keyHash, admission.key, admission.tenant, Date.now());
  const settleWith = (metered: MeteredResponse | null) =>
    settle(redis, rateLimits, prices, admission, metered, model).then((settled) =>
      log.set({ cost_usd: settled.costMicroUsd / 1e6, strongest_model_cost_usd: settled.strongestCostMicroUsd / 1e6 }),
    );
  const routed = { ...request, model };
  const upstreamRequest = admission.tenant.promptCaching ? withPromptCaching(routed) : routed;
  const ownHeaders = { ...admission.headers, ...routingHeaders(decision) };

  const abort = new AbortController();
  const upstreamStartedAt = performance.now();
  const gatewayMs = upstreamStartedAt - log.startedAt;
  log.set({ gateway_ms: round(gatewayMs) });
  const failBeforeFirstByte = (error: unknown): Response => {
    defer(settleWith(null));
    const response = upstreamErrorResponse(error, log.requestId, config.upstreamTimeoutMs);
    log.set({ outcome: "upstream_error", upstream_status: response.status });
    for (const [name, value] of Object.entries(ownHeaders)) response.headers.set(name, value);
    return response;
  };
  let upstream: Response;
  try {
    upstream = await upstreamClient(config)
      .messages.create(upstreamRequest as MessagesRequest & MessageCreateParams, {
        signal: abort.signal,
        headers: forwardedHeaders(c.req.raw.headers),
      })
      .asResponse();
  } catch (error) {
    return failBeforeFirstByte(error);
  }

  const headers = relayedHeaders(upstream.headers, ownHeaders);
  if (!stream || !upstream.body) {
    const text = await upstream.text();
    const upstreamMs = performance.now() - upstreamStartedAt;
    const meter = new UsageMeter();
    meter.observeMessage(parseJson(text));
    const metered = meter.result();
    headers.set("server-timing", serverTiming([
      { name: "gateway", durationMs: gatewayMs },
      { name: "upstream", description: "complete response", durationMs: upstreamMs },
    ]));
    logMetered(log, metered, { upstreamTtfbMs: upstreamMs, upstreamStartedAt, endedAt: performance.now() });
    log.set({ outcome: "completed" });
    log.deferred = true;
    c.executionCtx.waitUntil(settleWith(metered).finally(() => log.emit()));
    return new Response(text, { status: upstream.status, headers });
  }

  const reader = upstream.body.getReader();
  let first: ReadableStreamReadResult<Uint8Array>;
  try {
    first = await reader.read();
  } catch (error) {
    return failBeforeFirstByte(error);
  }
  const upstreamTtfbMs = performance.now() - upstreamStartedAt;
  const relay = relaySse(reader, {
    firstChunk: first.value,
    abortUpstream: (reason) => abort.abort(reason),
    clientSignal: c.req.raw.signal,
    idleTimeoutMs: config.streamIdleTimeoutMs,
  });
  headers.set("cache-control", "no-cache");
  headers.set("server-timing", serverTiming([
    { name: "gateway", durationMs: gatewayMs },
    { name: "upstream", description: "first byte", durationMs: upstreamTtfbMs },
  ]));

  log.deferred = true;
  c.executionCtx.waitUntil(
    relay.done.then(async (result) => {
      logMetered(log, result.metered, { upstreamTtfbMs, upstreamStartedAt, endedAt: result.endedAt });
      log.set({ outcome: result.ending });
      await settleWith(result.metered).finally(() => log.emit());
    }),
  );
  return new Response(relay.body, { status: upstream.status, headers });
});

function enforceMaxTokens(request: MessagesRequest, cap: number | null): void {
  if (cap !== null && request.max_tokens > cap) {
    throw new GatewayError(
      "invalid_request_error",
      `max_tokens: ${request.max_tokens} is above your account's per-request cap of ${cap}; lower it to ${cap} or less.`,
    );
  }
}

function relayedHeaders(upstream: Headers, own: Record<string, string>): Headers {
  const headers = new Headers(own);
  for (const name of RELAYED_HEADERS) {
    const value = upstream.get(name);
    if (value) headers.set(name, value);
  }
  return headers;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
