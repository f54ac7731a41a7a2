import { describe, expect, it } from "vitest";
import { UsageMeter } from "../../shared/metering/usage.js";

const event = (type: string, data: unknown) => ({ event: type, data: JSON.stringify(data) });

const start = event("message_start", {
  type: "message_start",
  message: {
    model: "claude-sonnet-4-6",
    usage: { input_tokens: 120, cache_creation_input_tokens: 2048, cache_read_input_tokens: 0, output_tokens: 1 },
  },
});
const delta = (text: string) =>
  event("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } });

describe("UsageMeter", () => {
  it("takes input and cache tokens from message_start and the final output count from message_delta", () => {
    const meter = new UsageMeter();
    meter.observe(start, 10);
    meter.observe(event("ping", { type: "ping" }), 11);
    meter.observe(delta("Hello"), 25);
    meter.observe(delta(" world"), 30);
    meter.observe(event("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } }), 31);
    meter.observe(event("message_stop", { type: "message_stop" }), 32);
    expect(meter.result()).toEqual({
      model: "claude-sonnet-4-6",
      usage: {
        inputTokens: 120,
        outputTokens: 2,
        cacheCreationInputTokens: 2048,
        cacheCreation1hInputTokens: 0,
        cacheReadInputTokens: 0,
        webSearchRequests: 0,
      },
      stopReason: "end_turn",
      usageReported: true,
      estimated: false,
      generatedChars: 11,
      contentDeltas: 2,
      firstTokenAt: 25,
      upstreamError: null,
      completed: true,
    });
  });

  it("estimates output tokens from relayed text when the final usage never arrived", () => {
    const meter = new UsageMeter();
    meter.observe(start, 0);
    meter.observe(delta("x".repeat(41)), 1);
    const result = meter.result();
    expect(result.estimated).toBe(true);
    expect(result.usage.outputTokens).toBe(11);
    expect(result.completed).toBe(false);
  });

  it("never estimates fewer output tokens than the content deltas it saw (each carries at least one)", () => {
    const meter = new UsageMeter();
    meter.observe(start, 0);
    for (let i = 0; i < 30; i++) meter.observe(delta("ab"), 1);
    expect(meter.result().usage.outputTokens).toBe(30);
  });

  it("splits cache writes by TTL and counts web searches, from message_start and message_delta", () => {
    const meter = new UsageMeter();
    meter.observe(
      event("message_start", {
        message: {
          model: "claude-sonnet-4-6",
          usage: { input_tokens: 10, cache_creation_input_tokens: 3000, cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 } },
        },
      }),
      0,
    );
    meter.observe(event("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 9, server_tool_use: { web_search_requests: 2 } } }), 1);
    expect(meter.result().usage).toEqual({
      inputTokens: 10,
      outputTokens: 9,
      cacheCreationInputTokens: 3000,
      cacheCreation1hInputTokens: 2000,
      cacheReadInputTokens: 0,
      webSearchRequests: 2,
    });
  });

  it("records an upstream error event and counts tool-input and thinking deltas", () => {
    const meter = new UsageMeter();
    meter.observe(start, 0);
    meter.observe(event("content_block_delta", { delta: { type: "thinking_delta", thinking: "abcd" } }), 1);
    meter.observe(event("content_block_delta", { delta: { type: "input_json_delta", partial_json: '{"a":' } }), 2);
    meter.observe(event("error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }), 3);
    const result = meter.result();
    expect(result.generatedChars).toBe(9);
    expect(result.upstreamError).toEqual({ type: "overloaded_error", message: "Overloaded" });
  });

  it("ignores unknown event types and malformed data", () => {
    const meter = new UsageMeter();
    meter.observe({ event: "future_event", data: "{}" }, 0);
    meter.observe({ event: "message_delta", data: "not json" }, 0);
    expect(meter.result().usageReported).toBe(false);
  });
});
