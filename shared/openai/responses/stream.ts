import type { SseEvent } from "../../sse/parser.js";
import { parseJsonOrUndefined } from "../../text/json.js";
import type { AnthropicUsage } from "../anthropic-types.js";
import { itemIds, type ResponseFrame, responseObject, responseUsage, statusOf } from "./response.js";
import type { FunctionCallOutputItem, MessageOutputItem, OutputItem, OutputText } from "./types.js";

/** The fields of Anthropic stream events that the translation reads. */
type StreamEventData = {
  index?: unknown;
  message?: { usage?: AnthropicUsage };
  content_block?: { type?: unknown; id?: unknown; name?: unknown };
  delta?: { type?: unknown; text?: unknown; partial_json?: unknown; stop_reason?: unknown };
  usage?: AnthropicUsage;
  error?: { type?: unknown; message?: unknown };
};

type OpenBlock =
  | { kind: "text"; item: MessageOutputItem; outputIndex: number; contentIndex: number; part: OutputText }
  | { kind: "function"; item: FunctionCallOutputItem; outputIndex: number };

/**
 * Translates an Anthropic Messages stream into the Responses API's stream, one event at a
 * time: each call returns the SSE text to send for that event right away (possibly
 * nothing). Text blocks in a row stream as the parts of one message item, each tool_use
 * block as a function_call item; the stream ends with response.completed (or
 * .incomplete, or an error and response.failed) carrying the whole response and usage.
 */
export class ResponsesStreamTranslator {
  private sequence = 0;
  private readonly output: OutputItem[] = [];
  private readonly blocks = new Map<number, OpenBlock>();
  private message: { item: MessageOutputItem; outputIndex: number } | null = null;
  private usage: AnthropicUsage = {};
  private stopReason: string | null = null;
  private finished = false;

  constructor(private readonly frame: ResponseFrame) {}

  translate(event: SseEvent): string {
    if (this.finished) return "";
    const data = parseJsonOrUndefined(event.data) as StreamEventData | undefined;
    switch (event.event) {
      case "message_start": {
        this.addUsage(data?.message?.usage);
        const created = this.snapshot("in_progress");
        return this.emit("response.created", { response: created }) + this.emit("response.in_progress", { response: created });
      }
      case "content_block_start":
        return this.blockStart(data);
      case "content_block_delta":
        return this.blockDelta(data);
      case "content_block_stop":
        return this.blockStop(data);
      case "message_delta":
        if (typeof data?.delta?.stop_reason === "string") this.stopReason = data.delta.stop_reason;
        this.addUsage(data?.usage);
        return "";
      case "message_stop": {
        this.finished = true;
        const status = statusOf(this.stopReason);
        const closing = this.closeMessage(status);
        const response = responseObject(this.frame, { status, output: this.output, usage: responseUsage(this.usage), stopReason: this.stopReason });
        return closing + this.emit(status === "completed" ? "response.completed" : "response.incomplete", { response });
      }
      case "error":
        return this.fail(typeof data?.error?.type === "string" ? data.error.type : "api_error", typeof data?.error?.message === "string" ? data.error.message : "The upstream failed.");
      default:
        return ""; // ping and event types added later
    }
  }

  /** Closes a stream that ended without message_stop: the response failed. */
  end(): string {
    return this.finished ? "" : this.fail("api_error", "The answer ended before it was complete; retry.");
  }

