import type Anthropic from "@anthropic-ai/sdk";
import { AnthropicBedrock } from "@anthropic-ai/bedrock-sdk";
import { generateKeyPairSync, sign } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SigV4Signer } from "../../shared/providers/bedrock/sigv4.js";
import type { Simulator } from "../stack/simulator/server.js";
import { startSimulator } from "../stack/simulator/server.js";
import { caught } from "./api-assertions.js";
import { SIM_API_KEY, anthropicClient, bedrockClient, googleAuthClient, vertexClient } from "./cloud-clients.js";

/**
 * The simulator's Bedrock and Vertex formats, checked with the official clients
 * (@anthropic-ai/bedrock-sdk, @anthropic-ai/vertex-sdk with google-auth-library): the same
 * request gets the same text, stop reason and usage as @anthropic-ai/sdk gets from the
 * Anthropic-format endpoint, streamed or not, with tools, with thinking, and the same errors.
 */

const TIME_SCALE = 0.02;
/** One model in each catalogue's naming: Anthropic's, Bedrock's (with an inference profile), Vertex's. */
const MODEL = { anthropic: "claude-sonnet-4-5-20250929", bedrock: "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", vertex: "claude-sonnet-4-5@20250929" };
type Format = keyof typeof MODEL;
const FORMATS: readonly Format[] = ["anthropic", "bedrock", "vertex"];

let sim: Simulator;
let clients: Record<Format, Anthropic>;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, timeScale: TIME_SCALE, apiKeys: [SIM_API_KEY] });
  // The cloud clients expose the same Messages resource as the Anthropic client.
  clients = { anthropic: anthropicClient(sim), bedrock: bedrockClient(sim) as unknown as Anthropic, vertex: vertexClient(sim) as unknown as Anthropic };
});

afterAll(async () => {
  await sim.close();
});

beforeEach(async () => {
  await fetch(`${sim.url}/_sim/reset`, { method: "POST" });
});

type Params = Omit<Anthropic.MessageCreateParamsNonStreaming, "model">;

function ask(text: string, extra: Partial<Params> = {}): Params {
  return { max_tokens: 1024, messages: [{ role: "user", content: text }], ...extra };
}

/** What must be equal across formats: content (tool ids aside, they are random), stop reason, usage, model. */
function comparable(message: Anthropic.Message): unknown {
  return {
    model: message.model,
    content: message.content.map((block) => (block.type === "tool_use" ? { ...block, id: "toolu" } : block)),
    stop_reason: message.stop_reason,
    usage: message.usage,
  };
}

async function createIn(format: Format, params: Params): Promise<Anthropic.Message> {
  return clients[format].messages.create({ ...params, model: MODEL[format], stream: false });
}

async function streamIn(format: Format, params: Params): Promise<{ message: Anthropic.Message; events: string[] }> {
  const stream = clients[format].messages.stream({ ...params, model: MODEL[format] });
  const events: string[] = [];
  stream.on("streamEvent", (event) => events.push(event.type));
  return { message: await stream.finalMessage(), events };
}

const WEATHER_TOOL: Anthropic.Tool = {
  name: "get_weather",
  description: "Current weather of a city",
  input_schema: { type: "object", properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } }, required: ["city"] },
};

describe.each([
  ["a text answer", ask("Tell me about edge gateways.")],
  ["a tool call", ask("What is the weather in Lisbon?", { tools: [WEATHER_TOOL], tool_choice: { type: "any" } })],
  ["extended thinking", ask("Think about latency, then answer.", { max_tokens: 4096, thinking: { type: "enabled", budget_tokens: 2048 } })],
])("%s", (_case, params) => {
  it("is the same from every format, not streamed", async () => {
    const [anthropic, bedrock, vertex] = await Promise.all(FORMATS.map((format) => createIn(format, params)));
    expect(anthropic!.usage.output_tokens).toBeGreaterThan(0);
    expect(comparable(bedrock!)).toEqual(comparable(anthropic!));
    expect(comparable(vertex!)).toEqual(comparable(anthropic!));
    expect([anthropic!.id, bedrock!.id, vertex!.id].map((id) => id.replace(/_01.*/, ""))).toEqual(["msg", "msg_bdrk", "msg_vrtx"]);
  });

  it("is the same from every format, streamed, event for event", async () => {
    const [anthropic, bedrock, vertex] = await Promise.all(FORMATS.map((format) => streamIn(format, params)));
    expect(anthropic!.events).toContain("message_stop");
    expect(bedrock!.events).toEqual(anthropic!.events);
    expect(vertex!.events).toEqual(anthropic!.events);
    expect(comparable(bedrock!.message)).toEqual(comparable(anthropic!.message));
    expect(comparable(vertex!.message)).toEqual(comparable(anthropic!.message));
  });
});

