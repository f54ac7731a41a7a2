import { createMiddleware } from "hono/factory";
import { constantTimeEqual, sha256Hex } from "../../../shared/auth/constant-time.js";
import { presentedKey } from "../../../shared/auth/presented-key.js";
import { GatewayError } from "../../../shared/http/errors.js";
import type { GatewayAppEnv } from "../context.js";

/** Guards /admin with the ADMIN_TOKEN secret, compared in constant time (as digests). */
export const adminAuth = createMiddleware<GatewayAppEnv>(async (c, next) => {
  const expected = c.get("config").adminToken;
  if (!expected) {
    throw new GatewayError("permission_error", "The admin API is disabled: set the ADMIN_TOKEN secret to enable it.");
  }
  const presented = presentedKey(c.req.raw.headers);
  if (!presented || !constantTimeEqual(await sha256Hex(presented), await sha256Hex(expected))) {
    throw new GatewayError("authentication_error", "Admin routes need the admin token as Authorization: Bearer <token>.");
  }
  c.get("log").set({ admin: true });
  await next();
});