  private blockStart(data: StreamEventData | undefined): string {
    const index = typeof data?.index === "number" ? data.index : -1;
    const block = data?.content_block;
    if (block?.type === "text") {
      let out = "";
      if (!this.message) {
        const outputIndex = this.output.length;
        const item: MessageOutputItem = { type: "message", id: itemIds.message(this.frame.id, outputIndex), status: "in_progress", role: "assistant", content: [] };
        this.output.push(item);
        this.message = { item, outputIndex };
        out += this.emit("response.output_item.added", { output_index: outputIndex, item: { ...item, content: [] } });
      }
      const { item, outputIndex } = this.message;
      const part: OutputText = { type: "output_text", text: "", annotations: [] };
      item.content.push(part);
      const contentIndex = item.content.length - 1;
      this.blocks.set(index, { kind: "text", item, outputIndex, contentIndex, part });
      return out + this.emit("response.content_part.added", { item_id: item.id, output_index: outputIndex, content_index: contentIndex, part: { ...part } });
    }
    if (block?.type === "tool_use" && typeof block.id === "string" && typeof block.name === "string") {
      const out = this.closeMessage("completed");
      const outputIndex = this.output.length;
      const item: FunctionCallOutputItem = { type: "function_call", id: itemIds.functionCall(block.id), call_id: block.id, name: block.name, arguments: "", status: "in_progress" };
      this.output.push(item);
      this.blocks.set(index, { kind: "function", item, outputIndex });
      return out + this.emit("response.output_item.added", { output_index: outputIndex, item: { ...item } });
    }
    return ""; // thinking and server-tool blocks are not part of this API's output
  }

  private blockDelta(data: StreamEventData | undefined): string {
    const open = typeof data?.index === "number" ? this.blocks.get(data.index) : undefined;
    const delta = data?.delta;
    if (open?.kind === "text" && delta?.type === "text_delta" && typeof delta.text === "string") {
      open.part.text += delta.text;
      return this.emit("response.output_text.delta", {
        item_id: open.item.id,
        output_index: open.outputIndex,
        content_index: open.contentIndex,
        delta: delta.text,
        logprobs: [],
      });
    }
    if (open?.kind === "function" && delta?.type === "input_json_delta" && typeof delta.partial_json === "string") {
      open.item.arguments += delta.partial_json;
      return this.emit("response.function_call_arguments.delta", { item_id: open.item.id, output_index: open.outputIndex, delta: delta.partial_json });
    }
    return "";
  }

  private blockStop(data: StreamEventData | undefined): string {
    const index = typeof data?.index === "number" ? data.index : -1;
    const open = this.blocks.get(index);
    this.blocks.delete(index);
    if (open?.kind === "text") {
      const place = { item_id: open.item.id, output_index: open.outputIndex, content_index: open.contentIndex };
      return (
        this.emit("response.output_text.done", { ...place, text: open.part.text, logprobs: [] }) +
        this.emit("response.content_part.done", { ...place, part: { ...open.part } })
      );
    }
    if (open?.kind === "function") {
      // A tool without parameters streams no input JSON at all; clients JSON.parse the arguments.
      if (open.item.arguments === "") open.item.arguments = "{}";
      open.item.status = "completed";
      return (
        this.emit("response.function_call_arguments.done", { item_id: open.item.id, output_index: open.outputIndex, arguments: open.item.arguments }) +
        this.emit("response.output_item.done", { output_index: open.outputIndex, item: { ...open.item } })
      );
    }
    return "";
  }

  private closeMessage(status: MessageOutputItem["status"]): string {
    if (!this.message) return "";
    const { item, outputIndex } = this.message;
    this.message = null;
    item.status = status;
    return this.emit("response.output_item.done", { output_index: outputIndex, item: { ...item, content: item.content.map((part) => ({ ...part })) } });
  }

  private fail(code: string, message: string): string {
    this.finished = true;
    const response = responseObject(this.frame, {
      status: "failed",
      output: this.output,
      usage: responseUsage(this.usage),
      error: { code, message },
    });
    return this.emit("error", { code, message, param: null }) + this.emit("response.failed", { response });
  }

  private snapshot(status: "in_progress") {
    return responseObject(this.frame, { status, output: [], usage: null });
  }

  private addUsage(usage: AnthropicUsage | undefined): void {
    if (usage) this.usage = { ...this.usage, ...definedFields(usage) };
  }

  private emit(type: string, fields: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...fields })}\n\n`;
  }
}

function definedFields(usage: AnthropicUsage): AnthropicUsage {
  return Object.fromEntries(Object.entries(usage).filter(([, value]) => typeof value === "number")) as AnthropicUsage;
}
