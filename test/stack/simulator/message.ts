import type { OutputPlan, PlannedBlock, StopReason } from "./generate.js";
import type { InputUsage } from "./prompt-cache.js";

/** Response shapes of the Messages API (non-streaming body and `message_start`). */

export type ContentBlockBody =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

export interface UsageBody {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  output_tokens: number;
  service_tier: "standard";
}

export interface MessageBody {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: ContentBlockBody[];
  stop_reason: StopReason | null;
  stop_sequence: null;
  usage: UsageBody;
}

/** What is known about the answer before its content: id, model and input usage. */
export interface MessageHeader {
  id: string;
  model: string;
  input: InputUsage;
}

function usageBody(input: InputUsage, outputTokens: number): UsageBody {
  return {
    input_tokens: input.inputTokens,
    cache_creation_input_tokens: input.cacheCreationInputTokens,
    cache_read_input_tokens: input.cacheReadInputTokens,
    cache_creation: {
      ephemeral_5m_input_tokens: input.cacheCreation.ephemeral5mInputTokens,
      ephemeral_1h_input_tokens: input.cacheCreation.ephemeral1hInputTokens,
    },
    output_tokens: outputTokens,
    service_tier: "standard",
  };
}

function contentBlockBody(block: PlannedBlock): ContentBlockBody {
  switch (block.type) {
    case "thinking":
      return { type: "thinking", thinking: block.pieces.join(""), signature: block.signature };
    case "text":
      return { type: "text", text: block.pieces.join("") };
    case "tool_use":
      return { type: "tool_use", id: block.id, name: block.name, input: block.input };
  }
}

/** The block as `content_block_start` announces it, before any delta. */
export function emptyContentBlockBody(block: PlannedBlock): ContentBlockBody {
  switch (block.type) {
    case "thinking":
      return { type: "thinking", thinking: "", signature: "" };
    case "text":
      return { type: "text", text: "" };
    case "tool_use":
      return { type: "tool_use", id: block.id, name: block.name, input: {} };
  }
}

function messageBody(header: MessageHeader, content: ContentBlockBody[], stopReason: StopReason | null, outputTokens: number): MessageBody {
  return {
    id: header.id,
    type: "message",
    role: "assistant",
    model: header.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: usageBody(header.input, outputTokens),
  };
}

/** The non-streaming response body. */
export function completeMessageBody(header: MessageHeader, plan: OutputPlan): MessageBody {
  return messageBody(header, plan.blocks.map(contentBlockBody), plan.stopReason, plan.outputTokens);
}

/** The message inside `message_start`: no content yet and, as the API reports, output_tokens 1. */
export function startingMessageBody(header: MessageHeader): MessageBody {
  return messageBody(header, [], null, 1);
}
