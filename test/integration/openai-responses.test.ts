import { createOpenAI } from "@ai-sdk/openai";
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../stack/stack.js";
import type { LedgerRecord } from "../stack/simulator/ledger.js";
import { newTenant } from "./helpers.js";

/**
 * The OpenAI Responses API (POST /v1/responses) through the gateway, driven by the official
 * `openai` client and by the Vercel AI SDK's default OpenAI provider, which uses it. Usage is
 * checked against what the simulator counted for the same request.
 */

let stack: Stack;
let tenant: { id: string; key: string };
let client: OpenAI;

beforeAll(async () => {
  // A short retry deadline: the overloaded case is retried until it, then answered.
  stack = await startStack({ timeScale: 0.05, streamIdleTimeoutMs: 2_000, retry: { deadlineMs: 300, baseDelayMs: 25 } });
  tenant = await newTenant(stack);
  client = new OpenAI({ apiKey: tenant.key, baseURL: `${stack.gateway.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

const MODEL = "claude-sonnet-4-6";

/** The simulator's record of the upstream call that answered (the gateway relays its request-id). */
function upstreamRecordOf(answer: Response): Readonly<LedgerRecord> {
  const record = stack.simulator!.ledger.get(answer.headers.get("request-id") ?? "");
  expect(record, "the simulator's ledger has the upstream call that answered").toBeDefined();
  return record!;
}

/** The Responses API's usage for a simulator record: input covers the whole prompt, cache reads included. */
function usageOf(record: Readonly<LedgerRecord>) {
  const input = record.inputTokens + record.cacheCreationInputTokens + record.cacheReadInputTokens;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: record.cacheReadInputTokens },
    output_tokens: record.outputTokensSent,
    total_tokens: input + record.outputTokensSent,
  };
}

const WEATHER: OpenAI.Responses.FunctionTool = {
  type: "function",
  name: "get_weather",
  description: "Current weather of a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};

describe("the openai client's responses.create through the gateway", () => {
  it("answers a non-streamed request with the upstream's text, instructions applied, and its exact usage", async () => {
    const { data: response, response: raw } = await client.responses
      .create({ model: MODEL, instructions: "You are terse.", input: "sim:tokens=6 plain", max_output_tokens: 300 })
      .withResponse();
    const record = upstreamRecordOf(raw);
    expect(response.object).toBe("response");
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe("completed");
    expect(response.model).toBe(MODEL);
    expect(response.instructions).toBe("You are terse.");
    expect(response.max_output_tokens).toBe(300);
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed" });
    expect(response.output_text.trim().split(/\s+/)).toHaveLength(6);
    expect(response.usage).toMatchObject(usageOf(record));
    expect(record).toMatchObject({ model: MODEL, stopReason: "end_turn" });
  });

  it("is incomplete when max_output_tokens cuts the answer short", async () => {
    const response = await client.responses.create({ model: MODEL, input: "sim:tokens=50 long", max_output_tokens: 5 });
    expect(response.status).toBe("incomplete");
    expect(response.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(response.usage?.output_tokens).toBe(5);
  });

  it("streams response.created ... response.output_text.delta ... response.completed, with the usage the upstream counted", async () => {
    const { data: stream, response: raw } = await client.responses
      .create({ model: MODEL, input: "sim:tokens=8 streamed", stream: true })
      .withResponse();
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const record = upstreamRecordOf(raw);

    const types = events.map((event) => event.type);
    const deltas = events.filter((event) => event.type === "response.output_text.delta");
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(deltas).toHaveLength(8);
    expect(types.slice(4 + deltas.length)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));

    const created = events[0] as OpenAI.Responses.ResponseCreatedEvent;
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(created.response).toMatchObject({ status: "in_progress", output: [], usage: null, model: MODEL });
    expect(completed.response.id).toBe(created.response.id);
    expect(completed.response.status).toBe("completed");
    expect(completed.response.usage).toMatchObject(usageOf(record));
    const text = deltas.map((event) => event.delta).join("");
    expect(completed.response.output).toEqual([
      expect.objectContaining({ type: "message", status: "completed", content: [{ type: "output_text", text, annotations: [] }] }),
    ]);
    expect((events.find((event) => event.type === "response.output_text.done") as OpenAI.Responses.ResponseTextDoneEvent).text).toBe(text);
  });

  it("is accepted by the client's stream helper, which checks each event against the items it has seen", async () => {
    const stream = client.responses.stream({ model: MODEL, input: "sim:tokens=5 helper" });
    let streamed = "";
    stream.on("response.output_text.delta", (event) => {
      streamed += event.delta;
    });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(streamed);
    expect(final.usage?.output_tokens).toBe(5);
  });

  it("round-trips a function tool call, streamed and not", async () => {
    const question: OpenAI.Responses.ResponseInputItem = { role: "user", content: "What is the weather in Oslo?" };
    const first = await client.responses.create({ model: MODEL, input: [question], tools: [WEATHER], tool_choice: "required" });
    const call = first.output.find((item) => item.type === "function_call");
    expect(call).toMatchObject({ type: "function_call", name: "get_weather", status: "completed" });
    expect(JSON.parse(call!.arguments)).toHaveProperty("city");

    // Streamed, the same call arrives as function_call_arguments deltas that add up to its arguments.
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of await client.responses.create({ model: MODEL, input: [question], tools: [WEATHER], tool_choice: "required", stream: true })) {
      events.push(event);
    }
    const argumentDeltas = events.filter((event) => event.type === "response.function_call_arguments.delta").map((event) => event.delta);
    const argumentsDone = events.find((event) => event.type === "response.function_call_arguments.done");
    expect(argumentDeltas.length).toBeGreaterThan(0);
    expect(argumentsDone?.arguments).toBe(argumentDeltas.join(""));
    const streamedCall = (events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response.output.find((item) => item.type === "function_call");
    expect(streamedCall).toMatchObject({ name: "get_weather", arguments: argumentsDone?.arguments, status: "completed" });

    // The whole first output goes back, as the OpenAI docs show, with the function's result.
    const second = await client.responses.create({
      model: MODEL,
      tools: [WEATHER],
      input: [question, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: "function_call_output", call_id: call!.call_id, output: '{"celsius": 7}' }],
    });
    expect(second.status).toBe("completed");
    expect(second.output.some((item) => item.type === "function_call")).toBe(false);
    expect(second.output_text).toBeTruthy();
    const upstream = stack.simulator!.ledger.all().at(-1)!;
    expect(upstream.stopReason).toBe("end_turn");
  });

  it("answers errors in OpenAI's shape, before and during the stream", async () => {
    const refused = await client.responses.create({ model: MODEL, input: "hi", previous_response_id: "resp_earlier" }).catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).type).toBe("invalid_request_error");
    expect((refused as InstanceType<typeof OpenAI.APIError>).message).toMatch(/previous_response_id.*keeps no responses/);

    // A model the gateway cannot price is refused as an unknown model is: 404.
    const unknownModel = await client.responses.create({ model: "claude-nonexistent-9", input: "hi" }).catch((caught: unknown) => caught);
    expect(unknownModel).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknownModel as InstanceType<typeof OpenAI.APIError>).message).toContain("claude-nonexistent-9 has no price");

    const overloaded = await client.responses.create({ model: MODEL, input: "sim:fault=529 busy" }).catch((caught: unknown) => caught);
    expect(overloaded).toBeInstanceOf(OpenAI.InternalServerError);
    expect((overloaded as InstanceType<typeof OpenAI.APIError>).status).toBe(529);
    expect((overloaded as InstanceType<typeof OpenAI.APIError>).code).toBe("overloaded_error");

    const unauthenticated = await new OpenAI({ apiKey: "sk-eg-wrong", baseURL: `${stack.gateway.url}/v1`, maxRetries: 0 }).responses
      .create({ model: MODEL, input: "hi" })
      .catch((caught: unknown) => caught);
    expect(unauthenticated).toBeInstanceOf(OpenAI.AuthenticationError);

    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of await client.responses.create({ model: MODEL, input: "sim:fault=error-mid sim:after=3 cut", stream: true })) events.push(event);
    const [error, failed] = events.slice(-2);
    expect(events.filter((event) => event.type === "response.output_text.delta")).toHaveLength(3);
    expect(error).toMatchObject({ type: "error", code: "overloaded_error", message: expect.any(String) });
    expect(failed).toMatchObject({ type: "response.failed", response: { status: "failed", error: { code: "overloaded_error" } } });
  });
});

describe("the Vercel AI SDK's default OpenAI provider (Responses API) through the gateway", () => {
  const provider = () => createOpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: tenant.key });
  const weather = tool({
    description: "Current weather of a city",
    inputSchema: jsonSchema<{ city: string }>({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }),
    execute: async ({ city }) => ({ city, celsius: 7 }),
  });

  it("generates text with the upstream's usage", async () => {
    const result = await generateText({ model: provider()(MODEL), prompt: "sim:tokens=7 hello from generateText" });
    const record = stack.simulator!.ledger.all().at(-1)!;
    expect(result.text.trim().split(/\s+/)).toHaveLength(7);
    expect(result.finishReason).toBe("stop");
    expect(result.usage).toMatchObject({ inputTokens: record.inputTokens, outputTokens: 7 });
    expect(result.response.modelId).toBe(MODEL);
  });

  it("streams text part by part, with usage at the end", async () => {
    const result = streamText({ model: provider()(MODEL), prompt: "sim:tokens=9 hello from streamText" });
    const parts: string[] = [];
    for await (const part of result.textStream) parts.push(part);
    expect(parts).toHaveLength(9);
    expect(await result.finishReason).toBe("stop");
    expect((await result.usage).outputTokens).toBe(9);
  });

  it("calls a tool and answers with its result, in one multi-step call, when it sends items rather than references", async () => {
    const result = await generateText({
      model: provider()(MODEL),
      tools: { get_weather: weather },
      toolChoice: "auto",
      stopWhen: stepCountIs(2),
      prompt: "sim:tool What is the weather in Oslo?",
      providerOptions: { openai: { store: false } },
    });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]!.finishReason).toBe("tool-calls");
    expect(result.steps[0]!.toolCalls).toEqual([expect.objectContaining({ toolName: "get_weather", input: { city: expect.any(String) } })]);
    expect(result.steps[0]!.toolResults).toEqual([expect.objectContaining({ output: expect.objectContaining({ celsius: 7 }) })]);
    expect(result.finishReason).toBe("stop");
    expect(result.text).toBeTruthy();
  });

  it("refuses, saying what to set, the item references it sends for earlier answers by default (store: true)", async () => {
    const refused = await generateText({
      model: provider()(MODEL),
      tools: { get_weather: weather },
      stopWhen: stepCountIs(2),
      prompt: "sim:tool What is the weather in Oslo?",
    }).catch((caught: unknown) => caught);
    expect(APICallError.isInstance(refused)).toBe(true);
    expect((refused as APICallError).statusCode).toBe(400);
    expect((refused as APICallError).message).toContain("providerOptions: { openai: { store: false } }");
  });

  it("streams a tool call", async () => {
    const result = streamText({
      model: provider()(MODEL),
      tools: { get_weather: weather },
      toolChoice: "required",
      prompt: "What is the weather in Oslo?",
    });
    const calls = await result.toolCalls;
    expect(calls).toEqual([expect.objectContaining({ toolName: "get_weather", input: { city: expect.any(String) } })]);
    expect(await result.finishReason).toBe("tool-calls");
  });
});
