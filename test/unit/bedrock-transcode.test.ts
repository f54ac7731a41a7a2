import { describe, expect, it } from "vitest";
import { BedrockSseTranscoder } from "../../shared/providers/bedrock/transcode.js";
import { bedrockChunkMessage, bedrockExceptionMessage, encodeEventStreamMessage } from "../stack/simulator/event-stream-encoder.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const MODEL = "claude-sonnet-4-5-20250929";

/** Feeds chunks one at a time and records what the transcoder emitted for each, stopping where it ends the answer. */
function transcode(chunks: readonly Uint8Array[]): { afterEachChunk: string[][]; all: string[]; ended: boolean } {
  const transcoder = new BedrockSseTranscoder(MODEL);
  const afterEachChunk: string[][] = [];
  let ended = false;
  for (const chunk of chunks) {
    const emitted: string[] = [];
    const more = transcoder.push(chunk, (bytes) => emitted.push(text.decode(bytes)));
    afterEachChunk.push(emitted);
    if (!more) {
      ended = true;
      break;
    }
  }
  if (!ended) {
    const emitted: string[] = [];
    transcoder.end((bytes) => emitted.push(text.decode(bytes)));
    afterEachChunk.push(emitted);
  }
  return { afterEachChunk, all: afterEachChunk.flat(), ended };
}

const event = (json: string): Uint8Array => bedrockChunkMessage(json, json.length % 17);
const messageStart = JSON.stringify({
  type: "message_start",
  message: { id: "msg_bdrk_01", type: "message", role: "assistant", model: "anthropic.claude-sonnet-4-5-20250929-v1:0", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } },
});
const delta = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" caf\\u00e9 ☕"}}';
const messageStop = '{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":3,"invocationLatency":900,"firstByteLatency":400}}';

describe("BedrockSseTranscoder", () => {
  it("re-emits each chunk as the Anthropic API's SSE event, one chunk each", () => {
    const { all } = transcode([event(messageStart), event('{"type":"ping"}'), event(delta), event(messageStop)]);
    expect(all).toHaveLength(4);
    expect(all[1]).toBe('event: ping\ndata: {"type":"ping"}\n\n');
    expect(all[2]).toBe(`event: content_block_delta\ndata: ${delta}\n\n`);
    expect(all[3]).toBe('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    const [head, data] = all[0]!.split("\n");
    expect(head).toBe("event: message_start");
    const started = JSON.parse(data!.slice("data: ".length)) as { message: Record<string, unknown> };
    expect(started.message.model).toBe(MODEL);
    expect(started.message.id).toBe("msg_bdrk_01");
    expect(started.message.usage).toEqual({ input_tokens: 12, output_tokens: 1 });
  });

  it("emits an event the moment its frame is complete, not before, however the bytes are split", () => {
    const frames = [event(delta), event('{"type":"content_block_stop","index":0}')];
    const first = frames[0]!;
    const cut = Math.floor(first.length / 2);
    const { afterEachChunk } = transcode([
      first.subarray(0, cut),
      first.subarray(cut),
      // The second frame together with nothing else, then two frames in one chunk.
      frames[1]!,
      new Uint8Array([...first, ...frames[1]!]),
    ]);
    expect(afterEachChunk.map((emitted) => emitted.length)).toEqual([0, 1, 1, 2, 0]);
    expect(afterEachChunk[1]![0]).toContain("event: content_block_delta");
  });

  it("turns an exception frame into an Anthropic error event and ends the answer there", () => {
    const { all, ended } = transcode([
      event(delta),
      bedrockExceptionMessage("modelStreamErrorException", "The model stream failed."),
      event(delta),
    ]);
    expect(ended).toBe(true);
    expect(all).toHaveLength(2);
    expect(all[1]).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"The model stream failed."}}\n\n',
    );
  });

  it.each([
    ["throttlingException", "rate_limit_error"],
    ["serviceUnavailableException", "overloaded_error"],
    ["modelTimeoutException", "timeout_error"],
    ["validationException", "invalid_request_error"],
    ["internalServerException", "api_error"],
  ])("maps a %s frame to %s", (exception, type) => {
    const { all } = transcode([bedrockExceptionMessage(exception, "details")]);
    expect(JSON.parse(all[0]!.split("data: ")[1]!)).toEqual({ type: "error", error: { type, message: "details" } });
  });

  it("ends with an api_error event on a corrupt frame or a stream cut mid-frame", () => {
    const corrupt = event(delta).slice();
    corrupt[corrupt.length - 1]! ^= 1;
    const corrupted = transcode([event(delta), corrupt, event(delta)]);
    expect(corrupted.all).toHaveLength(2);
    expect(corrupted.all[1]).toMatch(/^event: error\ndata: .*"api_error".*checksum/);

    const whole = event(delta);
    const cut = transcode([whole.subarray(0, whole.length - 3)]);
    expect(cut.all).toEqual([expect.stringMatching(/^event: error\n.*ended in the middle of an event/)]);
  });

  it("takes chunk payloads in any JSON layout and events in any JSON formatting", () => {
    const base64 = btoa('{"type":"content_block_stop","index":0}');
    const escaped = encodeEventStreamMessage(
      [
        [":event-type", "chunk"],
        [":message-type", "event"],
      ],
      utf8.encode(`{"p":"xyz","bytes":"${base64.replace(/\//g, "\\/")}"}`),
    );
    const pretty = event('{\n  "type": "message_delta",\n  "delta": {"stop_reason": "end_turn"},\n  "usage": {"output_tokens": 9}\n}');
    const { all } = transcode([escaped, pretty]);
    expect(all).toEqual([
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}\n\n',
    ]);
  });

  it("passes unknown event types on and drops chunks without a type", () => {
    const { all } = transcode([event('{"type":"future_event","x":1}'), event('{"keepalive":true}')]);
    expect(all).toEqual(['event: future_event\ndata: {"type":"future_event","x":1}\n\n']);
  });
});
