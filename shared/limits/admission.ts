import type { Redis } from "@upstash/redis";
import { GatewayError } from "../http/errors.js";
import { periodResets, redisKeys, usagePeriods } from "../storage/keys.js";
import { runScript } from "../storage/scripts.js";
import { keyRefusals } from "../tenants/key-refusals.js";
import type { KeyRecord, Tenant } from "../tenants/model.js";
import type { VisitorLimits } from "../widget/config.js";
import type { Visitor } from "../widget/visitor.js";
import { parse } from "../tenants/store.js";
import { AUTHORIZE, SETTLE } from "./budget-scripts.js";
import { type LimitCheck, type LimitOutcome, type RateLimits, rateLimitHeaders, secondsUntil } from "./rate-limits.js";

export interface DefaultLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export interface AdmissionRequest {
  /** Names the budget reservation and, later, the settlement. */
  reservationId: string;
  keyHash: string;
  /** Key and tenant as last seen (from the isolate cache); re-validated here. */
  key: KeyRecord;
  tenant: Tenant;
  /** Worst-case cost of the request, reserved against the budgets. */
  reserveMicroUsd: number;
  /** Likely tokens (input estimate + max_tokens), taken from the per-minute token limits. */
  tokens: number;
  /** Longest the request may hold its reservation before it is presumed dead. */
  reservationTtlMs: number;
  /** A widget request: the visitor's own limits and the key's share of the daily budget. */
  widget?: WidgetAdmission;
  now: Date;
}

export interface WidgetAdmission {
  visitor: Visitor;
  limits: VisitorLimits;
  dailyBudgetShare: number;
}

export interface Admission {
  key: KeyRecord;
  tenant: Tenant;
  reservationId: string;
  periods: { day: string; month: string };
  tokenChecks: LimitCheck[];
  headers: Record<string, string>;
}

type AuthorizeStatus =
  | "ok"
  | "unknown_key"
  | "unknown_tenant"
  | "revoked_key"
  | "tenant_disabled"
  | "daily_budget"
  | "monthly_budget"
  | "key_daily_budget";

type AuthorizeReply = [AuthorizeStatus, string, string, number, number];

/**
 * Authentication re-check, rate limits and budget reservation in ONE Upstash round
 * trip: the AUTHORIZE script and every rate-limit check are issued in the same tick,
 * so auto-pipelining sends them as a single HTTP request. Whatever a refusal left
 * consumed is given back off the critical path through `defer`.
 */
export async function admit(
  redis: Redis,
  rateLimits: RateLimits,
  defaults: DefaultLimits,
  request: AdmissionRequest,
  defer: (work: Promise<unknown>) => void,
): Promise<Admission> {
  const periods = usagePeriods(request.now);
  const tenantId = request.key.tenantId;
  const { reservationId } = request;
  const checks = limitChecks(request, defaults);
  const nowMs = request.now.getTime();

  const authorizing = runScript<AuthorizeReply>(
    redis,
    AUTHORIZE,
    [
      redisKeys.key(request.keyHash),
      redisKeys.tenant(tenantId),
      redisKeys.dailyUsage(tenantId, periods.day),
      redisKeys.monthlyUsage(tenantId, periods.month),
      redisKeys.reservations(tenantId),
      redisKeys.reservationExpiry(tenantId),
      redisKeys.keyDailyUsage(tenantId, request.key.id, periods.day),
    ],
    [reservationId, request.reserveMicroUsd, nowMs, nowMs + request.reservationTtlMs, request.widget?.dailyBudgetShare ?? ""],
  );
  const limiting = rateLimits.check(checks);
  const [reply, outcomes] = await Promise.all([authorizing, limiting]);

  const [status, keyJson, tenantJson, used, budget] = reply;
  // A widget visitor sees only their own limits, never the tenant's or the key's.
  const forVisitor = request.widget !== undefined;
  const headers = rateLimitHeaders(forVisitor ? outcomes.filter((outcome) => isVisitorScope(outcome.identifier)) : outcomes, nowMs);
  const refundLimits = () => defer(rateLimits.adjust(consumed(outcomes).map((o) => ({ ...o, rate: -o.rate }))));

  if (status !== "ok") {
    refundLimits();
    // Only widget keys have a budget share; widget visitors never see budget figures.
    if (status === "key_daily_budget" || (forVisitor && isBudgetStatus(status))) throw visitorBudgetRefusal(request.now, headers);
    throw refusal(status, { used, budget, request: request.reserveMicroUsd }, request.now, headers);
  }
  const blocked = outcomes.find((outcome) => !outcome.success);
  if (blocked) {
    refundLimits();
    defer(releaseReservation(redis, tenantId, request.key.id, reservationId, periods));
    throw forVisitor && !isVisitorScope(blocked.identifier) ? chatBusy(blocked, nowMs, headers) : rateLimited(blocked, nowMs, headers);
  }
  return {
    key: parse<KeyRecord>(keyJson)!,
    tenant: parse<Tenant>(tenantJson)!,
    reservationId,
    periods,
    tokenChecks: checks.filter((check) => check.dimension === "tokens"),
    headers,
  };
}

