import { Hono } from "hono";
import { readJsonBody } from "../../../shared/http/body.js";
import { GatewayError } from "../../../shared/http/errors.js";
import { keyUsageReport, usageReport } from "../../../shared/metering/usage-report.js";
import {
  type KeyRecord,
  keyInputSchema,
  keyUpdateSchema,
  type Tenant,
  tenantInputSchema,
  tenantUpdateSchema,
} from "../../../shared/tenants/model.js";
import { redactedWidgetConfig } from "../../../shared/widget/config.js";
import type { GatewayAppEnv } from "../context.js";
import { adminAuth } from "../middleware/admin-auth.js";
import { operators } from "./operators.js";

/** Admin bodies are small; an empty body means "no fields". */
const ADMIN_BODY_LIMITS = { maxBytes: 64 * 1024, timeoutMs: 10_000 };
const body = <Schema extends Parameters<typeof readJsonBody>[1]>(request: Request, schema: Schema) =>
  readJsonBody(request, schema, ADMIN_BODY_LIMITS, { emptyAs: {} });

function found<T>(value: T | null, what: string): T {
  if (value === null) throw new GatewayError("not_found_error", `${what} not found.`);
  return value;
}

/** Operators' API: tenants, their keys and their usage. */
export const admin = new Hono<GatewayAppEnv>()
  .use(adminAuth)
  .route("/", operators)
  .post("/tenants", async (c) => {
    const input = await body(c.req.raw, tenantInputSchema);
    const tenant = await c.get("services").tenants.createTenant(input);
    if (!tenant) throw new GatewayError("invalid_request_error", `Tenant "${input.id}" already exists.`, { status: 409 });
    return c.json(tenant, 201);
  })
  .get("/tenants", async (c) => c.json({ data: await c.get("services").tenants.listTenants() }))
  .get("/tenants/:id", async (c) => c.json(found(await c.get("services").tenants.getTenant(c.req.param("id")), "Tenant")))
  .patch("/tenants/:id", async (c) => {
    const update = await body(c.req.raw, tenantUpdateSchema);
    return c.json(found(await c.get("services").tenants.updateTenant(c.req.param("id"), update), "Tenant"));
  })
  .post("/tenants/:id/disable", async (c) =>
    c.json(found(await c.get("services").tenants.updateTenant(c.req.param("id"), { disabled: true }), "Tenant")),
  )
  .post("/tenants/:id/enable", async (c) =>
    c.json(found(await c.get("services").tenants.updateTenant(c.req.param("id"), { disabled: false }), "Tenant")),
  )
  .post("/tenants/:id/keys", async (c) => {
    const tenant = found(await c.get("services").tenants.getTenant(c.req.param("id")), "Tenant");
    const input = await body(c.req.raw, keyInputSchema);
    if (input.widget && input.kind !== "publishable") {
      throw new GatewayError("invalid_request_error", 'widget: only publishable keys have a widget configuration; add "kind": "publishable".');
    }
    const created = await c.get("services").tenants.createKey(tenant.id, input);
    return c.json({ key: created.secret, ...publicKey(created.record) }, 201);
  })
  .get("/tenants/:id/keys", async (c) => {
    const { tenants } = c.get("services");
    const tenant = found(await tenants.getTenant(c.req.param("id")), "Tenant");
    const keys = await tenants.listKeys(tenant.id);
    return c.json({ data: keys.map(publicKey) });
  })
  .patch("/tenants/:id/keys/:keyId", async (c) => {
    const update = await body(c.req.raw, keyUpdateSchema);
    const tenants = c.get("services").tenants;
    const record = found(await tenants.getKey(c.req.param("id"), c.req.param("keyId")), "Key");
    if (update.widget && !record.widget) {
      throw new GatewayError("invalid_request_error", "widget: secret keys have no widget configuration; create a publishable key.");
    }
    const updated = await tenants.updateKey(record, update);
    if (updated === "revoked") {
      throw new GatewayError("invalid_request_error", "This key is revoked; create a new key instead of editing it.", { status: 409 });
    }
    return c.json(publicKey(found(updated, "Key")));
  })
  .post("/tenants/:id/keys/:keyId/revoke", async (c) => {
    const revoked = await c.get("services").tenants.revokeKey(c.req.param("id"), c.req.param("keyId"));
    return c.json(publicKey(found(revoked, "Key")));
  })
  .post("/tenants/:id/keys/:keyId/rotate", async (c) => {
    const rotated = found(
      await c.get("services").tenants.rotateKey(c.req.param("id"), c.req.param("keyId")),
      "Active key",
    );
    return c.json({ key: rotated.secret, ...publicKey(rotated.record) }, 201);
  })
  .get("/tenants/:id/keys/:keyId/usage", async (c) => {
    const { tenants, redis } = c.get("services");
    const tenant = found(await tenants.getTenant(c.req.param("id")), "Tenant");
    const key = found(await tenants.getKey(tenant.id, c.req.param("keyId")), "Key");
    const daily = tenant.limits.dailyBudgetUsd;
    const share = key.widget?.dailyBudgetShare;
    return c.json(await keyUsageReport(redis, tenant.id, key.id, daily !== null && share !== undefined ? daily * share : daily));
  })
  .get("/tenants/:id/usage", async (c) => {
    const tenant: Tenant = found(await c.get("services").tenants.getTenant(c.req.param("id")), "Tenant");
    return c.json(
      await usageReport(c.get("services").redis, tenant.id, {
        daily: tenant.limits.dailyBudgetUsd,
        monthly: tenant.limits.monthlyBudgetUsd,
      }),
    );
  });

/** A key record as operators see it: the hash and the Turnstile secret stay in storage. */
function publicKey<T extends KeyRecord>(record: T): Omit<T, "hash"> {
  const { hash: _hash, ...rest } = record;
  return { ...rest, widget: record.widget && redactedWidgetConfig(record.widget) };
}
