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
  const log = new RequestLog(newRequestId(), performance.now());
  let config: GatewayConfig;
  try {
    config = gatewayConfig(c.env);
  } catch (error) {
    // Which setting and why is for the operator's log, never for the caller (nor a secret's value: the messages name settings only).
    log.set({ method: c.req.method, path: c.req.path, status: 503, error_type: "api_error", error_message: error instanceof Error ? error.message : String(error) });
    log.emit();
    const refused = new GatewayError("api_error", "The gateway's configuration is invalid; its operator can find the reason in the gateway's log.", { status: 503 });
    c.res = errorResponse(refused, log.requestId);
    c.res.headers.set(REQUEST_ID_HEADER, log.requestId);
    return;
  }
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
