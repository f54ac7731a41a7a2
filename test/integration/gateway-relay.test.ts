import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../stack/stack.js";
import { sendMessage } from "./helpers.js";

let stack: Stack;
let viaGateway: Anthropic;
let direct: Anthropic;

const MODEL = "claude-sonnet-4-6";

beforeAll(async () => {
  stack = await startStack({ timeScale: 0.05, streamIdleTimeoutMs: 2_000 });
  viaGateway = new Anthropic({ apiKey: stack.clientKey, baseURL: stack.gateway.url, maxRetries: 0 });
  direct = new Anthropic({ apiKey: "sk-ant-simulator-0", baseURL: stack.simulator!.url, maxRetries: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

const ask = (content: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) => ({
  model: MODEL,
  max_tokens: 200,
  messages: [{ role: "user" as const, content }],
  ...extra,
});

function simulatorRecord(upstreamRequestId: string | null | undefined) {
  expect(upstreamRequestId).toBeTruthy();
  const record = stack.simulator!.ledger.get(upstreamRequestId!);
  expect(record).toBeDefined();
  return record!;
}

describe("SDK through the gateway equals SDK against the simulator", () => {
  const prompts = ["What are your opening hours?", "Explain tail latency in two sentences.", "sim:tokens=3 short"];

  it.each(prompts)("messages.create(): %s", async (prompt) => {
    const [gateway, upstream] = await Promise.all([
      viaGateway.messages.create(ask(prompt)),
      direct.messages.create(ask(prompt)),
    ]);
    expect(gateway.content).toEqual(upstream.content);
    expect(gateway.stop_reason).toBe(upstream.stop_reason);
    expect(gateway.usage).toEqual(upstream.usage);
    expect(gateway.model).toBe(upstream.model);
  });

  it.each(prompts)("messages.stream(): %s", async (prompt) => {
    const [gateway, upstream] = await Promise.all([
      viaGateway.messages.stream(ask(prompt)).finalMessage(),
      direct.messages.stream(ask(prompt)).finalMessage(),
    ]);
    expect(gateway.content).toEqual(upstream.content);
    expect(gateway.stop_reason).toBe(upstream.stop_reason);
    expect(gateway.usage).toEqual(upstream.usage);
  });

  it("relays max_tokens truncation and tool use the same way", async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: "get_order",
        description: "Look up an order",
        input_schema: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] },
      },
    ];
    const request = ask("Where is my order?", { max_tokens: 300, tools, tool_choice: { type: "any" } });
    const [gateway, upstream] = await Promise.all([
      viaGateway.messages.stream(request).finalMessage(),
      direct.messages.stream(request).finalMessage(),
    ]);
    expect(gateway.stop_reason).toBe("tool_use");
    const withoutIds = (content: Anthropic.ContentBlock[]) => content.map((block) => ({ ...block, id: undefined }));
    expect(withoutIds(gateway.content)).toEqual(withoutIds(upstream.content));
    const truncated = await viaGateway.messages.create(ask("sim:tokens=50 long answer", { max_tokens: 5 }));
    expect(truncated.stop_reason).toBe("max_tokens");
    expect(truncated.usage.output_tokens).toBe(5);
  });
});

describe("streaming without buffering", () => {
  it("delivers every event before the simulator sends the next one due later", async () => {
    // 8 tokens, 1 s apart at full scale (50 ms at this stack's time scale): any buffering of the
    // body shows up as events arriving only after later events were already written upstream.
    const response = await sendMessage(stack, stack.clientKey, { ...ask("sim:tokens=8 sim:tps=1 sim:ttft=4000 stream check"), stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const arrivals: number[] = [];
    const decoder = new TextDecoder();
    let text = "";
    const reader = response.body!.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      const chunk = read.value;
      const now = performance.now();
      text += decoder.decode(chunk, { stream: true });
      const complete = text.split("\n\n").length - 1;
      while (arrivals.length < complete) arrivals.push(now);
    }
    const record = simulatorRecord(response.headers.get("request-id"));
    expect(record.completed).toBe(true);
    expect(arrivals.length).toBe(record.eventTimes.length);
    // The simulator sends some events back to back (message_start, ping, content_block_start);
    // each event must reach the client before the next event that was due 25 ms or more later.
    const times = record.eventTimes;
    for (let i = 0; i < times.length; i++) {
      const next = times.findIndex((sentAt) => sentAt >= times[i]! + 25);
      if (next === -1) continue;
      expect(arrivals[i]!, `event ${i} arrived after event ${next} was sent`).toBeLessThan(times[next]!);
    }
    expect(arrivals[0]!).toBeLessThan(record.finishedAt!);
  });
});

describe("metering", () => {
  it("logs usage equal to the simulator's own count for every request", async () => {
    const cases = [
      { stream: true, prompt: "sim:tokens=17 a" },
      { stream: false, prompt: "sim:tokens=9 b" },
      { stream: true, prompt: "a default-length answer please" },
      { stream: true, prompt: "sim:fault=error-mid sim:after=4 c" },
    ];
    for (const { stream, prompt } of cases) {
      const response = await sendMessage(stack, stack.clientKey, { ...ask(prompt), stream });
      await response.text();
      const record = simulatorRecord(response.headers.get("request-id"));
      const log = await stack.gateway.waitForLog(response.headers.get("x-request-id")!);
      expect(log.input_tokens, prompt).toBe(record.inputTokens);
      expect(log.model).toBe(record.model);
      if (record.completed) {
        expect(log.output_tokens, prompt).toBe(record.outputTokensSent);
        expect(log.usage_estimated).toBe(false);
        expect(log.stop_reason).toBe(record.stopReason);
      } else {
        expect(log.upstream_error_type).toBe("overloaded_error");
        expect(log.usage_estimated).toBe(true);
        expect(log.output_tokens as number).toBeGreaterThanOrEqual(record.outputTokensSent);
      }
      for (const field of ["upstream_ttfb_ms", "gateway_ms", "total_ms", ...(stream ? ["ttft_ms"] : [])]) {
        expect(typeof log[field], field).toBe("number");
      }
      expect(JSON.stringify(log)).not.toContain(prompt);
      expect(JSON.stringify(log)).not.toContain(stack.clientKey);
    }
  });

  it("carries a request id and Server-Timing on streamed responses", async () => {
    const response = await fetch(`${stack.gateway.url}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.clientKey}`, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ ...ask("sim:tokens=2 timing"), stream: true }),
    });
    await response.text();
    expect(response.headers.get("x-request-id")).toMatch(/^egr_/);
    expect(response.headers.get("server-timing")).toMatch(/^gateway;dur=[\d.]+, upstream;desc="first byte";dur=[\d.]+$/);
  });

  it("aborts the upstream when the client disconnects and logs what was produced", async () => {
    const controller = new AbortController();
    const response = await sendMessage(stack, stack.clientKey, { ...ask("sim:tokens=2000 sim:tps=10 long story", { max_tokens: 4000 }), stream: true }, controller.signal);
    const reader = response.body!.getReader();
    let received = "";
    while (!received.includes("content_block_delta")) received += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const log = await stack.gateway.waitForLog(response.headers.get("x-request-id")!);
    // The relay's next write fails once the client has gone: the disconnect, not the idle watchdog, ends it.
    expect(log.outcome).toBe("client_disconnected");
    expect(log.usage_estimated).toBe(true);
    expect(log.output_tokens as number).toBeGreaterThan(0);
    const record = simulatorRecord(response.headers.get("request-id"));
    await expect
      .poll(() => record.clientAborted, { timeout: 5_000, message: `outcome ${log.outcome}, ${JSON.stringify(record).slice(0, 400)}` })
      .toBe(true);
    expect(record.outputTokensSent).toBeLessThan(2000);
  });
});

