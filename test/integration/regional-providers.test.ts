import Anthropic from "@anthropic-ai/sdk";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_LOCATIONS } from "../stack/geography.js";
import type { LedgerRecord } from "../stack/simulator/ledger.js";
import { type Deployment, startStack, type Stack } from "../stack/stack.js";
import { newTenant } from "./helpers.js";
import { usageCounters } from "./traffic.js";

/**
 * Each region calls its own provider (the local topology, as wrangler.toml configures it:
 * us-east the Anthropic API, eu-west Vertex AI in europe-west1 then the API, ap-southeast
 * Bedrock in ap-southeast-1 through the APAC profile then the API), all simulated. The
 * Anthropic SDK, placed near each region and going through the front Worker, must not be
 * able to tell which provider answered; residency pins hold when providers fail; metering
 * counts what each provider's simulator counted.
 */

let stack: Stack;
let primary: Redis;

beforeAll(async () => {
  // A short retry deadline keeps the fault cases quick: an endpoint that failed rests past it.
  stack = await startStack({ topology: "regions", timeScale: 0.05, streamIdleTimeoutMs: 2_000, retry: { deadlineMs: 400, baseDelayMs: 25 } });
  primary = new Redis(stack.redis.url);
}, 180_000);

afterAll(async () => {
  primary?.disconnect();
  await stack?.stop();
});

const REGIONS = {
  "us-east": { near: "New York", provider: "anthropic", format: "anthropic" },
  "eu-west": { near: "Frankfurt", provider: "vertex:europe-west1", format: "vertex" },
  "ap-southeast": { near: "Singapore", provider: "bedrock:ap-southeast-1/apac", format: "bedrock" },
} as const;
type RegionId = keyof typeof REGIONS;
const REGION_IDS = Object.keys(REGIONS) as RegionId[];

const deployment = (region: RegionId): Deployment => stack.deployments.find((candidate) => candidate.region === region)!;
const ledgerOf = (region: RegionId) => deployment(region).simulator!.ledger;

/** The Anthropic SDK as a client near `region` would use it: through the front Worker, placed by Miniflare's MF-CF-Blob. */
function clientNear(region: RegionId, key: string): Anthropic {
  const location = CLIENT_LOCATIONS.find((candidate) => candidate.name === REGIONS[region].near)!;
  const blob = { latitude: String(location.latitude), longitude: String(location.longitude), continent: location.continent };
  return new Anthropic({ apiKey: key, baseURL: stack.gateway.url, maxRetries: 0, defaultHeaders: { "MF-CF-Blob": JSON.stringify(blob) } });
}

/** Message and tool-use ids differ per answer (and per provider: msg_bdrk_, msg_vrtx_); nothing else may. */
function withoutIds<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replace(/"(msg|msg_bdrk|msg_vrtx|toolu)_01[0-9A-Za-z]{22}"/g, '"<id>"')) as T;
}

/** The simulator record of an answer, found by its message id in the region's own simulator. */
function recordOf(region: RegionId, messageId: string): Readonly<LedgerRecord> {
  const record = ledgerOf(region).byMessageId(messageId);
  expect(record, `${region}'s simulator answered ${messageId}`).toBeDefined();
  return record!;
}

const WEATHER: Anthropic.Tool = {
  name: "get_weather",
  description: "Current weather of a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

const ask = (model: string, text: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}): Anthropic.MessageCreateParamsNonStreaming => ({
  model,
  max_tokens: 1024,
  messages: [{ role: "user", content: text }],
  ...extra,
});

/** Text on a dated model (answers name the API's snapshot id on every provider), a tool call, extended thinking; and the model answers report. */
const CASES: Array<[string, Anthropic.MessageCreateParamsNonStreaming, string]> = [
  ["text", ask("claude-opus-4-5", "sim:tokens=12 Explain edge routing.", { system: "Be brief." }), "claude-opus-4-5-20251101"],
  ["tool use", ask("claude-haiku-4-5", "Weather in Oslo?", { tools: [WEATHER], tool_choice: { type: "any" } }), "claude-haiku-4-5-20251001"],
  ["thinking", ask("claude-sonnet-4-6", "sim:tokens=6 Think first.", { max_tokens: 4096, thinking: { type: "enabled", budget_tokens: 2048 } }), "claude-sonnet-4-6"],
];

