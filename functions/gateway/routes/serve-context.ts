import type { Context } from "hono";
import type { GatewayAppEnv } from "../context.js";
import type { ServeContext } from "../pipeline/serve-messages.js";

/** The one place a route hands the Messages pipeline what it needs of Hono's context. */
export function serveContext(c: Context<GatewayAppEnv>): ServeContext {
  return {
    config: c.get("config"),
    services: c.get("services"),
    log: c.get("log"),
    caller: c.get("caller"),
    anthropicBeta: c.req.header("anthropic-beta") ?? null,
    clientSignal: c.req.raw.signal,
    waitUntil: (work) => c.executionCtx.waitUntil(work),
  };
}
