import { Hono } from "hono";
import { requestBuckets } from "../../../shared/ledger/buckets.js";
import { takeFromBuckets } from "../../../shared/ledger/limits.js";
import { usageReport } from "../../../shared/metering/usage-report.js";
import type { GatewayAppEnv } from "../context.js";

/** GET /v1/usage: the calling tenant's own counters for today and this month (a request like any other for its limits). */
export const usage = new Hono<GatewayAppEnv>().get("/v1/usage", async (c) => {
  const { key, tenant } = c.get("caller");
  const { redis } = c.get("services");
  const headers = await takeFromBuckets(redis, requestBuckets(key, tenant, c.get("config").defaultLimits));
  const report = await usageReport(redis, tenant.id, {
    daily: tenant.limits.dailyBudgetUsd,
    monthly: tenant.limits.monthlyBudgetUsd,
  });
  return c.json(report, 200, headers);
});