describe("the Anthropic SDK through the front Worker, from near each region", () => {
  it.each(CASES)("gets the same %s answer from every region's provider, unstreamed", async (_case, body, answerModel) => {
    const answers = await Promise.all(
      REGION_IDS.map(async (region) => {
        const { data, response } = await clientNear(region, stack.clientKey).messages.create(body).withResponse();
        expect(response.headers.get("x-edgegate-region")).toBe(region);
        expect(recordOf(region, data.id)).toMatchObject({ format: REGIONS[region].format, status: 200 });
        return data;
      }),
    );
    const [reference, ...others] = answers.map(withoutIds);
    expect(reference!.content.length).toBeGreaterThan(0);
    // Every provider's model id is mapped back to the one the Anthropic API reports.
    expect(reference!.model).toBe(answerModel);
    for (const other of others) expect(other).toEqual(reference);
  });

  it.each(CASES)("gets the same %s event stream from every region's provider", async (_case, body) => {
    const streams = await Promise.all(
      REGION_IDS.map(async (region) => {
        const stream = clientNear(region, stack.clientKey).messages.stream(body);
        const events: Anthropic.MessageStreamEvent[] = [];
        for await (const event of stream) events.push(event);
        const final = await stream.finalMessage();
        expect(recordOf(region, final.id).format).toBe(REGIONS[region].format);
        return { events: withoutIds(events), final: withoutIds(final) };
      }),
    );
    const [reference, ...others] = streams;
    expect(reference!.events[0]!.type).toBe("message_start");
    expect(reference!.events.at(-1)!.type).toBe("message_stop");
    for (const other of others) expect(other).toEqual(reference);
  });

  it("gets the same errors from every region's provider: an upstream refusal, a stream failing mid-way, a rate limit", async () => {
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => null,
        (caught: unknown) => {
          const error = caught as InstanceType<typeof Anthropic.APIError>;
          return { status: error.status, error: error.error as { type: string; error: { type: string; message: string }; request_id?: string } };
        },
      );
    const failures = await Promise.all(
      REGION_IDS.map(async (region) => {
        const client = clientNear(region, stack.clientKey);
        const refused = await failure(client.messages.create(ask("claude-sonnet-4-6", "sim:bogus hi")));
        const events: string[] = [];
        const cut = await failure(
          (async () => {
            const stream = client.messages.stream(ask("claude-sonnet-4-6", "sim:fault=error-mid sim:after=3 hi"));
            for await (const event of stream) events.push(event.type === "content_block_delta" && event.delta.type === "text_delta" ? event.delta.text : event.type);
          })(),
        );
        // Last: a 429 rests the region's endpoints for its retry-after (1 s), which the test then lets pass.
        const limited = await failure(client.messages.create(ask("claude-sonnet-4-6", "sim:fault=429 sim:retry-after=1 hi")));
        return withoutIds({ refused, cut, events, limited });
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const [reference, ...others] = failures;
    expect(reference).toMatchObject({
      refused: { status: 400, error: { type: "error", error: { type: "invalid_request_error", message: "unknown simulator directive: bogus" } } },
      cut: { error: { type: "error", error: { type: "overloaded_error" } } },
      limited: { status: 429, error: { type: "error", error: { type: "rate_limit_error" } } },
    });
    expect(reference!.events.filter((event) => !event.includes("_"))).toHaveLength(3);
    for (const other of others) {
      expect(other.events).toEqual(reference!.events);
      // Same shapes and types; a cloud's own wording of an error (Bedrock's exception message mid-stream) and
      // its request_id are kept, as message ids are.
      expect(other.cut).toMatchObject({ error: { type: "error", error: { type: "overloaded_error", message: expect.any(String) } } });
      expect(other.refused).toMatchObject({ status: 400, error: { type: "error", error: reference!.refused!.error.error } });
      expect(other.limited).toMatchObject({ status: 429, error: { type: "error", error: { type: "rate_limit_error" } } });
    }
  });
});

/**
 * The simulator's `fail-first=1` fails the first request with a given text in whatever format,
 * and spares the next: the first attempt of a chain (Bedrock in ap-southeast, Vertex in
 * eu-west) fails, and what comes after it is served. `retry-after=0` keeps the rest of the
 * failed endpoint short, so later tests find it in service.
 */
const failingFirst = (fault: string): string => `sim:fault=${fault} sim:fail-first=1 sim:retry-after=0 sim:tokens=8 ${crypto.randomUUID()}`;
const countsOf = () => Object.fromEntries(REGION_IDS.map((id) => [id, ledgerOf(id).all().length])) as Record<RegionId, number>;

describe("a failing Bedrock in ap-southeast", () => {
  it.each([
    ["overloaded (503 ServiceUnavailableException)", "529", 503],
    ["throttled (429 ThrottlingException)", "429", 429],
  ])("when %s, the request goes down the chain to the Anthropic API before the first byte", async (_case, fault, bedrockStatus) => {
    const before = countsOf();
    const { data: stream, response } = await clientNear("ap-southeast", stack.clientKey)
      .messages.create({ ...ask("claude-sonnet-4-6", failingFirst(fault)), stream: true })
      .withResponse();
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);

    expect(response.status).toBe(200);
    expect(response.headers.get("x-edgegate-region")).toBe("ap-southeast");
    expect(response.headers.get("x-edgegate-regions-tried")).toBe("ap-southeast=200");
    expect(response.headers.get("x-edgegate-attempts")).toBe(`claude-sonnet-4-6#k0=${fault} claude-sonnet-4-6#k1=200`);
    // The client saw one whole answer: nothing of the failed attempt.
    expect(events.filter((event) => event.type === "message_start")).toHaveLength(1);
    expect(events.at(-1)!.type).toBe("message_stop");
    const calls = ledgerOf("ap-southeast").all().slice(before["ap-southeast"]);
    expect(calls.map((call) => [call.format, call.status])).toEqual([
      ["bedrock", bedrockStatus],
      ["anthropic", 200],
    ]);
    expect(calls[0]).toMatchObject({ model: "apac.anthropic.claude-sonnet-4-6", region: "ap-southeast-1", outputTokensSent: 0 });
    expect(calls[1]).toMatchObject({ completed: true, outputTokensSent: 8 });
    const line = await stack.gateway.waitForLog(response.headers.get("x-request-id")!);
    expect(line).toMatchObject({ region: "ap-southeast", provider: "anthropic", output_tokens: 8 });
  });
});

describe("a tenant pinned to a region", () => {
  it.each([
    ["ap-southeast", "Bedrock", "bedrock"],
    ["eu-west", "Vertex AI", "vertex"],
  ] as const)("pinned to %s is served by %s alone: it waits for it rather than fall back, and gets a clear 503 when it is down", async (region, _provider, format) => {
    const tenant = await newTenant(stack, { regionPin: [region] });
    const client = clientNear("us-east", tenant.key);
    const served = await client.messages.create(ask("claude-sonnet-4-6", "sim:tokens=3 hi")).withResponse();
    expect(served.response.headers.get("x-edgegate-region")).toBe(region);
    expect(recordOf(region, served.data.id).format).toBe(format);

    // The provider fails once: an unpinned tenant would go on to the Anthropic API; the pinned one is retried on its provider.
    let before = countsOf();
    const retried = await client.messages.create(ask("claude-sonnet-4-6", failingFirst("529"))).withResponse();
    expect(retried.response.headers.get("x-edgegate-attempts")).toBe("claude-sonnet-4-6#k0=529 claude-sonnet-4-6#k0=200");
    expect(ledgerOf(region).all().slice(before[region]).map((call) => call.format)).toEqual([format, format]);

    // The provider is down: after retries within the deadline, a 503 that says why, and nothing sent anywhere else.
    before = countsOf();
    deployment(region).simulator!.setOutage("529");
    const refused = await client.messages.create(ask("claude-sonnet-4-6", "sim:tokens=3 hi again")).catch((caught: unknown) => caught);
    // Asked directly, the region answers its provider's error: it has nothing else it may use.
    const direct = await new Anthropic({ apiKey: tenant.key, baseURL: deployment(region).gateway.url, maxRetries: 0 }).messages
      .create(ask("claude-sonnet-4-6", "sim:tokens=3 hi directly"))
      .catch((caught: unknown) => caught);
    deployment(region).simulator!.setOutage(null);
    expect(direct).toBeInstanceOf(Anthropic.APIError);
    expect((direct as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect(refused).toBeInstanceOf(Anthropic.APIError);
    const error = refused as InstanceType<typeof Anthropic.APIError>;
    expect(error.status).toBe(503);
    expect(error.message).toContain(`pinned to ${region}`);
    expect(error.message).toContain("never serves a pinned account from another region");
    const calls = ledgerOf(region).all().slice(before[region]);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.map((call) => [call.format, call.fault])).toEqual(calls.map(() => [format, "529"]));
    for (const other of REGION_IDS.filter((id) => id !== region)) expect(ledgerOf(other).all().length, other).toBe(before[other]);
  });
});

describe("metering on every provider", () => {
  it("counts per provider exactly what each provider's simulator counted: input, output, cache writes and reads", async () => {
    const tenant = await newTenant(stack);
    const longSystem: Anthropic.TextBlockParam[] = [
      { type: "text", text: `You answer questions about camping gear. ${"Tents, stoves and sleeping bags. ".repeat(200)}`, cache_control: { type: "ephemeral" } },
    ];
    const requests: Array<Anthropic.MessageCreateParamsNonStreaming> = [
      ask("claude-sonnet-4-6", "sim:tokens=9 a plain answer"),
      ask("claude-haiku-4-5", "Weather in Oslo?", { tools: [WEATHER], tool_choice: { type: "any" } }),
      ask("claude-sonnet-4-6", "sim:tokens=5 cached prefix, first", { system: longSystem }),
      ask("claude-sonnet-4-6", "sim:tokens=5 cached prefix, second", { system: longSystem }),
      ask("claude-sonnet-4-6", "sim:tokens=4 thinking", { max_tokens: 4096, thinking: { type: "enabled", budget_tokens: 2048 } }),
    ];
    const answered = new Map<RegionId, string[]>();
    await Promise.all(
      REGION_IDS.map(async (region) => {
        const client = clientNear(region, tenant.key);
        const ids: string[] = [];
        for (const [index, body] of requests.entries()) {
          // Streamed and not, alternately: both are metered from the stream the provider sent.
          const message = index % 2 === 0 ? await client.messages.create(body) : await client.messages.stream(body).finalMessage();
          ids.push(message.id);
        }
        answered.set(region, ids);
      }),
    );

    for (const region of REGION_IDS) {
      const records = answered.get(region)!.map((id) => recordOf(region, id));
      expect(records.every((record) => record.format === REGIONS[region].format)).toBe(true);
      const sum = (field: "inputTokens" | "outputTokensSent" | "cacheCreationInputTokens" | "cacheReadInputTokens") =>
        records.reduce((total, record) => total + record[field], 0);
      expect(sum("cacheCreationInputTokens"), `${region} wrote the cached prefix`).toBeGreaterThan(0);
      expect(sum("cacheReadInputTokens"), `${region} read the cached prefix`).toBeGreaterThan(0);
      const scope = `@${REGIONS[region].provider}`;
      // Regions settle on their own database and apply settlements to the primary through an outbox, shortly after.
      await expect.poll(async () => (await usageCounters(primary, tenant.id))[`${scope}|requests`], { timeout: 10_000 }).toBe(requests.length);
      const counters = await usageCounters(primary, tenant.id);
      expect({
        input: counters[`${scope}|input`],
        output: counters[`${scope}|output`],
        cacheWrite: counters[`${scope}|cache_write`],
        cacheRead: counters[`${scope}|cache_read`],
        estimated: counters[`${scope}|estimated`] ?? 0,
      }).toEqual({
        input: sum("inputTokens"),
        output: sum("outputTokensSent"),
        cacheWrite: sum("cacheCreationInputTokens"),
        cacheRead: sum("cacheReadInputTokens"),
        estimated: 0,
      });
    }
    // Same requests, same provider-independent counts: every region metered the same totals.
    const counters = await usageCounters(primary, tenant.id);
    const totals = REGION_IDS.map((region) => ["input", "output", "cache_write", "cache_read"].map((name) => counters[`@${REGIONS[region].provider}|${name}`]));
    expect(totals[1]).toEqual(totals[0]);
    expect(totals[2]).toEqual(totals[0]);
    expect(counters["total|requests"]).toBe(requests.length * REGION_IDS.length);
  });
});
