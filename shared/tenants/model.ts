import * as z from "zod/mini";
import "../validation/zod.js";

export const TIERS = ["light", "standard", "deep"] as const;

const nullablePositiveInt = z.nullable(z.int().check(z.positive()));
const nullableUsd = z.nullable(z.number().check(z.positive(), z.maximum(1_000_000_000)));
const nonEmptyString = z.string().check(z.minLength(1));
const name = z.string().check(z.minLength(1), z.maxLength(200));
const regionPin = z.nullable(z.array(nonEmptyString).check(z.minLength(1)));

export const tenantLimitsSchema = z.strictObject({
  requestsPerMinute: z._default(nullablePositiveInt, null),
  tokensPerMinute: z._default(nullablePositiveInt, null),
  dailyBudgetUsd: z._default(nullableUsd, null),
  monthlyBudgetUsd: z._default(nullableUsd, null),
  maxTokensPerRequest: z._default(nullablePositiveInt, null),
});

const unitInterval = z.number().check(z.minimum(0), z.maximum(1));

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
});

export const tenantInputSchema = z.strictObject({
  id: z.optional(
    z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "use 2-63 lowercase letters, digits or dashes")),
  ),
  name,
  limits: z._default(tenantLimitsSchema, () => tenantLimitsSchema.parse({})),
  modelPolicy: z._default(modelPolicySchema, () => modelPolicySchema.parse({})),
  regionPin: z._default(regionPin, null),
  allowedOrigins: z._default(z.array(z.url()), []),
  promptCaching: z._default(z.boolean(), true),
  /** When storage is down: serve and settle later ("open") or refuse ("closed"); null = by key kind. */
  storageFailMode: z._default(z.nullable(z.enum(["open", "closed"])), null),
  disabled: z._default(z.boolean(), false),
});

export const tenantUpdateSchema = z.strictObject({
  name: z.optional(name),
  limits: z.optional(z.partial(tenantLimitsSchema)),
  modelPolicy: z.optional(z.partial(modelPolicySchema)),
  regionPin: z.optional(regionPin),
  allowedOrigins: z.optional(z.array(z.url())),
  promptCaching: z.optional(z.boolean()),
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
});

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
  createdAt: string;
  revokedAt: string | null;
}
