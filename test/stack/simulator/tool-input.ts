import type { Random } from "./random.js";

const SAMPLE_WORDS = ["alpha", "berlin", "coffee", "delta", "example", "paris", "report", "tokyo"] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function schemaType(schema: Record<string, unknown>): string {
  const { type } = schema;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) {
    const firstNonNull = type.find((candidate): candidate is string => typeof candidate === "string" && candidate !== "null");
    if (firstNonNull !== undefined) return firstNonNull;
  }
  return isRecord(schema.properties) ? "object" : "string";
}

function sampleValue(schema: unknown, random: Random): unknown {
  if (!isRecord(schema)) return random.pick(SAMPLE_WORDS);
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return random.pick(schema.enum);
  switch (schemaType(schema)) {
    case "object":
      return sampleObject(schema, random);
    case "array":
      return [sampleValue(schema.items, random)];
    case "integer":
    case "number":
      return random.int(1, 100);
    case "boolean":
      return random.next() < 0.5;
    case "null":
      return null;
    default:
      return random.pick(SAMPLE_WORDS);
  }
}

/** A deterministic object holding a sample value for each required property of a JSON schema. */
export function sampleObject(schema: Record<string, unknown>, random: Random): Record<string, unknown> {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required.filter((name) => typeof name === "string") : [];
  return Object.fromEntries(required.map((name) => [name, sampleValue(properties[name], random)]));
}
