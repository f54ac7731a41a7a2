import { describe, expect, it } from "vitest";
import { bedrockProvider } from "../../shared/providers/bedrock/provider.js";
import { KNOWN_MODELS, answerModelId, modelNames } from "../../shared/models/catalog.js";
import { vertexProvider } from "../../shared/providers/vertex/provider.js";

const credentials = { accessKeyId: "AKID", secretAccessKey: "secret" };
const serviceAccount = { client_email: "a@p.iam.gserviceaccount.com", private_key: "unused until a token is minted" };

describe("model map", () => {
  it("names every model on every provider in the providers' formats", () => {
    for (const model of KNOWN_MODELS) {
      const names = modelNames(model)!;
      expect(names.bedrock).toMatch(/^anthropic\.claude-[a-z0-9-]+(-v1(:0)?)?$/);
      expect(names.vertex).toMatch(/^claude-[a-z0-9-]+(@\d{8})?$/);
      expect(answerModelId(model)).toBe(names.anthropic);
    }
  });

  it.each([
    ["claude-opus-4-7", "anthropic.claude-opus-4-7", "claude-opus-4-7", "claude-opus-4-7"],
    ["claude-opus-4-6", "anthropic.claude-opus-4-6-v1", "claude-opus-4-6", "claude-opus-4-6"],
    ["claude-opus-4-5", "anthropic.claude-opus-4-5-20251101-v1:0", "claude-opus-4-5@20251101", "claude-opus-4-5-20251101"],
    ["claude-opus-4-1", "anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1@20250805", "claude-opus-4-1-20250805"],
    ["claude-opus-4", "anthropic.claude-opus-4-20250514-v1:0", "claude-opus-4@20250514", "claude-opus-4-20250514"],
    ["claude-sonnet-4-6", "anthropic.claude-sonnet-4-6", "claude-sonnet-4-6", "claude-sonnet-4-6"],
    ["claude-sonnet-4-5-20250929", "anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5@20250929", "claude-sonnet-4-5-20250929"],
    ["claude-sonnet-4-0", "anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4@20250514", "claude-sonnet-4-20250514"],
    ["claude-haiku-4-5", "anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5@20251001", "claude-haiku-4-5-20251001"],
    ["claude-3-7-sonnet", "anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet@20250219", "claude-3-7-sonnet-20250219"],
    ["claude-3-5-haiku", "anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku@20241022", "claude-3-5-haiku-20241022"],
    ["claude-3-haiku", "anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku@20240307", "claude-3-haiku-20240307"],
  ])("%s is %s on Bedrock, %s on Vertex, and answers as %s", (model, bedrock, vertex, answer) => {
    expect(modelNames(model)).toEqual({ bedrock, vertex, anthropic: answer });
  });

  it("prefixes Bedrock ids with the inference profile, and applies an endpoint's overrides", () => {
    const inRegion = bedrockProvider({ region: "eu-central-1", credentials });
    const eu = bedrockProvider({
      region: "eu-central-1",
      credentials,
      inferenceProfile: "eu",
      models: { "claude-opus-4-7": null, "claude-custom": "arn:aws:bedrock:eu-central-1:123456789012:provisioned-model/abc" },
    });
    expect(inRegion.id).toBe("bedrock:eu-central-1");
    expect(eu.id).toBe("bedrock:eu-central-1/eu");
    expect(inRegion.modelId("claude-sonnet-4-5")).toBe("anthropic.claude-sonnet-4-5-20250929-v1:0");
    expect(eu.modelId("claude-sonnet-4-5")).toBe("eu.anthropic.claude-sonnet-4-5-20250929-v1:0");
    expect(eu.modelId("claude-opus-4-7")).toBeNull();
    expect(eu.modelId("claude-custom")).toBe("arn:aws:bedrock:eu-central-1:123456789012:provisioned-model/abc");
    expect(eu.modelId("gpt-4o")).toBeNull();
  });

  it("names Vertex endpoints by location and maps their models", () => {
    const global = vertexProvider({ location: "global", projectId: "acme-prod", serviceAccount });
    expect(global.kind).toBe("vertex");
    expect(global.id).toBe("vertex:global");
    expect(global.modelId("claude-opus-4-1")).toBe("claude-opus-4-1@20250805");
    expect(vertexProvider({ location: "europe-west1", projectId: "acme-prod", serviceAccount, models: { "claude-opus-4-1": null } }).modelId("claude-opus-4-1")).toBeNull();
  });

  it("answers a model the endpoint does not serve with Anthropic's 404, without calling out", async () => {
    const provider = bedrockProvider({ region: "eu-central-1", credentials, baseUrl: "http://127.0.0.1:9" });
    const answer = await provider.send({
      model: "claude-unknown",
      body: { max_tokens: 10, messages: [] },
      stream: false,
      anthropicVersion: "2023-06-01",
      betas: [],
      signal: new AbortController().signal,
    });
    expect(answer.status).toBe(404);
    expect(await answer.json()).toEqual({
      type: "error",
      error: { type: "not_found_error", message: "model: claude-unknown is not available on bedrock:eu-central-1" },
    });
  });
});
