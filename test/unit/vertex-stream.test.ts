import { describe, expect, it } from "vitest";
import { vertexStreamWithModel } from "../../shared/providers/vertex/stream.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();

async function pass(chunks: readonly Uint8Array[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const reader = vertexStreamWithModel(source, "claude-haiku-4-5-20251001").getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

const start = `event: message_start\ndata: ${JSON.stringify({
  type: "message_start",
  message: { id: "msg_vrtx_01", model: "claude-haiku-4-5@20251001", content: [], usage: { input_tokens: 5, output_tokens: 1 } },
})}\n\n`;
const rest = 'event: ping\ndata: {"type": "ping"}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n';

describe("vertexStreamWithModel", () => {
  it("rewrites message_start's model and passes every later byte through untouched", async () => {
    const bytes = utf8.encode(start + rest);
    const cut = 30;
    const tail = utf8.encode("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    const out = await pass([bytes.subarray(0, cut), bytes.subarray(cut), tail]);
    const all = out.map((chunk) => text.decode(chunk)).join("");
    const firstEnd = all.indexOf("\n\n") + 2;
    const data = JSON.parse(all.slice(0, firstEnd).split("\n")[1]!.slice("data: ".length)) as { message: Record<string, unknown> };
    expect(data.message).toEqual({ id: "msg_vrtx_01", model: "claude-haiku-4-5-20251001", content: [], usage: { input_tokens: 5, output_tokens: 1 } });
    expect(all.slice(firstEnd)).toBe(rest + text.decode(tail));
    expect(out.at(-1)).toBe(tail);
  });

  it("leaves a stream that does not start with message_start as it is", async () => {
    const error = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const out = await pass([utf8.encode(error + rest)]);
    expect(out.map((chunk) => text.decode(chunk)).join("")).toBe(error + rest);
  });

  it("passes a first event it cannot bound through unchanged", async () => {
    const huge = utf8.encode(`event: message_start\ndata: {"pad":"${"x".repeat(70_000)}"`);
    const out = await pass([huge, utf8.encode("}\n\n")]);
    expect(out.map((chunk) => text.decode(chunk)).join("")).toBe(`${text.decode(huge)}}\n\n`);
  });
});
