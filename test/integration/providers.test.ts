import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bedrockProvider } from "../../shared/providers/bedrock/provider.js";
import type { Provider, ProviderRequest } from "../../shared/providers/types.js";
import { vertexProvider } from "../../shared/providers/vertex/provider.js";
import type { Simulator } from "../stack/simulator/server.js";
import { startSimulator } from "../stack/simulator/server.js";
import { type SseEvent, parseSse } from "./api-assertions.js";
import { BEDROCK_REGION, SIM_API_KEY, VERTEX_LOCATION } from "./cloud-clients.js";

/**
 * bedrockProvider and vertexProvider against the simulator's Bedrock and Vertex formats
 * (they use only fetch and WebCrypto, so Node runs them as workerd would): the bytes they
 * answer with must be what the Anthropic-format endpoint answers for the same request,
 * message ids aside, errors included.
 */

const TIME_SCALE = 0.02;
const MODEL = "claude-sonnet-4-5";

let sim: Simulator;
let providers: { bedrock: Provider; vertex: Provider };

function vertexFor(simulator: Simulator): Provider {
  const account = simulator.credentials.gcpServiceAccount;
  return vertexProvider({
    location: VERTEX_LOCATION,
    projectId: account.project_id,
    serviceAccount: account,
    baseUrl: simulator.vertexUrl,
    tokenUrl: simulator.tokenUrl,
  });
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, timeScale: TIME_SCALE, apiKeys: [SIM_API_KEY] });
  providers = {
    bedrock: bedrockProvider({ region: BEDROCK_REGION, credentials: sim.credentials.aws, inferenceProfile: "eu", baseUrl: sim.url }),
    vertex: vertexFor(sim),
  };
});

afterAll(async () => {
  await sim.close();
});

beforeEach(async () => {
  await fetch(`${sim.url}/_sim/reset`, { method: "POST" });
});

type Body = Record<string, unknown>;

function ask(text: string, extra: Body = {}): Body {
  return { max_tokens: 1024, messages: [{ role: "user", content: text }], ...extra };
}

function request(body: Body, stream: boolean, signal = new AbortController().signal): ProviderRequest {
  return { model: MODEL, body: { ...body, stream }, stream, anthropicVersion: "2023-06-01", betas: [], signal };
}

/** The Anthropic-format endpoint's answer to the same request: the reference. */
function anthropicAnswer(body: Body, stream: boolean, path = "/v1/messages"): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    method: "POST",
    headers: { "x-api-key": SIM_API_KEY, "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ ...body, model: MODEL, ...(path === "/v1/messages" ? { stream } : {}) }),
  });
}

/** Message and tool-use ids are random per answer; everything else must match. */
function withoutIds(text: string): string {
  return text.replace(/"(msg|msg_bdrk|msg_vrtx|toolu)_01[0-9A-Za-z]{22}"/g, '"<id>"');
}

async function streamedEvents(response: Response): Promise<SseEvent[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  return parseSse(withoutIds(await response.text()));
}

