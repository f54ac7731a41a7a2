import type { Context } from "hono";
import type { Tier } from "../../../shared/classify/types.js";
import { GATEWAY_ANTHROPIC_VERSION } from "../../../shared/http/anthropic-version.js";
import { GatewayError } from "../../../shared/http/errors.js";
import { UPSTREAM_CALLS_HEADER } from "../../../shared/http/region-answers.js";
import { serverTiming } from "../../../shared/http/server-timing.js";
import type { StorageFailMode } from "../../../shared/ledger/ledger.js";
import type { Served, Settlement } from "../../../shared/ledger/settlement.js";
import { estimateInputTokens } from "../../../shared/metering/estimate.js";
import { UsageMeter } from "../../../shared/metering/usage.js";
import { type RequestLog, round } from "../../../shared/observability/request-log.js";
import { LIST_PRICE_BASIS_POINTS, type PricedModel, type PriceTable, worstCaseCostMicroUsd } from "../../../shared/pricing/cost.js";
import { checkRequestFeatures, tokenBound } from "../../../shared/request-policy/features.js";
import { fallbackChain, routeRequest, routingHeaders, withTierCap } from "../../../shared/routing/policy.js";
import type { SseEvent } from "../../../shared/sse/parser.js";
import type { Tenant } from "../../../shared/tenants/model.js";
import { parseJsonOrUndefined } from "../../../shared/text/json.js";
import { type AttemptRecord, type OpenedUpstream, openUpstream } from "../../../shared/upstream/attempts.js";
import { upstreamFailureResponse } from "../../../shared/upstream/errors.js";
import { withPromptCaching } from "../../../shared/upstream/prompt-caching.js";
import { residencyOf } from "../../../shared/upstream/residency.js";
import { type RelayResult, relaySse } from "../../../shared/upstream/relay.js";
import type { MessagesRequest } from "../../../shared/validation/messages.js";
import type { Visitor } from "../../../shared/widget/visitor.js";
import type { Caller, GatewayAppEnv } from "../context.js";
import { logMetered } from "./metered-log.js";
import type { ResponseShape } from "./response-shape.js";

export interface ServeOptions {
  /** The client's anthropic-version, relayed upstream; the gateway's own for clients of other APIs. */
  anthropicVersion?: string;
  /**
   * A widget conversation: the visitor's limits, the key's share of the daily budget and
   * its tier cap apply, and no client header is forwarded upstream.
   */
  widget?: {
    visitor: Visitor;
    maxTier: Tier | null;
    /** Sees the answer's events as they are metered. */
    observe: (event: SseEvent) => void;
    /** Appended to a complete answer. */
    trailer: (result: RelayResult) => Promise<string | null>;
  };
}

/** Upstream response headers the client gets back unchanged. */
const RELAYED_HEADERS = ["content-type", "request-id"] as const;

/** A reservation outlives its request by this much before it is presumed dead... */
const RESERVATION_GRACE_MS = 5 * 60_000;
/** ...plus the time the longest allowed answer takes at a slow 20 tokens/s. */
const RESERVATION_MS_PER_OUTPUT_TOKEN = 50;

