import { describe, expect, it } from "vitest";
import { SseParser } from "../../shared/sse/parser.js";

const STREAM =
  'event: message_start\ndata: {"type":"message_start"}\n\n' +
  "event: ping\ndata: {}\n\n" +
  ": a comment\n" +
  'event: content_block_delta\ndata: {"a":1}\ndata: {"b":2}\n\n';

describe("SseParser", () => {
  it("parses events, joins multi-line data and skips comments", () => {
    const events = new SseParser().feed(STREAM);
    expect(events).toEqual([
      { event: "message_start", data: '{"type":"message_start"}' },
      { event: "ping", data: "{}" },
      { event: "content_block_delta", data: '{"a":1}\n{"b":2}' },
    ]);
  });

  it("gives the same events however the input is split", () => {
    const whole = new SseParser().feed(STREAM);
    for (let size = 1; size <= 7; size++) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < STREAM.length; i += size) events.push(...parser.feed(STREAM.slice(i, i + size)));
      expect(events).toEqual(whole);
    }
  });

  it("accepts CRLF and CR line endings, including a CRLF split across chunks", () => {
    const parser = new SseParser();
    const events = [...parser.feed("event: a\r\ndata: 1\r"), ...parser.feed("\n\r\nevent: b\rdata: 2\r\r"), ...parser.feed("x")];
    expect(events).toEqual([
      { event: "a", data: "1" },
      { event: "b", data: "2" },
    ]);
  });

  it("defaults the event name to message and dispatches a trailing event at end()", () => {
    const parser = new SseParser();
    expect(parser.feed("data: x\n\ndata: y")).toEqual([{ event: "message", data: "x" }]);
    expect(parser.end()).toEqual([{ event: "message", data: "y" }]);
  });
});
