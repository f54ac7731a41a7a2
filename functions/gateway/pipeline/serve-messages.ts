import type { Tier } from "../../../shared/classify/types.js";
import type { GatewayConfig } from "../../../shared/config/env.js";
import { GATEWAY_ANTHROPIC_VERSION } from "../../../shared/http/anthropic-version.js";
import { errorBody, GatewayError } from "../../../shared/http/errors.js";
import { UPSTREAM_CALLS_HEADER } from "../../../shared/http/region-answers.js";
import { serverTiming } from "../../../shared/http/server-timing.js";
import { PolicyChanged } from "../../../shared/ledger/admission.js";
import type { AdmissionOutcome, Defer, Settle, StorageFailMode } from "../../../shared/ledger/ledger.js";
import { hasBudget } from "../../../shared/ledger/admission.js";
import type { Served, Settlement } from "../../../shared/ledger/settlement.js";
import { estimateInputTokens } from "../../../shared/metering/estimate.js";
import type { MeteredResponse } from "../../../shared/metering/usage.js";
import { type RequestLog, round } from "../../../shared/observability/request-log.js";
import { statusOfAnthropicError } from "../../../shared/openai/errors.js";
import { LIST_PRICE_BASIS_POINTS, NO_USAGE, type PricedModel, type PriceTable, worstCaseCostMicroUsd } from "../../../shared/pricing/cost.js";
import { checkRequestFeatures, LONG_CONTEXT_BETA, tokenBound } from "../../../shared/request-policy/features.js";
import { fallbackChain, routeRequest, routingHeaders, tierScope, withAuditSample, withTierCap } from "../../../shared/routing/policy.js";
import { withFirstTokenTarget } from "../../../shared/routing/slo.js";
import type { SseEvent } from "../../../shared/sse/parser.js";
import type { Tenant } from "../../../shared/tenants/model.js";
import { type AttemptRecord, type OpenedUpstream, openUpstream, type UpstreamFailure, type UpstreamResult } from "../../../shared/upstream/attempts.js";
import type { RequestReport } from "../../../shared/metrics/samples.js";
import { upstreamFailureResponse } from "../../../shared/upstream/errors.js";
import { MessageAssembler } from "../../../shared/upstream/message-assembly.js";
import { withPromptCaching } from "../../../shared/upstream/prompt-caching.js";
import { type RelayEnding, type RelayResult, relaySse } from "../../../shared/upstream/relay.js";
import { residencyOf } from "../../../shared/upstream/residency.js";
import type { MessagesRequest } from "../../../shared/validation/messages.js";
import type { Visitor } from "../../../shared/widget/visitor.js";
import type { Caller } from "../context.js";
import type { Services } from "../services.js";
import { logMetered } from "./metered-log.js";
import type { ResponseShape } from "./response-shape.js";

/** What the pipeline needs of the request, without the framework's context. */
export interface ServeContext {
  config: GatewayConfig;
  services: Services;
  log: RequestLog;
  caller: Caller;
  /** The client's anthropic-beta header, if any. */
  anthropicBeta: string | null;
  /** Aborted when the client goes away (where the runtime reports it). */
  clientSignal: AbortSignal;
  /** Keeps work alive after the response (waitUntil). */
  waitUntil(work: Promise<unknown>): void;
}

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
const RELAYED_HEADERS = ["request-id"] as const;

/** A reservation outlives its request by this much before it is presumed dead... */
const RESERVATION_GRACE_MS = 5 * 60_000;
/** ...plus the time the longest allowed answer takes at a slow 20 tokens/s. */
const RESERVATION_MS_PER_OUTPUT_TOKEN = 50;

/**
 * The Messages pipeline shared by every API the gateway speaks: check what the request
 * switches on, route it to a model, admit it (limits, budget: one storage call), call
 * the upstream with retries and fallbacks, relay and meter the answer, settle off the
 * critical path. `shape` turns the Anthropic answer into the caller's API format.
 *
 * When the key's or tenant's policy changed since this isolate cached them, admission
 * says so and everything is decided again with the current policy, once.
 */
