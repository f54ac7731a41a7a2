import type { Exchange } from "./exchange.js";
import { sendJson } from "./http-io.js";
import type { ModelSpec } from "./profiles.js";
import { promptSegments } from "./prompt.js";
import type { PromptRequest } from "./request-schema.js";
import { sleepUntil } from "./sleep.js";
import type { SimulatorState } from "./state.js";
import { countPromptTokens } from "./tokens.js";

/** A token-count request as one format received it: authenticated and parsed. */
export interface ReceivedCount {
  request: PromptRequest;
  model: ModelSpec;
  /** The answer body in the format's own shape. */
  body: (inputTokens: number) => unknown;
}

export type ReceiveCount = (exchange: Exchange, state: SimulatorState) => Promise<ReceivedCount>;

/** Token counting in any format: the same estimate the Messages answers report, without caching. */
export async function handleCountTokens(exchange: Exchange, state: SimulatorState, receive: ReceiveCount): Promise<void> {
  const { request, body } = await receive(exchange, state);
  const inputTokens = countPromptTokens(promptSegments(request));
  await sleepUntil(exchange.receivedAt + state.settings.extraLatencyMs, exchange.clientGone);
  if (exchange.clientGone.aborted) return;
  sendJson(exchange.response, 200, body(inputTokens), exchange.headers());
}
