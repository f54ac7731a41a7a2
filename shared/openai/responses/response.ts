import type { AnthropicMessage, AnthropicUsage } from "../anthropic-types.js";
import type { ResponsesRequest } from "./request.js";
import type { OutputItem, OutputText, ResponseEcho, ResponseObject, ResponseStatus, ResponseUsage } from "./types.js";
import { toChatUsage } from "../usage.js";

/** What every response of one request shares: its id, time, model and the request fields it echoes. */
export interface ResponseFrame {
  id: string;
  createdAt: number;
  model: string;
  echo: ResponseEcho;
}

export function responseFrame(request: ResponsesRequest, id: string, model: string, createdAt: number): ResponseFrame {
  return {
    id,
    createdAt,
    model,
    echo: {
      instructions: request.instructions ?? null,
      max_output_tokens: request.max_output_tokens ?? null,
      parallel_tool_calls: request.parallel_tool_calls ?? true,
      temperature: request.temperature ?? null,
      top_p: request.top_p ?? null,
      tool_choice: request.tool_choice ?? "auto",
      tools: request.tools ?? [],
      metadata: request.metadata ?? {},
      user: request.user ?? null,
    },
  };
}

/** A response object in any state: created (no output yet), finished, failed. */
export function responseObject(
  frame: ResponseFrame,
  state: { status: ResponseStatus; output: OutputItem[]; usage: ResponseUsage | null; stopReason?: string | null; error?: ResponseObject["error"] },
): ResponseObject {
  return {
    id: frame.id,
    object: "response",
    created_at: frame.createdAt,
    status: state.status,
    error: state.error ?? null,
    incomplete_details: state.status === "incomplete" ? { reason: state.stopReason === "refusal" ? "content_filter" : "max_output_tokens" } : null,
    model: frame.model,
    output: state.output,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    text: { format: { type: "text" } },
    truncation: "disabled",
    usage: state.usage,
    ...frame.echo,
  };
}

/** A stop reason as the Responses API's status: cut short by max tokens or a refusal is "incomplete". */
export function statusOf(stopReason: string | null | undefined): "completed" | "incomplete" {
  return stopReason === "max_tokens" || stopReason === "model_context_window_exceeded" || stopReason === "refusal" ? "incomplete" : "completed";
}

/** Usage in the Responses API's terms: input tokens cover the whole prompt, cached part included. */
export function responseUsage(usage: AnthropicUsage): ResponseUsage {
  const chat = toChatUsage(usage);
  return {
    input_tokens: chat.prompt_tokens,
    input_tokens_details: chat.prompt_tokens_details,
    output_tokens: chat.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: chat.total_tokens,
  };
}

/** Item ids: the message's ids are the gateway's, a function call's carries its tool_use id. */
export const itemIds = {
  message: (responseId: string, index: number) => `msg_${responseId.slice("resp_".length)}_${index}`,
  functionCall: (callId: string) => `fc_${callId}`,
};

/**
 * A complete Anthropic message as a Responses API response: text blocks in a row make one
 * message item (one output_text part each), each tool_use a function_call item. Thinking
 * and server-tool blocks are left out.
 */
export function toResponse(message: AnthropicMessage, frame: ResponseFrame): ResponseObject {
  const output: OutputItem[] = [];
  let texts: OutputText[] | null = null;
  const status = statusOf(message.stop_reason);
  for (const block of message.content) {
    if (block.type === "text" && typeof block.text === "string") {
      if (!texts) {
        texts = [];
        output.push({ type: "message", id: itemIds.message(frame.id, output.length), status, role: "assistant", content: texts });
      }
      texts.push({ type: "output_text", text: block.text, annotations: [] });
    } else if (block.type === "tool_use" && typeof block.id === "string" && typeof block.name === "string") {
      texts = null;
      output.push({
        type: "function_call",
        id: itemIds.functionCall(block.id),
        call_id: block.id,
        name: block.name,
        arguments: JSON.stringify(block.input ?? {}),
        status: "completed",
      });
    }
  }
  return responseObject(frame, { status, output, usage: responseUsage(message.usage), stopReason: message.stop_reason });
}
