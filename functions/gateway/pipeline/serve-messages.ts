import type { Context } from "hono";
import { parseJsonOrUndefined } from "../../../shared/text/json.js";
import { GatewayError } from "../../../shared/http/errors.js";
import { serverTiming } from "../../../shared/http/server-timing.js";
import { estimateInputTokens } from "../../../shared/metering/estimate.js";
import { type MeteredResponse, UsageMeter } from "../../../shared/metering/usage.js";
import { round } from "../../../shared/observability/request-log.js";
import { worstCaseCostMicroUsd } from "../../../shared/pricing/cost.js";
import type { Tier } from "../../../shared/classify/types.js";
import type { WidgetAdmission } from "../../../shared/limits/admission.js";
import { fallbackChain, routeRequest, routingHeaders, withTierCap } from "../../../shared/routing/policy.js";
import { type AttemptRecord, openUpstream } from "../../../shared/upstream/attempts.js";
import { forwardedHeaders, upstream } from "../../../shared/upstream/client.js";
import { upstreamErrorResponse } from "../../../shared/upstream/errors.js";
import { withPromptCaching } from "../../../shared/upstream/prompt-caching.js";
import { relaySse } from "../../../shared/upstream/relay.js";
import type { MessagesRequest } from "../../../shared/validation/messages.js";
import { admitWithStoragePolicy, settler } from "../accounting.js";
import type { GatewayAppEnv } from "../context.js";
import { logMetered } from "./metered-log.js";
import type { ResponseShape } from "./response-shape.js";

export interface ServeOptions {
  /**
   * A widget conversation: the visitor's limits, the key's share of the daily budget
   * and its tier cap apply, and no client header is forwarded upstream.
   */
  widget?: WidgetAdmission & { maxTier: Tier | null };
}

/** Upstream response headers the client gets back unchanged. */
const RELAYED_HEADERS = ["content-type", "request-id"] as const;

/** A reservation outlives its request by this much before it is presumed dead... */
const RESERVATION_GRACE_MS = 5 * 60_000;
/** ...plus the time the longest allowed answer takes at a slow 20 tokens/s. */
const RESERVATION_MS_PER_OUTPUT_TOKEN = 50;

/**
 * The Messages pipeline shared by every API the gateway speaks: route the request to
 * a model, admit it (limits, budget: one Upstash round trip), call the upstream with
 * retries and fallbacks, relay and meter the answer, settle off the critical path.
 * `shape` turns the Anthropic answer into the caller's API format.
 */
