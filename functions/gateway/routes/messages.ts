import { Hono } from "hono";
import { anthropicVersionOf } from "../../../shared/http/anthropic-version.js";
import { readJsonBody } from "../../../shared/http/body.js";
import { messagesRequestSchema } from "../../../shared/validation/messages.js";
import type { GatewayAppEnv } from "../context.js";
import { anthropicShape } from "../pipeline/response-shape.js";
import { serveMessages } from "../pipeline/serve-messages.js";
import { serveContext } from "./serve-context.js";

export const messages = new Hono<GatewayAppEnv>().post("/v1/messages", async (c) => {
  const config = c.get("config");
  const anthropicVersion = anthropicVersionOf(c.req.raw.headers, config.anthropicVersions);
  const request = await readJsonBody(c.req.raw, messagesRequestSchema, config.body);
  return serveMessages(serveContext(c), request, anthropicShape, { anthropicVersion });
});