/**
 * The Messages pipeline shared by every API the gateway speaks: check what the request
 * switches on, route it to a model, admit it (limits, budget: one storage call), call
 * the upstream with retries and fallbacks, relay and meter the answer, settle off the
 * critical path. `shape` turns the Anthropic answer into the caller's API format.
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
  const { prices, strongest, keyCache, ledger, upstream } = c.get("services");
  const stream = request.stream === true;
  const { widget } = options;
  enforceMaxTokens(request, caller.tenant.limits.maxTokensPerRequest);
  const features = checkRequestFeatures(
    request,
    widget ? null : (c.req.header("anthropic-beta") ?? null),
    caller.tenant.allowedFeatures ?? [],
    config.features,
  );
  const policy = widget ? withTierCap(caller.tenant.modelPolicy, widget.maxTier) : caller.tenant.modelPolicy;
  const decision = routeRequest(request, policy, config.routing);
  const chain = pricedChain(fallbackChain(decision, policy, config.routing), prices);
  log.set({
    model_requested: request.model,
    stream,
    tier: decision.tier,
    score: round(decision.score, 3),
    reasons: decision.reasons.slice(0, 3).join(","),
    downgraded_from: decision.downgrade?.from,
    features: features.used.join(",") || undefined,
  });

  const defer = (work: Promise<unknown>): void =>
    c.executionCtx.waitUntil(work.catch((error: unknown) => console.error(`deferred work failed: ${String(error)}`)));
  const estimate = estimateInputTokens(request);
  const bound = { ...tokenBound(estimate.upperBound, request.max_tokens, features), webSearches: features.webSearches };
  const allowed = residencyOf(caller.tenant);
  const dearestEndpoint = Math.max(...upstream.endpoints.filter(allowed).map((endpoint) => endpoint.priceBasisPoints), LIST_PRICE_BASIS_POINTS);
  const { admission, failedOpen } = await ledger.admit(
    {
      reservationId: crypto.randomUUID(),
      keyHash: caller.keyHash,
      key: caller.key,
      tenant: caller.tenant,
      // Any model of the chain, on any endpoint the tenant may use, may serve: reserve for the dearest.
      reserveMicroUsd: Math.max(...chain.map((priced) => worstCaseCostMicroUsd(bound, priced, dearestEndpoint))),
      tokens: estimate.typical + request.max_tokens,
      reservationTtlMs: RESERVATION_GRACE_MS + request.max_tokens * RESERVATION_MS_PER_OUTPUT_TOKEN,
      region: config.region,
      visitor: widget?.visitor ?? null,
      now: new Date(),
    },
    storageFailMode(caller),
    defer,
  );
  if (failedOpen) log.set({ storage: "unavailable, failing open" });
  keyCache.set(caller.keyHash, admission.key, admission.tenant, Date.now());
  const settle = ledger.settler(admission);
  const served = (metered: Served["metered"], opened: OpenedUpstream): Served => ({
    metered,
    model: opened.model,
    endpoint: { provider: opened.endpoint.provider.id, priceBasisPoints: opened.endpoint.priceBasisPoints },
    prices,
    strongest,
  });
  try {
    enforceMaxTokens(request, admission.tenant.limits.maxTokensPerRequest);
    const { model: _chosen, ...body } = admission.tenant.promptCaching ? withPromptCaching(request) : request;
    const upstreamStartedAt = performance.now();
    const gatewayMs = upstreamStartedAt - log.startedAt;
    log.set({ gateway_ms: round(gatewayMs) });
    const deadlineAt = Date.now() + config.upstreamTimeoutMs;
    const opened = await openUpstream(
      {
        body,
        models: chain.map((priced) => priced.model),
        stream,
        anthropicVersion: options.anthropicVersion ?? GATEWAY_ANTHROPIC_VERSION,
        betas: features.betas,
        firstByteTimeoutMs: config.firstTokenTimeoutMs[decision.tier],
        deadlineAt,
      },
      upstream,
      residencyOf(admission.tenant),
      config.retry,
      c.req.raw.signal,
    );
    const ownHeaders = { ...admission.headers, ...routingHeaders(decision), ...attemptHeaders(opened.attempts, decision.model) };
    log.set({
      attempts: opened.attempts.length,
      attempt_outcomes: opened.attempts.map((attempt) => `${attempt.model}@${attempt.provider}=${attempt.outcome}`).join(" "),
      provider: opened.ok ? opened.endpoint.provider.id : undefined,
    });

    if (!opened.ok) {
      defer(settle(null));
      const response = upstreamFailureResponse(opened.failure, log.requestId);
      log.set({ outcome: opened.failure.kind === "client-gone" ? "client_disconnected" : "upstream_error", upstream_status: response.status });
      for (const [name, value] of Object.entries(ownHeaders)) response.headers.set(name, value);
      if (opened.replaySafe) response.headers.set(UPSTREAM_CALLS_HEADER, "0");
      return shape.upstreamError(response);
    }

    const headers = relayedHeaders(opened.response.headers, ownHeaders);
    if (!opened.stream) {
      const text = await readWhole(opened, deadlineAt, c.req.raw.signal);
      const upstreamMs = performance.now() - upstreamStartedAt;
      log.deferred = true;
      if (typeof text !== "string") {
        // The answer never fully arrived, so the upstream's usage is unknown: release, and say why.
        log.set({ outcome: text, upstream_ms: round(upstreamMs) });
        c.executionCtx.waitUntil(settle(null).finally(() => log.emit()));
        throw text === "upstream_timeout"
          ? new GatewayError("timeout_error", "The upstream did not finish its answer in time; retry, or ask for fewer tokens.")
          : new GatewayError("api_error", "The upstream connection was lost before the answer was complete; retry.", { status: 502 });
      }
      const meter = new UsageMeter();
      meter.observeMessage(parseJsonOrUndefined(text));
      const metered = meter.result();
      headers.set("server-timing", serverTiming([
        { name: "gateway", durationMs: gatewayMs },
        { name: "upstream", description: "complete response", durationMs: upstreamMs },
      ]));
      logMetered(log, metered, { upstreamTtfbMs: upstreamMs, upstreamStartedAt, endedAt: performance.now() });
      log.set({ outcome: "completed" });
      c.executionCtx.waitUntil(settled(settle(served(metered, opened)), log));
      return shape.message(text, opened.model, opened.response.status, headers);
    }

    const upstreamTtfbMs = performance.now() - upstreamStartedAt;
    const relay = relaySse(opened.stream, {
      abortUpstream: (reason) => opened.abort.abort(reason),
      clientSignal: c.req.raw.signal,
      idleTimeoutMs: config.streamIdleTimeoutMs[decision.tier],
      firstTokenDeadline: Date.now() - upstreamTtfbMs + config.firstTokenTimeoutMs[decision.tier],
      observe: widget?.observe,
      trailer: widget?.trailer,
    });
    headers.set("cache-control", "no-cache");
    headers.set("server-timing", serverTiming([
      { name: "gateway", durationMs: gatewayMs },
      { name: "upstream", description: "first byte", durationMs: upstreamTtfbMs },
    ]));

    log.deferred = true;
    c.executionCtx.waitUntil(
      relay.done.then((result) => {
        opened.release();
        logMetered(log, result.metered, { upstreamTtfbMs, upstreamStartedAt, endedAt: result.endedAt });
        log.set({ outcome: result.ending });
        return settled(settle(served(result.metered, opened)), log);
      }),
    );
    return shape.stream(relay.body, opened.model, opened.response.status, headers);
  } catch (error) {
    // Whatever fails after admission still releases the reservation (and settles once).
    defer(settle(null));
    throw error;
  }
}

/** Settles, puts the cost on the log line and writes it. */
async function settled(settling: Promise<Settlement | null>, log: RequestLog): Promise<void> {
  try {
    const settlement = await settling;
    if (settlement) log.set({ cost_usd: settlement.costMicroUsd / 1e6, strongest_model_cost_usd: settlement.strongestCostMicroUsd / 1e6 });
  } finally {
    log.emit();
  }
}

