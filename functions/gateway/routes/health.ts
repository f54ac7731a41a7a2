import { Hono } from "hono";
import type { GatewayAppEnv } from "../context.js";

export const health = new Hono<GatewayAppEnv>().get("/healthz", (c) =>
  c.json({ status: "ok", region: c.get("config").region }),
);