function limitChecks(request: AdmissionRequest, defaults: DefaultLimits): LimitCheck[] {
  const { key, tenant, tokens, widget } = request;
  const checks: LimitCheck[] = [
    {
      dimension: "requests",
      identifier: `tenant:${tenant.id}`,
      limit: tenant.limits.requestsPerMinute ?? defaults.requestsPerMinute,
      rate: 1,
    },
    {
      dimension: "tokens",
      identifier: `tenant:${tenant.id}`,
      limit: tenant.limits.tokensPerMinute ?? defaults.tokensPerMinute,
      rate: tokens,
    },
  ];
  if (key.requestsPerMinute !== null) {
    checks.push({ dimension: "requests", identifier: `key:${key.id}`, limit: key.requestsPerMinute, rate: 1 });
  }
  if (key.tokensPerMinute !== null) {
    checks.push({ dimension: "tokens", identifier: `key:${key.id}`, limit: key.tokensPerMinute, rate: tokens });
  }
  if (widget) {
    const visitor = `visitor:${key.id}:${widget.visitor.id}`;
    checks.push(
      { dimension: "requests", identifier: visitor, limit: widget.limits.requestsPerMinute, rate: 1 },
      { dimension: "tokens", identifier: visitor, limit: widget.limits.tokensPerMinute, rate: tokens },
      { dimension: "requests", identifier: `ip:${key.id}:${widget.visitor.ipId}`, limit: widget.limits.ipRequestsPerMinute, rate: 1 },
    );
  }
  return checks;
}

function consumed(outcomes: LimitOutcome[]): LimitOutcome[] {
  return outcomes.filter((outcome) => outcome.success);
}

export function releaseReservation(
  redis: Redis,
  tenantId: string,
  keyId: string,
  reservationId: string,
  periods: { day: string; month: string },
): Promise<unknown> {
  const keys = settleKeys({ tenantId, keyId, periods, reservationId });
  return runScript(redis, SETTLE, keys, [reservationId, 0, "", 0, 0, 0, 0, 0, 0, 0]);
}

export function settleKeys(settlement: {
  tenantId: string;
  keyId: string;
  periods: { day: string; month: string };
  reservationId: string;
}): string[] {
  const { tenantId, keyId, periods, reservationId } = settlement;
  return [
    redisKeys.reservations(tenantId),
    redisKeys.reservationExpiry(tenantId),
    redisKeys.dailyUsage(tenantId, periods.day),
    redisKeys.monthlyUsage(tenantId, periods.month),
    redisKeys.settled(reservationId),
    redisKeys.keyDailyUsage(tenantId, keyId, periods.day),
  ];
}

function refusal(
  status: Exclude<AuthorizeStatus, "ok" | "key_daily_budget">,
  amounts: { used: number; budget: number; request: number },
  now: Date,
  headers: Record<string, string>,
): GatewayError {
  switch (status) {
    case "unknown_key":
    case "unknown_tenant":
      return keyRefusals.unknown();
    case "revoked_key":
      return keyRefusals.revoked();
    case "tenant_disabled":
      return keyRefusals.tenantDisabled();
    case "daily_budget":
    case "monthly_budget": {
      const period = status === "daily_budget" ? "daily" : "monthly";
      const resetsAt = periodResets(now)[status === "daily_budget" ? "day" : "month"];
      const retryAfter = secondsUntil(resetsAt.getTime(), now.getTime());
      return new GatewayError(
        "budget_exceeded",
        `The ${period} budget of ${usd(amounts.budget)} would be exceeded: ${usd(amounts.used)} is spent or reserved ` +
          `and this request could cost up to ${usd(amounts.request)}. It resets at ${resetsAt.toISOString()}; ` +
          "lower max_tokens or ask your operator to raise the budget.",
        { headers: { ...headers, "retry-after": String(retryAfter) } },
      );
    }
  }
}

function isBudgetStatus(status: AuthorizeStatus): boolean {
  return status === "daily_budget" || status === "monthly_budget" || status === "key_daily_budget";
}

function isVisitorScope(identifier: string): boolean {
  return identifier.startsWith("visitor:") || identifier.startsWith("ip:");
}

/** What a widget visitor is told about a budget: that the chat rests, not the tenant's figures. */
function visitorBudgetRefusal(now: Date, headers: Record<string, string>): GatewayError {
  const resetsAt = periodResets(now).day;
  return new GatewayError("budget_exceeded", `This chat has reached its usage limit for now; it is available again by ${resetsAt.toISOString()}.`, {
    headers: { ...headers, "retry-after": String(secondsUntil(resetsAt.getTime(), now.getTime())) },
  });
}

/** A tenant or key limit reached on the widget path: the visitor is told to wait, not whose limit it is. */
function chatBusy(blocked: LimitOutcome, nowMs: number, headers: Record<string, string>): GatewayError {
  const retryAfter = secondsUntil(blocked.reset, nowMs);
  return new GatewayError("rate_limit_error", `This chat is busy right now; retry in ${retryAfter} s.`, {
    headers: { ...headers, "retry-after": String(retryAfter) },
  });
}

/** Who a limit applies to, by the prefix of its identifier. */
const LIMIT_SCOPES: Record<string, string> = {
  key: "this key",
  visitor: "this visitor",
  ip: "this IP address",
};

function rateLimited(blocked: LimitOutcome, nowMs: number, headers: Record<string, string>): GatewayError {
  const retryAfter = secondsUntil(blocked.reset, nowMs);
  const scope = LIMIT_SCOPES[blocked.identifier.slice(0, blocked.identifier.indexOf(":"))] ?? "your account";
  const message =
    blocked.dimension === "requests"
      ? `Rate limit of ${blocked.limit} requests per minute for ${scope} reached; retry in ${retryAfter} s.`
      : blocked.rate > blocked.limit
        ? `This request needs about ${blocked.rate} tokens, more than ${scope}'s limit of ${blocked.limit} tokens per minute; lower max_tokens or shorten the input.`
        : `Rate limit of ${blocked.limit} tokens per minute for ${scope} reached; retry in ${retryAfter} s.`;
  return new GatewayError("rate_limit_error", message, { headers: { ...headers, "retry-after": String(retryAfter) } });
}

function usd(microUsd: number): string {
  return `$${(microUsd / 1_000_000).toFixed(4)}`;
}
