import { describe, expect, it } from "vitest";
import { ChatStreamTranslator } from "../../shared/openai/stream.js";
import { type SseEvent, SseParser } from "../../shared/sse/parser.js";

const OPTIONS = { id: "chatcmpl-req1", created: 1_760_000_000, model: "claude-sonnet-4-6" };

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * An Anthropic stream as the upstream sends it: thinking, text, a server tool, two tool
 * calls (one without parameters), with a ping and an event type from the future.
 */
const RECORDED =
  sse("message_start", {
    type: "message_start",
    message: {
      id: "msg_01",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-6",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 472, cache_creation_input_tokens: 100, cache_read_input_tokens: 2048, output_tokens: 2 },
    },
  }) +
  sse("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } }) +
  sse("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Weather: a tool." } }) +
  sse("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "EqQB" } }) +
  sse("content_block_stop", { type: "content_block_stop", index: 0 }) +
  sse("content_block_start", { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }) +
  sse("ping", { type: "ping" }) +
  sse("content_block_delta", { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Let me check" } }) +
  sse("content_block_delta", { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: " the weather." } }) +
  sse("content_block_stop", { type: "content_block_stop", index: 1 }) +
  sse("content_block_start", {
    type: "content_block_start",
    index: 2,
    content_block: { type: "server_tool_use", id: "srvtoolu_01", name: "web_search", input: {} },
  }) +
  sse("content_block_delta", { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '{"query":"paris"}' } }) +
  sse("content_block_stop", { type: "content_block_stop", index: 2 }) +
  sse("content_block_start", {
    type: "content_block_start",
    index: 3,
    content_block: { type: "tool_use", id: "toolu_01", name: "get_weather", input: {} },
  }) +
  sse("content_block_delta", { type: "content_block_delta", index: 3, delta: { type: "input_json_delta", partial_json: "" } }) +
  sse("content_block_delta", { type: "content_block_delta", index: 3, delta: { type: "input_json_delta", partial_json: '{"city": ' } }) +
  sse("content_block_delta", { type: "content_block_delta", index: 3, delta: { type: "input_json_delta", partial_json: '"Paris"}' } }) +
  sse("content_block_stop", { type: "content_block_stop", index: 3 }) +
  sse("content_block_start", {
    type: "content_block_start",
    index: 4,
    content_block: { type: "tool_use", id: "toolu_02", name: "get_time", input: {} },
  }) +
  sse("content_block_stop", { type: "content_block_stop", index: 4 }) +
  sse("content_block_citation_shimmer", { type: "content_block_citation_shimmer", index: 4 }) +
  sse("message_delta", { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 89 } }) +
  sse("message_stop", { type: "message_stop" });

const EVENTS: SseEvent[] = new SseParser().feed(RECORDED);

/** The chunk objects expected for RECORDED, without the stream-level fields. */
const EXPECTED_CHOICES = [
  { delta: { role: "assistant", content: "" }, finish_reason: null },
  { delta: { content: "Let me check" }, finish_reason: null },
  { delta: { content: " the weather." }, finish_reason: null },
  {
    delta: { tool_calls: [{ index: 0, id: "toolu_01", type: "function", function: { name: "get_weather", arguments: "" } }] },
    finish_reason: null,
  },
  { delta: { tool_calls: [{ index: 0, function: { arguments: '{"city": ' } }] }, finish_reason: null },
  { delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }, finish_reason: null },
  { delta: { tool_calls: [{ index: 1, id: "toolu_02", type: "function", function: { name: "get_time", arguments: "" } }] }, finish_reason: null },
  { delta: { tool_calls: [{ index: 1, function: { arguments: "{}" } }] }, finish_reason: null },
  { delta: {}, finish_reason: "tool_calls" },
];

