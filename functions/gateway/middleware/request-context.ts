import { createMiddleware } from "hono/factory";
import { type GatewayConfig, gatewayConfig } from "../../../shared/config/env.js";
import { errorResponse, GatewayError } from "../../../shared/http/errors.js";
import { checkHeaderLimits } from "../../../shared/http/header-limits.js";
import { newRequestId } from "../../../shared/http/request-id.js";
import { RequestLog } from "../../../shared/observability/request-log.js";
import type { GatewayAppEnv } from "../context.js";

export const REQUEST_ID_HEADER = "x-request-id";

/**
 * Gives every request an id, a config and a log line; stamps the id on the
 * response and writes the log line unless a stream will write it when it ends.
 */
export const requestContext = createMiddleware<GatewayAppEnv>(async (c, next) => {
  let config: GatewayConfig;
  try {
    config = gatewayConfig(c.env);
  } catch (error) {
    // The reason (which variable, what is wrong; never a secret's value) is for the operator's log, not the caller.
    console.error(`gateway configuration invalid: ${error instanceof Error ? error.message : String(error)}`);
    throw new GatewayError("api_error", "The gateway's configuration is invalid; its operator can find the reason in the gateway's log.", { status: 503 });
  }
  const log = new RequestLog(newRequestId(), performance.now());
  log.set({ region: config.region, method: c.req.method, path: c.req.path });
  c.set("config", config);
  c.set("log", log);
  const refused = checkHeaderLimits(c.req.raw.headers);
  if (refused) {
    // Answered here rather than thrown, so the id is still stamped and the line still written.
    log.set({ error_type: refused.type });
    c.res = errorResponse(refused, log.requestId);
  } else {
    await next();
  }
  c.res.headers.set(REQUEST_ID_HEADER, log.requestId);
  log.set({ status: c.res.status });
  if (!log.deferred) log.emit();
});
