import type { Redis } from "@upstash/redis";
import { redisKeys, usagePeriods } from "../../storage/keys.js";
import { luaScript, runScript } from "../../storage/scripts.js";
import type { TenantStore } from "../../tenants/store.js";
import { addFields } from "../aggregate.js";
import { minuteOf } from "../samples.js";
import type { Projection } from "../series.js";
import type { MetricsStore } from "../store.js";
import { type BudgetFigures, type Condition, evaluateRules, type RuleInput } from "./rules.js";
import { type AlertSettingsStore, effectiveSettings, type EffectiveAlertSettings, type OperatorAlertDefaults } from "./settings.js";
import type { AlertState } from "./state.js";
import { deliver } from "./webhook.js";

export interface AlertServices {
  redis: Redis;
  metrics: MetricsStore;
  state: AlertState;
  settings: AlertSettingsStore;
  tenants: TenantStore;
  defaults: OperatorAlertDefaults;
  /** Names the gateway in messages (its region). */
  gateway: string;
}

export interface AlertRun {
  /** Set when another evaluation was still running: this one did nothing. */
  skipped?: string;
  scopes: number;
  holding: number;
  delivered: number;
  undelivered: number;
}

/** Fields one projected hash may answer for alerts. */
const FIELD_LIMIT = 50_000;
/** Tenants whose budgets one evaluation looks at. */
const MAX_TENANTS = 10_000;
/** Messages one evaluation sends; the rest wait for the next. */
const MAX_DELIVERIES = 50;
/**
 * One evaluation at a time, in all regions: a run still delivering when the next minute's
 * starts would offer the same pending changes again. Longer than the trigger's minute, so
 * a slow run keeps it past the next minute's start; a run that dies without giving it back
 * delays alerts by at most this long.
 */
