import { answerModelId } from "../models/catalog.js";
import type { Provider, ProviderRequest } from "./types.js";

export interface AnthropicProviderConfig {
  /** https://api.anthropic.com, or a simulator. */
  baseUrl: string;
  apiKey: string;
}

/**
 * The Anthropic API itself: the request is the Messages body as the client sent it (with
 * the model the gateway chose, by its API id: edgegate's short forms such as
 * `claude-opus-4` are not the API's), the answer is already in the format clients
 * expect, so nothing is translated either way.
 */
export function anthropicProvider(config: AnthropicProviderConfig): Provider {
  const base = config.baseUrl.replace(/\/+$/, "");
  const post = (path: string, request: ProviderRequest, body: Record<string, unknown>): Promise<Response> =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: headers(config.apiKey, request),
      body: JSON.stringify(body),
      signal: request.signal,
    });
  return {
    kind: "anthropic",
    id: "anthropic",
    modelId: (model) => model,
    send: (request) => post("/v1/messages", request, { model: answerModelId(request.model), ...request.body, stream: request.stream }),
    countTokens: (request) => post("/v1/messages/count_tokens", request, { model: answerModelId(request.model), ...request.body }),
  };
}

function headers(apiKey: string, request: ProviderRequest): Record<string, string> {
  const out: Record<string, string> = {
    "content-type": "application/json",
    "x-api-key": apiKey,
    "anthropic-version": request.anthropicVersion,
  };
  if (request.betas.length > 0) out["anthropic-beta"] = request.betas.join(",");
  return out;
}
