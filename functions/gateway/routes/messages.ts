import { Hono } from "hono";
import { readJsonBody } from "../../../shared/http/body.js";
import { messagesRequestSchema } from "../../../shared/validation/messages.js";
import type { GatewayAppEnv } from "../context.js";
import { anthropicShape } from "../pipeline/response-shape.js";
import { serveMessages } from "../pipeline/serve-messages.js";

export const messages = new Hono<GatewayAppEnv>().post("/v1/messages", async (c) => {
  const request = await readJsonBody(c.req.raw, messagesRequestSchema, c.get("config").body);
  return serveMessages(c, request, anthropicShape);
});
