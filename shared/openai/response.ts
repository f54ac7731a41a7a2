import type { AnthropicMessage } from "./anthropic-types.js";
import type { ChatCompletion, ChatToolCall } from "./chat-types.js";
import { toFinishReason } from "./finish-reason.js";
import { toChatUsage } from "./usage.js";

/**
 * A complete Messages API response as an OpenAI `chat.completion`. Text blocks are
 * joined as the stream's deltas would be; tool_use blocks become tool_calls; thinking
 * and server tool blocks have no OpenAI counterpart and are dropped.
 */
export function toChatCompletion(message: AnthropicMessage, requestModel: string, id: string, created: number): ChatCompletion {
  let text = "";
  const toolCalls: ChatToolCall[] = [];
  for (const block of message.content) {
    if (block.type === "text" && typeof block.text === "string") {
      text += block.text;
    } else if (block.type === "tool_use" && typeof block.id === "string" && typeof block.name === "string") {
      toolCalls.push({ id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
  }
  return {
    id,
    object: "chat.completion",
    created,
    model: requestModel,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          // OpenAI sends null content beside tool calls, never an empty string.
          content: text === "" && toolCalls.length > 0 ? null : text,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: toFinishReason(message.stop_reason),
      },
    ],
    usage: toChatUsage(message.usage),
  };
}
