import * as z from "zod/mini";
import { describeIssues, expected } from "../validation/zod.js";
import type { BedrockConfig } from "./bedrock/provider.js";
import { jsonObject } from "./json.js";
import { INFERENCE_PROFILES } from "./bedrock/provider.js";
import type { AwsCredentials } from "./bedrock/sigv4.js";
import type { ServiceAccountKey } from "./vertex/service-account.js";
import type { VertexConfig } from "./vertex/provider.js";

/**
 * A region's ordered chain of upstream endpoints, written as JSON in an environment
 * variable, with credentials in secrets named by each entry:
 *
 * [
 *   {"kind": "vertex", "location": "europe-west1", "projectId": "acme-prod"},
 *   {"kind": "bedrock", "region": "eu-central-1", "inferenceProfile": "eu"},
 *   {"kind": "anthropic"}
 * ]
 *
 * Bedrock credentials come from the secret `credentialsSecret` (default AWS_CREDENTIALS):
 * JSON `{"accessKeyId", "secretAccessKey", "sessionToken"?}`. Vertex's from
 * `serviceAccountSecret` (default GCP_SERVICE_ACCOUNT_KEY): the service-account key file
 * as Google issues it; `projectId` defaults to the key's `project_id`.
 */
export type ProviderEntry = (
  | { kind: "anthropic"; baseUrl?: string }
  | ({ kind: "bedrock" } & BedrockConfig)
  | ({ kind: "vertex" } & VertexConfig)
) & {
  /** Price of this endpoint relative to list price (regional endpoints of recent models cost about 10% more). */
  priceMultiplier?: number;
};

export const DEFAULT_AWS_CREDENTIALS_SECRET = "AWS_CREDENTIALS";
export const DEFAULT_GCP_SERVICE_ACCOUNT_SECRET = "GCP_SERVICE_ACCOUNT_KEY";

const url = z.string().check(z.url({ protocol: /^https?$/, error: expected("an http(s) URL") }));
const secretName = z.string().check(z.regex(/^[A-Z_][A-Z0-9_]*$/, { error: expected("an environment variable name") }));
const models = z.record(z.string(), z.nullable(z.string().check(z.minLength(1))));
const priceMultiplier = z.optional(z.number().check(z.positive(), z.maximum(10)));

const anthropicEntry = z.strictObject({ kind: z.literal("anthropic"), baseUrl: z.optional(url), priceMultiplier });
const bedrockEntry = z.strictObject({
  kind: z.literal("bedrock"),
  region: z.string().check(z.regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$/, { error: expected('an AWS region such as "eu-central-1"') })),
  inferenceProfile: z.optional(z.nullable(z.enum(INFERENCE_PROFILES, { error: expected(INFERENCE_PROFILES.join(" | ")) }))),
  baseUrl: z.optional(url),
  credentialsSecret: z.optional(secretName),
  models: z.optional(models),
  priceMultiplier,
});
const vertexEntry = z.strictObject({
  kind: z.literal("vertex"),
  location: z.string().check(z.regex(/^(global|us|eu|[a-z]+-[a-z]+\d+)$/, { error: expected('"global", "us", "eu" or a region such as "europe-west1"') })),
  projectId: z.optional(z.string().check(z.regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, { error: expected("a Google Cloud project id") }))),
  baseUrl: z.optional(url),
  tokenUrl: z.optional(url),
  serviceAccountSecret: z.optional(secretName),
  models: z.optional(models),
  priceMultiplier,
});
const chainSchema = z.array(z.discriminatedUnion("kind", [anthropicEntry, bedrockEntry, vertexEntry])).check(
  z.minLength(1, { error: "the chain needs at least one provider" }),
);

export class ProviderConfigError extends Error {
  override readonly name = "ProviderConfigError";
}

function secretJson(secrets: Readonly<Record<string, unknown>>, name: string, where: string): Record<string, unknown> {
  const raw = secrets[name];
  if (typeof raw !== "string" || raw.trim() === "") throw new ProviderConfigError(`${where}: secret ${name} is not set`);
  const value = jsonObject(raw);
  if (value === null) throw new ProviderConfigError(`${where}: secret ${name} is not a JSON object`);
  return value;
}

/** Checks a secret's fields by name only: a secret's values never go into a message. */
function requireStrings(value: Record<string, unknown>, fields: readonly string[], where: string): void {
  const missing = fields.filter((field) => typeof value[field] !== "string" || value[field] === "");
  if (missing.length > 0) throw new ProviderConfigError(`${where}: ${missing.join(", ")} missing or not a string`);
}

function awsCredentials(secrets: Readonly<Record<string, unknown>>, name: string, where: string): AwsCredentials {
  const value = secretJson(secrets, name, where);
  requireStrings(value, ["accessKeyId", "secretAccessKey"], `${where}: secret ${name}`);
  if (value.sessionToken !== undefined) requireStrings(value, ["sessionToken"], `${where}: secret ${name}`);
  return {
    accessKeyId: value.accessKeyId as string,
    secretAccessKey: value.secretAccessKey as string,
    ...(value.sessionToken === undefined ? {} : { sessionToken: value.sessionToken as string }),
  };
}

function serviceAccountKey(secrets: Readonly<Record<string, unknown>>, name: string, where: string): ServiceAccountKey {
  const value = secretJson(secrets, name, where);
  requireStrings(value, ["client_email", "private_key"], `${where}: secret ${name}`);
  const key: ServiceAccountKey = { client_email: value.client_email as string, private_key: value.private_key as string };
  for (const field of ["private_key_id", "token_uri", "project_id"] as const) {
    if (typeof value[field] === "string") key[field] = value[field];
  }
  return key;
}

/**
 * Parses a region's provider chain (JSON text) and resolves each entry's credentials from
 * `secrets` (the Worker's env). Throws ProviderConfigError naming the entry and field at fault.
 */
export function parseProviderChain(json: string, secrets: Readonly<Record<string, unknown>>): ProviderEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ProviderConfigError("the provider chain is not valid JSON");
  }
  const parsed = chainSchema.safeParse(raw);
  if (!parsed.success) throw new ProviderConfigError(`the provider chain is invalid: ${describeIssues(parsed.error.issues)}`);

  return parsed.data.map((entry, index): ProviderEntry => {
    switch (entry.kind) {
      case "anthropic":
        return entry;
      case "bedrock": {
        const { credentialsSecret = DEFAULT_AWS_CREDENTIALS_SECRET, ...config } = entry;
        const where = `provider ${index} (bedrock ${entry.region})`;
        return { ...config, credentials: awsCredentials(secrets, credentialsSecret, where) };
      }
      case "vertex": {
        const { serviceAccountSecret = DEFAULT_GCP_SERVICE_ACCOUNT_SECRET, projectId, ...config } = entry;
        const where = `provider ${index} (vertex ${entry.location})`;
        const serviceAccount = serviceAccountKey(secrets, serviceAccountSecret, where);
        const project = projectId ?? serviceAccount.project_id;
        if (project === undefined) throw new ProviderConfigError(`${where}: no projectId, and the service-account key has no project_id`);
        return { ...config, projectId: project, serviceAccount };
      }
    }
  });
}
