import { type SeriesFigures, bySeries, requestCounts } from "../aggregate.js";
import { histogramCount, quantile, TTFT_MS } from "../histogram.js";
import type { Dimension } from "../series.js";
import type { AlertRule, AlertThresholds } from "./settings.js";

/** An alert whose condition holds now. */
export interface Condition {
  /** Stable across evaluations: "<scope>/<rule>/<subject>". */
  id: string;
  rule: AlertRule;
  /** What it is about, for people ("us-east", "claude-sonnet-4-6 in us-east", "daily budget"). */
  subject: string;
  /** One line saying what was measured against what. */
  summary: string;
}

/** A tenant's spend against its budgets. */
export interface BudgetFigures {
  tenant: string;
  period: "daily" | "monthly";
  spentMicroUsd: number;
  budgetUsd: number;
}

/**
 * The figures rules read, fields as stored with region, tenant and model kept ("*" for
 * provider): the window, the refusal baseline before it, the first-token baseline.
 */
export interface RuleInput {
  window: ReadonlyMap<string, number>;
  refusalBaseline: ReadonlyMap<string, number>;
  ttftBaseline: ReadonlyMap<string, number>;
  budgets: readonly BudgetFigures[];
}

/** Per scope, the dimensions each rule's subjects are told apart by. */
const SUBJECTS = {
  operator: { errors: ["region"], ttft: ["region", "model"], refusals: ["region"] },
  tenant: { errors: [], ttft: ["model"], refusals: [] },
} as const satisfies Record<string, Record<string, readonly Dimension[]>>;

/**
 * Evaluates a scope's rules: the operator's over everything (errors and refusals per
 * region, first tokens per region and model, every tenant's budgets), a tenant's over its
 * own series (input already narrowed to it). Pure: the caller reads the figures.
 */
export function evaluateRules(scope: string, kind: keyof typeof SUBJECTS, rules: readonly AlertRule[], thresholds: AlertThresholds, input: RuleInput): Condition[] {
  const conditions: Condition[] = [];
  const subjects = SUBJECTS[kind];
  const add = (rule: AlertRule, subject: string, summary: string) => conditions.push({ id: `${scope}/${rule}/${subject || "all"}`, rule, subject: subject || "all traffic", summary });
  const window = `over ${thresholds.windowMinutes} min`;

  if (rules.includes("error_rate")) {
    for (const [subject, figures] of grouped(input.window, subjects.errors)) {
      const { requests, errors } = requestCounts(figures.counters);
      if (requests < thresholds.minRequests || errors / requests <= thresholds.errorRate) continue;
      add("error_rate", subject, `error rate ${percent(errors / requests)} ${window} (${errors} of ${requests} requests) is above ${percent(thresholds.errorRate)}`);
    }
  }
  if (rules.includes("ttft_p95")) {
    const baselines = grouped(input.ttftBaseline, subjects.ttft);
    for (const [subject, figures] of grouped(input.window, subjects.ttft)) {
      const baseline = baselines.get(subject);
      if (!baseline || histogramCount(figures.ttft) < thresholds.minFirstTokens || histogramCount(baseline.ttft) < thresholds.minFirstTokens) continue;
      const now = quantile(TTFT_MS, figures.ttft, 0.95)!;
      const usual = quantile(TTFT_MS, baseline.ttft, 0.95)!;
      if (now <= usual * thresholds.ttftRatio) continue;
      add("ttft_p95", subject, `p95 time to first token ${Math.round(now)} ms ${window} is ${(now / usual).toFixed(1)}x its ${thresholds.baselineHours}-hour baseline of ${Math.round(usual)} ms (limit ${thresholds.ttftRatio}x)`);
    }
  }
  if (rules.includes("refusal_rate")) {
    const before = grouped(input.refusalBaseline, subjects.refusals);
    for (const [subject, figures] of grouped(input.window, subjects.refusals)) {
      const { requests, refusals } = requestCounts(figures.counters);
      if (refusals < thresholds.minRefusals) continue;
      const rate = refusals / (requests + refusals);
      const earlier = before.get(subject);
      const earlierCounts = earlier ? requestCounts(earlier.counters) : { requests: 0, refusals: 0 };
      const earlierRate = earlierCounts.refusals / Math.max(1, earlierCounts.requests + earlierCounts.refusals);
      if (rate < thresholds.refusalRate || rate < earlierRate * thresholds.refusalRise) continue;
      add(
        "refusal_rate",
        subject,
        `refusals rising: ${percent(rate)} of requests ${window} (${refusals}) against ${percent(earlierRate)} in the ${thresholds.refusalBaselineMinutes} min before (limits ${percent(thresholds.refusalRate)} and ${thresholds.refusalRise}x)`,
      );
    }
  }
  if (rules.includes("budget")) {
    for (const budget of input.budgets) {
      const spent = budget.spentMicroUsd / 1e6;
      // In whole micro-dollars, as the ledger counts (floats would let 80% of $0.35 read as not reached).
      const budgetMicroUsd = Math.round(budget.budgetUsd * 1e6);
      for (const level of thresholds.budgetLevels) {
        if (budget.spentMicroUsd < Math.ceil(budgetMicroUsd * level - 1e-6)) continue;
        const subject = `${kind === "operator" ? `${budget.tenant} ` : ""}${budget.period} budget ${Math.round(level * 100)}%`;
        add("budget", subject, `${budget.period} budget ${Math.round(level * 100)}% reached: ${usd(spent)} of ${usd(budget.budgetUsd)} spent`);
      }
    }
  }
  return conditions;
}

/** Figures summed per subject: the dimensions named, the last first ("claude-sonnet-4-6 in us-east"). */
function grouped(fields: ReadonlyMap<string, number>, by: readonly Dimension[]): Map<string, SeriesFigures> {
  const groups = new Map<string, SeriesFigures>();
  for (const figures of bySeries(fields).values()) {
    const label = [...by].reverse().map((dimension) => figures.dimensions[dimension]).join(" in ");
    let group = groups.get(label);
    if (!group) groups.set(label, (group = { dimensions: figures.dimensions, counters: new Map(), ttft: new Map(), tps: new Map() }));
    for (const [metric, value] of figures.counters) group.counters.set(metric, (group.counters.get(metric) ?? 0) + value);
    for (const [bucket, value] of figures.ttft) group.ttft.set(bucket, (group.ttft.get(bucket) ?? 0) + value);
  }
  return groups;
}

function usd(amount: number): string {
  return `$${amount < 1 ? amount.toPrecision(3) : amount.toFixed(2)}`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}
