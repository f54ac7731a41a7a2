import { parseJsonOrUndefined } from "../text/json.js";

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Text from a provider (or a secret) as a JSON object; null when it is not one. */
export function jsonObject(text: string): Record<string, unknown> | null {
  const value = parseJsonOrUndefined(text);
  return isRecord(value) ? value : null;
}
