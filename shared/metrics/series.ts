/** The dimensions of a metrics field, in the order they are written. */
export const DIMENSIONS = ["region", "tenant", "model", "provider"] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** A field's dimensions with "*" where a query summed over one. */
export type Dimensions = Record<Dimension, string>;

/** A metrics field ("<region>|<tenant>|<model>|<provider>|<metric>") taken apart. */
export interface ParsedField extends Dimensions {
  /** The whole metric ("requests:completed", "ttft:12", "input_tokens"). */
  metric: string;
  /** Before the colon ("requests", "ttft"), or the whole metric. */
  name: string;
  /** After the colon (the outcome, tier, bucket, error type, refusal kind), or "". */
  label: string;
}

export function parseField(field: string): ParsedField | null {
  const parts = field.split("|");
  if (parts.length !== 5) return null;
  const [region, tenant, model, provider, metric] = parts as [string, string, string, string, string];
  const colon = metric.indexOf(":");
  return {
    region,
    tenant,
    model,
    provider,
    metric,
    name: colon < 0 ? metric : metric.slice(0, colon),
    label: colon < 0 ? "" : metric.slice(colon + 1),
  };
}

export function seriesKey(dimensions: Dimensions): string {
  return DIMENSIONS.map((dimension) => dimensions[dimension]).join("|");
}

/**
 * Which fields a query reads: each dimension either one value or any (null), optionally
 * only metrics with given prefixes ("ttft:", "requests:"); and which dimensions it keeps
 * apart (the others are summed over and reported as "*").
 */
export interface Projection {
  filter: Record<Dimension, string | null>;
  metricPrefixes: readonly string[];
  keep: readonly Dimension[];
}

/** The same projection as the stored one (metrics/store.ts), over fields in memory. */
export function projectFields(fields: ReadonlyMap<string, number>, projection: Projection, limit: number): { fields: Map<string, number>; dropped: number } {
  const projected = new Map<string, number>();
  let dropped = 0;
  for (const [field, value] of fields) {
    const parsed = parseField(field);
    if (!parsed) continue;
    if (DIMENSIONS.some((dimension) => projection.filter[dimension] !== null && projection.filter[dimension] !== parsed[dimension])) continue;
    if (projection.metricPrefixes.length > 0 && !projection.metricPrefixes.some((prefix) => parsed.metric.startsWith(prefix))) continue;
    const key = `${DIMENSIONS.map((dimension) => (projection.keep.includes(dimension) ? parsed[dimension] : "*")).join("|")}|${parsed.metric}`;
    const current = projected.get(key);
    if (current === undefined && projected.size >= limit) dropped++;
    else projected.set(key, (current ?? 0) + value);
  }
  return { fields: projected, dropped };
}
