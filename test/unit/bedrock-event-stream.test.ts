import { describe, expect, it } from "vitest";
import { crc32 } from "../../shared/providers/crc32.js";
import { EventStreamDecoder, EventStreamError, type EventStreamMessage } from "../../shared/providers/bedrock/event-stream.js";
import { bedrockChunkMessage, encodeEventStreamMessage } from "../stack/simulator/event-stream-encoder.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();

interface Decoded {
  messageType: string;
  kind: string;
  errorMessage: string;
  payload: string;
}

function decodeAll(decoder: EventStreamDecoder, chunks: readonly Uint8Array[]): Decoded[] {
  const out: Decoded[] = [];
  const collect = (message: EventStreamMessage): void => {
    out.push({ messageType: message.messageType, kind: message.kind, errorMessage: message.errorMessage, payload: text.decode(message.payload) });
  };
  for (const chunk of chunks) decoder.push(chunk, collect);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

const FIRST = bedrockChunkMessage('{"type":"ping"}', 7);
const SECOND = encodeEventStreamMessage(
  [
    [":message-type", "exception"],
    [":exception-type", "throttlingException"],
    ["flag", true],
    ["count", 42],
    ["blob", Uint8Array.of(1, 2, 3)],
    [":content-type", "application/json"],
  ],
  utf8.encode('{"message":"Too many requests"}'),
);

describe("crc32", () => {
  it("matches the standard check value", () => {
    expect(crc32(utf8.encode("123456789"))).toBe(0xcbf43926);
  });
});

describe("EventStreamDecoder", () => {
  it("reads the headers that say what a message is, and its payload", () => {
    const [chunk, exception] = decodeAll(new EventStreamDecoder(), [concat([FIRST, SECOND])]);
    expect(chunk).toMatchObject({ messageType: "event", kind: "chunk" });
    expect(JSON.parse(chunk!.payload)).toEqual({ bytes: btoa('{"type":"ping"}'), p: "abcdefg" });
    expect(exception).toEqual({
      messageType: "exception",
      kind: "throttlingException",
      errorMessage: "",
      payload: '{"message":"Too many requests"}',
    });
  });

  it("gives the same messages whatever the chunking, each as soon as its last byte is in", () => {
    const whole = concat([FIRST, SECOND, FIRST]);
    const expected = decodeAll(new EventStreamDecoder(), [whole]);
    for (let cut = 1; cut < whole.length; cut += 1) {
      const decoder = new EventStreamDecoder();
      const before = decodeAll(decoder, [whole.subarray(0, cut)]);
      const messagesEnded = [FIRST.length, FIRST.length + SECOND.length].filter((end) => end <= cut).length;
      expect(before).toHaveLength(messagesEnded);
      expect(decoder.midMessage).toBe(cut !== FIRST.length && cut !== FIRST.length + SECOND.length);
      expect([...before, ...decodeAll(decoder, [whole.subarray(cut)])]).toEqual(expected);
    }
    const byteByByte = new EventStreamDecoder();
    expect(decodeAll(byteByByte, Array.from(whole, (byte) => Uint8Array.of(byte)))).toEqual(expected);
  });

  it("reads :error-code and :error-message of error messages", () => {
    const error = encodeEventStreamMessage(
      [
        [":message-type", "error"],
        [":error-code", "InternalFailure"],
        [":error-message", "Something broke"],
      ],
      new Uint8Array(0),
    );
    expect(decodeAll(new EventStreamDecoder(), [error])).toEqual([
      { messageType: "error", kind: "InternalFailure", errorMessage: "Something broke", payload: "" },
    ]);
  });

  it("refuses a prelude whose checksum does not match", () => {
    const corrupt = FIRST.slice();
    corrupt[3]! ^= 1;
    expect(() => decodeAll(new EventStreamDecoder(), [corrupt])).toThrow(/prelude checksum/);
  });

  it("refuses a message whose checksum does not match, before handing it over", () => {
    const corrupt = FIRST.slice();
    corrupt[20]! ^= 0x40;
    const seen: string[] = [];
    expect(() => new EventStreamDecoder().push(corrupt, (message) => seen.push(message.kind))).toThrow(EventStreamError);
    expect(seen).toEqual([]);
  });

  it("refuses lengths outside the framing's bounds", () => {
    const tooShort = new Uint8Array(12);
    const view = new DataView(tooShort.buffer);
    view.setUint32(0, 8);
    view.setUint32(8, crc32(tooShort, 0, 8));
    expect(() => decodeAll(new EventStreamDecoder(), [tooShort])).toThrow(/out of bounds/);

    const headersTooLong = FIRST.slice();
    const headersView = new DataView(headersTooLong.buffer);
    headersView.setUint32(4, headersTooLong.length);
    headersView.setUint32(8, crc32(headersTooLong, 0, 8));
    expect(() => decodeAll(new EventStreamDecoder(), [headersTooLong])).toThrow(/headers length/);
  });
});
