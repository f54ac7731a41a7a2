import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countTokensRequestSchema, messagesRequestSchema } from "../../shared/validation/messages.js";
import { startStack, type Stack } from "../stack/stack.js";
import { MODEL, newTenant, postExpectingContinue, UNREAD_BODY_GRACE_BYTES } from "./helpers.js";

// Hostile input: every malformed request gets a 4xx in Anthropic's error format with a
// message naming the field, and nothing is reserved, counted or sent upstream for it.

/** The stack's MAX_BODY_BYTES (wrangler.toml). */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const FUZZ_REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_ed6e);
const FUZZ_CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 32);

let stack: Stack;
let redis: Redis;
let tenant: { id: string; key: string; keyId: string };

beforeAll(async () => {
  stack = await startStack({ timeScale: 0.02, echo: process.env.FUZZ_ECHO === "1" });
  redis = new Redis(stack.redis.url);
  tenant = await newTenant(stack);
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

type Bytes = Uint8Array<ArrayBuffer>;
type Body = string | Bytes | ReadableStream<Uint8Array>;

function post(body: Body, headers: HeadersInit = { "x-api-key": tenant.key, "content-type": "application/json", "anthropic-version": "2023-06-01" }, path = "/v1/messages") {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  if (bytes instanceof Uint8Array && bytes.byteLength > UNREAD_BODY_GRACE_BYTES) {
    return postExpectingContinue(`${stack.gateway.url}${path}`, headers, bytes);
  }
  const init: RequestInit & { duplex?: "half" } = { method: "POST", headers, body };
  if (body instanceof ReadableStream) init.duplex = "half";
  return fetch(`${stack.gateway.url}${path}`, init);
}

interface ErrorShape {
  type: string;
  error: { type: string; message: string };
  request_id: string;
}

/** Why a response is not an Anthropic-format error, or null when it is one. */
function shapeProblem(response: Response, text: string): string | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "body is not JSON";
  }
  const candidate = body as Partial<ErrorShape> | null;
  if (candidate?.type !== "error") return 'type is not "error"';
  if (typeof candidate.error?.type !== "string" || candidate.error.type === "") return "error.type is not a string";
  if (typeof candidate.error.message !== "string" || candidate.error.message.length < 10) return "error.message is missing or terse";
  if (typeof candidate.request_id !== "string" || candidate.request_id !== response.headers.get("x-request-id")) {
    return "request_id is missing or differs from x-request-id";
  }
  if (!response.headers.get("content-type")?.includes("application/json")) return "content-type is not JSON";
  return null;
}

/** Asserts status and Anthropic's error format; returns the message. */
async function expectError(response: Response, status: number, type: string): Promise<string> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(shapeProblem(response, text), text).toBeNull();
  const body = JSON.parse(text) as ErrorShape;
  expect(body.error.type).toBe(type);
  return body.error.message;
}

const valid = { model: MODEL, max_tokens: 64, messages: [{ role: "user", content: "hi" }] };
const withValid = (fields: Record<string, unknown>) => JSON.stringify({ ...valid, ...fields });