describe("upstream errors before the first byte", () => {
  it.each([
    ["429", 429, "rate_limit_error"],
    ["529", 529, "overloaded_error"],
    ["500", 500, "api_error"],
  ])("fault %s comes back with the upstream status and error shape", async (fault, status, type) => {
    const response = await sendMessage(stack, stack.clientKey, { ...ask(`sim:fault=${fault} please`), stream: true });
    expect(response.status).toBe(status);
    const body = (await response.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe(type);
    if (status === 429) expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("the SDK raises the matching typed error through the gateway", async () => {
    await expect(viaGateway.messages.create(ask("sim:fault=529 x"))).rejects.toBeInstanceOf(Anthropic.APIError);
    await expect(viaGateway.messages.create(ask("sim:fault=429 x"))).rejects.toBeInstanceOf(Anthropic.RateLimitError);
  });

  it("count_tokens is relayed", async () => {
    const viaGatewayCount = await viaGateway.messages.countTokens({ model: MODEL, messages: [{ role: "user", content: "count me" }] });
    const directCount = await direct.messages.countTokens({ model: MODEL, messages: [{ role: "user", content: "count me" }] });
    expect(viaGatewayCount.input_tokens).toBe(directCount.input_tokens);
    expect(viaGatewayCount.input_tokens).toBeGreaterThan(0);
  });
});

describe("model routing", () => {
  it("routes model auto by the classifier and explains the decision in headers and the log", async () => {
    const easy = await sendMessage(stack, stack.clientKey, { ...ask("sim:tokens=2 what are your opening hours?"), model: "auto" });
    expect(easy.status).toBe(200);
    expect(easy.headers.get("x-edgegate-tier")).toBe("light");
    expect(easy.headers.get("x-edgegate-model")).toBe("claude-haiku-4-5");
    expect(simulatorRecord(easy.headers.get("request-id")).model).toMatch(/^claude-haiku-4-5/);
    const log = await stack.gateway.waitForLog(easy.headers.get("x-request-id")!);
    expect(log).toMatchObject({ model_requested: "auto", tier: "light" });
    expect(typeof log.score).toBe("number");

    const hardPrompt =
      "sim:tokens=2 Design a multi-region, strongly consistent payment ledger: compare consensus protocols, " +
      "derive the failure modes step by step, prove the invariants hold under partitions, and analyse the trade-offs.";
    const hard = await sendMessage(stack, stack.clientKey, { ...ask(hardPrompt), model: "auto", max_tokens: 8000 });
    await hard.text();
    expect(hard.headers.get("x-edgegate-tier")).not.toBe("light");
    expect(hard.headers.get("x-edgegate-reasons")).toBeTruthy();
  });

  it("downgrades an explicit model above the tenant's tier cap and says so", async () => {
    const tenantId = `capped-${crypto.randomUUID().slice(0, 8)}`;
    await stack.admin.createTenant({ id: tenantId, name: "Capped", modelPolicy: { maxTier: "standard" } });
    const { key } = await stack.admin.createKey(tenantId);
    const response = await sendMessage(stack, key, { ...ask("sim:tokens=2 hello"), model: "claude-opus-4-7" });
    const body = (await response.json()) as { model: string };
    expect(response.headers.get("x-edgegate-downgraded")).toBe(
      "claude-opus-4-7 -> claude-sonnet-4-6 (highest tier allowed is standard)",
    );
    expect(body.model).toMatch(/^claude-sonnet-4-6/);
  });
});