function chunk(choice: { delta: unknown; finish_reason: string | null }, usage?: null): string {
  const body = {
    id: OPTIONS.id,
    object: "chat.completion.chunk",
    created: OPTIONS.created,
    model: OPTIONS.model,
    choices: [{ index: 0, delta: choice.delta, logprobs: null, finish_reason: choice.finish_reason }],
    ...(usage === null ? { usage } : {}),
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

describe("ChatStreamTranslator", () => {
  it("turns a recorded Anthropic stream into OpenAI chunks, ending with usage and [DONE]", () => {
    const translator = new ChatStreamTranslator({ ...OPTIONS, includeUsage: true });
    const output = EVENTS.map((event) => translator.translate(event)).join("");
    const usageChunk = {
      id: OPTIONS.id,
      object: "chat.completion.chunk",
      created: OPTIONS.created,
      model: OPTIONS.model,
      choices: [],
      usage: { prompt_tokens: 2620, completion_tokens: 89, total_tokens: 2709, prompt_tokens_details: { cached_tokens: 2048 } },
    };
    const expected = EXPECTED_CHOICES.map((choice) => chunk(choice, null)).join("") + `data: ${JSON.stringify(usageChunk)}\n\n` + "data: [DONE]\n\n";
    expect(output).toBe(expected);
    // Clients read the stream as SSE too.
    const dataLines = new SseParser().feed(output).map((event) => event.data);
    expect(dataLines.at(-1)).toBe("[DONE]");
    expect(dataLines.slice(0, -1).every((data) => JSON.parse(data).id === OPTIONS.id)).toBe(true);
  });

  it("without include_usage, sends no usage at all", () => {
    const translator = new ChatStreamTranslator({ ...OPTIONS, includeUsage: false });
    const output = EVENTS.map((event) => translator.translate(event)).join("");
    expect(output).toBe(EXPECTED_CHOICES.map((choice) => chunk(choice)).join("") + "data: [DONE]\n\n");
  });

  it("answers each event as it comes, and ping and unknown events with nothing", () => {
    const translator = new ChatStreamTranslator({ ...OPTIONS, includeUsage: false });
    const outputs = EVENTS.map((event) => translator.translate(event));
    const byEvent = EVENTS.map((event, index) => [event.event, outputs[index] === "" ? 0 : new SseParser().feed(outputs[index]!).length]);
    expect(byEvent).toEqual([
      ["message_start", 1],
      ["content_block_start", 0],
      ["content_block_delta", 0],
      ["content_block_delta", 0],
      ["content_block_stop", 0],
      ["content_block_start", 0],
      ["ping", 0],
      ["content_block_delta", 1],
      ["content_block_delta", 1],
      ["content_block_stop", 0],
      ["content_block_start", 0],
      ["content_block_delta", 0],
      ["content_block_stop", 0],
      ["content_block_start", 1],
      ["content_block_delta", 0],
      ["content_block_delta", 1],
      ["content_block_delta", 1],
      ["content_block_stop", 0],
      ["content_block_start", 1],
      ["content_block_stop", 1],
      ["content_block_citation_shimmer", 0],
      ["message_delta", 1],
      ["message_stop", 1],
    ]);
  });

  it("turns an error event into an OpenAI error, then [DONE], and ignores what follows", () => {
    const translator = new ChatStreamTranslator({ ...OPTIONS, includeUsage: true });
    translator.translate(EVENTS[0]!);
    const error = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };
    expect(translator.translate({ event: "error", data: JSON.stringify(error) })).toBe(
      'data: {"error":{"message":"Overloaded","type":"server_error","code":"overloaded_error","param":null}}\n\n' + "data: [DONE]\n\n",
    );
    expect(translator.translate(EVENTS[7]!)).toBe("");
    expect(translator.translate(EVENTS.at(-1)!)).toBe("");
    expect(translator.end()).toBe("");
  });

  it("passes on the errors the relay writes itself, such as a timeout", () => {
    const translator = new ChatStreamTranslator({ ...OPTIONS, includeUsage: false });
    const [timeout] = new SseParser().feed(
      'event: error\ndata: {"type":"error","error":{"type":"timeout_error","message":"The upstream sent nothing for 30000 ms."}}\n\n',
    );
    expect(translator.translate(timeout!)).toBe(
      'data: {"error":{"message":"The upstream sent nothing for 30000 ms.","type":"server_error","code":"timeout_error","param":null}}\n\n' +
        "data: [DONE]\n\n",
    );
  });

  it("says so when the stream ends before message_stop, and nothing when it ended properly", () => {
    const cut = new ChatStreamTranslator({ ...OPTIONS, includeUsage: false });
    for (const event of EVENTS.slice(0, 9)) cut.translate(event);
    expect(cut.end()).toBe(
      'data: {"error":{"message":"The upstream stream ended before the response was complete.","type":"server_error","code":"api_error","param":null}}\n\n' +
        "data: [DONE]\n\n",
    );
    const whole = new ChatStreamTranslator({ ...OPTIONS, includeUsage: false });
    for (const event of EVENTS) whole.translate(event);
    expect(whole.end()).toBe("");
  });

  it("skips event data that is not JSON", () => {
    const translator = new ChatStreamTranslator({ ...OPTIONS, includeUsage: false });
    expect(translator.translate({ event: "content_block_delta", data: "{not json" })).toBe("");
  });
});
