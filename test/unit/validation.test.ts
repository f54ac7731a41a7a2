import { describe, expect, it } from "vitest";
import {
  MAX_CREDENTIAL_HEADER_CHARS,
  MAX_HEADER_VALUE_BYTES,
  MAX_TOTAL_HEADER_BYTES,
  checkHeaderLimits,
} from "../../shared/http/header-limits.js";
import { errorResponse } from "../../shared/http/errors.js";
import {
  MAX_JSON_DEPTH,
  MAX_MESSAGES,
  countTokensRequestSchema,
  messagesRequestSchema,
  tooDeep,
} from "../../shared/validation/messages.js";
import { describeIssues } from "../../shared/validation/zod.js";

const valid = { model: "claude-sonnet-4-6", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };

/** The message readJsonBody would answer with, or "valid". */
function verdict(body: unknown, schema: typeof messagesRequestSchema | typeof countTokensRequestSchema = messagesRequestSchema): string {
  const result = schema.safeParse(body);
  return result.success ? "valid" : describeIssues(result.error.issues);
}

function nested(depth: number): unknown {
  return JSON.parse("[".repeat(depth) + "]".repeat(depth));
}

describe("messagesRequestSchema", () => {
  it("accepts valid requests and passes unknown fields through", () => {
    const full = {
      ...valid,
      model: "auto",
      system: [{ type: "text", text: "be brief", cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "assistant", content: "a first assistant turn is left to the upstream" },
        { role: "user", content: [{ type: "text", text: "hi" }, { type: "image", source: { type: "base64", data: "" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "42" }] }] },
      ],
      tools: [{ name: "get_weather", input_schema: { type: "object" } }, { type: "browser_toolset_20260801" }],
      tool_choice: { type: "tool", name: "get_weather" },
      thinking: { type: "enabled", budget_tokens: 2048 },
      metadata: { user_id: null },
      stop_sequences: ["\n\nHuman:"],
      temperature: 0.5,
      top_p: 1,
      top_k: 5,
      stream: true,
      service_tier: "auto",
      some_future_field: { anything: [1, 2, 3] },
    };
    const result = messagesRequestSchema.safeParse(full);
    expect(result.success).toBe(true);
    expect(result.data).toEqual(full);
    for (const model of ["claude-opus-4-1@20250805", "anthropic.claude-3-5-sonnet-20241022-v2:0", "arn:aws:bedrock:us-east-1:1:inference-profile/x"]) {
      expect(verdict({ ...valid, model }), model).toBe("valid");
    }
  });

  it.each([
    ["a body that is not an object", [], "body: expected a JSON object"],
    ["a missing model", { ...valid, model: undefined }, "model: required"],
    ["a model with control characters", { ...valid, model: "claude\u0000sonnet" }, 'model: expected a model id such as "claude-sonnet-4-6"'],
    ["a model with spaces", { ...valid, model: "claude sonnet" }, "model: expected a model id"],
    ["an over-long model", { ...valid, model: "c".repeat(257) }, "got a string of 257 characters"],
    ["max_tokens 0", { ...valid, max_tokens: 0 }, "max_tokens: expected an integer from 1 to 128000, got 0"],
    ["max_tokens -1", { ...valid, max_tokens: -1 }, "max_tokens: expected an integer from 1 to 128000, got -1"],
    ["max_tokens 1e9", { ...valid, max_tokens: 1e9 }, "got 1000000000"],
    ["max_tokens 1.5", { ...valid, max_tokens: 1.5 }, "got 1.5"],
    ["max_tokens as a string", { ...valid, max_tokens: "100" }, 'got "100"'],
    ["a missing max_tokens", { ...valid, max_tokens: undefined }, "max_tokens: required"],
    ["empty messages", { ...valid, messages: [] }, "messages: expected a non-empty array"],
    ["too many messages", { ...valid, messages: Array(MAX_MESSAGES + 1).fill(valid.messages[0]) }, `at most ${MAX_MESSAGES} messages`],
    ["a message that is not an object", { ...valid, messages: ["hi"] }, "messages.0: expected a message object"],
    ["an unknown role", { ...valid, messages: [{ role: "robot", content: "hi" }] }, 'messages.0.role: expected "user" or "assistant", got "robot"'],
    ["a system role", { ...valid, messages: [{ role: "system", content: "hi" }] }, 'top-level "system" field'],
    ["content of the wrong type", { ...valid, messages: [{ role: "user", content: 7 }] }, "messages.0.content: expected a string or an array"],
    ["a content block without type", { ...valid, messages: [{ role: "user", content: [{ text: "x" }] }] }, "messages.0.content.0.type: required"],
    ["a text block without text", { ...valid, messages: [{ role: "user", content: [{ type: "text" }] }] }, "messages.0.content.0.text: required"],
    ["a system prompt of the wrong type", { ...valid, system: 3 }, "system: expected a string or an array of text blocks"],
    ["a non-text system block", { ...valid, system: [{ type: "image" }] }, 'system.0.type: expected "text"'],
    ["stream as a string", { ...valid, stream: "true" }, "stream: expected true or false"],
    ["tools that are not an array", { ...valid, tools: {} }, "tools: expected an array"],
    ["a tool without name or type", { ...valid, tools: [{ input_schema: {} }] }, "tools.0.name: required"],
    ["a tool_choice without type", { ...valid, tool_choice: {} }, "tool_choice.type: required"],
    ["a fractional thinking budget", { ...valid, thinking: { type: "enabled", budget_tokens: 1.5 } }, "thinking.budget_tokens"],
    ["temperature out of range", { ...valid, temperature: 2 }, "temperature: expected a number from 0 to 1, got 2"],
    ["top_k negative", { ...valid, top_k: -1 }, "top_k: expected an integer of at least 0"],
    ["stop_sequences with a number", { ...valid, stop_sequences: ["x", 1] }, "stop_sequences.1: expected a string, got 1"],
    ["metadata.user_id of the wrong type", { ...valid, metadata: { user_id: 5 } }, "metadata.user_id: expected a string"],
    ["deep nesting in a passed-through field", { ...valid, extra: nested(MAX_JSON_DEPTH) }, `extra.0.0.0.0.0: JSON nested more than ${MAX_JSON_DEPTH} levels`],
  ])("rejects %s, naming the field and what it expects", (_, body, message) => {
    expect(verdict(body)).toContain(message);
  });

  it("checks the same prompt fields for count_tokens, without max_tokens", () => {
    expect(verdict({ model: "claude-sonnet-4-6", messages: valid.messages }, countTokensRequestSchema)).toBe("valid");
    expect(verdict({ model: "claude-sonnet-4-6", messages: [] }, countTokensRequestSchema)).toContain("messages");
    expect(verdict({ model: "x y", messages: valid.messages }, countTokensRequestSchema)).toContain("model");
  });

  it("names at most three problems and counts the rest", () => {
    const message = verdict({ model: 1, max_tokens: "a", messages: [1, 2], system: 4 });
    expect(message.split("; ")).toHaveLength(3);
    expect(message).toMatch(/\(and 2 more problems\)$/);
  });

  it("stays fast and finite on huge arrays of bad items (no issue per item)", () => {
    const started = performance.now();
    const bad = Array.from({ length: 500_000 }, () => ({}));
    expect(verdict({ ...valid, messages: [{ role: "user", content: bad }] })).toContain("messages.0.content.0.type: required");
    expect(verdict({ ...valid, messages: bad.slice(0, MAX_MESSAGES) })).toContain("messages.0.role: required");
    expect(verdict({ ...valid, stop_sequences: Array(500_000).fill(0) })).toContain("stop_sequences.0");
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("limits nesting to a depth JSON.stringify handles with ample margin", () => {
    const deepest = nested(MAX_JSON_DEPTH - 1);
    expect(verdict({ ...valid, extra: deepest })).toBe("valid");
    expect(() => JSON.stringify({ ...valid, extra: nested(4 * MAX_JSON_DEPTH) })).not.toThrow(); // ample margin
    expect(verdict({ ...valid, messages: [{ role: "user", content: [{ type: "x", input: nested(200_000) }] }] })).toContain(
      "messages.0.content.0.input.0: JSON nested", // the path is cut after six segments
    );
  });

  it("does not let __proto__ smuggle fields past validation", () => {
    const body: unknown = JSON.parse('{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"__proto__":{"stream":"yes","system":7}}');
    const result = messagesRequestSchema.safeParse(body);
    expect(result.success).toBe(true);
    expect(result.data?.stream).toBeUndefined();
    expect(result.data?.system).toBeUndefined();
    expect(({} as Record<string, unknown>)["stream"]).toBeUndefined();
  });
});

describe("tooDeep", () => {
  it("returns the path to the first container past the depth, counting the value as level 1", () => {
    expect(tooDeep({ a: 1, b: { c: [1, { d: {} }] } }, 4)).toEqual(["b", "c", 1, "d"]);
    expect(tooDeep({ a: 1, b: { c: [1, { d: {} }] } }, 5)).toBeNull();
    expect(tooDeep("text", 1)).toBeNull();
  });
});

describe("checkHeaderLimits", () => {
  const headersOf = (entries: Record<string, string>) => new Headers(entries);

  it("lets ordinary headers through", () => {
    expect(checkHeaderLimits(headersOf({ "x-api-key": "sk-eg-" + "a".repeat(60), "content-type": "application/json", "anthropic-beta": "x" }))).toBeNull();
    expect(checkHeaderLimits(headersOf({ "x-note": "a".repeat(MAX_HEADER_VALUE_BYTES) }))).toBeNull();
  });

  it("refuses one over-long value with 431 in Anthropic's format, naming the header", async () => {
    const error = checkHeaderLimits(headersOf({ "x-note": "a".repeat(MAX_HEADER_VALUE_BYTES + 1) }));
    expect(error?.status).toBe(431);
    expect(error?.type).toBe("invalid_request_error");
    expect(error?.message).toContain("x-note header is 8193 bytes");
    const response = errorResponse(error!, "egr_test");
    expect(response.status).toBe(431);
    expect(await response.json()).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: error!.message },
      request_id: "egr_test",
    });
  });

  it("counts bytes, not characters", () => {
    const error = checkHeaderLimits(headersOf({ "x-note": "é".repeat(MAX_HEADER_VALUE_BYTES / 2 + 1) }));
    expect(error?.message).toContain("8194 bytes");
  });

  it("refuses too many header bytes in total", () => {
    const entries = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`x-part-${i}`, "a".repeat(7_000)]));
    const error = checkHeaderLimits(headersOf(entries));
    expect(error?.status).toBe(431);
    expect(error?.message).toContain(`${MAX_TOTAL_HEADER_BYTES}-byte limit in total`);
  });

  it("refuses over-long credentials in either header", () => {
    const long = "k".repeat(MAX_CREDENTIAL_HEADER_CHARS + 1);
    expect(checkHeaderLimits(headersOf({ "x-api-key": long }))?.message).toContain("x-api-key header is 513 characters");
    expect(checkHeaderLimits(headersOf({ authorization: `Bearer ${long}` }))?.message).toContain("authorization header");
    expect(checkHeaderLimits(headersOf({ "x-api-key": "k".repeat(MAX_CREDENTIAL_HEADER_CHARS) }))).toBeNull();
  });
});
