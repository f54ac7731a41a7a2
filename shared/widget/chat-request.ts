import * as z from "zod/mini";
import { GatewayError } from "../http/errors.js";
import { boundedArray } from "../validation/schema-parts.js";
import type { MessagesRequest } from "../validation/messages.js";
import { expected } from "../validation/zod.js";
import type { WidgetConfig } from "./config.js";

/** An answer of max_tokens tokens is surely shorter than this many characters per token. */
const CHARS_PER_TOKEN_CEILING = 8;

/** Longest conversation any widget key may allow; each key sets its own lower limit. */
const MAX_WIDGET_MESSAGES = 500;

const widgetMessage = z.strictObject(
  {
    role: z.enum(["user", "assistant"], { error: expected('"user" or "assistant"') }),
    content: z.string({ error: expected("a string (widget messages are plain text)") }),
  },
  { error: expected('a message such as {"role": "user", "content": "Hello"}') },
);

/** What the browser sends: the conversation and the signature of its latest answer, nothing else. */
export const widgetChatSchema = z.strictObject(
  {
    messages: boundedArray(widgetMessage, {
      min: 1,
      max: MAX_WIDGET_MESSAGES,
      what: `a non-empty array of at most ${MAX_WIDGET_MESSAGES} messages`,
    }),
    signature: z.optional(z.string({ error: expected("the signature of the latest answer, as the chat gave it") }).check(z.maxLength(200))),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `only "messages" and "signature" are accepted from the widget (got ${issue.keys.join(", ")}): the system prompt, model, tools and limits are set on the server`
        : expected('a JSON object such as {"messages": [{"role": "user", "content": "Hello"}]}')(issue),
  },
);

export type WidgetChat = z.infer<typeof widgetChatSchema>;

/**
 * The Messages request a widget conversation becomes: the key's system prompt, model
 * and answer length, the browser's messages, always streamed. `tenantMaxTokens` (the
 * tenant's per-request cap) lowers the key's answer length when it is smaller.
 */
export function widgetMessagesRequest(chat: WidgetChat, config: WidgetConfig, tenantMaxTokens: number | null): MessagesRequest {
  const { messages } = chat;
  if (messages.length > config.maxMessages) {
    throw new GatewayError(
      "invalid_request_error",
      `This conversation has ${messages.length} messages; the widget accepts at most ${config.maxMessages}. Start a new conversation.`,
    );
  }
  // Answers are as long as the key lets them be; only the visitor's messages have the character limit.
  const assistantLimit = Math.max(config.maxMessageChars, config.maxTokens * CHARS_PER_TOKEN_CEILING);
  messages.forEach((message, index) => {
    const limit = message.role === "user" ? config.maxMessageChars : assistantLimit;
    if (message.content.length > limit) {
      throw new GatewayError(
        "invalid_request_error",
        `messages.${index}.content: ${message.content.length} characters is more than the ${limit} allowed; shorten the message.`,
      );
    }
    if (message.content.trim() === "") {
      throw new GatewayError("invalid_request_error", `messages.${index}.content: the message is empty.`);
    }
  });
  if (messages[0]!.role !== "user" || messages.at(-1)!.role !== "user") {
    throw new GatewayError("invalid_request_error", "messages: a conversation starts and ends with a user message.");
  }
  return {
    model: config.model,
    max_tokens: tenantMaxTokens === null ? config.maxTokens : Math.min(config.maxTokens, tenantMaxTokens),
    ...(config.systemPrompt ? { system: config.systemPrompt } : {}),
    messages,
    stream: true,
  };
}