export async function serveMessages(
  c: Context<GatewayAppEnv>,
  request: MessagesRequest,
  shape: ResponseShape,
  options: ServeOptions = {},
): Promise<Response> {
  const config = c.get("config");
  const log = c.get("log");
  const caller = c.get("caller");
  const { prices, keyCache } = c.get("services");
  const stream = request.stream === true;
  enforceMaxTokens(request, caller.tenant.limits.maxTokensPerRequest);
  const { widget } = options;
  const policy = widget ? withTierCap(caller.tenant.modelPolicy, widget.maxTier) : caller.tenant.modelPolicy;
  const decision = routeRequest(request, policy, config.routing);
  const models = fallbackChain(decision, policy, config.routing);
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
  const admission = await admitWithStoragePolicy(
    c,
    {
      keyHash: caller.keyHash,
      key: caller.key,
      tenant: caller.tenant,
      // The chosen model heads its fallback chain and is the dearest in it.
      reserveMicroUsd: worstCaseCostMicroUsd(estimate.upperBound, request.max_tokens, prices.priceOf(decision.model)),
      tokens: estimate.typical + request.max_tokens,
      reservationTtlMs: RESERVATION_GRACE_MS + request.max_tokens * RESERVATION_MS_PER_OUTPUT_TOKEN,
      widget,
      now: new Date(),
    },
    defer,
  );
  keyCache.set(caller.keyHash, admission.key, admission.tenant, Date.now());
  const settleWith = settler(c, admission);
  try {
    const body = admission.tenant.promptCaching ? withPromptCaching(request) : request;

    const upstreamStartedAt = performance.now();
    const firstTokenDeadline = Date.now() + config.firstTokenTimeoutMs[decision.tier];
    const gatewayMs = upstreamStartedAt - log.startedAt;
    log.set({ gateway_ms: round(gatewayMs) });
    const { pool, clientFor } = upstream(config);
    const opened = await openUpstream(
      {
        body,
        models,
        stream,
        headers: widget ? {} : forwardedHeaders(c.req.raw.headers),
        firstTokenTimeoutMs: config.firstTokenTimeoutMs[decision.tier],
      },
      clientFor,
      pool,
      config.retry,
      c.req.raw.signal,
    );
    const ownHeaders = { ...admission.headers, ...routingHeaders(decision), ...attemptHeaders(opened.attempts, decision.model) };
    log.set({ attempts: opened.attempts.length, attempt_outcomes: describeAttempts(opened.attempts) });

    if (!opened.ok) {
      defer(settleWith(null, decision.model));
      const response = upstreamErrorResponse(opened.error, log.requestId, config.upstreamTimeoutMs);
      log.set({ outcome: "upstream_error", upstream_status: response.status });
      for (const [name, value] of Object.entries(ownHeaders)) response.headers.set(name, value);
      return shape.upstreamError(response);
    }

    const served = opened.model;
    const headers = relayedHeaders(opened.response.headers, ownHeaders);
    if (!opened.reader) {
      const text = await opened.response.text().finally(opened.release);
      const upstreamMs = performance.now() - upstreamStartedAt;
      const meter = new UsageMeter();
      meter.observeMessage(parseJsonOrUndefined(text));
      const metered = meter.result();
      headers.set("server-timing", serverTiming([
        { name: "gateway", durationMs: gatewayMs },
        { name: "upstream", description: "complete response", durationMs: upstreamMs },
      ]));
      logMetered(log, metered, { upstreamTtfbMs: upstreamMs, upstreamStartedAt, endedAt: performance.now() });
      log.set({ outcome: "completed" });
      log.deferred = true;
      c.executionCtx.waitUntil(settleWith(metered, served).finally(() => log.emit()));
      return shape.message(text, served, opened.response.status, headers);
    }

    const upstreamTtfbMs = performance.now() - upstreamStartedAt;
    const relay = relaySse(opened.reader, {
      firstChunk: opened.firstChunk,
      abortUpstream: (reason) => opened.abort.abort(reason),
      clientSignal: c.req.raw.signal,
      idleTimeoutMs: config.streamIdleTimeoutMs[decision.tier],
      firstTokenDeadline,
    });
    headers.set("cache-control", "no-cache");
    headers.set("server-timing", serverTiming([
      { name: "gateway", durationMs: gatewayMs },
      { name: "upstream", description: "first byte", durationMs: upstreamTtfbMs },
    ]));

    log.deferred = true;
    c.executionCtx.waitUntil(
      relay.done.then(async (result) => {
        opened.release();
        logMetered(log, result.metered, { upstreamTtfbMs, upstreamStartedAt, endedAt: result.endedAt });
        log.set({ outcome: result.ending });
        await settleWith(result.metered, served).finally(() => log.emit());
      }),
    );
    return shape.stream(relay.body, served, opened.response.status, headers);
  } catch (error) {
    // Whatever fails after admission still releases the reservation (and settles once).
    defer(settleWith(null, decision.model));
    throw error;
  }
}

function enforceMaxTokens(request: MessagesRequest, cap: number | null): void {
  if (cap !== null && request.max_tokens > cap) {
    throw new GatewayError(
      "invalid_request_error",
      `max_tokens: ${request.max_tokens} is above your account's per-request cap of ${cap}; lower it to ${cap} or less.`,
    );
  }
}

function describeAttempts(attempts: readonly AttemptRecord[]): string {
  return attempts.map((attempt) => `${attempt.model}#k${attempt.key}=${attempt.outcome}`).join(" ");
}

/** Which attempt served and why: set only when it took more than one, or another model. */
function attemptHeaders(attempts: readonly AttemptRecord[], chosen: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (attempts.length > 1) headers["x-edgegate-attempts"] = describeAttempts(attempts);
  const last = attempts.at(-1);
  if (last && last.model !== chosen) {
    headers["x-edgegate-model"] = last.model;
    headers["x-edgegate-fallback"] = `${chosen} -> ${last.model} (${chosen} overloaded)`;
  }
  return headers;
}

function relayedHeaders(upstreamHeaders: Headers, own: Record<string, string>): Headers {
  const headers = new Headers(own);
  for (const name of RELAYED_HEADERS) {
    const value = upstreamHeaders.get(name);
    if (value) headers.set(name, value);
  }
  return headers;
}
