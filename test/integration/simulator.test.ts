import Anthropic from "@anthropic-ai/sdk";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LedgerRecord } from "../stack/simulator/ledger.js";
import type { Simulator } from "../stack/simulator/server.js";
import { startSimulator } from "../stack/simulator/server.js";
import { caught, parseSse } from "./api-assertions.js";

const API_KEY = "sk-sim-test";
const TIME_SCALE = 0.02;
const MODEL = "claude-sonnet-4-6";

let sim: Simulator;
let client: Anthropic;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, timeScale: TIME_SCALE, apiKeys: [API_KEY] });
  client = new Anthropic({ apiKey: API_KEY, baseURL: sim.url, maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(async () => {
  await fetch(`${sim.url}/_sim/reset`, { method: "POST" });
});

function ask(text: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}): Anthropic.MessageCreateParamsNonStreaming {
  return { model: MODEL, max_tokens: 1024, messages: [{ role: "user", content: text }], ...extra };
}

function recordOf(requestId: string | null | undefined): Readonly<LedgerRecord> {
  const record = sim.ledger.get(requestId ?? "");
  if (record === undefined) throw new Error(`no ledger record for ${String(requestId)}`);
  return record;
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function textOf(message: Anthropic.Message): string {
  return message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("");
}

function postMessages(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${sim.url}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": API_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("messages", () => {
  it("answers non-streaming requests in the API's shape, resolving aliases to dated models", async () => {
    const message = await client.messages.create(ask("Hello there", { model: "claude-haiku-4-5" }));
    expect(message.id).toMatch(/^msg_01\w{22}$/);
    expect(message._request_id).toMatch(/^req_01\w{22}$/);
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5-20251001",
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: Math.ceil("Hello there".length / 4), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    expect(message.content).toHaveLength(1);
    const words = textOf(message).split(" ");
    expect(words.length).toBeGreaterThanOrEqual(20);
    expect(words.length).toBeLessThanOrEqual(60);
    expect(message.usage.output_tokens).toBe(words.length);
  });

  it("streams the same answer the non-streaming call gives", async () => {
    const params = ask("Describe the gateway");
    const whole = await client.messages.create(params);
    const stream = client.messages.stream(params);
    const texts: string[] = [];
    stream.on("text", (delta) => texts.push(delta));
    const streamed = await stream.finalMessage();

    expect(textOf(streamed)).toBe(textOf(whole));
    expect(streamed.stop_reason).toBe(whole.stop_reason);
    expect(streamed.usage).toEqual(whole.usage);
    expect(texts).toHaveLength(whole.usage.output_tokens);
    expect(recordOf(stream.request_id)).toMatchObject({
      stream: true,
      completed: true,
      clientAborted: false,
      outputTokensSent: streamed.usage.output_tokens,
      outputTokensPlanned: streamed.usage.output_tokens,
      stopReason: "end_turn",
      status: 200,
    });
  });

  it("writes SSE frames in the documented order, one token per delta, with API headers", async () => {
    const response = await postMessages({ ...ask("sim:tokens=12"), stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const requestId = response.headers.get("request-id");
    expect(requestId).toMatch(/^req_/);
    for (const kind of ["requests", "tokens", "input-tokens", "output-tokens"]) {
      expect(Number(response.headers.get(`anthropic-ratelimit-${kind}-limit`))).toBeGreaterThan(0);
      expect(Number(response.headers.get(`anthropic-ratelimit-${kind}-remaining`))).toBeGreaterThanOrEqual(0);
      expect(response.headers.get(`anthropic-ratelimit-${kind}-reset`)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }

    const events = parseSse(await response.text());
    expect(events.map((event) => event.event)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      ...Array<string>(12).fill("content_block_delta"),
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events[0]?.data).toMatchObject({
      message: { content: [], stop_reason: null, usage: { output_tokens: 1, cache_read_input_tokens: 0 } },
    });
    const deltas = events.filter((event) => event.event === "content_block_delta").map((event) => event.data["delta"]);
    deltas.forEach((delta, index) =>
      expect(delta).toEqual({ type: "text_delta", text: expect.stringMatching(index === 0 ? /^\S+$/ : /^ \S+$/) }),
    );
    expect(events.at(-2)?.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 12 },
    });
    const record = recordOf(requestId);
    expect(record.eventTimes).toHaveLength(events.length);
    expect(record.outputTokensSent).toBe(12);
  });

  it("stops at max_tokens", async () => {
    const message = await client.messages.create(ask("sim:tokens=40", { max_tokens: 3 }));
    expect(message.stop_reason).toBe("max_tokens");
    expect(message.usage.output_tokens).toBe(3);
    expect(textOf(message).split(" ")).toHaveLength(3);
  });

  it("lets x-sim-* headers override directives in the text", async () => {
    const message = await client.messages.create(ask("sim:tokens=3"), { headers: { "x-sim-tokens": "7" } });
    expect(message.usage.output_tokens).toBe(7);
  });

  it("calls a tool and then answers its result with text", async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: "get_weather",
        description: "Current weather",
        input_schema: {
          type: "object",
          properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] }, days: { type: "integer" } },
          required: ["city", "unit"],
        },
      },
    ];
    const params = ask("Weather in Paris?", { tools, tool_choice: { type: "any" } });
    const stream = client.messages.stream(params);
    const jsonPieces: string[] = [];
    stream.on("inputJson", (piece) => jsonPieces.push(piece));
    const first = await stream.finalMessage();

    expect(first.stop_reason).toBe("tool_use");
    expect(first.content.map((block) => block.type)).toEqual(["text", "tool_use"]);
    const toolUse = first.content[1];
    if (toolUse?.type !== "tool_use") throw new Error("expected a tool_use block");
    expect(toolUse.id).toMatch(/^toolu_/);
    expect(toolUse.name).toBe("get_weather");
    expect(toolUse.input).toEqual({ city: expect.any(String), unit: expect.stringMatching(/^(celsius|fahrenheit)$/) });
    expect(jsonPieces.length).toBeGreaterThan(1);
    expect(jsonPieces.join("")).toBe(JSON.stringify(toolUse.input));
    const whole = await client.messages.create(params);
    expect(whole.content[1]).toMatchObject({ type: "tool_use", input: toolUse.input });
    expect(whole.usage.output_tokens).toBe(first.usage.output_tokens);

    const second = await client.messages.create({
      ...params,
      messages: [
        ...params.messages,
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: toolUse.id, content: "18 degrees, sunny" }] },
      ],
    });
    expect(second.stop_reason).toBe("end_turn");
    expect(second.content.map((block) => block.type)).toEqual(["text"]);
  });

  it("uses a tool only when asked to", async () => {
    const tools: Anthropic.Tool[] = [{ name: "lookup", input_schema: { type: "object", properties: {} } }];
    const unprompted = await client.messages.create(ask("Look it up", { tools }));
    expect(unprompted.stop_reason).toBe("end_turn");
    const prompted = await client.messages.create(ask("Look it up sim:tool", { tools }));
    expect(prompted.stop_reason).toBe("tool_use");
  });

  it("streams a thinking block with its signature before the answer", async () => {
    const stream = client.messages.stream(
      ask("Think first", { max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 2000 } }),
    );
    let signatures = 0;
    stream.on("signature", () => (signatures += 1));
    const message = await stream.finalMessage();

    expect(message.content.map((block) => block.type)).toEqual(["thinking", "text"]);
    const [thinking] = message.content;
    if (thinking?.type !== "thinking") throw new Error("expected a thinking block");
    expect(thinking.thinking.length).toBeGreaterThan(0);
    expect(thinking.signature.length).toBeGreaterThan(20);
    expect(signatures).toBe(1);
    const tokens = thinking.thinking.split(" ").length + textOf(message).split(" ").length;
    expect(message.usage.output_tokens).toBe(tokens);
    expect(recordOf(stream.request_id).outputTokensSent).toBe(tokens);
  });

  it("writes a marked prefix to the prompt cache, then reads it", async () => {
    const longSystem = "You are the edgegate test assistant. ".repeat(120);
    const prefixTokens = Math.ceil(longSystem.length / 4);
    const params = ask("Question one", {
      system: [{ type: "text", text: longSystem, cache_control: { type: "ephemeral" } }],
    });
    const questionTokens = Math.ceil("Question one".length / 4);

    const first = await client.messages.create(params);
    expect(first.usage).toMatchObject({
      input_tokens: questionTokens,
      cache_creation_input_tokens: prefixTokens,
      cache_read_input_tokens: 0,
    });
    const second = await client.messages.stream(params).finalMessage();
    expect(second.usage).toMatchObject({
      input_tokens: questionTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: prefixTokens,
    });
    const otherModel = await client.messages.create({ ...params, model: "claude-opus-4-7" });
    expect(otherModel.usage.cache_creation_input_tokens).toBe(prefixTokens);
    const tooShortForHaiku = await client.messages.create({ ...params, model: "claude-haiku-4-5" });
    expect(tooShortForHaiku.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  it("counts tokens with the same estimate as messages", async () => {
    const params = ask("Count these tokens, please", { system: "Be brief." });
    const { input_tokens } = await client.messages.countTokens({
      model: params.model,
      system: params.system,
      messages: params.messages,
    });
    const message = await client.messages.create(params);
    expect(input_tokens).toBe(Math.ceil("Be brief.".length / 4) + Math.ceil("Count these tokens, please".length / 4));
    expect(message.usage.input_tokens).toBe(input_tokens);
  });
});

describe("request errors", () => {
  it("rejects a wrong key and a missing key with 401", async () => {
    const wrongKey = new Anthropic({ apiKey: "sk-wrong", baseURL: sim.url, maxRetries: 0 });
    const error = await caught(wrongKey.messages.create(ask("hi")));
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(error.type).toBe("authentication_error");

    const response = await postMessages(ask("hi"), { "x-api-key": "" });
    expect(response.status).toBe(401);
  });

  it("rejects invalid bodies with 400 and unknown models with 404", async () => {
    const notJson = await postMessages("{not json");
    expect(notJson.status).toBe(400);
    const body = (await notJson.json()) as { type: string; error: { type: string }; request_id: string };
    expect(body).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: expect.any(String) },
      request_id: notJson.headers.get("request-id"),
    });

    const noMaxTokens = await postMessages({ model: MODEL, messages: [{ role: "user", content: "hi" }] });
    expect(await noMaxTokens.json()).toMatchObject({ error: { message: "max_tokens: Field required" } });
    const noMessages = await postMessages({ model: MODEL, max_tokens: 10, messages: [] });
    expect(noMessages.status).toBe(400);
    const badRole = await postMessages({ model: MODEL, max_tokens: 10, messages: [{ role: "bot", content: "hi" }] });
    expect(badRole.status).toBe(400);
    const badDirective = await postMessages(ask("sim:fault=explode"));
    expect(badDirective.status).toBe(400);

    const unknown = await caught(client.messages.create(ask("hi", { model: "xyz" })));
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect(unknown.apiMessage).toBe("model: xyz");
  });
});

