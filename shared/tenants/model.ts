import * as z from "zod/mini";
import { TIERS } from "../classify/types.js";
import { REGIONS } from "../geo/regions.js";
import { OPT_IN_FEATURES } from "../request-policy/features.js";
import "../validation/zod.js";
import { patchSchema } from "../validation/schema-parts.js";
import { type WidgetConfig, widgetConfigSchema, widgetConfigUpdateSchema } from "../widget/config.js";

const nullablePositiveInt = z.nullable(z.int().check(z.positive()));
const nullableUsd = z.nullable(z.number().check(z.positive(), z.maximum(1_000_000_000)));
const nonEmptyString = z.string().check(z.minLength(1));
const name = z.string().check(z.minLength(1), z.maxLength(200));
const REGION_IDS = REGIONS.map((region) => region.id) as [string, ...string[]];
const regionPin = z.nullable(
  z
    .array(z.enum(REGION_IDS, { error: (issue) => `unknown region ${JSON.stringify(issue.input)}; the regions are ${REGION_IDS.join(", ")}` }))
    .check(
      z.minLength(1),
      z.refine((regions) => new Set(regions).size === regions.length, "each region once"),
    ),
);

export const tenantLimitsSchema = z.strictObject({
  requestsPerMinute: z._default(nullablePositiveInt, null),
  tokensPerMinute: z._default(nullablePositiveInt, null),
  dailyBudgetUsd: z._default(nullableUsd, null),
  monthlyBudgetUsd: z._default(nullableUsd, null),
  maxTokensPerRequest: z._default(nullablePositiveInt, null),
});

const unitInterval = z.number().check(z.minimum(0), z.maximum(1));
const thresholdBounds = z
  .strictObject({ min: unitInterval, max: unitInterval })
  .check(z.refine((bounds) => bounds.min <= bounds.max, "min must not exceed max"));
const firstTokenTarget = z.nullable(z.int().check(z.minimum(50, "at least 50 ms"), z.maximum(120_000, "at most 120000 ms")));

export const modelPolicySchema = z.strictObject({
  /** Models the tenant may call explicitly; null = any model. */
  allowedModels: z._default(z.nullable(z.array(nonEmptyString)), null),
  /** Highest tier the tenant may reach; requests above it are downgraded. */
  maxTier: z._default(z.nullable(z.enum(TIERS)), null),
  /** Per-tenant overrides of the tier-to-model map and thresholds. */
  tierModels: z._default(z.partialRecord(z.enum(TIERS), nonEmptyString), {}),
  thresholds: z._default(z.nullable(z.strictObject({ standard: unitInterval, deep: unitInterval })), null),
  /** Whether an overloaded model may give way to the next lower tier's model. */
  fallback: z._default(z.boolean(), true),
  /** Share of `auto` requests served one tier above the classifier's choice, to measure the quality difference (0 = off, at most 0.25). */
  auditSampleRate: z._default(z.number().check(z.minimum(0), z.maximum(0.25)), 0),
  /**
   * Lets the gateway lower the thresholds (send more traffic up a tier) when a tier's
   * feedback falls below the tier above, never outside these bounds; null = never.
   */
  autoTune: z._default(
    z.nullable(
      z
        .strictObject({ standard: thresholdBounds, deep: thresholdBounds })
        .check(z.refine((bounds) => bounds.standard.max <= bounds.deep.min, "the standard range must lie below the deep range")),
    ),
    null,
  ),
});

export const tenantInputSchema = z.strictObject({
  id: z.optional(
    z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "use 2-63 lowercase letters, digits or dashes")),
  ),
  name,
  limits: z._default(tenantLimitsSchema, () => tenantLimitsSchema.parse({})),
  modelPolicy: z._default(modelPolicySchema, () => modelPolicySchema.parse({})),
  regionPin: z._default(regionPin, null),
  /** Features with costs beyond the request's own tokens that this tenant may use (see README). */
  allowedFeatures: z._default(z.array(z.enum(OPT_IN_FEATURES)), []),
  promptCaching: z._default(z.boolean(), true),
  /** SLO-aware routing (opt-in): above this recent p95 time to first token, auto requests go one tier down; null = off. */
  firstTokenTargetMs: z._default(firstTokenTarget, null),
  /** When storage is down: serve and settle later ("open") or refuse ("closed"); null = by key kind. */
  storageFailMode: z._default(z.nullable(z.enum(["open", "closed"])), null),
  disabled: z._default(z.boolean(), false),
});

export const tenantUpdateSchema = z.strictObject({
  name: z.optional(name),
  limits: z.optional(patchSchema(tenantLimitsSchema)),
  modelPolicy: z.optional(patchSchema(modelPolicySchema)),
  regionPin: z.optional(regionPin),
  allowedFeatures: z.optional(z.array(z.enum(OPT_IN_FEATURES))),
  promptCaching: z.optional(z.boolean()),
  firstTokenTargetMs: z.optional(firstTokenTarget),
  storageFailMode: z.optional(z.nullable(z.enum(["open", "closed"]))),
  disabled: z.optional(z.boolean()),
});

export type TenantLimits = z.infer<typeof tenantLimitsSchema>;
export type ModelPolicy = z.infer<typeof modelPolicySchema>;
export type TenantInput = z.infer<typeof tenantInputSchema>;
export type TenantUpdate = z.infer<typeof tenantUpdateSchema>;

export interface Tenant extends Omit<TenantInput, "id"> {
  id: string;
  createdAt: string;
  updatedAt: string;
}

export type KeyKind = "secret" | "publishable";

export const keyInputSchema = z.strictObject({
  kind: z._default(z.enum(["secret", "publishable"]), "secret"),
  label: z._default(z.string().check(z.maxLength(200)), ""),
  requestsPerMinute: z._default(nullablePositiveInt, null),
  tokensPerMinute: z._default(nullablePositiveInt, null),
  /** Publishable keys only: what the widget may do (defaults when omitted). */
  widget: z.optional(widgetConfigSchema),
});

export const keyUpdateSchema = z.strictObject({
  label: z.optional(z.string().check(z.maxLength(200))),
  requestsPerMinute: z.optional(nullablePositiveInt),
  tokensPerMinute: z.optional(nullablePositiveInt),
  /** Merged field by field into the key's widget configuration. */
  widget: z.optional(widgetConfigUpdateSchema),
});

export type KeyUpdate = z.infer<typeof keyUpdateSchema>;

export type KeyInput = z.infer<typeof keyInputSchema>;

/** A key as stored: never the plaintext, only its SHA-256. */
export interface KeyRecord {
  id: string;
  tenantId: string;
  kind: KeyKind;
  label: string;
  hash: string;
  /** First characters of the key, enough for a person to recognise it. */
  preview: string;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  /** The widget's configuration: set for publishable keys, null for secret keys. */
  widget: WidgetConfig | null;
  createdAt: string;
  /** Set on every change; with the tenant's, it tells the hot path whether its cached policy is current. */
  updatedAt?: string;
  revokedAt: string | null;
}

/** The version of the policy a decision was made with: both records' last change. */
export function policyVersion(key: KeyRecord, tenant: Tenant): string {
  return `${tenant.updatedAt ?? ""}|${key.updatedAt ?? ""}`;
}