describe("targeted hostile input", () => {
  it.each([
    ["malformed JSON", "{not json", "not valid JSON"],
    ["truncated JSON", withValid({}).slice(0, 30), "not valid JSON"],
    ["an empty body", "", "not valid JSON"],
    ["a JSON array", "[]", "body: expected a JSON object"],
    ["max_tokens 0", withValid({ max_tokens: 0 }), "max_tokens: expected an integer from 1 to 128000, got 0"],
    ["max_tokens -1", withValid({ max_tokens: -1 }), "max_tokens: expected an integer from 1 to 128000, got -1"],
    ["max_tokens 1e9", withValid({ max_tokens: 1e9 }), "max_tokens: expected an integer from 1 to 128000, got 1000000000"],
    ["max_tokens 1.5", withValid({ max_tokens: 1.5 }), "max_tokens: expected an integer from 1 to 128000, got 1.5"],
    ['max_tokens "100"', withValid({ max_tokens: "100" }), 'max_tokens: expected an integer from 1 to 128000, got "100"'],
    ["a missing max_tokens", withValid({ max_tokens: undefined }), "max_tokens: required"],
    ["a missing model", withValid({ model: undefined }), "model: required: expected a model id"],
    ["a model with control characters", withValid({ model: "claude-sonnet-4-6\u0000\r\nx-injected: 1" }), "model: expected a model id"],
    ["a model of the wrong type", withValid({ model: 4 }), "model: expected a model id"],
    ["empty messages", withValid({ messages: [] }), "messages: expected a non-empty array"],
    ["messages as a string", withValid({ messages: "hi" }), "messages: expected a non-empty array"],
    ["an unknown role", withValid({ messages: [{ role: "robot", content: "hi" }] }), 'messages.0.role: expected "user" or "assistant", got "robot"'],
    ["a system role", withValid({ messages: [{ role: "system", content: "hi" }] }), 'top-level "system" field'],
    ["content of the wrong type", withValid({ messages: [{ role: "user", content: 42 }] }), "messages.0.content: expected a string or an array of content blocks"],
    ["content blocks without type", withValid({ messages: [{ role: "user", content: [{ text: "hi" }] }] }), "messages.0.content.0.type: required"],
    ["a text block without text", withValid({ messages: [{ role: "user", content: [{ type: "text" }] }] }), "messages.0.content.0.text: required"],
    ["stream as a string", withValid({ stream: "yes" }), "stream: expected true or false"],
    ["system as a number", withValid({ system: 1 }), "system: expected a string or an array of text blocks"],
    ["tools as an object", withValid({ tools: { name: "x" } }), "tools: expected an array"],
    ["temperature out of range", withValid({ temperature: 7 }), "temperature: expected a number from 0 to 1"],
    ["JSON nested 10,000 levels deep", withValid({}).replace(/}$/, `,"x":${"[".repeat(10_000)}${"]".repeat(10_000)}}`), "JSON nested more than 128 levels"],
  ])("rejects %s with 400 naming the field", async (_, body, message) => {
    expect(await expectError(await post(body), 400, "invalid_request_error")).toContain(message);
  });

  it("validates count_tokens requests the same way", async () => {
    const response = await post(JSON.stringify({ model: MODEL, messages: [{ role: "bot", content: "x" }] }), undefined, "/v1/messages/count_tokens");
    expect(await expectError(response, 400, "invalid_request_error")).toContain("messages.0.role");
  });

  it("rejects an 11 MiB body with 413 request_too_large, declared or streamed", async () => {
    const huge = withValid({ messages: [{ role: "user", content: "x".repeat(11 * 1024 * 1024) }] });
    expect(await expectError(await post(huge), 413, "request_too_large")).toContain(`${MAX_BODY_BYTES}-byte limit`);
    const bytes = new TextEncoder().encode(huge);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += 256 * 1024) controller.enqueue(bytes.subarray(offset, offset + 256 * 1024));
        controller.close();
      },
    });
    expect(await expectError(await post(chunked), 413, "request_too_large")).toContain("byte limit");
  });

  describe("over-long headers", () => {
    // A valid body: the headers alone must be refused, before any work is done.
    const ledgerSize = () => stack.simulator!.ledger.all().length;
    let headerTenant: { id: string; key: string };
    beforeAll(async () => {
      headerTenant = await newTenant(stack);
    });
    const headers = (extra: Record<string, string>) => ({ "x-api-key": headerTenant.key, "content-type": "application/json", ...extra });

    it("refuses one header value over 8 KB with 431, naming the header", async () => {
      const before = ledgerSize();
      const message = await expectError(await post(withValid({}), headers({ "x-padding": "p".repeat(9 * 1024) })), 431, "invalid_request_error");
      expect(message).toContain("x-padding");
      expect(message).toMatch(/limit/);
      expect(ledgerSize()).toBe(before);
    });

    it("refuses over 32 KB of headers in total with 431", async () => {
      const many = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x-part-${i}`, "q".repeat(7 * 1024)]));
      const message = await expectError(await post(withValid({}), headers(many)), 431, "invalid_request_error");
      expect(message).toMatch(/in total/);
    });

    it("refuses an over-long x-api-key or authorization with 431, saying what to send", async () => {
      const long = `${headerTenant.key}${"k".repeat(600)}`;
      const viaApiKey = await expectError(await post(withValid({}), { "x-api-key": long, "content-type": "application/json" }), 431, "invalid_request_error");
      expect(viaApiKey).toContain("x-api-key");
      const viaBearer = await post(withValid({}), { authorization: `Bearer ${long}`, "content-type": "application/json" });
      expect(await expectError(viaBearer, 431, "invalid_request_error")).toContain("authorization");
    });
  });
});

// ---------------------------------------------------------------------------------------
// The fuzz: seeded, so a failure is reproducible with FUZZ_SEED.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** mulberry32: a tiny seeded PRNG with a full 2^32 period. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

class Rng {
  constructor(private readonly next: () => number) {}
  float(): number {
    return this.next();
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(probability: number): boolean {
    return this.next() < probability;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
}

const MODELS = [MODEL, "auto", "claude-haiku-4-5", "claude-opus-4-7"] as const;

const ODD_STRINGS = [
  "", " ", "user", "assistant", "system", "tool", "User", "USER", " user", "text", "image", "auto",
  "NaN", "Infinity", "-Infinity", "1e999", "-0", "100", "0x64", "１００", "1_000", "null", "undefined", "true", "[]", "{}",
  "__proto__", "constructor", "prototype", "toString", "hasOwnProperty",
  "\u0000", "a\u0000b", "\r\n", "line\nbreak", "\t", "\u202eevil", "zero\u200bwidth", "e\u0301", "👩‍👩‍👧‍👦", "𝕳𝖊𝖑𝖑𝖔", "\ud800", "\udfff\ud800",
  "claude-sonnet-4-6\u0000", "claude sonnet", "claude-sonnet-4-6\r\nx-injected: 1", "<script>alert(1)</script>", "${jndi:ldap://x/a}",
  "%s%n%x", "../../etc/passwd", "' OR 1=1 --", "\\", "\"", "\u00ff\u00fe", "\uffff", "\ufeff",
] as const;

const ODD_NUMBERS = [
  0, -0, -1, 1, 1.5, 0.1, -1e-320, 1e-320, 127_999, 128_000, 128_001, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 2, 1e9, 1e21, 1e300, -1e300,
  Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, 3.14159,
] as const;

const FIELDS = [
  "model", "max_tokens", "messages", "system", "stream", "tools", "tool_choice", "thinking", "metadata", "stop_sequences",
  "temperature", "top_p", "top_k", "service_tier", "__proto__", "constructor", "prototype", "role", "content", "type", "text",
] as const;

/** A placeholder for JSON too deep for JSON.stringify in Node: spliced into the text afterwards. */
const DEEP_MARK = "\u0001deep:";

function text(rng: Rng, maxLength = 40): string {
  const length = rng.int(0, maxLength);
  let out = "";
  for (let i = 0; i < length; i++) out += String.fromCharCode(rng.chance(0.9) ? rng.int(0x20, 0x7e) : rng.int(0, 0xffff));
  return out;
}

function longString(rng: Rng): string {
  const roll = rng.float();
  const length = roll < 0.85 ? rng.int(257, 16 * 1024) : roll < 0.98 ? rng.int(16 * 1024, 128 * 1024) : rng.int(128 * 1024, 1024 * 1024);
  return rng.chance(0.5) ? rng.pick(["x", "é", "😀", "\u0000", "ab"]).repeat(Math.ceil(length / 2)) : text(rng, 200).repeat(Math.ceil(length / 200));
}

function oddNumber(rng: Rng): number {
  return rng.chance(0.6) ? rng.pick(ODD_NUMBERS) * (rng.chance(0.2) ? -1 : 1) : (rng.float() - 0.5) * 10 ** rng.int(0, 40);
}

function randomValue(rng: Rng, depth = 0): Json {
  switch (rng.int(0, 11)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return oddNumber(rng);
    case 3:
      return rng.pick(ODD_STRINGS);
    case 4:
      return text(rng);
    case 5:
      return rng.chance(0.85) ? text(rng, 300) : longString(rng);
    case 6:
      return [];
    case 7:
      return {};
    case 8:
      return depth > 3 ? null : Array.from({ length: rng.int(1, 4) }, () => randomValue(rng, depth + 1));
    case 9: {
      if (depth > 3) return null;
      const object: JsonObject = {};
      for (let i = rng.int(1, 4); i > 0; i--) setKey(object, rng.chance(0.7) ? rng.pick(FIELDS) : text(rng, 12), randomValue(rng, depth + 1));
      return object;
    }
    case 10:
      return `${DEEP_MARK}${rng.chance(0.8) ? rng.int(129, 2_000) : rng.int(2_000, 50_000)}:${rng.int(0, 2)}`;
    default:
      return rng.pick<Json>([{ type: "text" }, { type: 1, text: "x" }, { role: "user" }, { type: "text", text: null }, [{}], [null], ["text"]]);
  }
}

/** Sets a key as an own property, even "__proto__" (plain assignment would set the prototype). */
function setKey(object: JsonObject, key: string, value: Json): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function validBody(rng: Rng, forCountTokens: boolean): JsonObject {
  const messages: Json[] = [];
  for (let turn = rng.int(1, 4), i = 0; i < turn; i++) {
    const role = i % 2 === 0 ? "user" : "assistant";
    const content: Json = rng.chance(0.5)
      ? `turn ${i}: ${text(rng, 60)}`
      : [
          { type: "text", text: `turn ${i}: ${text(rng, 60)}` },
          ...(rng.chance(0.3) ? [{ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }] : []),
          ...(rng.chance(0.2) ? [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "42" }] }] : []),
        ];
    messages.push({ role, content });
  }
  const body: JsonObject = { model: rng.pick(MODELS), messages };
  if (!forCountTokens) body["max_tokens"] = rng.int(1, 8_192);
  if (rng.chance(0.3)) body["system"] = rng.chance(0.5) ? "You are terse." : [{ type: "text", text: "You are terse." }];
  if (rng.chance(0.25)) {
    body["tools"] = [{ name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }];
    if (rng.chance(0.5)) body["tool_choice"] = { type: "tool", name: "get_weather" };
  }
  if (rng.chance(0.15)) body["thinking"] = { type: "enabled", budget_tokens: 1_024 };
  if (!forCountTokens) {
    if (rng.chance(0.3)) body["stream"] = rng.chance(0.5);
    if (rng.chance(0.15)) body["metadata"] = { user_id: "user-123" };
    if (rng.chance(0.15)) body["stop_sequences"] = ["END"];
    if (rng.chance(0.15)) body["temperature"] = 0.5;
    if (rng.chance(0.1)) body["top_p"] = 0.9;
    if (rng.chance(0.1)) body["top_k"] = 40;
  }
  return body;
}

interface Slot {
  parent: JsonObject | Json[];
  key: string | number;
}

/** Up to 200 places in the tree a mutation can hit, top-level fields included. */
function slots(root: JsonObject): Slot[] {
  const found: Slot[] = [];
  const queue: Array<JsonObject | Json[]> = [root];
  while (queue.length > 0 && found.length < 200) {
    const container = queue.shift()!;
    const keys: Array<string | number> = Array.isArray(container) ? container.map((_, index) => index) : Object.keys(container);
    for (const key of keys) {
      found.push({ parent: container, key });
      const child = (container as Record<string | number, Json>)[key];
      if (typeof child === "object" && child !== null) queue.push(child);
    }
  }
  return found;
}

function read(slot: Slot): Json {
  return (slot.parent as Record<string | number, Json>)[slot.key]!;
}

function write(slot: Slot, value: Json): void {
  if (Array.isArray(slot.parent)) slot.parent[slot.key as number] = value;
  else setKey(slot.parent, String(slot.key), value);
}

/** One structural mutation, biased towards the fields the gateway reads. */
function mutateTree(rng: Rng, body: JsonObject): void {
  const all = slots(body);
  if (all.length === 0) return setKey(body, rng.pick(FIELDS), randomValue(rng));
  const topLevel = all.filter((slot) => slot.parent === body);
  const slot = rng.chance(0.4) && topLevel.length > 0 ? rng.pick(topLevel) : rng.pick(all);
  switch (rng.int(0, 13)) {
    case 0: // drop
      if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
      else delete slot.parent[slot.key as string];
      return;
    case 1:
    case 2: // retype
      return write(slot, randomValue(rng));
    case 3: // huge or odd numbers
      return write(slot, oddNumber(rng));
    case 4: // NaN-ish and hostile strings
      return write(slot, rng.pick(ODD_STRINGS));
    case 5: // very long strings
      return write(slot, longString(rng));
    case 6: // deep nesting
      return write(slot, `${DEEP_MARK}${rng.chance(0.9) ? rng.int(100, 3_000) : rng.int(3_000, 50_000)}:${rng.int(0, 2)}`);
    case 7: { // duplicate an array item many times, or wrap/unwrap
      const value = read(slot);
      if (Array.isArray(value) && value.length > 0) {
        // Up to past the 100,000 messages limit, within about 6 MB of JSON.
        const itemBytes = Math.max(1, (JSON.stringify(value)?.length ?? 1) / value.length);
        const copies = Math.min(rng.chance(0.05) ? rng.int(100_001, 120_000) : rng.int(2, 50), Math.floor(6e6 / itemBytes));
        for (let i = 0; i < copies; i++) value.push(value[rng.int(0, value.length - 1)]!);
      } else write(slot, rng.chance(0.5) ? [value] : { value });
      return;
    }
    case 8: // prototype-pollution keys, at the top or nested
      setKey(
        rng.chance(0.5) || Array.isArray(slot.parent) ? body : slot.parent,
        rng.pick(["__proto__", "constructor", "prototype", "__defineGetter__", "toJSON"]),
        rng.pick<Json>([{ stream: "yes", system: 7, max_tokens: 1e9 }, { prototype: { polluted: true } }, null, "x", [1]]),
      );
      return;
    case 9: // the fields the gateway relies on, set to something wrong
      return mutateKnownField(rng, body);
    case 10:
    case 11:
      return mutateKnownField(rng, body);
    case 12: // add an unknown field next to a known one (usually harmless, so combined with others)
      return setKey(body, rng.chance(0.5) ? rng.pick(FIELDS) : text(rng, 16), randomValue(rng));
    default: // empty it
      return write(slot, rng.pick<Json>(["", [], {}, null]));
  }
}

function mutateKnownField(rng: Rng, body: JsonObject): void {
  const messages = Array.isArray(body["messages"]) ? body["messages"] : null;
  const message = messages && messages.length > 0 ? messages[rng.int(0, messages.length - 1)] : null;
  const messageObject = message && typeof message === "object" && !Array.isArray(message) ? message : null;
  switch (rng.int(0, 9)) {
    case 0:
      return setKey(body, "max_tokens", rng.pick<Json>([0, -1, 128_001, 1e9, 1.5, "100", null, true, [100], { value: 100 }, -0.5, 2 ** 60]));
    case 1:
      return setKey(body, "model", rng.pick<Json>(["", " ", "a".repeat(257), "claude\nsonnet", "claude sonnet", "😀", 4, null, ["auto"], { id: MODEL }]));
    case 2:
      return setKey(body, "messages", rng.pick<Json>([[], {}, "hi", null, [null], [[]], [{}], [{ role: "user" }], [{ content: "hi" }]]));
    case 3:
      if (messageObject) return setKey(messageObject, "role", rng.pick<Json>(["system", "robot", "", "User", "tool", null, 1, ["user"]]));
      return setKey(body, "messages", [{ role: "robot", content: "hi" }]);
    case 4:
      if (messageObject) {
        return setKey(messageObject, "content", rng.pick<Json>([7, null, true, {}, [{}], [{ text: "no type" }], [{ type: "text" }], [{ type: "text", text: 5 }], [{ type: "" }], [null], ["text"]]));
      }
      return setKey(body, "messages", [{ role: "user", content: [{ text: "x" }] }]);
    case 5:
      return setKey(body, "system", rng.pick<Json>([1, true, {}, [{ type: "image" }], [{ type: "text" }], ["text"], [null]]));
    case 6:
      return setKey(body, "tools", rng.pick<Json>([{}, "x", [{}], [{ name: 1 }], [{ name: "" }], [null], Array.from({ length: 1_001 }, (): Json => ({ name: "t" }))]));
    case 7:
      return setKey(body, "stream", rng.pick<Json>(["true", 1, 0, null, [], "false"]));
    case 8:
      return setKey(
        body,
        rng.pick(["temperature", "top_p", "top_k", "stop_sequences", "metadata", "thinking", "tool_choice"]),
        rng.pick<Json>([-1, 2, "0.5", [], {}, null, 1e9, [1], { type: 1 }, { user_id: 5 }, { type: "enabled", budget_tokens: 1.5 }]),
      );
    default:
      return setKey(body, rng.pick(["model", "max_tokens", "messages"]), randomValue(rng));
  }
}

/** Replaces deep-nesting placeholders with the nested JSON text, about 4 MB of it at most. */
function spliceDeep(json: string): string {
  let budget = 4e6;
  return json.replace(/"\\u0001deep:(\d+):(\d)"/g, (_, depthText: string, kindText: string) => {
    if (budget < 129 * 30) return '"deep"';
    const depth = Math.min(Number(depthText), Math.floor(budget / 30));
    budget -= depth * 30;
    const kind = Number(kindText);
    if (kind === 0) return "[".repeat(depth) + "]".repeat(depth);
    if (kind === 1) return '{"a":'.repeat(depth) + "null" + "}".repeat(depth);
    return '[{"type":"text","content":'.repeat(depth) + '"x"' + "}]".repeat(depth);
  });
}

const encoder = new TextEncoder();

function randomBytes(rng: Rng, length: number): Bytes {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = rng.int(0, 255);
  return bytes;
}

/** Mutations of the JSON text itself. */
function mutateText(rng: Rng, json: string): string | Bytes {
  switch (rng.int(0, 11)) {
    case 0:
    case 1: // truncation
      return json.slice(0, rng.int(0, Math.max(0, json.length - 1)));
    case 2: { // duplicate a key with a wrong value
      const field = rng.pick(["model", "max_tokens", "messages", "stream", "system"]);
      const value = JSON.stringify(randomValue(rng)) ?? "null";
      return rng.chance(0.5) ? json.replace(/^\{/, `{"${field}":${value},`) : json.replace(/\}$/, `,"${field}":${value}}`);
    }
    case 3: { // random bytes spliced in
      const bytes = encoder.encode(json);
      const at = rng.int(0, bytes.length);
      const noise = randomBytes(rng, rng.int(1, 16));
      const out = new Uint8Array(bytes.length + noise.length);
      out.set(bytes.subarray(0, at), 0);
      out.set(noise, at);
      out.set(bytes.subarray(at), at + noise.length);
      return out;
    }
    case 4: { // bytes flipped in place
      const bytes = encoder.encode(json);
      for (let i = rng.int(1, 4); i > 0 && bytes.length > 0; i--) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      return bytes;
    }
    case 5: // trailing garbage
      return json + rng.pick([",", "}", "]", " x", "\u0000", "{}", "\n{", "//", "NaN"]);
    case 6: // JSON5-isms
      return rng.pick([json.replace(/\}$/, ",}"), json.replace(/"/g, "'"), `/* c */${json}`, json.replace(/:/, ": NaN,"), json.replace(/\d+/, "0x10")]);
    case 7: // another encoding
      return utf16(rng.chance(0.5) ? `\ufeff${json}` : json);
    case 8: // a quote or brace removed
      return removeOne(rng, json, rng.pick(['"', "{", "}", "[", "]", ":", ","]));
    case 9: // a number replaced with a huge literal
      return json.replace(/\d+/, rng.pick(["1e400", "-1e400", "123456789012345678901234567890", "1.0e+1000", "-", "1."]));
    case 10: // escapes
      return json.replace(/"([a-z])/, rng.pick(['"\\ud800$1', '"\\u0000$1', '"\\x41$1', '"\\$1', '"\\u12']));
    default: // the body repeated
      return json + json;
  }
}

function removeOne(rng: Rng, json: string, character: string): string {
  const positions: number[] = [];
  for (let i = json.indexOf(character); i >= 0 && positions.length < 1_000; i = json.indexOf(character, i + 1)) positions.push(i);
  if (positions.length === 0) return `${json}${character}`;
  const at = rng.pick(positions);
  return json.slice(0, at) + json.slice(at + 1);
}

function utf16(textValue: string): Bytes {
  const bytes = new Uint8Array(textValue.length * 2);
  for (let i = 0; i < textValue.length; i++) {
    bytes[2 * i] = textValue.charCodeAt(i) & 0xff;
    bytes[2 * i + 1] = textValue.charCodeAt(i) >> 8;
  }
  return bytes;
}

/** Bodies that are not JSON objects at all. */
function nonsense(rng: Rng): string | Bytes {
  switch (rng.int(0, 5)) {
    case 0:
      return rng.pick(["", " ", "null", "true", "0", "-1", '"x"', "[]", "[{}]", "{}", "{'a':1}", "NaN", "undefined", "\ufeff", "\u0000"]);
    case 1:
      return randomBytes(rng, rng.int(1, 4_096));
    case 2:
      return `${"[".repeat(rng.int(1, 100_000))}`;
    case 3:
      return `model=${MODEL}&max_tokens=100&messages=hi`;
    case 4: // over the body limit
      return rng.chance(0.02) ? `{"x":"${"y".repeat(MAX_BODY_BYTES)}"}` : JSON.stringify(randomValue(rng)) ?? "null";
    default:
      return `--b\r\nContent-Disposition: form-data; name="model"\r\n\r\n${MODEL}\r\n--b--`;
  }
}

const TCHAR = "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+.^_`|~-";
/** Header names fetch sends as is; the hop-by-hop and framing ones are left to fetch. */
const RESERVED_HEADERS = new Set(["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "expect", "host", "te", "trailer", "proxy-connection", "http2-settings"]);

function headerValue(rng: Rng, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += String.fromCharCode(rng.chance(0.95) ? rng.int(0x20, 0x7e) : rng.int(0x80, 0xff));
  return out.trim();
}

function fuzzHeaders(rng: Rng, key: string): Headers {
  const headers = new Headers();
  const add = (name: string, value: string): void => {
    if (RESERVED_HEADERS.has(name.toLowerCase())) return;
    try {
      headers.append(name, value);
    } catch {
      // fetch would refuse it; the gateway never sees such a header
    }
  };
  const credential = rng.int(0, 19);
  if (credential < 15) add("x-api-key", key);
  else if (credential === 15) add("authorization", `Bearer ${key}`);
  else if (credential === 16) add("x-api-key", rng.pick(["", " ", "Bearer", `${key} ${key}`, `${key}\u00ff`, "k".repeat(rng.int(100, 2_000))]));
  else if (credential === 17) add("authorization", rng.pick(["Bearer", "Basic Zm9vOmJhcg==", `bearer  ${key} `, `Bearer ${"k".repeat(700)}`, "Bearer \u00ff"]));
  else if (credential === 18) {
    add("x-api-key", key);
    add("x-api-key", key);
  }
  if (rng.chance(0.85)) {
    add("content-type", rng.chance(0.6) ? "application/json" : rng.pick([
      "text/plain", "application/json; charset=utf-16", "application/json; charset=latin1", "multipart/form-data; boundary=b",
      "application/x-www-form-urlencoded", "application/octet-stream", "", "*/*", "application/json, text/plain", "APPLICATION/JSON",
      `application/json; ${"p=1;".repeat(200)}`,
    ]));
  }
  const extras = rng.chance(0.5) ? rng.int(1, 6) : 0;
  for (let i = 0; i < extras; i++) {
    const name = rng.chance(0.5)
      ? rng.pick(["anthropic-beta", "anthropic-version", "x-request-id", "accept", "accept-encoding", "user-agent", "cookie", "x-forwarded-for", "cf-connecting-ip", "origin", "referer", "content-encoding", "x-edgegate-model", "__proto__", "constructor"])
      : Array.from({ length: rng.int(1, 40) }, () => TCHAR[rng.int(0, TCHAR.length - 1)]).join("");
    const length = rng.chance(0.9) ? rng.int(0, 200) : rng.chance(0.7) ? rng.int(200, 8 * 1024) : rng.int(8 * 1024, 12 * 1024);
    add(name, rng.chance(0.1) ? rng.pick(["gzip", "br", "2023-06-01", "prompt-caching-2024-07-31", "\u00e9t\u00e9", "a, b, c"]) : headerValue(rng, length));
  }
  return headers;
}

interface FuzzCase {
  index: number;
  path: "/v1/messages" | "/v1/messages/count_tokens";
  body: Bytes;
  headers: Headers;
  /** How it was made, for failure reports. */
  recipe: string;
}

/** Whether the gateway would accept the body: the same decoding, size limit and schema. */
function locallyValid(body: Bytes, path: FuzzCase["path"]): boolean {
  if (body.byteLength > MAX_BODY_BYTES) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return false;
  }
  return (path === "/v1/messages" ? messagesRequestSchema : countTokensRequestSchema).safeParse(parsed).success;
}

function generateCase(rng: Rng, index: number, key: string): FuzzCase {
  const path = rng.chance(0.9) ? "/v1/messages" : "/v1/messages/count_tokens";
  const recipe: string[] = [];
  let body: string | Bytes;
  const kind = rng.float();
  if (kind < 0.08) {
    body = nonsense(rng);
    recipe.push("nonsense");
  } else {
    const tree = validBody(rng, path !== "/v1/messages");
    const mutations = kind < 0.7 ? rng.int(1, 3) : rng.int(0, 2);
    for (let i = 0; i < mutations; i++) mutateTree(rng, tree);
    recipe.push(`tree x${mutations}`);
    body = spliceDeep(JSON.stringify(tree));
    if (kind >= 0.7) {
      body = mutateText(rng, body);
      recipe.push("text");
    }
  }
  return { index, path, body: typeof body === "string" ? encoder.encode(body) : body, headers: fuzzHeaders(rng, key), recipe: recipe.join(" + ") };
}

/** Every key with its type and value, to compare before and after. */
async function redisSnapshot(): Promise<Map<string, string>> {
  const snapshot = new Map<string, string>();
  for (const name of (await redis.keys("*")).sort()) {
    const type = await redis.type(name);
    let value: unknown;
    if (type === "string") value = await redis.get(name);
    else if (type === "hash") value = Object.entries(await redis.hgetall(name)).sort();
    else if (type === "zset") value = await redis.zrange(name, 0, -1, "WITHSCORES");
    else if (type === "set") value = (await redis.smembers(name)).sort();
    else if (type === "list") value = await redis.lrange(name, 0, -1);
    snapshot.set(name, `${type} ${JSON.stringify(value)}`);
  }
  return snapshot;
}

/** Keys holding this tenant's usage, reservations, rate limits or last use. */
function countersOf(snapshot: Map<string, string>, who: { id: string; keyId: string }): string[] {
  return [...snapshot.keys()].filter(
    (name) =>
      name.startsWith(`eg:u:${who.id}:`) ||
      name === `eg:r:${who.id}` ||
      name === `eg:rz:${who.id}` ||
      name === `eg:lu:${who.keyId}` ||
      (name.startsWith("eg:rl:") && (name.includes(who.id) || name.includes(who.keyId))),
  );
}

describe("fuzz", () => {
  it(`${FUZZ_REQUESTS} generated and mutated invalid requests: no 5xx, no crash, Anthropic's error format, no counter touched`, async () => {
    const rng = new Rng(mulberry32(FUZZ_SEED));
    const before = await redisSnapshot();
    expect(countersOf(before, tenant)).toEqual([]);
    const ledgerBefore = stack.simulator!.ledger.all().length;
    stack.bridge.resetStats();

    let generated = 0;
    let skippedAsValid = 0;
    let sent = 0;
    const nextCase = (): FuzzCase | null => {
      while (sent < FUZZ_REQUESTS) {
        const candidate = generateCase(rng, generated++, tenant.key);
        if (locallyValid(candidate.body, candidate.path)) {
          skippedAsValid++;
          continue;
        }
        sent++;
        return candidate;
      }
      return null;
    };

    const statuses = new Map<number, number>();
    const errorTypes = new Map<string, number>();
    const serverErrors: string[] = [];
    const malformed: string[] = [];
    const crashes: string[] = [];
    const unexpectedLimits: string[] = [];
    const describeCase = (fuzzCase: FuzzCase, extra: string) =>
      `#${fuzzCase.index} ${fuzzCase.path} (${fuzzCase.recipe}, ${fuzzCase.body.byteLength} bytes) body starts ${JSON.stringify(
        new TextDecoder().decode(fuzzCase.body.subarray(0, 160)),
      )}: ${extra}`;

    const started = performance.now();
    const worker = async (): Promise<void> => {
      for (let fuzzCase = nextCase(); fuzzCase; fuzzCase = nextCase()) {
        let response: Response;
        let textBody: string;
        try {
          response = await post(fuzzCase.body, fuzzCase.headers, fuzzCase.path);
          textBody = await response.text();
        } catch (error) {
          crashes.push(describeCase(fuzzCase, `fetch failed: ${String(error)} ${String((error as { cause?: unknown }).cause ?? "")}`));
          continue;
        }
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500) serverErrors.push(describeCase(fuzzCase, `${response.status} ${textBody.slice(0, 300)}`));
        const problem = response.status >= 400 && response.status < 500 ? shapeProblem(response, textBody) : `status ${response.status}`;
        if (problem) malformed.push(describeCase(fuzzCase, `${problem}: ${textBody.slice(0, 300)}`));
        else {
          const { type, message } = (JSON.parse(textBody) as ErrorShape).error;
          errorTypes.set(type, (errorTypes.get(type) ?? 0) + 1);
          // The only refusals that are not about the request itself: too many failed authentications from one network.
          if (response.status === 429 && !/invalid API keys/.test(message)) unexpectedLimits.push(describeCase(fuzzCase, message));
        }
      }
    };
    await Promise.all(Array.from({ length: FUZZ_CONCURRENCY }, worker));
    const durationMs = performance.now() - started;

    await new Promise((resolve) => setTimeout(resolve, 500)); // anything deferred has landed by now
    const after = await redisSnapshot();
    const added = [...after.keys()].filter((name) => !before.has(name));
    const changed = [...after.keys()].filter((name) => before.has(name) && before.get(name) !== after.get(name));
    const ledgerGrowth = stack.simulator!.ledger.all().length - ledgerBefore;
    const bridge = stack.bridge.stats();

    console.log(
      [
        `fuzz seed ${FUZZ_SEED}: sent ${sent}, generated ${generated}, skipped as valid ${skippedAsValid}, ${(durationMs / 1000).toFixed(1)} s`,
        `statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`,
        `error types ${JSON.stringify(Object.fromEntries(errorTypes))}`,
        `upstash during the fuzz: ${bridge.requests} requests, ${bridge.commands} commands ${JSON.stringify(bridge.byPath)}`,
        `redis keys added ${added.length}, changed ${changed.length}; simulator ledger +${ledgerGrowth}`,
      ].join("\n"),
    );
    expect(sent).toBe(FUZZ_REQUESTS);
    expect(crashes.slice(0, 5), `${crashes.length} requests failed at the transport level`).toEqual([]);
    expect(serverErrors.slice(0, 5), `${serverErrors.length} responses were 5xx`).toEqual([]);
    expect(malformed.slice(0, 5), `${malformed.length} responses were not 4xx in Anthropic's error format`).toEqual([]);
    expect(unexpectedLimits.slice(0, 5), "429s other than the throttle of failed authentications").toEqual([]);
    // Failed authentications are counted per network (and only they touch storage): nothing else is written.
    const throttleCounter = (name: string) => name.startsWith("eg:b:auth:");
    expect(added.filter((name) => !throttleCounter(name)), "Redis keys created by invalid requests").toEqual([]);
    expect(changed.filter((name) => !throttleCounter(name)), "Redis keys changed by invalid requests").toEqual([]);
    expect(countersOf(after, tenant)).toEqual([]);
    expect(ledgerGrowth, "invalid requests that reached the upstream").toBe(0);
    expect(durationMs).toBeLessThan(150_000); // typically 55-90 s on 2 busy cores

    // The gateway is still up, and the snapshot does see counters move: one valid request.
    expect((await fetch(`${stack.gateway.url}/healthz`)).status).toBe(200);
    const control = await post(JSON.stringify({ ...valid, messages: [{ role: "user", content: "sim:tokens=2 control" }] }));
    expect(control.status).toBe(200);
    await control.text();
    await stack.gateway.waitForLog(control.headers.get("x-request-id")!);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(countersOf(await redisSnapshot(), tenant).length).toBeGreaterThan(0);
    expect(stack.simulator!.ledger.all().length).toBe(ledgerBefore + 1);
  }, 240_000);
});
