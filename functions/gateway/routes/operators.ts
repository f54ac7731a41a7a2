import { Hono } from "hono";
import { readJsonBody } from "../../../shared/http/body.js";
import { GatewayError } from "../../../shared/http/errors.js";
import { type AlertSettings, alertSettingsSchema, effectiveSettings, redactedUrl } from "../../../shared/metrics/alerts/settings.js";
import type { GatewayAppEnv } from "../context.js";
import { adminMetrics } from "./metrics.js";

const SETTINGS_BODY_LIMITS = { maxBytes: 16 * 1024, timeoutMs: 10_000 };

/** Alert settings as shown back: the webhook reduced to its origin. */
function shown(settings: AlertSettings | null) {
  return settings && { ...settings, webhookUrl: redactedUrl(settings.webhookUrl) };
}

/** Operators' views (mounted under /admin, behind the admin token): metrics and alert settings. */
export const operators = new Hono<GatewayAppEnv>()
  .route("/", adminMetrics)
  .get("/alerts", async (c) => {
    const { alertSettings, alertState } = c.get("services");
    const stored = await alertSettings.all();
    const effective = effectiveSettings(c.get("config").alerts, stored);
    return c.json({
      operator: shown(stored.operator),
      environment: { webhookUrl: redactedUrl(c.get("config").alerts.webhookUrl), thresholds: c.get("config").alerts.thresholds },
      evaluated: effective.map((settings) => ({ ...settings, webhookUrl: redactedUrl(settings.webhookUrl) })),
      alerts: await alertState.current(),
    });
  })
  .put("/alerts", async (c) => {
    const settings = await readJsonBody(c.req.raw, alertSettingsSchema, SETTINGS_BODY_LIMITS, { emptyAs: {} });
    await c.get("services").alertSettings.put(null, settings);
    return c.json(shown(settings));
  })
  .get("/tenants/:id/alerts", async (c) => {
    const settings = await c.get("services").alertSettings.get(await tenantId(c.get("services"), c.req.param("id")));
    if (!settings) throw new GatewayError("not_found_error", "This tenant has no alert settings; PUT some to send it alerts.");
    return c.json(shown(settings));
  })
  .put("/tenants/:id/alerts", async (c) => {
    const id = await tenantId(c.get("services"), c.req.param("id"));
    const settings = await readJsonBody(c.req.raw, alertSettingsSchema, SETTINGS_BODY_LIMITS, { emptyAs: {} });
    if (settings.enabled && !settings.webhookUrl) {
      throw new GatewayError("invalid_request_error", "webhookUrl: a tenant's alerts need their own webhook (or send enabled: false).");
    }
    await c.get("services").alertSettings.put(id, settings);
    return c.json(shown(settings));
  })
  .delete("/tenants/:id/alerts", async (c) => {
    const removed = await c.get("services").alertSettings.remove(await tenantId(c.get("services"), c.req.param("id")));
    if (!removed) throw new GatewayError("not_found_error", "This tenant has no alert settings.");
    return c.body(null, 204);
  });

async function tenantId(services: GatewayAppEnv["Variables"]["services"], id: string): Promise<string> {
  if (!(await services.tenants.getTenant(id))) throw new GatewayError("not_found_error", "Tenant not found.");
  return id;
}
