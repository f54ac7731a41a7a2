import { parseJsonOrUndefined } from "../text/json.js";
import { describeIssues, type IssueLike } from "../validation/zod.js";

interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<IssueLike> } };
}

/**
 * A setting whose value is JSON (PRICING_JSON, ALERT_THRESHOLDS), checked against its
 * schema. An error names the setting and what is wrong, never the value itself.
 */
export function parseJsonSetting<T>(name: string, raw: string, schema: Schema<T>, example: string): T {
  const json = parseJsonOrUndefined(raw);
  if (json === undefined) throw new Error(`${name} is invalid: not JSON (for example ${example})`);
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`${name} is invalid: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}
