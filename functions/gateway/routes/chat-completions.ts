import { Hono } from "hono";
import { readJsonBody } from "../../../shared/http/body.js";
import { chatCompletionRequestSchema, toMessagesRequest } from "../../../shared/openai/request.js";
import type { GatewayAppEnv } from "../context.js";
import { openAIShape } from "../pipeline/openai-shape.js";
import { serveMessages } from "../pipeline/serve-messages.js";
import { serveContext } from "./serve-context.js";

/** max_tokens for OpenAI requests that set none (OpenAI lets the model decide; Anthropic requires one). */
export const DEFAULT_CHAT_MAX_TOKENS = 4_096;

/** The OpenAI-compatible Chat Completions API, translated onto the Messages pipeline. */
export const chatCompletions = new Hono<GatewayAppEnv>().post("/v1/chat/completions", async (c) => {
  const chat = await readJsonBody(c.req.raw, chatCompletionRequestSchema, c.get("config").body);
  const request = toMessagesRequest(chat, { maxTokens: DEFAULT_CHAT_MAX_TOKENS });
  return serveMessages(serveContext(c), request, openAIShape(chat, c.get("log").requestId));
});
