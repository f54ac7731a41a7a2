import { createMiddleware } from "hono/factory";
import { constantTimeEqual, sha256Hex } from "../../../shared/auth/constant-time.js";
import { clientNetwork, networkId } from "../../../shared/auth/network.js";
import { bearerToken } from "../../../shared/auth/presented-key.js";
import { GatewayError } from "../../../shared/http/errors.js";
import type { GatewayAppEnv } from "../context.js";

/**
 * Guards /admin with the ADMIN_TOKEN secret, presented only as `Authorization: Bearer`
 * and compared in constant time (as digests). Failed attempts are throttled per network.
 */
export const adminAuth = createMiddleware<GatewayAppEnv>(async (c, next) => {
  const { adminToken, gatewaySecret } = c.get("config");
  if (!adminToken) {
    throw new GatewayError("permission_error", "The admin API is disabled: set the ADMIN_TOKEN secret to enable it.");
  }
  const { adminFailures, redis } = c.get("services");
  const network = await networkId(clientNetwork(c.req.raw.headers), gatewaySecret);
  const now = Date.now();
  adminFailures.checkNotBlocked(network, now);
  const presented = bearerToken(c.req.raw.headers);
  if (!presented || !constantTimeEqual(await sha256Hex(presented), await sha256Hex(adminToken))) {
    await adminFailures.recordFailure(redis, network, now);
    throw new GatewayError("authentication_error", "Admin routes need the admin token as Authorization: Bearer <token>.");
  }
  c.get("log").set({ admin: true });
  await next();
});
