import { type Context, Hono } from "hono";
import { GatewayError } from "../../../shared/http/errors.js";
import { speaksOpenAI } from "../../../shared/openai/errors.js";
import { anthropicModel, anthropicModelPage, findModel, openAIModel, tenantModels } from "../../../shared/models/listing.js";
import type { GatewayAppEnv } from "../context.js";

/**
 * The models a tenant may use, `auto` included, in the shape of the API the client
 * speaks: Anthropic's (clients that send `anthropic-version`, as the Anthropic SDKs do)
 * or OpenAI's.
 */
export const models = new Hono<GatewayAppEnv>()
  .get("/v1/models", (c) => {
    const available = tenantModels(c.get("caller").tenant.modelPolicy, c.get("services").prices);
    if (speaksAnthropic(c)) return c.json(anthropicModelPage(available, c.req.query()));
    return c.json({ object: "list", data: available.map(openAIModel) });
  })
  .get("/v1/models/:id{.+}", (c) => {
    const id = c.req.param("id");
    const found = findModel(tenantModels(c.get("caller").tenant.modelPolicy, c.get("services").prices), id);
    if (!found) throw new GatewayError("not_found_error", `The model ${JSON.stringify(id)} does not exist or your account may not use it.`);
    return c.json(speaksAnthropic(c) ? anthropicModel(found) : openAIModel(found));
  });

/** Whether the client speaks the Anthropic API: its SDKs always send anthropic-version. */
function speaksAnthropic(c: Context<GatewayAppEnv>): boolean {
  return !speaksOpenAI(c.req.path, c.req.raw.headers);
}
