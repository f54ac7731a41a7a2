import type { ChatFinishReason } from "./chat-types.js";

/**
 * OpenAI's finish_reason for an Anthropic stop_reason. pause_turn (a server tool paused
 * the turn) and reasons added later have no OpenAI counterpart; "stop" is the closest.
 */
export function toFinishReason(stopReason: string | null | undefined): ChatFinishReason {
  switch (stopReason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "stop";
  }
}
