import { z } from "zod";

export const TIERS = ["light", "standard", "deep"] as const;

const nullablePositiveInt = z.number().int().positive().nullable();
const nullableUsd = z.number().positive().max(1_000_000_000).nullable();

export const tenantLimitsSchema = z.strictObject({
  requestsPerMinute: nullablePositiveInt.default(null),
  tokensPerMinute: nullablePositiveInt.default(null),
  dailyBudgetUsd: nullableUsd.default(null),
  monthlyBudgetUsd: nullableUsd.default(null),
  maxTokensPerRequest: nullablePositiveInt.default(null),
});

export const modelPolicySchema = z.strictObject({
  /** Models the tenant may call explicitly; null = any model in the price table. */
  allowedModels: z.array(z.string().min(1)).nullable().default(null),
  /** Highest tier the tenant may reach; requests above it are downgraded. */
  maxTier: z.enum(TIERS).nullable().default(null),
  /** Per-tenant overrides of the tier-to-model map and thresholds. */
  tierModels: z.partialRecord(z.enum(TIERS), z.string().min(1)).default({}),
  thresholds: z.strictObject({ standard: z.number().min(0).max(1), deep: z.number().min(0).max(1) }).nullable().default(null),
});

export const tenantInputSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "use 2-63 lowercase letters, digits or dashes").optional(),
  name: z.string().min(1).max(200),
  limits: tenantLimitsSchema.default(tenantLimitsSchema.parse({})),
  modelPolicy: modelPolicySchema.default(modelPolicySchema.parse({})),
  regionPin: z.array(z.string().min(1)).min(1).nullable().default(null),
  allowedOrigins: z.array(z.url()).default([]),
  promptCaching: z.boolean().default(true),
  disabled: z.boolean().default(false),
});

export const tenantUpdateSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  limits: tenantLimitsSchema.partial().optional(),
  modelPolicy: modelPolicySchema.partial().optional(),
  regionPin: z.array(z.string().min(1)).min(1).nullable().optional(),
  allowedOrigins: z.array(z.url()).optional(),
  promptCaching: z.boolean().optional(),
  disabled: z.boolean().optional(),
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
  kind: z.enum(["secret", "publishable"]).default("secret"),
  label: z.string().max(200).default(""),
  requestsPerMinute: nullablePositiveInt.default(null),
  tokensPerMinute: nullablePositiveInt.default(null),
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
