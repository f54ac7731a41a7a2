import type { Redis } from "@upstash/redis";
import { usdNumber } from "../pricing/cost.js";
import { redisKeys, usagePeriods } from "../storage/keys.js";

export interface UsageFigures {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_write_tokens: number;
  /** Of the cache writes, those with the 1-hour TTL (billed at twice the input price). */
  cache_write_1h_tokens: number;
  cache_read_tokens: number;
  web_search_requests: number;
  estimated_requests: number;
  cost_usd: number;
  /** What the same tokens would have cost on the strongest model. */
  strongest_model_cost_usd: number;
  savings_usd: number;
}

/** A routing tier's figures, with the feedback its answers got. */
export interface TierUsage extends UsageFigures {
  feedback: { up: number; down: number };
}

export interface PeriodUsage extends UsageFigures {
  period: string;
  reserved_usd: number;
  budget_usd: number | null;
  by_model: Record<string, UsageFigures>;
  /** The same figures per upstream endpoint that served (e.g. "vertex:europe-west1"). */
  by_provider: Record<string, UsageFigures>;
  /** Per routing tier that served ("light", "standard", "deep"); savings are against the strongest model. */
  by_tier: Record<string, TierUsage>;
  /** The audit sample: requests the classifier put in one tier, served one tier up ("light>standard"). */
  audit: Record<string, TierUsage>;
}

export interface UsageReport {
  tenant_id: string;
  day: PeriodUsage;
  month: PeriodUsage;
}

const FIELD_NAMES: Record<string, keyof UsageFigures | "reserved" | "feedback_up" | "feedback_down"> = {
  requests: "requests",
  input: "input_tokens",
  output: "output_tokens",
  cache_write: "cache_write_tokens",
  cache_write_1h: "cache_write_1h_tokens",
  cache_read: "cache_read_tokens",
  web_search: "web_search_requests",
  estimated: "estimated_requests",
  cost: "cost_usd",
  cost_strongest: "strongest_model_cost_usd",
  reserved: "reserved",
  feedback_up: "feedback_up",
  feedback_down: "feedback_down",
};

/** Today's and this month's counters for a tenant, in one round trip. */
export async function usageReport(
  redis: Redis,
  tenantId: string,
  budgets: { daily: number | null; monthly: number | null },
  now = new Date(),
): Promise<UsageReport> {
  const periods = usagePeriods(now);
  const [day, month] = await Promise.all([
    redis.hgetall<Record<string, string | number>>(redisKeys.dailyUsage(tenantId, periods.day)),
    redis.hgetall<Record<string, string | number>>(redisKeys.monthlyUsage(tenantId, periods.month)),
  ]);
  return {
    tenant_id: tenantId,
    day: periodUsage(periods.day, day ?? {}, budgets.daily),
    month: periodUsage(periods.month, month ?? {}, budgets.monthly),
  };
}

export interface KeyUsageReport {
  tenant_id: string;
  key_id: string;
  /** For a widget key, budget_usd is its share of the tenant's daily budget. */
  day: PeriodUsage;
}

/** One key's counters today (the per-key day counter its budget share is checked against). */
export async function keyUsageReport(
  redis: Redis,
  tenantId: string,
  keyId: string,
  dailyBudgetUsd: number | null,
  now = new Date(),
): Promise<KeyUsageReport> {
  const { day } = usagePeriods(now);
  const fields = await redis.hgetall<Record<string, string | number>>(redisKeys.keyDailyUsage(tenantId, keyId, day));
  return { tenant_id: tenantId, key_id: keyId, day: periodUsage(day, fields ?? {}, dailyBudgetUsd) };
}

function periodUsage(period: string, fields: Record<string, string | number>, budget: number | null): PeriodUsage {
  const byModel: Record<string, UsageFigures> = {};
  const byProvider: Record<string, UsageFigures> = {};
  const byTier: Record<string, TierUsage> = {};
  const audit: Record<string, TierUsage> = {};
  let reservedMicroUsd = 0;
  let total = emptyFigures();
  for (const [field, raw] of Object.entries(fields)) {
    const separator = field.lastIndexOf("|");
    const scope = field.slice(0, separator);
    const name = FIELD_NAMES[field.slice(separator + 1)];
    if (!name) continue;
    const value = Number(raw);
    if (name === "reserved") {
      if (scope === "total") reservedMicroUsd = value;
      continue;
    }
    if (scope.startsWith("~")) {
      const tier = scope.slice(1);
      const figures = tier.includes(">") ? (audit[tier] ??= emptyTierFigures()) : (byTier[tier] ??= emptyTierFigures());
      if (name === "feedback_up") figures.feedback.up = value;
      else if (name === "feedback_down") figures.feedback.down = value;
      else figures[name] = value;
      continue;
    }
    if (name === "feedback_up" || name === "feedback_down") continue;
    const figures =
      scope === "total" ? total : scope.startsWith("@") ? (byProvider[scope.slice(1)] ??= emptyFigures()) : (byModel[scope] ??= emptyFigures());
    figures[name] = value;
  }
  total = toUsd(total);
  for (const model of Object.keys(byModel)) byModel[model] = toUsd(byModel[model]!);
  for (const provider of Object.keys(byProvider)) byProvider[provider] = toUsd(byProvider[provider]!);
  for (const figures of [byTier, audit]) for (const tier of Object.keys(figures)) figures[tier] = { ...toUsd(figures[tier]!), feedback: figures[tier]!.feedback };
  return {
    period,
    ...total,
    reserved_usd: usdNumber(reservedMicroUsd),
    budget_usd: budget,
    by_model: byModel,
    by_provider: byProvider,
    by_tier: byTier,
    audit,
  };
}

/** The ratings per tier scope ("~light", "~light>standard"...) in a usage hash, for threshold tuning. */
export function ratingCounts(fields: Record<string, string | number>): Record<string, { up: number; down: number }> {
  const counts: Record<string, { up: number; down: number }> = {};
  for (const [field, raw] of Object.entries(fields)) {
    const match = /^(~[^|]+)\|feedback_(up|down)$/.exec(field);
    if (match) (counts[match[1]!] ??= { up: 0, down: 0 })[match[2] as "up" | "down"] = Number(raw);
  }
  return counts;
}

function emptyTierFigures(): TierUsage {
  return { ...emptyFigures(), feedback: { up: 0, down: 0 } };
}

function emptyFigures(): UsageFigures {
  return {
    requests: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_write_tokens: 0,
    cache_write_1h_tokens: 0,
    cache_read_tokens: 0,
    web_search_requests: 0,
    estimated_requests: 0,
    cost_usd: 0,
    strongest_model_cost_usd: 0,
    savings_usd: 0,
  };
}

/** Counters hold integer micro-dollars; the report speaks dollars, exactly (no float artefacts). */
function toUsd(figures: UsageFigures): UsageFigures {
  const cost = figures.cost_usd;
  const strongest = figures.strongest_model_cost_usd;
  return {
    ...figures,
    cost_usd: usdNumber(cost),
    strongest_model_cost_usd: usdNumber(strongest),
    savings_usd: usdNumber(Math.max(0, strongest - cost)),
  };
}
