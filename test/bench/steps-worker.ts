/**
 * A Worker that runs one step of the gateway's hot path `n` times per request, for
 * test/bench/steps.ts, which charges workerd's CPU time to each step. The steps are the
 * gateway's own functions, called as the pipeline calls them, on the request body the
 * bench sends (its bytes, as the client sent them).
 */
import { sha256Hex } from "../../shared/auth/constant-time.js";
import { gatewayConfig } from "../../shared/config/env.js";
import { readJsonBody } from "../../shared/http/body.js";
import { checkHeaderLimits } from "../../shared/http/header-limits.js";
import { newRequestId } from "../../shared/http/request-id.js";
import { estimateInputTokens } from "../../shared/metering/estimate.js";
import { UsageMeter } from "../../shared/metering/usage.js";
import { RequestLog } from "../../shared/observability/request-log.js";
import { checkRequestFeatures } from "../../shared/request-policy/features.js";
import { routeRequest } from "../../shared/routing/policy.js";
import { SseParser } from "../../shared/sse/parser.js";
import { redisClient } from "../../shared/storage/redis.js";
import { luaScript, runScript } from "../../shared/storage/scripts.js";
import { modelPolicySchema } from "../../shared/tenants/model.js";
import { type MessagesRequest, messagesRequestSchema } from "../../shared/validation/messages.js";

const config = gatewayConfig({});
const policy = modelPolicySchema.parse({});
const encoder = new TextEncoder();

/**
 * An admission-sized Upstash exchange with the network left out: fetch answers at once
 * with a reply shaped like the admission script's (status, key and tenant records, figures).
 */
const STUB_URL = "http://upstash.stub";
const SCRIPT = luaScript("return 1");
const KEYS = Array.from({ length: 12 }, (_, index) => `edgegate:key:${index}:0123456789abcdef0123456789abcdef`);
const ARGS = ["res_0123456789", 12345, 600000, 0, "", "v1", "local", 172800000, "local|t|", "1", 2, "requests", 600, 60000, 1, "tokens", 2000000, 60000, 300];
const REPLY = JSON.stringify([
  {
    result: [
      "ok",
      JSON.stringify({ id: "k_1", tenantId: "bench", kind: "secret", label: "bench", createdAt: "2026-01-01T00:00:00Z", revokedAt: null }),
      JSON.stringify({ id: "bench", name: "Benchmark", limits: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 }, modelPolicy: policy, disabled: false }),
      ...Array.from({ length: 8 }, (_, index) => index * 1000),
    ],
  },
]);
const stubRedis = redisClient({ url: STUB_URL, token: "stub", requestTimeoutMs: 10_000 });
const realFetch = globalThis.fetch;
globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
  String(input).startsWith(STUB_URL) ? Promise.resolve(new Response(REPLY, { headers: { "content-type": "application/json" } })) : realFetch(input, init)) as typeof fetch;

interface Input {
  bytes: Uint8Array;
  text: string;
  parsed: MessagesRequest;
  headers: Headers;
}

