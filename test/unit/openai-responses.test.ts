import { describe, expect, it } from "vitest";
import { responsesRequestSchema, toMessagesRequestFromResponses } from "../../shared/openai/responses/request.js";
import { responseFrame, toResponse } from "../../shared/openai/responses/response.js";
import { ResponsesStreamTranslator } from "../../shared/openai/responses/stream.js";
import { describeIssues } from "../../shared/validation/zod.js";

const parse = (body: unknown) => responsesRequestSchema.parse(body);
const refusal = (body: unknown): string => {
  const result = responsesRequestSchema.safeParse(body);
  return result.success ? "valid" : describeIssues(result.error.issues);
};
const translate = (body: unknown) => toMessagesRequestFromResponses(parse(body), { maxTokens: 4096 });

describe("Responses API requests", () => {
  it("take a plain string input, instructions and max_output_tokens", () => {
    expect(translate({ model: "auto", input: "Hello", instructions: "Be brief.", max_output_tokens: 50, temperature: 1 })).toEqual({
      model: "auto",
      max_tokens: 50,
      system: "Be brief.",
      temperature: 0.5,
      messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }],
    });
  });

  it("turn message, function call and function call output items into turns", () => {
    const body = translate({
      model: "claude-sonnet-4-6",
      input: [
        { role: "developer", content: "Use tools." },
        { role: "user", content: [{ type: "input_text", text: "Weather in Paris?" }, { type: "input_image", image_url: "https://example.com/a.png" }] },
        { type: "reasoning", id: "rs_1", summary: [] },
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
        { type: "function_call_output", call_id: "call_1", output: "18C" },
      ],
      tools: [{ type: "function", name: "get_weather", parameters: { properties: { city: { type: "string" } } } }],
      tool_choice: "required",
      stream: true,
    });
    expect(body).toEqual({
      model: "claude-sonnet-4-6",
      max_tokens: 4096,
      system: "Use tools.",
      stream: true,
      tools: [{ name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
      tool_choice: { type: "any" },
      messages: [
        { role: "user", content: [{ type: "text", text: "Weather in Paris?" }, { type: "image", source: { type: "url", url: "https://example.com/a.png" } }] },
        { role: "assistant", content: [{ type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "call_1", content: "18C" }] },
      ],
    });
  });

  it("refuse clearly what needs stored state or is not supported", () => {
    expect(refusal({ model: "auto", input: "hi", previous_response_id: "resp_1" })).toContain("keeps no responses");
    expect(refusal({ model: "auto", input: [{ type: "item_reference", id: "msg_1" }] })).toContain("item references need stored responses");
    expect(refusal({ model: "auto", input: "hi", tools: [{ type: "web_search_preview" }] })).toContain("built-in tools");
    expect(refusal({ model: "auto", input: "hi", text: { format: { type: "json_schema", schema: {} } } })).toContain("structured output");
    expect(() => translate({ model: "auto", input: [{ role: "user", content: [{ type: "input_file", file_id: "f" }] }] })).toThrow(/file inputs are not supported/);
    expect(() => translate({ model: "auto", input: "hi", tool_choice: { type: "function", name: "nope" }, tools: [{ type: "function", name: "a" }] })).toThrow(
      /tool_choice.name/,
    );
  });
});

const frame = responseFrame(parse({ model: "auto", input: "hi" }), "resp_egr_1", "claude-sonnet-4-6", 1_700_000_000);

describe("Responses API answers", () => {
  it("make a message item of the text and a function_call item of each tool use, with usage", () => {
    const response = toResponse(
      {
        content: [
          { type: "thinking" },
          { type: "text", text: "Let me check." },
          { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
        ],
        stop_reason: "tool_use",
        usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 4, cache_creation_input_tokens: 0 },
      },
      frame,
    );
    expect(response).toMatchObject({
      id: "resp_egr_1",
      object: "response",
      status: "completed",
      model: "claude-sonnet-4-6",
      output: [
        { type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Let me check.", annotations: [] }] },
        { type: "function_call", id: "fc_toolu_1", call_id: "toolu_1", name: "get_weather", arguments: '{"city":"Paris"}', status: "completed" },
      ],
      usage: { input_tokens: 14, input_tokens_details: { cached_tokens: 4 }, output_tokens: 5, total_tokens: 19 },
    });
  });

  it("are incomplete when max_tokens cut them short", () => {
    const response = toResponse({ content: [{ type: "text", text: "Half" }], stop_reason: "max_tokens", usage: {} }, frame);
    expect(response).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } });
  });
});

describe("Responses API streams", () => {
  const event = (type: string, data: Record<string, unknown>) => ({ event: type, data: JSON.stringify({ type, ...data }) });
  const events = (text: string) =>
    text
      .split("\n\n")
      .filter(Boolean)
      .map((block) => JSON.parse(block.split("\n")[1]!.slice(6)) as Record<string, unknown> & { type: string; sequence_number: number });

  it("stream text and tool calls as they arrive, and end with the whole response", () => {
    const translator = new ResponsesStreamTranslator(frame);
    const out = [
      event("message_start", { message: { usage: { input_tokens: 7, output_tokens: 1 } } }),
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hi" } }),
      event("content_block_delta", { index: 0, delta: { type: "text_delta", text: " there" } }),
      event("content_block_stop", { index: 0 }),
      event("content_block_start", { index: 1, content_block: { type: "tool_use", id: "toolu_9", name: "lookup", input: {} } }),
      event("content_block_delta", { index: 1, delta: { type: "input_json_delta", partial_json: '{"q":' } }),
      event("content_block_delta", { index: 1, delta: { type: "input_json_delta", partial_json: "1}" } }),
      event("content_block_stop", { index: 1 }),
      event("message_delta", { delta: { stop_reason: "tool_use" }, usage: { output_tokens: 12 } }),
      event("message_stop", {}),
    ]
      .map((e) => translator.translate(e))
      .join("");
    const all = events(out + translator.end());
    expect(all.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(all.map((e) => e.sequence_number)).toEqual(all.map((_, index) => index));
    expect(all[6]).toMatchObject({ text: "Hi there" });
    expect(all[12]).toMatchObject({ item_id: "fc_toolu_9", arguments: '{"q":1}' });
    expect(all.at(-1)).toMatchObject({
      response: {
        status: "completed",
        output: [
          { type: "message", content: [{ text: "Hi there" }] },
          { type: "function_call", call_id: "toolu_9", arguments: '{"q":1}' },
        ],
        usage: { input_tokens: 7, output_tokens: 12, total_tokens: 19 },
      },
    });
  });

  it("end with an error and response.failed when the upstream fails or stops short", () => {
    const failing = new ResponsesStreamTranslator(frame);
    failing.translate(event("message_start", { message: { usage: { input_tokens: 1 } } }));
    expect(events(failing.translate(event("error", { error: { type: "overloaded_error", message: "Overloaded" } }))).map((e) => e.type)).toEqual([
      "error",
      "response.failed",
    ]);
    const cut = new ResponsesStreamTranslator(frame);
    cut.translate(event("message_start", { message: {} }));
    expect(events(cut.end()).at(-1)).toMatchObject({ type: "response.failed", response: { status: "failed" } });
  });
});