const WEATHER_TOOL = {
  name: "get_weather",
  description: "Current weather of a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

const CASES: Array<[string, Body]> = [
  ["a text answer", ask("Explain edge routing.")],
  ["a tool call", ask("Weather in Oslo?", { tools: [WEATHER_TOOL], tool_choice: { type: "any" } })],
  ["extended thinking", ask("Think first.", { max_tokens: 4096, thinking: { type: "enabled", budget_tokens: 2048 } })],
];

describe.each(["bedrock", "vertex"] as const)("%s provider", (kind) => {
  it.each(CASES)("streams %s as the Anthropic API's exact SSE events", async (_case, body) => {
    const [reference, answer] = await Promise.all([
      anthropicAnswer(body, true).then(streamedEvents),
      providers[kind].send(request(body, true)).then(streamedEvents),
    ]);
    expect(reference.at(-1)?.event).toBe("message_stop");
    expect(answer).toEqual(reference);
    expect(answer[0]!.data).toMatchObject({ type: "message_start", message: { model: "claude-sonnet-4-5-20250929" } });
  });

  it.each(CASES)("answers %s unstreamed as the Anthropic API's message", async (_case, body) => {
    const [reference, answer] = await Promise.all([anthropicAnswer(body, false), providers[kind].send(request(body, false))]);
    expect(answer.status).toBe(200);
    expect(JSON.parse(withoutIds(await answer.text()))).toEqual(JSON.parse(withoutIds(await reference.text())));
  });

  it("counts tokens on the provider's own endpoint as the Anthropic API counts them", async () => {
    const body = { system: "Be brief.", messages: [{ role: "user", content: "Count me." }] };
    const [reference, answer] = await Promise.all([anthropicAnswer(body, false, "/v1/messages/count_tokens"), providers[kind].countTokens(request(body, false))]);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual(await reference.json());
  });

  it.each([
    ["429", 429, "rate_limit_error"],
    ["529", 529, "overloaded_error"],
    ["500", 500, "api_error"],
  ])("maps fault %s to Anthropic's %i %s", async (fault, status, type) => {
    const answer = await providers[kind].send(request(ask(`sim:fault=${fault}`), true));
    expect(answer.status).toBe(status);
    expect(await answer.json()).toMatchObject({ type: "error", error: { type } });
  });

  it("ends a stream that fails mid-way with the same error event, after the same events", async () => {
    const body = ask("sim:fault=error-mid sim:after=4");
    const [reference, answer] = await Promise.all([
      anthropicAnswer(body, true).then(streamedEvents),
      providers[kind].send(request(body, true)).then(streamedEvents),
    ]);
    expect(answer.map((event) => event.event)).toEqual(reference.map((event) => event.event));
    expect(answer.slice(0, -1)).toEqual(reference.slice(0, -1));
    expect(answer.at(-1)).toMatchObject({ event: "error", data: { type: "error", error: { type: "overloaded_error" } } });
  });

  it("answers a model it does not serve with Anthropic's 404", async () => {
    const answer = await providers[kind].send({ ...request(ask("Hi"), false), model: "claude-nonexistent-9" });
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });
});

describe("bedrock provider, Bedrock specifics", () => {
  it("relays Bedrock's request id, which names the simulator's ledger record", async () => {
    const answer = await providers.bedrock.send(request(ask("Ledger."), false));
    const record = sim.ledger.get(answer.headers.get("request-id") ?? "");
    expect(record).toMatchObject({ format: "bedrock", region: BEDROCK_REGION, model: "eu.anthropic.claude-sonnet-4-5-20250929-v1:0" });
    expect(((await answer.json()) as { usage: { output_tokens: number } }).usage.output_tokens).toBe(record!.outputTokensSent);
  });

  it("sends betas in the body, where Bedrock takes them", async () => {
    const answer = await providers.bedrock.send({ ...request(ask("Beta."), false), betas: ["interleaved-thinking-2025-05-14"] });
    expect(answer.status).toBe(200);
  });

  it("maps a refused signature to authentication_error", async () => {
    const wrong = bedrockProvider({ region: BEDROCK_REGION, credentials: { ...sim.credentials.aws, secretAccessKey: "wrong" }, baseUrl: sim.url });
    const answer = await wrong.send(request(ask("Hi"), false));
    expect(answer.status).toBe(401);
    expect(await answer.json()).toEqual({
      type: "error",
      error: { type: "authentication_error", message: expect.stringMatching(/^The request signature we calculated does not match/) },
    });
  });

  it("stops the upstream stream when the reader cancels", async () => {
    const controller = new AbortController();
    const answer = await providers.bedrock.send(request(ask("sim:tokens=400 sim:tps=50"), true, controller.signal));
    const reader = answer.body!.getReader();
    await reader.read();
    await reader.cancel();
    const record = () => sim.ledger.all().at(-1);
    await expect.poll(() => record()?.clientAborted, { timeout: 5000 }).toBe(true);
    expect(record()!.outputTokensSent).toBeLessThan(400);
  });
});

describe("vertex provider, access tokens", () => {
  it("shares one token refresh among 50 concurrent requests, whether the token is due or expired", async () => {
    const lifetimeSeconds = 4;
    const shortLived = await startSimulator({ port: 0, timeScale: TIME_SCALE, vertexTokenLifetimeSeconds: lifetimeSeconds });
    try {
      const provider = vertexFor(shortLived);
      const fifty = async (): Promise<number[]> =>
        Promise.all(
          Array.from({ length: 50 }, async () => {
            const answer = await provider.send(request(ask("Token please."), false));
            await answer.body?.cancel();
            return answer.status;
          }),
        );
      const mintedAt = Date.now();
      expect(await fifty()).toEqual(Array(50).fill(200));
      expect(shortLived.accessTokensIssued()).toBe(1);

      // Due for refresh (past half its life) but still valid: one refresh, nobody refused.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, mintedAt + (lifetimeSeconds * 1000) / 2 + 300 - Date.now())));
      expect(await fifty()).toEqual(Array(50).fill(200));
      expect(shortLived.accessTokensIssued()).toBe(2);

      // Expired: everyone waits for the one new token.
      await new Promise((resolve) => setTimeout(resolve, lifetimeSeconds * 1000 + 500));
      expect(await fifty()).toEqual(Array(50).fill(200));
      expect(shortLived.accessTokensIssued()).toBe(3);
    } finally {
      await shortLived.close();
    }
  });

  it("maps a refused service account to authentication_error", async () => {
    const account = { ...sim.credentials.gcpServiceAccount, client_email: "stranger@edgegate-simulator.iam.gserviceaccount.com" };
    const provider = vertexProvider({ location: VERTEX_LOCATION, projectId: account.project_id, serviceAccount: account, baseUrl: sim.vertexUrl, tokenUrl: sim.tokenUrl });
    const answer = await provider.send(request(ask("Hi"), false));
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ type: "error", error: { type: "authentication_error", message: expect.stringContaining("invalid_grant") } });
  });

  it("maps an unusable service-account key to authentication_error", async () => {
    const account = { ...sim.credentials.gcpServiceAccount, private_key: "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n" };
    const provider = vertexProvider({ location: VERTEX_LOCATION, projectId: account.project_id, serviceAccount: account, baseUrl: sim.vertexUrl, tokenUrl: sim.tokenUrl });
    const answer = await provider.send(request(ask("Hi"), false));
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ error: { type: "authentication_error", message: expect.stringMatching(/^The Vertex AI service-account key cannot be used/) } });
  });
});