export async function serveMessages(context: ServeContext, request: MessagesRequest, shape: ResponseShape, options: ServeOptions = {}): Promise<Response> {
  try {
    return await serveAs(context, context.caller, request, shape, options, true);
  } catch (error) {
    if (!(error instanceof PolicyChanged)) throw error;
    const caller: Caller = { ...context.caller, key: error.key, tenant: error.tenant };
    context.services.keyCache.set(caller.keyHash, caller.key, caller.tenant, Date.now());
    return serveAs(context, caller, request, shape, options, false);
  }
}

async function serveAs(
  context: ServeContext,
  caller: Caller,
  request: MessagesRequest,
  shape: ResponseShape,
  options: ServeOptions,
  checkPolicy: boolean,
): Promise<Response> {
  const { config, log } = context;
  const { prices, strongest, keyCache, ledger, upstream, headroom } = context.services;
  const stream = request.stream === true;
  const { widget } = options;
  enforceMaxTokens(request, caller.tenant.limits.maxTokensPerRequest);
  const features = checkRequestFeatures(
    request,
    widget ? null : context.anthropicBeta,
    caller.tenant.allowedFeatures ?? [],
    config.features,
  );
  const policy = widget ? withTierCap(caller.tenant.modelPolicy, widget.maxTier) : caller.tenant.modelPolicy;
  const routed = routeRequest(request, policy, config.routing);
  const target = caller.tenant.firstTokenTargetMs ?? null;
  const servesRequest = (model: string) => servable(prices, model, features.longContext) !== null;
  const timed =
    target === null ? routed : withFirstTokenTarget(routed, target, policy, config.routing, context.services.firstTokens.reader(context.waitUntil), servesRequest);
  // An audit sample measures the tier above the classifier's choice; a request already moved for speed is not one.
  const decision = timed.slo ? timed : withAuditSample(timed, policy, config.routing, Math.random);
  const chain = pricedChain(fallbackChain(decision, policy, config.routing), prices, features.longContext);
  log.set({
    model_requested: request.model,
    stream,
    tier: decision.tier,
    score: round(decision.score, 3),
    reasons: decision.reasons.slice(0, 3).join(","),
    downgraded_from: decision.downgrade?.from,
    audited_from: decision.audit?.chosen,
    slo_from: decision.slo?.moved ? decision.slo.from : undefined,
    features: features.used.join(",") || undefined,
  });

  const defer: Defer = (work) => context.waitUntil(work.catch((error: unknown) => console.error(`deferred work failed: ${String(error)}`)));
  const estimate = estimateInputTokens(request);
  const bound = { ...tokenBound(estimate.upperBound, request.max_tokens, features), webSearches: features.webSearches };
  const allowed = residencyOf(caller.tenant);
  const dearestEndpoint = Math.max(...upstream.endpoints.filter(allowed).map((endpoint) => endpoint.priceBasisPoints), LIST_PRICE_BASIS_POINTS);
  // Any model of the chain, on any endpoint the tenant may use, may serve: reserve for the dearest.
  const reserveMicroUsd = Math.max(...chain.map((priced) => worstCaseCostMicroUsd(bound, priced, dearestEndpoint)));
  const tokens = estimate.typical + request.max_tokens;
  const deadlineAt = stream ? undefined : Date.now() + config.upstreamTimeoutMs;
  // Always streamed upstream, even for a non-streamed call: what was produced is then known however the call ends.
  const callUpstream = (tenant: Tenant, signal: AbortSignal): Promise<UpstreamResult> => {
    const { model: _chosen, ...cached } = tenant.promptCaching ? withPromptCaching(request) : request;
    return openUpstream(
      {
        body: { ...cached, stream: true },
        models: chain.map((priced) => priced.model),
        anthropicVersion: options.anthropicVersion ?? GATEWAY_ANTHROPIC_VERSION,
        betas: features.betas,
        firstByteTimeoutMs: config.firstTokenTimeoutMs[decision.tier],
      },
      upstream,
      residencyOf(tenant),
      config.retry,
      signal,
    );
  };
  const viewOfCaller = widget ? `${caller.keyHash}:${widget.visitor.id}` : caller.keyHash;
  const headStart = headroom.claimHeadStart(viewOfCaller, { tokens, reserveMicroUsd }, Date.now())
    ? startEarly((signal) => callUpstream(caller.tenant, signal), context.clientSignal)
    : null;

  let admitted: AdmissionOutcome;
  try {
    admitted = await ledger.admit(
      {
        reservationId: crypto.randomUUID(),
        keyHash: caller.keyHash,
        key: caller.key,
        tenant: caller.tenant,
        reserveMicroUsd,
        tokens,
        reservationTtlMs: RESERVATION_GRACE_MS + request.max_tokens * RESERVATION_MS_PER_OUTPUT_TOKEN,
        region: config.region,
        visitor: widget?.visitor ?? null,
        checkPolicy,
        headStart: headStart !== null,
        now: new Date(),
      },
      storageFailMode(caller),
      defer,
    );
  } catch (error) {
    if (headStart) {
      // Refused (or to be decided again) after its upstream call started: that call ends now, and is counted.
      headStart.cancel(error);
      headroom.forget(viewOfCaller);
      headroom.refusedAfterStart++;
      log.set({ head_start: "refused" });
    }
    throw error;
  }
  const { admission, failedOpen, primaryReason } = admitted;
  if (failedOpen) log.set({ storage: "unavailable, failing open" });
  log.set({ admitted_on: admission.side, primary_reason: primaryReason || undefined, head_start: headStart ? "granted" : undefined });
  headroom.note(viewOfCaller, admission.headroom, Date.now());
  keyCache.set(caller.keyHash, admission.key, admission.tenant, Date.now());
  const settle = ledger.settler(admission, defer);
  const report = (outcome: string, ended: { metered: MeteredResponse; endedAt: number } | null, by: { model: string; provider: string } | null, upstreamError: string | null): RequestReport => {
    const firstTokenAt = ended?.metered.firstTokenAt ?? null;
    const generationMs = firstTokenAt === null ? 0 : ended!.endedAt - firstTokenAt;
    return {
      dimensions: { region: config.region, tenant: admission.tenant.id, model: by?.model ?? chain[0]!.model, provider: by?.provider ?? "" },
      outcome,
      tier: decision.tier,
      ttftMs: firstTokenAt === null ? null : firstTokenAt - log.startedAt,
      outputTokensPerSecond: generationMs > 0 ? (ended!.metered.usage.outputTokens * 1000) / generationMs : null,
      upstreamError,
      headStart: headStart !== null,
    };
  };
  const served = (metered: MeteredResponse, opened: { model: string; provider: string; priceBasisPoints: number }): Served => ({
    metered,
    model: opened.model,
    endpoint: { provider: opened.provider, priceBasisPoints: opened.priceBasisPoints },
    prices,
    strongest,
    request: { id: log.requestId, tierScope: tierScope(decision), visitor: widget?.visitor.id ?? null },
  });
  let opened: OpenedUpstream | null = null;
  try {
    const upstreamStartedAt = headStart?.startedAt ?? performance.now();
    const gatewayMs = upstreamStartedAt - log.startedAt;
    log.set({ gateway_ms: round(gatewayMs) });
    const result = await (headStart?.result ?? callUpstream(admission.tenant, context.clientSignal));
    const ownHeaders = { ...admission.headers, ...routingHeaders(decision), ...attemptHeaders(result.attempts, decision.model) };
    log.set({
      attempts: result.attempts.length,
      attempt_outcomes: result.attempts.map((attempt) => `${attempt.model}@${attempt.provider}=${attempt.outcome}`).join(" "),
    });

    if (!result.ok) {
      const response = upstreamFailureResponse(result.failure, log.requestId);
      const outcome = result.failure.kind === "client-gone" ? "client_disconnected" : "upstream_error";
      const failed = report(outcome, null, null, outcome === "upstream_error" ? failureType(result.failure, response.status) : null);
      defer(settleFailure(settle, failed, result.failure.kind === "first-byte-timeout", estimate.typical, chain[0]!.model, served));
      log.set({ outcome, upstream_status: response.status });
      for (const [name, value] of Object.entries(ownHeaders)) response.headers.set(name, value);
      if (result.replaySafe) response.headers.set(UPSTREAM_CALLS_HEADER, "0");
      return shape.upstreamError(response);
    }

    opened = result;
    log.set({ provider: opened.endpoint.provider.id });
    const servedBy = { model: opened.model, provider: opened.endpoint.provider.id, priceBasisPoints: opened.endpoint.priceBasisPoints };
    const headers = relayedHeaders(opened.response.headers, ownHeaders);
    const upstreamTtfbMs = performance.now() - upstreamStartedAt;
    const assembler = stream ? null : new MessageAssembler();
    const relay = relaySse(opened.stream, {
      toClient: stream,
      abortUpstream: (reason) => opened!.abort.abort(reason),
      clientSignal: context.clientSignal,
      idleTimeoutMs: config.streamIdleTimeoutMs[decision.tier],
      firstTokenDeadline: Date.now() - upstreamTtfbMs + config.firstTokenTimeoutMs[decision.tier],
      deadlineAt,
      observe: assembler ? (event) => assembler.observe(event) : widget?.observe,
      trailer: widget?.trailer,
    });
    const finish = (relayed: RelayResult): Promise<void> => {
      opened!.release();
      logMetered(log, relayed.metered, { upstreamTtfbMs, upstreamStartedAt, endedAt: relayed.endedAt });
      log.set({ outcome: relayed.ending });
      const upstreamError = relayed.metered.upstreamError?.type ?? null;
      return settled(settle(served(relayed.metered, servedBy), report(relayed.ending, relayed, servedBy, upstreamError)), log);
    };
    log.deferred = true;

    if (!assembler) {
      headers.set("content-type", "text/event-stream; charset=utf-8");
      headers.set("cache-control", "no-cache");
      headers.set("server-timing", serverTiming([
        { name: "gateway", durationMs: gatewayMs },
        { name: "upstream", description: "first byte", durationMs: upstreamTtfbMs },
      ]));
      context.waitUntil(relay.done.then(finish));
      return shape.stream(relay.body!, opened.model, opened.response.status, headers);
    }

    // Settled in waitUntil from the start: if the runtime cancels the handler when the client
    // leaves, what the upstream produced until then is still billed.
    context.waitUntil(relay.done.then(finish));
    const relayed = await relay.done;
    headers.set("server-timing", serverTiming([
      { name: "gateway", durationMs: gatewayMs },
      { name: "upstream", description: "complete response", durationMs: performance.now() - upstreamStartedAt },
    ]));
    return wholeAnswer(relayed.ending, assembler, opened.model, headers, shape, log.requestId);
  } catch (error) {
    // Whatever fails after admission still ends the upstream call and releases the reservation (and settles once).
    if (opened) {
      opened.abort.abort(error);
      opened.release();
    }
    defer(settle(null, report("error", null, null, null)));
    throw error;
  }
}