/** Each step once, as the request path does it. Async steps are awaited by the loop. */
const STEPS: Record<string, (input: Input) => unknown> = {
  nothing: () => undefined,
  "new Request (the bench's own set-up for the next two)": (input) => new Request("http://bench/", { method: "POST", body: input.bytes }),
  "readJsonBody: reader loop + JSON.parse + zod": (input) =>
    readJsonBody(new Request("http://bench/", { method: "POST", body: input.bytes }), messagesRequestSchema, config.body),
  "request.arrayBuffer()": (input) => new Request("http://bench/", { method: "POST", body: input.bytes }).arrayBuffer(),
  "JSON.parse": (input) => JSON.parse(input.text),
  "TextDecoder.decode": (input) => new TextDecoder().decode(input.bytes),
  "zod validation": (input) => messagesRequestSchema.safeParse(input.parsed),
  "features check": (input) => checkRequestFeatures(input.parsed, null, [], config.features),
  "routing (classifier)": (input) => routeRequest(input.parsed, policy, config.routing),
  "input token estimate": (input) => estimateInputTokens(input.parsed),
  "upstream body: JSON.stringify": (input) => upstreamBody(input.parsed),
  "upstream body: stringify + TextEncoder": (input) => encoder.encode(upstreamBody(input.parsed)),
  "key hash (SHA-256)": () => sha256Hex("egk_live_0123456789abcdef0123456789abcdef"),
  "request id + reservation UUID": () => [newRequestId(), crypto.randomUUID()],
  "header limits": (input) => checkHeaderLimits(input.headers),
  "Upstash: runScript (EVALSHA, auto-pipelined), fetch stubbed": () => runScript(stubRedis, SCRIPT, KEYS, ARGS),
  "Upstash: the same exchange by hand (JSON body, stubbed fetch, JSON.parse)": async () => {
    const response = await fetch(`${STUB_URL}/pipeline`, {
      method: "POST",
      headers: { authorization: "Bearer stub", "content-type": "application/json" },
      body: JSON.stringify([["EVALSHA", SCRIPT.sha1, KEYS.length, ...KEYS, ...ARGS.map(String)]]),
    });
    return (JSON.parse(await response.text()) as Array<{ result: unknown }>)[0]!.result;
  },
  "log line fields + JSON (no console.log)": () => logLine(),
  "setTimeout + clearTimeout": () => clearTimeout(setTimeout(() => {}, 60_000)),
  "AbortController + AbortSignal.any + listener": () => {
    const a = new AbortController();
    const b = new AbortController();
    const any = AbortSignal.any([a.signal, b.signal]);
    const listener = (): void => {};
    any.addEventListener("abort", listener, { once: true });
    any.removeEventListener("abort", listener);
  },
  "new Headers + Response": () => new Response(null, { status: 200, headers: new Headers({ "content-type": "text/event-stream", "x-a": "1", "x-b": "2" }) }),
};

/** Per relayed event: the body is an SSE stream; the step meters it all (the caller divides by its events). */
const STREAM_STEPS: Record<string, (input: Input) => unknown> = {
  "meter a stream: TextDecoder + SseParser + UsageMeter": (input) => {
    const parser = new SseParser();
    const meter = new UsageMeter();
    const decoder = new TextDecoder();
    for (const chunk of chunksOf(input.bytes)) {
      for (const event of parser.feed(decoder.decode(chunk, { stream: true }))) meter.observe(event, 0);
    }
    return meter.result();
  },
};

/** The body the Anthropic provider sends, built as the pipeline and the provider build it. */
function upstreamBody(request: MessagesRequest): string {
  const { model: _chosen, ...cached } = request;
  const body = { ...cached, stream: true };
  return JSON.stringify({ model: "claude-sonnet-4-6", ...body, stream: true });
}

function logLine(): string {
  const log = new RequestLog("egr_0", 0);
  log.set({ region: "local", method: "POST", path: "/v1/messages", tenant_id: "bench", key_id: "k_1" });
  log.set({ model_requested: "claude-sonnet-4-6", stream: true, tier: "standard", score: 0.5, reasons: "a,b,c" });
  log.set({ admitted_on: "primary", gateway_ms: 1.2, attempts: 1, attempt_outcomes: "claude-sonnet-4-6@anthropic=200", provider: "anthropic" });
  log.set({ input_tokens: 10, output_tokens: 20, stop_reason: "end_turn", outcome: "completed", cost_usd: 0.0001, status: 200 });
  return JSON.stringify({ ts: new Date().toISOString(), msg: "request", request_id: log.requestId, total_ms: 1 });
}

function parsedOrEmpty(text: string): MessagesRequest {
  try {
    return JSON.parse(text) as MessagesRequest;
  } catch {
    return {} as MessagesRequest; // a stream step's body
  }
}

/** The stream as the upstream sends it: one chunk per event. */
function* chunksOf(bytes: Uint8Array): Generator<Uint8Array> {
  let start = 0;
  for (let i = 1; i < bytes.length; i++) {
    if (bytes[i] === 10 && bytes[i - 1] === 10) {
      yield bytes.subarray(start, i + 1);
      start = i + 1;
    }
  }
  if (start < bytes.length) yield bytes.subarray(start);
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const name = url.searchParams.get("step") ?? "";
    const n = Number(url.searchParams.get("n") ?? "1");
    const step = STEPS[name] ?? STREAM_STEPS[name];
    if (!step) return new Response(JSON.stringify({ steps: Object.keys(STEPS), streamSteps: Object.keys(STREAM_STEPS) }), { status: 404 });
    const bytes = new Uint8Array(await request.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    const input: Input = { bytes, text, parsed: parsedOrEmpty(text), headers: request.headers };
    for (let i = 0; i < n; i++) {
      const result = step(input);
      if (result instanceof Promise) await result;
    }
    return new Response("ok");
  },
};
