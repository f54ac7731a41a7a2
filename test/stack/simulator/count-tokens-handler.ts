import type { V1Exchange } from "./exchange.js";
import { readJsonBody, sendJson } from "./http-io.js";
import { promptSegments } from "./prompt.js";
import { authenticate, requireModel } from "./request-guards.js";
import { parsePromptRequest } from "./request-schema.js";
import { sleepUntil } from "./sleep.js";
import type { SimulatorState } from "./state.js";
import { countPromptTokens } from "./tokens.js";

/** `POST /v1/messages/count_tokens`: the same estimate `/v1/messages` reports, without caching. */
export async function handleCountTokens(exchange: V1Exchange, state: SimulatorState): Promise<void> {
  authenticate(exchange.request, state.settings.apiKeys);
  const request = parsePromptRequest(await readJsonBody(exchange.request));
  requireModel(request.model);
  const inputTokens = countPromptTokens(promptSegments(request));
  await sleepUntil(exchange.receivedAt + state.settings.extraLatencyMs, exchange.clientGone);
  if (exchange.clientGone.aborted) return;
  sendJson(exchange.response, 200, { input_tokens: inputTokens }, exchange.headers());
}