/**
 * A tenant with a budget fails closed when storage is unavailable (serving it unmetered
 * could overrun the budget), and so do widget keys; other secret keys fail open. The
 * tenant's own choice wins: fail-open with a budget is an explicit opt-in.
 */
function storageFailMode(caller: Caller): StorageFailMode {
  const { tenant, key } = caller;
  if (tenant.storageFailMode) return tenant.storageFailMode;
  return key.kind === "publishable" || hasBudget(tenant) ? "closed" : "open";
}

function hasBudget(tenant: Tenant): boolean {
  return tenant.limits.dailyBudgetUsd !== null || tenant.limits.monthlyBudgetUsd !== null;
}

/** The models to try, each with its price; the chosen one must have a price, unpriced fallbacks are skipped. */
function pricedChain(models: readonly string[], prices: PriceTable): PricedModel[] {
  const [chosen, ...fallbacks] = models;
  const priced = prices.priceOf(chosen!);
  if (!priced) {
    throw new GatewayError(
      "invalid_request_error",
      `model: ${chosen} has no price in this gateway, so it cannot be metered; use another model, or ask your operator to add its price (PRICING_JSON).`,
    );
  }
  return [{ ...priced, model: chosen! }, ...fallbacks.flatMap((model) => {
    const found = prices.priceOf(model);
    return found ? [{ ...found, model }] : [];
  })];
}

/** The whole non-streamed answer within the request's deadline; the reason when it did not arrive. */
async function readWhole(
  opened: OpenedUpstream,
  deadlineAt: number,
  clientSignal: AbortSignal,
): Promise<string | "upstream_timeout" | "client_disconnected" | "upstream_failed"> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    opened.abort.abort(new Error("deadline"));
  }, Math.max(0, deadlineAt - Date.now()));
  try {
    return await opened.response.text();
  } catch {
    return clientSignal.aborted ? "client_disconnected" : timedOut ? "upstream_timeout" : "upstream_failed";
  } finally {
    clearTimeout(timer);
    opened.release();
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
  return attempts.map((attempt) => `${attempt.model}#k${attempt.target}=${attempt.outcome}`).join(" ");
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
