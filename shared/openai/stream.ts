import type { SseEvent } from "../sse/parser.js";
import type { AnthropicUsage } from "./anthropic-types.js";
import type { ChatCompletionChunk, ChatCompletionChunkDelta, ChatFinishReason } from "./chat-types.js";
import { statusOfAnthropicError, toOpenAIError } from "./errors.js";
import { toFinishReason } from "./finish-reason.js";
import { toChatUsage } from "./usage.js";

export interface ChatStreamOptions {
  /** The same on every chunk, as OpenAI's are: "chatcmpl-..." */
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
  /** stream_options.include_usage: end with a usage chunk, and give every other chunk `usage: null`. */
  includeUsage: boolean;
}

/** The fields of Anthropic stream events that the translation reads. */
type StreamEventData = {
  index?: unknown;
  message?: { usage?: AnthropicUsage };
  content_block?: { type?: unknown; id?: unknown; name?: unknown; text?: unknown };
  delta?: { type?: unknown; text?: unknown; partial_json?: unknown; stop_reason?: unknown };
  usage?: AnthropicUsage;
  error?: { type?: unknown; message?: unknown };
};

interface OpenToolCall {
  /** The call's position among the message's tool calls: OpenAI's tool_calls index. */
  index: number;
  sentArguments: boolean;
}

const DONE = "data: [DONE]\n\n";

/**
 * Translates an Anthropic Messages stream into an OpenAI Chat Completions stream, one
 * event at a time: each call returns the SSE text to send for that event right away
 * (possibly nothing). After message_stop or an error it has said [DONE] and ignores
 * whatever follows.
 */
export class ChatStreamTranslator {
  private readonly usage: AnthropicUsage = {};
  /** Tool calls by the index of their Anthropic content block. */
  private readonly toolCalls = new Map<number, OpenToolCall>();
  private finished = false;

  constructor(private readonly options: ChatStreamOptions) {}

  translate(event: SseEvent): string {
    if (this.finished) return "";
    switch (event.event) {
      case "message_start": {
        const data = parse(event.data);
        this.addUsage(data?.message?.usage);
        return this.chunk({ role: "assistant", content: "" });
      }
      case "content_block_start":
        return this.blockStart(parse(event.data));
      case "content_block_delta":
        return this.blockDelta(parse(event.data));
      case "content_block_stop":
        return this.blockStop(parse(event.data));
      case "message_delta": {
        const data = parse(event.data);
        this.addUsage(data?.usage);
        const stopReason = data?.delta?.stop_reason;
        return this.chunk({}, toFinishReason(typeof stopReason === "string" ? stopReason : null));
      }
      case "message_stop":
        this.finished = true;
        return (this.options.includeUsage ? this.usageChunk() : "") + DONE;
      case "error":
        return this.fail(parse(event.data));
      default:
        return ""; // ping, and event types added later
    }
  }

  /**
   * The text to send when the upstream stream has ended: nothing after a complete
   * response; otherwise an error, so the client does not take a cut-off answer for a
   * whole one.
   */
  end(): string {
    if (this.finished) return "";
    return this.fail({ error: { type: "api_error", message: "The upstream stream ended before the response was complete." } });
  }

  private blockStart(data: StreamEventData | null): string {
    const block = data?.content_block;
    if (block?.type === "text") return typeof block.text === "string" && block.text !== "" ? this.chunk({ content: block.text }) : "";
    if (block?.type !== "tool_use" || typeof data?.index !== "number") return "";
    if (typeof block.id !== "string" || typeof block.name !== "string") return "";
    const index = this.toolCalls.size;
    this.toolCalls.set(data.index, { index, sentArguments: false });
    return this.chunk({ tool_calls: [{ index, id: block.id, type: "function", function: { name: block.name, arguments: "" } }] });
  }

  private blockDelta(data: StreamEventData | null): string {
    const delta = data?.delta;
    if (delta?.type === "text_delta") return typeof delta.text === "string" && delta.text !== "" ? this.chunk({ content: delta.text }) : "";
    if (delta?.type !== "input_json_delta" || typeof delta.partial_json !== "string" || delta.partial_json === "") return "";
    // Only tool_use blocks were given an index; server tool input is not the client's to see.
    const call = typeof data?.index === "number" ? this.toolCalls.get(data.index) : undefined;
    if (!call) return "";
    call.sentArguments = true;
    return this.chunk({ tool_calls: [{ index: call.index, function: { arguments: delta.partial_json } }] });
  }

  private blockStop(data: StreamEventData | null): string {
    const call = typeof data?.index === "number" ? this.toolCalls.get(data.index) : undefined;
    if (!call || call.sentArguments) return "";
    // A tool without parameters streams no input JSON at all; clients JSON.parse the arguments.
    call.sentArguments = true;
    return this.chunk({ tool_calls: [{ index: call.index, function: { arguments: "{}" } }] });
  }

  private fail(data: StreamEventData | null): string {
    this.finished = true;
    const type = data?.error?.type;
    const { body } = toOpenAIError(statusOfAnthropicError(typeof type === "string" ? type : "api_error"), data);
    return sse(body) + DONE;
  }

  private chunk(delta: ChatCompletionChunkDelta, finishReason: ChatFinishReason | null = null): string {
    const { id, created, model, includeUsage } = this.options;
    const chunk: ChatCompletionChunk = {
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (includeUsage) chunk.usage = null;
    return sse(chunk);
  }

  private usageChunk(): string {
    const { id, created, model } = this.options;
    const chunk: ChatCompletionChunk = { id, object: "chat.completion.chunk", created, model, choices: [], usage: toChatUsage(this.usage) };
    return sse(chunk);
  }

  /** message_start carries the input counts, message_delta the output (and, lately, updated input) counts. */
  private addUsage(usage: AnthropicUsage | undefined): void {
    if (!usage) return;
    if (typeof usage.input_tokens === "number") this.usage.input_tokens = usage.input_tokens;
    if (typeof usage.output_tokens === "number") this.usage.output_tokens = usage.output_tokens;
    if (typeof usage.cache_creation_input_tokens === "number") this.usage.cache_creation_input_tokens = usage.cache_creation_input_tokens;
    if (typeof usage.cache_read_input_tokens === "number") this.usage.cache_read_input_tokens = usage.cache_read_input_tokens;
  }
}

function parse(data: string): StreamEventData | null {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === "object" && value !== null ? (value as StreamEventData) : null;
  } catch {
    return null;
  }
}

function sse(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}