/**
 * The answer to a non-streamed call, once its stream has ended: the assembled message,
 * or the error the API itself would have answered.
 */
function wholeAnswer(ending: RelayEnding, assembler: MessageAssembler, model: string, headers: Headers, shape: ResponseShape, requestId: string): Response | Promise<Response> {
  const message = assembler.result();
  const upstreamError = assembler.upstreamError;
  if (ending === "completed" && message && !upstreamError) {
    headers.set("content-type", "application/json");
    return shape.message(JSON.stringify(message), model, 200, headers);
  }
  const [status, type, text] = upstreamError
    ? [statusOfAnthropicError(upstreamError.type), upstreamError.type, upstreamError.message]
    : ending === "upstream_failed"
      ? [502, "api_error", "The upstream connection was lost before the answer was complete; retry."]
      : ending === "client_disconnected"
        ? [499, "api_error", "The client closed the request."]
        : [504, "timeout_error", "The upstream did not finish its answer in time; retry, or ask for fewer tokens."];
  headers.set("content-type", "application/json");
  return shape.upstreamError(new Response(JSON.stringify(errorBody(type, text, requestId)), { status, headers }));
}

/**
 * Settles a request whose upstream calls all failed. An attempt that timed out before its
 * first byte had been accepted and may have been worked on: its input is billed, as
 * estimated. Error answers and refused connections cost nothing.
 */
