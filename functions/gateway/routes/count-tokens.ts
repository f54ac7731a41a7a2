import type { MessageCountTokensParams } from "@anthropic-ai/sdk/resources/messages";
import { Hono } from "hono";
import { readJsonBody } from "../../../shared/http/body.js";
import { forwardedHeaders, upstream } from "../../../shared/upstream/client.js";
import { routeRequest } from "../../../shared/routing/policy.js";
import { upstreamErrorResponse } from "../../../shared/upstream/errors.js";
import { type CountTokensRequest, countTokensRequestSchema } from "../../../shared/validation/messages.js";
import type { GatewayAppEnv } from "../context.js";

export const countTokens = new Hono<GatewayAppEnv>().post("/v1/messages/count_tokens", async (c) => {
  const config = c.get("config");
  const parsed = await readJsonBody(c.req.raw, countTokensRequestSchema, config.maxBodyBytes);
  const request = { ...parsed, model: routeRequest(parsed, c.get("caller").tenant.modelPolicy, config.routing).model };
  const { pool, clientFor } = upstream(config);
  const key = pool.acquire(Date.now());
  try {
    const counted = await clientFor(key ?? 0)
      .messages.countTokens(request as CountTokensRequest & MessageCountTokensParams, {
        headers: forwardedHeaders(c.req.raw.headers),
      })
      .asResponse();
    return new Response(counted.body, {
      status: counted.status,
      headers: { "content-type": counted.headers.get("content-type") ?? "application/json" },
    });
  } catch (error) {
    return upstreamErrorResponse(error, c.get("log").requestId, config.upstreamTimeoutMs);
  } finally {
    if (key !== null) pool.release(key);
  }
});
