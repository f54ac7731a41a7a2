import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../stack/stack.js";
import { newTenant } from "./helpers.js";

/**
 * GET /v1/models and /v1/models/{id} with the official clients: the Anthropic SDK (which
 * sends anthropic-version) gets Anthropic's shape and paging, the openai client OpenAI's;
 * both list only what the tenant may use, `auto` first.
 */

let stack: Stack;
let open: { id: string; key: string };
let restricted: { id: string; key: string };

const ALLOWED = ["claude-haiku-4-5", "claude-sonnet-4-6"];
/** The restricted tenant's models as the API names them: aliases resolve to the dated id the API reports. */
const ALLOWED_IDS = ["auto", "claude-sonnet-4-6", "claude-haiku-4-5-20251001"];

beforeAll(async () => {
  stack = await startStack({ timeScale: 0.05 });
  [open, restricted] = await Promise.all([newTenant(stack), newTenant(stack, { modelPolicy: { allowedModels: ALLOWED } })]);
});

afterAll(async () => {
  await stack?.stop();
});

const anthropic = (key: string) => new Anthropic({ apiKey: key, baseURL: stack.gateway.url, maxRetries: 0 });
const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: `${stack.gateway.url}/v1`, maxRetries: 0 });

async function allAnthropicModels(key: string, limit?: number): Promise<Anthropic.ModelInfo[]> {
  const models: Anthropic.ModelInfo[] = [];
  for await (const model of anthropic(key).models.list(limit === undefined ? {} : { limit })) models.push(model);
  return models;
}

describe("the Anthropic SDK's models.list() and models.retrieve()", () => {
  it("lists auto first, then every model the gateway can serve, newest first, each once, across pages", async () => {
    const whole = await allAnthropicModels(open.key);
    const paged = await allAnthropicModels(open.key, 3);
    const ids = whole.map((model) => model.id);
    expect(ids[0]).toBe("auto");
    expect(ids).toEqual(expect.arrayContaining(["claude-opus-4-7", "claude-sonnet-4-6", "claude-haiku-4-5-20251001"]));
    expect(new Set(ids).size).toBe(ids.length);
    // Three at a time, the SDK follows after_id page by page to the same list.
    expect(paged.map((model) => model.id)).toEqual(ids);
    for (const model of whole) {
      expect(model).toEqual({ type: "model", id: expect.any(String), display_name: expect.any(String), created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    }
    const dated = whole.slice(1).map((model) => model.created_at);
    expect([...dated].sort().reverse()).toEqual(dated);
  });

  it("pages as the Models API does: first_id, last_id, has_more", async () => {
    const page = await anthropic(open.key).models.list({ limit: 2 });
    expect(page.data.map((model) => model.id)).toEqual(["auto", expect.any(String)]);
    expect(page.first_id).toBe("auto");
    expect(page.last_id).toBe(page.data[1]!.id);
    expect(page.has_more).toBe(true);
    expect(page.hasNextPage()).toBe(true);
  });

  it("lists only the models a restricted tenant may use, auto included", async () => {
    expect((await allAnthropicModels(restricted.key)).map((model) => model.id)).toEqual(ALLOWED_IDS);
  });

  it("retrieves a model by id or alias, and auto; refuses a model the tenant may not use with Anthropic's 404", async () => {
    const client = anthropic(restricted.key);
    expect(await client.models.retrieve("claude-haiku-4-5")).toEqual({
      type: "model",
      id: "claude-haiku-4-5-20251001",
      display_name: "Claude Haiku 4.5",
      created_at: expect.any(String),
    });
    expect(await client.models.retrieve("auto")).toMatchObject({ type: "model", id: "auto" });
    const refused = await client.models.retrieve("claude-opus-4-7").catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(Anthropic.NotFoundError);
    expect((refused as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    // The open tenant may use it.
    expect(await anthropic(open.key).models.retrieve("claude-opus-4-7")).toMatchObject({ id: "claude-opus-4-7", display_name: "Claude Opus 4.7" });
  });
});

describe("the openai client's models.list() and models.retrieve()", () => {
  it("lists only the models a restricted tenant may use, auto included, in OpenAI's shape", async () => {
    const models: OpenAI.Model[] = [];
    for await (const model of openai(restricted.key).models.list()) models.push(model);
    expect(models.map((model) => model.id)).toEqual(ALLOWED_IDS);
    for (const model of models) {
      expect(model).toEqual({ id: expect.any(String), object: "model", created: expect.any(Number), owned_by: model.id === "auto" ? "edgegate" : "anthropic" });
    }
  });

  it("retrieves a model the tenant may use, and refuses one it may not with OpenAI's 404 shape", async () => {
    const client = openai(restricted.key);
    const sonnet = await client.models.retrieve("claude-sonnet-4-6");
    expect(sonnet).toEqual({ id: "claude-sonnet-4-6", object: "model", created: Date.parse("2026-02-17T00:00:00Z") / 1000, owned_by: "anthropic" });
    expect(await client.models.retrieve("claude-haiku-4-5")).toMatchObject({ id: "claude-haiku-4-5-20251001" });
    const refused = await client.models.retrieve("claude-opus-4-7").catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: "not_found_error", message: expect.stringContaining("claude-opus-4-7") });
  });
});
