import type { ReceiveCount } from "./count-tokens-handler.js";
import { readJsonBody } from "./http-io.js";
import type { ReceiveMessages } from "./messages-handler.js";
import { authenticate, requireApiVersion, requireModel } from "./request-guards.js";
import { parseMessagesRequest, parsePromptRequest } from "./request-schema.js";

/** `POST /v1/messages`: an API key and version, the model in the body. */
export const receiveAnthropicMessages: ReceiveMessages = async (exchange, state, record) => {
  record.apiKey = authenticate(exchange.request, state.settings.apiKeys);
  record.anthropicVersion = requireApiVersion(exchange.request);
  const request = parseMessagesRequest(await readJsonBody(exchange.request));
  record.model = request.model;
  return { request, model: requireModel(request.model), stream: request.stream === true };
};

/** `POST /v1/messages/count_tokens`: the Messages prompt fields, no `max_tokens`. */
export const receiveAnthropicCount: ReceiveCount = async (exchange, state) => {
  authenticate(exchange.request, state.settings.apiKeys);
  requireApiVersion(exchange.request);
  const request = parsePromptRequest(await readJsonBody(exchange.request));
  return { request, model: requireModel(request.model), body: (inputTokens) => ({ input_tokens: inputTokens }) };
};
