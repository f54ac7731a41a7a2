import type { OutputPlan, PlannedBlock, StopReason } from "./generate.js";
import type { ErrorPayload } from "./errors.js";
import type { ContentBlockBody, MessageBody, MessageHeader } from "./message.js";
import { emptyContentBlockBody, startingMessageBody } from "./message.js";

export type Delta =
  | { type: "text_delta"; text: string }
  | { type: "thinking_delta"; thinking: string }
  | { type: "signature_delta"; signature: string }
  | { type: "input_json_delta"; partial_json: string };

export type StreamEvent =
  | { type: "message_start"; message: MessageBody }
  | { type: "ping" }
  | { type: "content_block_start"; index: number; content_block: ContentBlockBody }
  | { type: "content_block_delta"; index: number; delta: Delta }
  | { type: "content_block_stop"; index: number }
  | { type: "message_delta"; delta: { stop_reason: StopReason; stop_sequence: null }; usage: { output_tokens: number } }
  | { type: "message_stop" }
  | { type: "error"; error: ErrorPayload };

/** Deltas that carry generated content cost one output token each; signatures are free. */
export function costsOutputToken(event: StreamEvent): boolean {
  return event.type === "content_block_delta" && event.delta.type !== "signature_delta";
}

function pieceDelta(block: PlannedBlock, piece: string): Delta {
  switch (block.type) {
    case "thinking":
      return { type: "thinking_delta", thinking: piece };
    case "text":
      return { type: "text_delta", text: piece };
    case "tool_use":
      return { type: "input_json_delta", partial_json: piece };
  }
}

function blockEvents(block: PlannedBlock, index: number): StreamEvent[] {
  const deltas = block.pieces.map((piece): StreamEvent => ({ type: "content_block_delta", index, delta: pieceDelta(block, piece) }));
  const signature: StreamEvent[] =
    block.type === "thinking"
      ? [{ type: "content_block_delta", index, delta: { type: "signature_delta", signature: block.signature } }]
      : [];
  return [
    { type: "content_block_start", index, content_block: emptyContentBlockBody(block) },
    ...deltas,
    ...signature,
    { type: "content_block_stop", index },
  ];
}

/** The complete event sequence of a successful stream, in the documented order. */
export function streamEvents(header: MessageHeader, plan: OutputPlan): StreamEvent[] {
  return [
    { type: "message_start", message: startingMessageBody(header) },
    { type: "ping" },
    ...plan.blocks.flatMap(blockEvents),
    {
      type: "message_delta",
      delta: { stop_reason: plan.stopReason, stop_sequence: null },
      usage: { output_tokens: plan.outputTokens },
    },
    { type: "message_stop" },
  ];
}

/** SSE framing exactly as the API writes it. */
export function formatSseEvent(event: StreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
