import { type Context, Hono } from "hono";
import { requestBuckets } from "../../../shared/ledger/buckets.js";
import { takeFromBuckets } from "../../../shared/ledger/limits.js";
import { prometheusText } from "../../../shared/metrics/prometheus.js";
import { hashesRead, type MetricsQuery, parseMetricsQuery, QUERY_LIMITS, runMetricsQuery } from "../../../shared/metrics/query.js";
import type { GatewayAppEnv } from "../context.js";

const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** JSON when asked for (?format=json, or an Accept header that prefers it), else the Prometheus text format. */
function wantsJson(c: Context<GatewayAppEnv>): boolean {
  const format = c.req.query("format");
  if (format === "json") return true;
  if (format === "prometheus") return false;
  const accept = c.req.header("accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/plain");
}

async function answer(c: Context<GatewayAppEnv>, query: MetricsQuery, headers: Record<string, string> = {}): Promise<Response> {
  const { metrics, isolateMetrics } = c.get("services");
  const result = await runMetricsQuery(query, metrics, isolateMetrics, Date.now());
  const own = { ...headers, "cache-control": "no-store" };
  if (wantsJson(c)) return c.json(result, 200, own);
  return c.body(prometheusText(result), 200, { ...own, "content-type": PROMETHEUS_CONTENT_TYPE });
}

/** GET /admin/metrics: every region, tenant, model and provider (behind the admin token). */
export const adminMetrics = new Hono<GatewayAppEnv>().get("/metrics", (c) => answer(c, parseMetricsQuery(new URL(c.req.url).searchParams)));

/**
 * GET /v1/metrics: the calling tenant's own series, counted in its request limits as one
 * request per QUERY_LIMITS.hashesPerRequest hashes read (at most a whole minute's limit).
 */
export const tenantMetrics = new Hono<GatewayAppEnv>().get("/v1/metrics", async (c) => {
  const { key, tenant } = c.get("caller");
  const query = parseMetricsQuery(new URL(c.req.url).searchParams, tenant.id);
  const cost = Math.max(1, Math.ceil(hashesRead(query) / QUERY_LIMITS.hashesPerRequest));
  const buckets = requestBuckets(key, tenant, c.get("config").defaultLimits).map((bucket) => ({ ...bucket, cost: Math.min(cost, bucket.capacity) }));
  const headers = await takeFromBuckets(c.get("services").redis, buckets);
  return answer(c, query, headers);
});
