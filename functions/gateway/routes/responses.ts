import { Hono } from "hono";
import { readJsonBody } from "../../../shared/http/body.js";
import { responsesRequestSchema, toMessagesRequestFromResponses } from "../../../shared/openai/responses/request.js";
import type { GatewayAppEnv } from "../context.js";
import { responsesShape } from "../pipeline/responses-shape.js";
import { serveMessages } from "../pipeline/serve-messages.js";
import { serveContext } from "./serve-context.js";
import { DEFAULT_CHAT_MAX_TOKENS } from "./chat-completions.js";

/** The OpenAI Responses API, translated onto the Messages pipeline (routing, limits, budgets, metering). */
export const responses = new Hono<GatewayAppEnv>().post("/v1/responses", async (c) => {
  const request = await readJsonBody(c.req.raw, responsesRequestSchema, c.get("config").body);
  const messages = toMessagesRequestFromResponses(request, { maxTokens: DEFAULT_CHAT_MAX_TOKENS });
  return serveMessages(serveContext(c), messages, responsesShape(request, c.get("log").requestId));
});