const EVALUATION_LEASE_MS = 4 * 60_000;
/** Deliveries in flight at once (Workers queue connections beyond six; Slack takes about one a second per webhook). */
const DELIVERY_CONCURRENCY = 4;
/** Gives the evaluation lease back, if this run still holds it. */
const RELEASE = luaScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`);

const RULE_METRICS = ["requests:", "upstream_errors:", "refused:", "ttft:"];
/** An operator's rules read the pooled hashes (tenants summed over), a tenant's only its own. */
const ruleProjection = (tenant: string | null, metricPrefixes: string[]): Projection => ({
  filter: { region: null, tenant, model: null, provider: null },
  metricPrefixes,
  keep: tenant === null ? ["region", "model"] : ["region", "tenant", "model"],
});

/**
 * Evaluates every scope's alert rules at `now` (the scheduled time) and announces what
 * changed. The window is the last whole minutes before `now`; the refusal baseline the
 * minutes before the window; the first-token baseline the whole hours before the
 * current one (the hourly hashes, written with each settlement).
 */
export async function evaluateAlerts(services: AlertServices, now: number): Promise<AlertRun> {
  const holder = crypto.randomUUID();
  const lease = redisKeys.alertEvaluation();
  if ((await services.redis.set(lease, holder, { nx: true, px: EVALUATION_LEASE_MS })) !== "OK") {
    return { skipped: "another evaluation is running", scopes: 0, holding: 0, delivered: 0, undelivered: 0 };
  }
  try {
    return await evaluateHeld(services, now);
  } finally {
    // A failed release must not hide the run's outcome: the lease expires by itself.
    await runScript(services.redis, RELEASE, [lease], [holder]).catch((error: unknown) => console.error(`alert evaluation lease not released: ${String(error)}`));
  }
}

async function evaluateHeld(services: AlertServices, now: number): Promise<AlertRun> {
  const effective = effectiveSettings(services.defaults, await services.settings.all());
  const reads = new Map<string, Promise<Map<string, number>>>();
  const once = (key: string, read: () => Promise<Map<string, number>>) => {
    let found = reads.get(key);
    if (!found) reads.set(key, (found = read()));
    return found;
  };
  const sum = (periods: ReadonlyArray<{ fields: ReadonlyMap<string, number> }>) => periods.reduce((all, period) => addFields(all, period.fields), new Map<string, number>());
  const last = minuteOf(now - 1);
  const budgets = effective.some((settings) => settings.rules.includes("budget")) ? await budgetFigures(services, now) : [];

  const holding: Array<Condition & { scope: string }> = [];
  for (const settings of effective) {
    const { windowMinutes, refusalBaselineMinutes, baselineHours } = settings.thresholds;
    const first = last - windowMinutes + 1;
    const currentHour = Math.floor(minuteOf(now) / 60);
    const tenant = settings.scope === "operator" ? null : settings.scope.tenant;
    const [window, refusalBaseline, ttftBaseline] = await Promise.all([
      once(`${tenant}/w${windowMinutes}`, async () => sum(await services.metrics.minutes(first, last, ruleProjection(tenant, RULE_METRICS), FIELD_LIMIT))),
      once(`${tenant}/r${windowMinutes}/${refusalBaselineMinutes}`, async () =>
        sum(await services.metrics.minutes(first - refusalBaselineMinutes, first - 1, ruleProjection(tenant, ["requests:", "refused:"]), FIELD_LIMIT)),
      ),
      once(`${tenant}/t${baselineHours}`, async () =>
        sum(await services.metrics.hours(currentHour - baselineHours, currentHour - 1, ruleProjection(tenant, ["ttft:"]), FIELD_LIMIT)),
      ),
    ]);
    const input: RuleInput = {
      window,
      refusalBaseline,
      ttftBaseline,
      budgets: tenant === null ? budgets : budgets.filter((budget) => budget.tenant === tenant),
    };
    const scope = scopeName(settings);
    for (const condition of evaluateRules(scope, tenant === null ? "operator" : "tenant", settings.rules, settings.thresholds, input)) {
      holding.push({ ...condition, scope });
    }
  }

  const changes = await services.state.apply(now, effective.map(scopeName), holding);
  const urls = new Map(effective.map((settings) => [scopeName(settings), settings.webhookUrl]));
  const queue = changes.slice(0, MAX_DELIVERIES);
  let delivered = 0;
  const worker = async (): Promise<void> => {
    for (let change = queue.shift(); change; change = queue.shift()) {
      const url = urls.get(change.alert.scope);
      if (!url || !(await deliver(url, change, services.gateway))) continue;
      // Not marked delivered (a storage hiccup): offered again next run, as an undelivered one is.
      if (await services.state.delivered(change).then(() => true, () => false)) delivered++;
    }
  };
  await Promise.all(Array.from({ length: DELIVERY_CONCURRENCY }, worker));
  return { scopes: effective.length, holding: holding.length, delivered, undelivered: changes.length - delivered };
}

function scopeName(settings: Pick<EffectiveAlertSettings, "scope">): string {
  return settings.scope === "operator" ? "operator" : `tenant:${settings.scope.tenant}`;
}

/** Each budgeted tenant's settled spend today and this month. */
async function budgetFigures(services: AlertServices, now: number): Promise<BudgetFigures[]> {
  const tenants = (await services.tenants.listTenants()).slice(0, MAX_TENANTS);
  const periods = usagePeriods(new Date(now));
  const budgeted = tenants.flatMap((tenant) => [
    ...(tenant.limits.dailyBudgetUsd !== null ? [{ tenant: tenant.id, period: "daily" as const, budgetUsd: tenant.limits.dailyBudgetUsd, key: redisKeys.dailyUsage(tenant.id, periods.day) }] : []),
    ...(tenant.limits.monthlyBudgetUsd !== null ? [{ tenant: tenant.id, period: "monthly" as const, budgetUsd: tenant.limits.monthlyBudgetUsd, key: redisKeys.monthlyUsage(tenant.id, periods.month) }] : []),
  ]);
  const spent = await Promise.all(budgeted.map((budget) => services.redis.hget<string | number>(budget.key, "total|cost")));
  return budgeted.map(({ key: _key, ...budget }, index) => ({ ...budget, spentMicroUsd: Number(spent[index] ?? 0) }));
}