describe("shared behaviour", () => {
  it("writes every format's requests to the one ledger, with who sent them and where", async () => {
    const messages = await Promise.all(FORMATS.map((format) => createIn(format, ask("Ledger check."))));
    const records = messages.map((message) => sim.ledger.byMessageId(message.id));
    expect(records.map((record) => [record?.format, record?.model, record?.region, record?.apiKey])).toEqual([
      ["anthropic", MODEL.anthropic, null, SIM_API_KEY],
      ["bedrock", MODEL.bedrock, "eu-central-1", sim.credentials.aws.accessKeyId],
      ["vertex", MODEL.vertex, "europe-west1", sim.credentials.gcpServiceAccount.client_email],
    ]);
    expect(records.map((record) => record?.outputTokensSent)).toEqual(messages.map((message) => message.usage.output_tokens));
  });

  it("applies the same timing to every format: a first token no sooner than the time-to-first-token asked for", async () => {
    const ttftMs = 5000;
    const messages = await Promise.all(FORMATS.map((format) => streamIn(format, ask(`sim:ttft=${ttftMs} sim:tokens=5`))));
    for (const { message } of messages) {
      const record = sim.ledger.byMessageId(message.id)!;
      expect(record.firstTokenAt! - record.startedAt).toBeGreaterThanOrEqual(ttftMs * TIME_SCALE);
    }
  });

  it("keeps a prompt cache per service: a cached prefix in one is a cache write in another", async () => {
    const system: Anthropic.TextBlockParam[] = [{ type: "text", text: "policy ".repeat(1200), cache_control: { type: "ephemeral" } }];
    const first = await createIn("anthropic", ask("Cache me.", { system }));
    const again = await createIn("anthropic", ask("Cache me.", { system }));
    const elsewhere = await createIn("bedrock", ask("Cache me.", { system }));
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(again.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
    expect(elsewhere.usage).toEqual(first.usage);
  });

  it("counts tokens the same way on Vertex as on the Anthropic API", async () => {
    const params = { messages: [{ role: "user" as const, content: "How many tokens is this?" }], system: "Be brief." };
    const anthropic = await clients.anthropic.messages.countTokens({ ...params, model: MODEL.anthropic });
    const vertex = await clients.vertex.messages.countTokens({ ...params, model: MODEL.vertex });
    expect(vertex).toEqual(anthropic);
    expect(anthropic.input_tokens).toBeGreaterThan(0);
  });
});

describe("errors", () => {
  it("throttles every format with its own 429: Anthropic's rate_limit_error, Bedrock's ThrottlingException, Google's RESOURCE_EXHAUSTED", async () => {
    const [anthropic, bedrock, vertex] = await Promise.all(FORMATS.map((format) => caught(createIn(format, ask("sim:fault=429")))));
    expect([anthropic!.status, bedrock!.status, vertex!.status]).toEqual([429, 429, 429]);
    expect(anthropic!.error).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    expect(bedrock!.error).toEqual({ message: "Too many requests, please wait before trying again." });
    expect(bedrock!.headers?.get("x-amzn-errortype")).toMatch(/^ThrottlingException:/);
    expect(vertex!.error).toMatchObject({ error: { code: 429, status: "RESOURCE_EXHAUSTED" } });
  });

  it("reports overload as Anthropic's 529, Bedrock's 503 ServiceUnavailableException, and Anthropic's 529 through Vertex", async () => {
    const [anthropic, bedrock, vertex] = await Promise.all(FORMATS.map((format) => caught(createIn(format, ask("sim:fault=529")))));
    expect([anthropic!.status, bedrock!.status, vertex!.status]).toEqual([529, 503, 529]);
    expect(bedrock!.headers?.get("x-amzn-errortype")).toMatch(/^ServiceUnavailableException:/);
    expect(vertex!.error).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
  });

  it("fails a stream mid-way in every format after the same tokens", async () => {
    const failures = await Promise.all(
      FORMATS.map(async (format) => {
        const stream = clients[format].messages.stream({ ...ask("sim:fault=error-mid sim:after=3"), model: MODEL[format] });
        let text = "";
        stream.on("text", (delta) => (text += delta));
        return { error: await caught(stream.finalMessage()), text };
      }),
    );
    const [anthropic, bedrock, vertex] = failures;
    expect(anthropic!.text.split(" ").length).toBeGreaterThanOrEqual(3);
    expect(bedrock!.text).toBe(anthropic!.text);
    expect(vertex!.text).toBe(anthropic!.text);
    expect(anthropic!.error.error).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    expect(vertex!.error.error).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    expect(bedrock!.error.error).toMatchObject({ type: "error", error: { type: "serviceUnavailableException" } });
  });

  it("refuses a Bedrock request signed with the wrong secret with AWS's 403", async () => {
    const error = await caught(bedrockClient(sim, "not-the-secret").messages.create({ ...ask("Hi"), model: MODEL.bedrock }));
    expect(error.status).toBe(403);
    expect(error.headers?.get("x-amzn-errortype")).toMatch(/^InvalidSignatureException:/);
    expect(error.error).toEqual({ message: expect.stringMatching(/^The request signature we calculated does not match/) });
  });

  it("refuses an unknown AWS access key with AWS's 403", async () => {
    const stranger = new AnthropicBedrock({ awsRegion: "eu-central-1", awsAccessKey: "AKIAUNKNOWNUNKNOWN00", awsSecretKey: "x", apiKey: null, baseURL: sim.url, maxRetries: 0 });
    const error = await caught(stranger.messages.create({ ...ask("Hi"), model: MODEL.bedrock }));
    expect(error.status).toBe(403);
    expect(error.headers?.get("x-amzn-errortype")).toMatch(/^UnrecognizedClientException:/);
  });

  it("refuses Bedrock bodies that carry model or stream, as Bedrock does", async () => {
    // The official client never sends them, so the request is signed here.
    const signer = new SigV4Signer(sim.credentials.aws, "eu-central-1", "bedrock");
    const body = new TextEncoder().encode(JSON.stringify({ anthropic_version: "bedrock-2023-05-31", stream: false, ...ask("Hi") }));
    const url = new URL(`${sim.url}/model/${encodeURIComponent(MODEL.bedrock)}/invoke`);
    const headers = await signer.sign({ method: "POST", url, headers: { "content-type": "application/json" }, body });
    const response = await fetch(url, { method: "POST", headers, body });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-amzn-errortype")).toMatch(/^ValidationException:/);
    expect(await response.json()).toEqual({
      message: "Malformed input request: #: extraneous key [stream] is not permitted, please reformat your input and try again.",
    });
  });

  it("answers an unknown Vertex model with Google's 404", async () => {
    const error = await caught(clients.vertex.messages.create({ ...ask("Hi"), model: "claude-unknown@20990101" }));
    expect(error.status).toBe(404);
    expect(error.error).toMatchObject({ error: { code: 404, status: "NOT_FOUND" } });
  });
});

describe("Google's token exchange", () => {
  function assertion(claims: Record<string, unknown>, privateKey = sim.credentials.gcpServiceAccount.private_key): string {
    const now = Math.floor(Date.now() / 1000);
    const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
    const unsigned = `${encode({ alg: "RS256", typ: "JWT" })}.${encode({
      iss: sim.credentials.gcpServiceAccount.client_email,
      scope: "https://www.googleapis.com/auth/cloud-platform",
      aud: "https://oauth2.googleapis.com/token",
      iat: now,
      exp: now + 3600,
      ...claims,
    })}`;
    return `${unsigned}.${sign("RSA-SHA256", Buffer.from(unsigned), privateKey).toString("base64url")}`;
  }

  async function exchange(jwt: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(sim.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: jwt }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it("issues a bearer token with expires_in for a well-signed assertion", async () => {
    const before = sim.accessTokensIssued();
    const { status, body } = await exchange(assertion({}));
    expect(status).toBe(200);
    expect(body).toEqual({ access_token: expect.stringMatching(/^ya29\./), expires_in: 3599, token_type: "Bearer" });
    expect(sim.accessTokensIssued()).toBe(before + 1);
  });

  it.each([
    ["signed with another key", () => assertion({}, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString()), "Invalid JWT Signature."],
    ["from an unknown account", () => assertion({ iss: "stranger@elsewhere.iam.gserviceaccount.com" }), "Invalid grant: account not found"],
    ["for another audience", () => assertion({ aud: "https://example.com/token" }), "Invalid JWT: Failed audience check."],
    ["living longer than an hour", () => assertion({ exp: Math.floor(Date.now() / 1000) + 7200 }), expect.stringMatching(/^Invalid JWT: Token must be a short-lived token/)],
  ])("refuses an assertion %s with invalid_grant", async (_case, make, description) => {
    expect(await exchange(make())).toEqual({ status: 400, body: { error: "invalid_grant", error_description: description } });
  });

  it("refuses unknown and expired access tokens with Google's 401 UNAUTHENTICATED", async () => {
    const shortLived = await startSimulator({ port: 0, timeScale: TIME_SCALE, vertexTokenLifetimeSeconds: 1 });
    try {
      const { access_token: token } = (await googleAuthClient(shortLived).authorize()) as { access_token: string };
      const account = shortLived.credentials.gcpServiceAccount;
      const url = `${shortLived.vertexUrl}/projects/${account.project_id}/locations/us-east5/publishers/anthropic/models/${MODEL.vertex}:rawPredict`;
      const call = (bearer: string): Promise<Response> =>
        fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
          body: JSON.stringify({ anthropic_version: "vertex-2023-10-16", ...ask("Hi") }),
        });
      expect((await call(token)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      for (const bearer of [token, "ya29.made-up"]) {
        const response = await call(bearer);
        expect(response.status).toBe(401);
        expect(await response.json()).toMatchObject({ error: { code: 401, status: "UNAUTHENTICATED" } });
      }
    } finally {
      await shortLived.close();
    }
  });
});
