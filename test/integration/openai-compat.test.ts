import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { streamText } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../stack/stack.js";
import { newTenant } from "./helpers.js";
import { usageCounters } from "./traffic.js";
import Redis from "ioredis";

let stack: Stack;
let client: OpenAI;
let redis: Redis;
let tenant: { id: string; key: string };

beforeAll(async () => {
  stack = await startStack({ timeScale: 0.05, streamIdleTimeoutMs: 2_000 });
  tenant = await newTenant(stack);
  client = new OpenAI({ apiKey: tenant.key, baseURL: `${stack.gateway.url}/v1`, maxRetries: 0 });
  redis = new Redis(stack.redis.url);
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

const MODEL = "claude-sonnet-4-6";
const lastRecord = () => stack.simulator!.ledger.all().at(-1)!;

describe("OpenAI Chat Completions through the gateway, with the official openai client", () => {
  it("answers a plain completion with the upstream's text and exact usage", async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "sim:tokens=6 plain" },
      ],
    });
    const record = lastRecord();
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.choices[0]!.message.content!.trim().split(/\s+/)).toHaveLength(6);
    expect(completion.usage).toMatchObject({ prompt_tokens: record.inputTokens, completion_tokens: 6, total_tokens: record.inputTokens + 6 });
  });

  it("streams the same text chunk by chunk, with usage when asked for", async () => {
    const messages = [{ role: "user" as const, content: "sim:tokens=8 streamed" }];
    const whole = await client.chat.completions.create({ model: MODEL, messages });
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(chunks).toBeGreaterThanOrEqual(8);
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ completion_tokens: 8 });
  });

  it("round-trips a tool call", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "get_order",
          description: "Look up an order",
          parameters: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] },
        },
      },
    ];
    const first = await client.chat.completions.create({
      model: MODEL,
      tools,
      tool_choice: "required",
      messages: [{ role: "user", content: "Where is my order?" }],
    });
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    expect(call.type).toBe("function");
    const fn = (call as OpenAI.ChatCompletionMessageFunctionToolCall).function;
    expect(fn.name).toBe("get_order");
    expect(JSON.parse(fn.arguments)).toHaveProperty("order_id");

    const second = await client.chat.completions.create({
      model: MODEL,
      tools,
      messages: [
        { role: "user", content: "Where is my order?" },
        first.choices[0]!.message,
        { role: "tool", tool_call_id: call.id, content: '{"status":"shipped"}' },
      ],
    });
    expect(second.choices[0]!.finish_reason).toBe("stop");
    expect(second.choices[0]!.message.content).toBeTruthy();
  });

  it("routes model auto and reports the decision", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "sim:tokens=2 what are your opening hours?" }] })
      .withResponse();
    expect(response.headers.get("x-edgegate-tier")).toBe("light");
    expect(data.model).toMatch(/^claude-haiku-4-5/);
  });

  it("lists the models a key may use, auto included", async () => {
    const models = await client.models.list();
    const ids = models.data.map((model) => model.id);
    expect(ids).toContain("auto");
    expect(ids).toContain(MODEL);
  });

  it("answers a rate-limited request with OpenAI's error shape and type", async () => {
    const limited = await newTenant(stack, { limits: { requestsPerMinute: 1 } });
    const limitedClient = new OpenAI({ apiKey: limited.key, baseURL: `${stack.gateway.url}/v1`, maxRetries: 0 });
    await limitedClient.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "sim:tokens=1 a" }] });
    const error = await limitedClient.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "sim:tokens=1 b" }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.APIError>).type).toBe("rate_limit_error");
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("rate_limit_exceeded");
    const unauthenticated = await new OpenAI({ apiKey: "sk-eg-wrong", baseURL: `${stack.gateway.url}/v1`, maxRetries: 0 }).models
      .list()
      .catch((caught: unknown) => caught);
    expect(unauthenticated).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("stops the upstream when the client aborts a stream, and meters what was produced", async () => {
    const before = await usageCounters(redis, tenant.id);
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: MODEL, stream: true, max_tokens: 4_000, messages: [{ role: "user", content: "sim:tokens=2000 sim:tps=20 long" }] },
      { signal: controller.signal },
    );
    let received = 0;
    try {
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta.content ? 1 : 0;
        if (received >= 3) {
          // Chunks the SDK had already read may still be yielded after the abort: stop reading now.
          controller.abort();
          break;
        }
      }
    } catch {
      // the client's own abort: how it surfaces is the SDK's business
    }
    expect(received).toBe(3);
    const record = lastRecord();
    await expect.poll(() => record.clientAborted, { timeout: 5_000 }).toBe(true);
    expect(record.outputTokensSent).toBeLessThan(2_000);
    await expect
      .poll(async () => (await usageCounters(redis, tenant.id))["total|requests"], { timeout: 5_000 })
      .toBe((before["total|requests"] ?? 0) + 1);
  });
});

describe("the Vercel AI SDK through the gateway", () => {
  it("streams a reply with the OpenAI-compatible provider", async () => {
    const provider = createOpenAICompatible({ name: "edgegate", baseURL: `${stack.gateway.url}/v1`, apiKey: tenant.key });
    const result = streamText({ model: provider("claude-haiku-4-5"), prompt: "sim:tokens=7 hello from the AI SDK" });
    const parts: string[] = [];
    for await (const part of result.textStream) parts.push(part);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(parts.join("").trim().split(/\s+/)).toHaveLength(7);
  });
});
