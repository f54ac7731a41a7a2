import { Hono } from "hono";
import { usageReport } from "../../../shared/metering/usage-report.js";
import type { GatewayAppEnv } from "../context.js";

/** GET /v1/usage: the calling tenant's own counters for today and this month. */
export const usage = new Hono<GatewayAppEnv>().get("/v1/usage", async (c) => {
  const { tenant } = c.get("caller");
  const report = await usageReport(c.get("services").redis, tenant.id, {
    daily: tenant.limits.dailyBudgetUsd,
    monthly: tenant.limits.monthlyBudgetUsd,
  });
  return c.json(report);
});