describe("faults", () => {
  it("answers sim:fault=429 with a rate_limit_error and retry-after", async () => {
    const error = await caught(client.messages.create(ask("hi sim:fault=429 sim:retry-after=3")));
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(error.status).toBe(429);
    expect(error.type).toBe("rate_limit_error");
    expect(error.headers?.get("retry-after")).toBe("3");
    expect(error.headers?.get("anthropic-ratelimit-requests-remaining")).toBe("0");
    expect(error.requestID).toMatch(/^req_/);
    expect(error.error).toEqual({
      type: "error",
      error: { type: "rate_limit_error", message: expect.any(String) },
      request_id: error.requestID,
    });
    expect(recordOf(error.requestID)).toMatchObject({ status: 429, fault: "429", outputTokensSent: 0 });
  });

  it.each([
    ["529", Anthropic.OverloadedError, 529, "overloaded_error"],
    ["500", Anthropic.InternalServerError, 500, "api_error"],
  ])("answers sim:fault=%s with the SDK's %O, streaming or not", async (fault, errorClass, status, type) => {
    for (const request of [
      client.messages.create(ask(`hi sim:fault=${fault}`)),
      client.messages.stream(ask(`hi sim:fault=${fault}`)).finalMessage(),
    ]) {
      const error = await caught(request);
      expect(error).toBeInstanceOf(errorClass);
      expect(error.status).toBe(status);
      expect(error.type).toBe(type);
    }
  });

  it("breaks a stream with an error event after sim:after tokens (non-streaming: 529)", async () => {
    const stream = client.messages.stream(ask("sim:fault=error-mid sim:after=4 sim:tokens=30"));
    const texts: string[] = [];
    stream.on("text", (delta) => texts.push(delta));
    const error = await caught(stream.finalMessage());
    expect(error.type).toBe("overloaded_error");
    expect(texts).toHaveLength(4);
    expect(recordOf(stream.request_id)).toMatchObject({
      status: 200,
      outputTokensSent: 4,
      outputTokensPlanned: 30,
      completed: false,
      stopReason: null,
    });

    const whole = await caught(client.messages.create(ask("sim:fault=error-mid")));
    expect(whole.status).toBe(529);
    expect(whole.type).toBe("overloaded_error");
  });

  it("stalls a stream after sim:after tokens until the client leaves", async () => {
    const stream = client.messages.stream(ask("sim:fault=stall-mid sim:after=3 sim:tokens=30"));
    const texts: string[] = [];
    stream.on("text", (delta) => texts.push(delta));
    const failure = caught(stream.finalMessage());
    await waitFor(() => texts.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(texts).toHaveLength(3);
    const requestId = stream.request_id;
    expect(recordOf(requestId)).toMatchObject({ outputTokensSent: 3, completed: false, clientAborted: false });

    stream.abort();
    expect(await failure).toBeInstanceOf(Anthropic.APIUserAbortError);
    await waitFor(() => recordOf(requestId).clientAborted);
    expect(recordOf(requestId).finishedAt).not.toBeNull();
  });

  it("stops generating when the client aborts mid-stream", async () => {
    const stream = client.messages.stream(ask("sim:tokens=2000 sim:tps=100", { max_tokens: 4000 }));
    const texts: string[] = [];
    stream.on("text", (delta) => {
      texts.push(delta);
      if (texts.length === 5) stream.abort();
    });
    expect(await caught(stream.finalMessage())).toBeInstanceOf(Anthropic.APIUserAbortError);
    const requestId = stream.request_id;
    await waitFor(() => recordOf(requestId).clientAborted);
    const sentAtAbort = recordOf(requestId).outputTokensSent;
    await new Promise((resolve) => setTimeout(resolve, 50));

    const record = recordOf(requestId);
    expect(record.outputTokensSent).toBe(sentAtAbort);
    expect(record.outputTokensSent).toBeGreaterThanOrEqual(5);
    expect(record.outputTokensSent).toBeLessThan(record.outputTokensPlanned);
    expect(record).toMatchObject({ outputTokensPlanned: 2000, completed: false });
  });
});

describe("timing", () => {
  it("sends the first content delta no earlier than the scheduled TTFT, then paces tokens", async () => {
    const ttftMs = 2000;
    const tokensPerSecond = 10;
    const tokens = 10;
    const startedAt = performance.now();
    const response = await postMessages({ ...ask(`sim:ttft=${ttftMs} sim:tps=${tokensPerSecond} sim:tokens=${tokens}`), stream: true });
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error("no body");
    const decoder = new TextDecoder();
    let received = "";
    while (!received.includes("event: content_block_delta")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended before the first delta");
      received += decoder.decode(value);
    }
    const firstDeltaAfterMs = performance.now() - startedAt;
    while (!(await reader.read()).done);

    const scheduledTtftMs = ttftMs * TIME_SCALE;
    const scheduledLastTokenMs = scheduledTtftMs + ((tokens - 1) * 1000 * TIME_SCALE) / tokensPerSecond;
    expect(firstDeltaAfterMs).toBeGreaterThanOrEqual(scheduledTtftMs);
    const record = recordOf(response.headers.get("request-id"));
    expect((record.firstTokenAt ?? 0) - record.startedAt).toBeGreaterThanOrEqual(scheduledTtftMs);
    const lastDeltaAt = record.eventTimes.at(-4) ?? 0;
    expect(lastDeltaAt - record.startedAt).toBeGreaterThanOrEqual(scheduledLastTokenMs);
    expect((record.eventTimes[0] ?? Number.POSITIVE_INFINITY) - record.startedAt).toBeLessThan(scheduledTtftMs);
  });

  it("adds extraLatencyMs, unscaled, before the response headers", async () => {
    const delayed = await startSimulator({ timeScale: 0, extraLatencyMs: 60 });
    try {
      const startedAt = performance.now();
      const response = await fetch(`${delayed.url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": "any", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ ...ask("hi"), stream: true }),
      });
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(60);
      expect(parseSse(await response.text()).at(-1)?.event).toBe("message_stop");
    } finally {
      await delayed.close();
    }
  });
});

describe("control endpoints", () => {
  it("serves health, ledger records by id, and reset", async () => {
    expect(await (await fetch(`${sim.url}/healthz`)).json()).toEqual({ ok: true });
    const message = await client.messages.create(ask("record me"));
    const byId = (await (await fetch(`${sim.url}/_sim/requests/${message._request_id}`)).json()) as LedgerRecord;
    expect(byId).toMatchObject({ requestId: message._request_id, model: MODEL, outputTokensSent: message.usage.output_tokens });
    const all = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as LedgerRecord[];
    expect(all.map((record) => record.requestId)).toContain(message._request_id);

    await fetch(`${sim.url}/_sim/reset`, { method: "POST" });
    expect(sim.ledger.all()).toHaveLength(0);
    expect((await fetch(`${sim.url}/_sim/requests/${message._request_id}`)).status).toBe(404);
  });
});