function settleFailure(
  settle: Settle,
  failed: RequestReport,
  maybeCharged: boolean,
  inputEstimate: number,
  model: string,
  served: (metered: MeteredResponse, by: { model: string; provider: string; priceBasisPoints: number }) => Served,
): Promise<Settlement | null> {
  if (!maybeCharged) return settle(null, failed);
  const metered: MeteredResponse = {
    model: null,
    usage: { ...NO_USAGE, inputTokens: inputEstimate },
    stopReason: null,
    usageReported: false,
    estimated: true,
    generatedChars: 0,
    contentDeltas: 0,
    firstTokenAt: null,
    upstreamError: null,
    completed: false,
  };
  return settle(served(metered, { model, provider: "", priceBasisPoints: LIST_PRICE_BASIS_POINTS }), failed);
}

/** An upstream failure as a metric label: the status the upstream answered, or what went wrong. */
function failureType(failure: UpstreamFailure, status: number): string {
  return failure.kind === "response" ? String(status) : failure.kind.replaceAll("-", "_");
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

/**
 * The models to try, each with its price; the chosen one must have a price (and, with
 * the long-context beta, a long-context price), fallbacks without are skipped.
 */
function pricedChain(models: readonly string[], prices: PriceTable, longContext: boolean): PricedModel[] {
  const [chosen, ...fallbacks] = models;
  const priced = prices.priceOf(chosen!);
  if (!priced) {
    // The API answers an unknown model with 404 not_found_error "model: <id>": so does the gateway for one it cannot meter.
    throw new GatewayError(
      "not_found_error",
      `model: ${chosen} has no price in this gateway, so it cannot be metered; use another model, or ask your operator to add its price (PRICING_JSON).`,
    );
  }
  if (longContext && !priced.longContext) {
    throw new GatewayError(
      "invalid_request_error",
      `anthropic-beta: ${LONG_CONTEXT_BETA} needs a model with long-context pricing here, and ${chosen} has none; use another model, or leave the beta out.`,
    );
  }
  return [
    { ...priced, model: chosen! },
    ...fallbacks.flatMap((model) => {
      const found = servable(prices, model, longContext);
      return found ? [{ ...found, model }] : [];
    }),
  ];
}

/** The model's price when it can serve the request (priced, with long-context prices where asked), else null. */
function servable(prices: PriceTable, model: string, longContext: boolean): PricedModel | null {
  const priced = prices.priceOf(model);
  return priced && (!longContext || priced.longContext) ? priced : null;
}

function enforceMaxTokens(request: MessagesRequest, cap: number | null): void {
  if (cap !== null && request.max_tokens > cap) {
    throw new GatewayError(
      "invalid_request_error",
      `max_tokens: ${request.max_tokens} is above your account's per-request cap of ${cap}; lower it to ${cap} or less.`,
    );
  }
}

/** Which attempt served and why: set only when it took more than one, or another model. Endpoints by index: clients are not told which provider served. */
function attemptHeaders(attempts: readonly AttemptRecord[], chosen: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (attempts.length > 1) headers["x-edgegate-attempts"] = attempts.map((attempt) => `${attempt.model}#k${attempt.target}=${attempt.outcome}`).join(" ");
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

/**
 * An upstream call started before its admission is decided: its answer waits (nothing is
 * read) until the admission grants it; cancelled, the call is aborted and, if it had
 * opened, its endpoint released.
 */
function startEarly(call: (signal: AbortSignal) => Promise<UpstreamResult>, clientSignal: AbortSignal) {
  const early = new AbortController();
  const startedAt = performance.now();
  const result = call(AbortSignal.any([clientSignal, early.signal]));
  return {
    startedAt,
    result,
    cancel(reason: unknown): void {
      early.abort(reason);
      result.then((opened) => {
        if (opened.ok) {
          opened.abort.abort(reason);
          opened.release();
        }
      }, () => undefined);
    },
  };
}
