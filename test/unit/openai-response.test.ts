import { describe, expect, it } from "vitest";
import type { AnthropicMessage } from "../../shared/openai/anthropic-types.js";
import { toChatCompletion } from "../../shared/openai/response.js";

const CREATED = 1_760_000_000;

describe("toChatCompletion", () => {
  it("joins text, turns tool_use into tool_calls, drops thinking and counts cached tokens into the prompt", () => {
    // As the upstream sends it: the thinking block's fields are not in AnthropicResponseBlock.
    const content = [
      { type: "thinking", thinking: "The user wants weather.", signature: "EqQB" },
      { type: "text", text: "Let me check" },
      { type: "text", text: " the weather." },
      { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris", days: [1, 2] } },
      { type: "tool_use", id: "toolu_02", name: "get_time", input: {} },
    ];
    const message: AnthropicMessage = {
      content,
      stop_reason: "tool_use",
      usage: { input_tokens: 472, cache_creation_input_tokens: 100, cache_read_input_tokens: 2048, output_tokens: 89 },
    };
    expect(toChatCompletion(message, "auto", "chatcmpl-abc", CREATED)).toEqual({
      id: "chatcmpl-abc",
      object: "chat.completion",
      created: CREATED,
      model: "auto",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Let me check the weather.",
            refusal: null,
            tool_calls: [
              { id: "toolu_01", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris","days":[1,2]}' } },
              { id: "toolu_02", type: "function", function: { name: "get_time", arguments: "{}" } },
            ],
          },
          logprobs: null,
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 2620, completion_tokens: 89, total_tokens: 2709, prompt_tokens_details: { cached_tokens: 2048 } },
    });
  });

  it("answers tool calls alone with null content, and a text answer without tool_calls", () => {
    const toolOnly = toChatCompletion(
      { content: [{ type: "tool_use", id: "toolu_01", name: "f", input: {} }], stop_reason: "tool_use", usage: { input_tokens: 1, output_tokens: 1 } },
      "m",
      "id",
      CREATED,
    );
    expect(toolOnly.choices[0].message.content).toBeNull();
    const textOnly = toChatCompletion({ content: [{ type: "text", text: "Hi" }], stop_reason: "end_turn", usage: { input_tokens: 3, output_tokens: 1 } }, "m", "id", CREATED);
    expect(textOnly.choices[0].message).toEqual({ role: "assistant", content: "Hi", refusal: null });
    expect(textOnly.usage).toEqual({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it("maps every stop reason to a finish_reason", () => {
    const finishFor = (stopReason: string | null) =>
      toChatCompletion({ content: [], stop_reason: stopReason, usage: { input_tokens: 1, output_tokens: 0 } }, "m", "id", CREATED).choices[0].finish_reason;
    expect(finishFor("end_turn")).toBe("stop");
    expect(finishFor("stop_sequence")).toBe("stop");
    expect(finishFor("max_tokens")).toBe("length");
    expect(finishFor("model_context_window_exceeded")).toBe("length");
    expect(finishFor("tool_use")).toBe("tool_calls");
    expect(finishFor("refusal")).toBe("content_filter");
    expect(finishFor("pause_turn")).toBe("stop");
    expect(finishFor(null)).toBe("stop");
  });
});
