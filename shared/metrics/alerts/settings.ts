import type { Redis } from "@upstash/redis";
import * as z from "zod/mini";
import { parseJsonSetting } from "../../config/json-setting.js";
import { redisKeys } from "../../storage/keys.js";
import { parse } from "../../tenants/store.js";
import "../../validation/zod.js";

export const ALERT_RULES = ["error_rate", "ttft_p95", "refusal_rate", "budget"] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

/** The sources' defaults: errors above 2% over 5 minutes, p95 first token 1.5x its 24-hour baseline, refusals rising, budgets at 80% and 100%. */
export const DEFAULT_THRESHOLDS = {
  /** Share of requests that failed (upstream errors, failed endings) over the window. */
  errorRate: 0.02,
  /** Fewer requests than this in the window tell nothing. */
  minRequests: 20,
  /** p95 time to first token over the window, as a multiple of its baseline. */
  ttftRatio: 1.5,
  /** First tokens needed in the window and in the baseline. */
  minFirstTokens: 20,
  baselineHours: 24,
  /** Refusals / (requests + refusals) over the window: at least this... */
  refusalRate: 0.05,
  /** ...and this many times the rate of the hour before it... */
  refusalRise: 2,
  /** ...with at least this many refusals. */
  minRefusals: 5,
  refusalBaselineMinutes: 60,
  /** Budget shares spent that alert (daily and monthly budgets). */
  budgetLevels: [0.8, 1] as number[],
  /** The window of the error, first-token and refusal rules. */
  windowMinutes: 5,
};

export type AlertThresholds = typeof DEFAULT_THRESHOLDS;

const share = z.number().check(z.positive(), z.maximum(1));
const thresholdsSchema = z.strictObject({
  errorRate: z.optional(share),
  minRequests: z.optional(z.int().check(z.minimum(1), z.maximum(1_000_000))),
  ttftRatio: z.optional(z.number().check(z.minimum(1), z.maximum(100))),
  minFirstTokens: z.optional(z.int().check(z.minimum(1), z.maximum(1_000_000))),
  baselineHours: z.optional(z.int().check(z.minimum(1), z.maximum(7 * 24))),
  refusalRate: z.optional(share),
  refusalRise: z.optional(z.number().check(z.minimum(1), z.maximum(100))),
  minRefusals: z.optional(z.int().check(z.minimum(1), z.maximum(1_000_000))),
  refusalBaselineMinutes: z.optional(z.int().check(z.minimum(5), z.maximum(360))),
  budgetLevels: z.optional(z.array(z.number().check(z.positive(), z.maximum(10))).check(z.maxLength(5))),
  windowMinutes: z.optional(z.int().check(z.minimum(1), z.maximum(60))),
});

const webhookUrl = z.string().check(
  z.maxLength(2048),
  z.refine(isWebhookUrl, "an https URL (plain http only to this machine: localhost, 127.0.0.1, [::1])"),
);

/** Alerts carry tenants' figures, and Slack's webhook paths are secrets: https, or a receiver on this machine. */
function isWebhookUrl(value: string): boolean {
  if (!/^https?:\/\/[^\s/]+/i.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  } catch {
    return false;
  }
}

/** The operator's webhook from the environment (ALERT_WEBHOOK_URL), checked as stored ones are. */
export function parseWebhookUrl(raw: string | undefined): string | null {
  if (!raw) return null;
  const parsed = webhookUrl.safeParse(raw);
  if (!parsed.success) throw new Error(`ALERT_WEBHOOK_URL is invalid: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`);
  return parsed.data;
}

/** Alert settings of the operator or of one tenant. */
export const alertSettingsSchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  /** Where alerts go (a Slack incoming webhook or anything that takes its JSON); null: for the operator, ALERT_WEBHOOK_URL; a tenant without one gets none. */
  webhookUrl: z._default(z.nullable(webhookUrl), null),
  rules: z._default(z.array(z.enum(ALERT_RULES)).check(z.maxLength(ALERT_RULES.length)), () => [...ALERT_RULES]),
  thresholds: z._default(thresholdsSchema, {}),
});

