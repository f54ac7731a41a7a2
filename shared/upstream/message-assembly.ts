import type { Message } from "@anthropic-ai/sdk/resources/messages/messages";
import type { SseEvent } from "../sse/parser.js";
import { parseJsonOrUndefined } from "../text/json.js";

type Json = Record<string, unknown>;

/**
 * Builds the complete message a non-streamed call returns from the events of a streamed
 * one, as the API itself does: message_start's message, each content block as started,
 * text, thinking, signature and citation deltas appended, tool input JSON parsed when the
 * block stops, and message_delta's stop reason and usage merged in. The gateway always
 * streams from the upstream, so that what was produced is known even when a non-streamed
 * call is cut short.
 */
export class MessageAssembler {
  private message: Json | null = null;
  private readonly content: Json[] = [];
  private readonly partialJson = new Map<number, string>();
  private error: { type: string; message: string } | null = null;

  observe(event: SseEvent): void {
    const data = parseJsonOrUndefined(event.data) as Json | undefined;
    if (!data) return;
    switch (event.event) {
      case "message_start":
        this.message = { ...(data.message as Json) };
        return;
      case "content_block_start": {
        const index = data.index as number;
        this.content[index] = { ...(data.content_block as Json) };
        return;
      }
      case "content_block_delta":
        return this.applyDelta(data.index as number, (data.delta as Json | undefined) ?? {});
      case "content_block_stop": {
        const index = data.index as number;
        const json = this.partialJson.get(index);
        const block = this.content[index];
        if (json !== undefined && block) block.input = json === "" ? {} : (parseJsonOrUndefined(json) ?? {});
        this.partialJson.delete(index);
        return;
      }
      case "message_delta": {
        if (!this.message) return;
        const delta = (data.delta as Json | undefined) ?? {};
        if ("stop_reason" in delta) this.message.stop_reason = delta.stop_reason;
        if ("stop_sequence" in delta) this.message.stop_sequence = delta.stop_sequence;
        const usage = data.usage as Json | undefined;
        if (usage) {
          const merged = { ...(this.message.usage as Json | undefined) };
          for (const [field, value] of Object.entries(usage)) if (value !== null) merged[field] = value;
          this.message.usage = merged;
        }
        return;
      }
      case "error": {
        const error = (data.error as Json | undefined) ?? {};
        this.error = { type: String(error.type ?? "api_error"), message: String(error.message ?? "") };
        return;
      }
      default:
        return;
    }
  }

  /** The upstream's error event, when the stream ended with one. */
  get upstreamError(): { type: string; message: string } | null {
    return this.error;
  }

  /** The whole message; null when the stream never started one. */
  result(): Message | null {
    if (!this.message) return null;
    return { ...this.message, content: this.content.filter(Boolean) } as unknown as Message;
  }

  private applyDelta(index: number, delta: Json): void {
    const block = this.content[index];
    if (!block) return;
    switch (delta.type) {
      case "text_delta":
        block.text = `${(block.text as string | undefined) ?? ""}${String(delta.text ?? "")}`;
        return;
      case "thinking_delta":
        block.thinking = `${(block.thinking as string | undefined) ?? ""}${String(delta.thinking ?? "")}`;
        return;
      case "signature_delta":
        block.signature = delta.signature;
        return;
      case "citations_delta":
        block.citations = [...((block.citations as unknown[] | null | undefined) ?? []), delta.citation];
        return;
      case "input_json_delta":
        this.partialJson.set(index, `${this.partialJson.get(index) ?? ""}${String(delta.partial_json ?? "")}`);
        return;
      default:
        return;
    }
  }
}