export type AlertSettings = z.infer<typeof alertSettingsSchema>;

/** What an evaluation uses: the thresholds filled in, and where to send. */
export interface EffectiveAlertSettings {
  scope: "operator" | { tenant: string };
  webhookUrl: string;
  rules: readonly AlertRule[];
  thresholds: AlertThresholds;
}

/** The operator's own alert settings from the environment (ALERT_WEBHOOK_URL, ALERT_THRESHOLDS). */
export interface OperatorAlertDefaults {
  webhookUrl: string | null;
  thresholds: Partial<AlertThresholds>;
}

export function parseThresholds(raw: string | undefined): Partial<AlertThresholds> {
  return raw ? parseJsonSetting("ALERT_THRESHOLDS", raw, thresholdsSchema, '{"errorRate": 0.05}') : {};
}

/** Alert settings stored on the primary: the operator's (over the environment's) and each tenant's. */
export class AlertSettingsStore {
  constructor(private readonly redis: Redis) {}

  async all(): Promise<{ operator: AlertSettings | null; tenants: Map<string, AlertSettings> }> {
    const raw = (await this.redis.hgetall<Record<string, unknown>>(redisKeys.alertSettings())) ?? {};
    const tenants = new Map<string, AlertSettings>();
    let operator: AlertSettings | null = null;
    for (const [owner, value] of Object.entries(raw)) {
      // Checked again as read: settings stored before a rule existed (a plain-http webhook) are not used.
      const checked = alertSettingsSchema.safeParse(parse<unknown>(value));
      if (!checked.success) {
        console.error(`alert settings of ${owner} ignored: ${checked.error.issues.map((issue) => issue.message).join("; ")}`);
        continue;
      }
      const settings = checked.data;
      if (owner === OPERATOR) operator = settings;
      else tenants.set(owner, settings);
    }
    return { operator, tenants };
  }

  async get(owner: string | null): Promise<AlertSettings | null> {
    return parse<AlertSettings>(await this.redis.hget(redisKeys.alertSettings(), owner ?? OPERATOR));
  }

  async put(owner: string | null, settings: AlertSettings): Promise<void> {
    await this.redis.hset(redisKeys.alertSettings(), { [owner ?? OPERATOR]: JSON.stringify(settings) });
  }

  async remove(owner: string): Promise<boolean> {
    return (await this.redis.hdel(redisKeys.alertSettings(), owner)) > 0;
  }
}

const OPERATOR = "operator";

/**
 * Who gets alerts and with which thresholds: the operator (stored settings over the
 * environment's; on unless turned off, when there is a webhook), and each tenant with
 * stored settings that are on and name a webhook (its thresholds over the operator's).
 */
export function effectiveSettings(
  defaults: OperatorAlertDefaults,
  stored: { operator: AlertSettings | null; tenants: ReadonlyMap<string, AlertSettings> },
): EffectiveAlertSettings[] {
  const operatorThresholds = { ...DEFAULT_THRESHOLDS, ...defaults.thresholds, ...stored.operator?.thresholds };
  const result: EffectiveAlertSettings[] = [];
  const operatorUrl = stored.operator?.webhookUrl ?? defaults.webhookUrl;
  if (operatorUrl && stored.operator?.enabled !== false) {
    result.push({ scope: "operator", webhookUrl: operatorUrl, rules: stored.operator?.rules ?? ALERT_RULES, thresholds: operatorThresholds });
  }
  for (const [tenant, settings] of [...stored.tenants].sort(([a], [b]) => a.localeCompare(b))) {
    if (!settings.enabled || !settings.webhookUrl) continue;
    result.push({ scope: { tenant }, webhookUrl: settings.webhookUrl, rules: settings.rules, thresholds: { ...operatorThresholds, ...settings.thresholds } });
  }
  return result;
}

/** A webhook URL as shown back: its origin only (Slack webhook paths are secrets). */
export function redactedUrl(url: string | null): string | null {
  if (url === null) return null;
  return `${new URL(url).origin}/…`;
}
