import { performance } from "node:perf_hooks";
import { type Directives, parseDirectives } from "./directives.js";
import type { V1Exchange } from "./exchange.js";
import { respondWithError } from "./exchange.js";
import { interruptionOf, upfrontFaultError } from "./faults.js";
import { planOutput } from "./generate.js";
import { canonicalJson, sha256Hex } from "./hash.js";
import { readJsonBody } from "./http-io.js";
import { randomId } from "./ids.js";
import type { LedgerRecord } from "./ledger.js";
import { newLedgerRecord } from "./ledger.js";
import { lastUserText, promptSegments } from "./prompt.js";
import { authenticate, requireModel } from "./request-guards.js";
import { parseMessagesRequest } from "./request-schema.js";
import type { SimulatorState } from "./state.js";
import { streamEvents } from "./stream-events.js";
import { streamAnswer } from "./stream-response.js";
import { tokenSchedule } from "./timing.js";
import { toolToCall } from "./tool-choice.js";
import { sendWholeAnswer } from "./whole-response.js";

/** Drops the fault where `fail-first` or `fault-model` say this request is spared. */
function withFaultScope(directives: Directives, text: string, model: string, state: SimulatorState): Directives {
  if (directives.fault === null) return directives;
  if (directives.faultModelPrefix !== null && !model.startsWith(directives.faultModelPrefix)) {
    return { ...directives, fault: null };
  }
  if (directives.failFirst !== null) {
    const strikes = state.faultStrikes.get(text) ?? 0;
    state.faultStrikes.set(text, strikes + 1);
    if (strikes >= directives.failFirst) return { ...directives, fault: null };
  }
  return directives;
}

async function answer(exchange: V1Exchange, state: SimulatorState, record: LedgerRecord): Promise<void> {
  record.apiKey = authenticate(exchange.request, state.settings.apiKeys);
  const body = await readJsonBody(exchange.request);
  const request = parseMessagesRequest(body);
  record.model = request.model;
  record.stream = request.stream === true;
  const model = requireModel(request.model);
  const text = lastUserText(request);
  const directives = withFaultScope(parseDirectives(text, exchange.request.headers), text, request.model, state);
  record.fault = state.settings.outage ?? directives.fault;
  const faultError = upfrontFaultError(state.settings.outage ? { ...directives, fault: state.settings.outage } : directives);
  if (faultError !== null) throw faultError;

  const input = state.promptCache.apply(promptSegments(request), model);
  record.inputTokens = input.inputTokens;
  record.cacheCreationInputTokens = input.cacheCreationInputTokens;
  record.cacheReadInputTokens = input.cacheReadInputTokens;
  state.rateLimits.consume(input.inputTokens + input.cacheCreationInputTokens + input.cacheReadInputTokens, request.max_tokens);

  const { stream: _streamFlag, ...answerDeterminingFields } = request;
  const plan = planOutput({
    seed: sha256Hex(canonicalJson(answerDeterminingFields)),
    maxTokens: request.max_tokens,
    textTokens: directives.textTokens,
    thinking: request.thinking !== undefined && request.thinking.type !== "disabled",
    tool: toolToCall(request, directives),
  });
  record.outputTokensPlanned = plan.outputTokens;

  const schedule = tokenSchedule({
    receivedAt: exchange.receivedAt,
    extraLatencyMs: state.settings.extraLatencyMs,
    timeScale: state.settings.timeScale,
    profile: model.timing,
    uncachedInputTokens: input.inputTokens + input.cacheCreationInputTokens,
    directives,
  });
  const header = { id: randomId("msg"), model: model.id, input };
  const interruption = interruptionOf(directives);
  if (record.stream) await streamAnswer(exchange, streamEvents(header, plan), schedule, interruption, record);
  else await sendWholeAnswer(exchange, header, plan, schedule, interruption, record);
}

/** `POST /v1/messages`: every request, answered or not, gets a ledger record. */
export async function handleMessages(exchange: V1Exchange, state: SimulatorState): Promise<void> {
  const record = newLedgerRecord(exchange.requestId, exchange.receivedAt);
  state.ledger.add(record);
  exchange.clientGone.addEventListener("abort", () => {
    if (record.finishedAt !== null) return;
    record.clientAborted = true;
    record.finishedAt = performance.now();
  });
  try {
    await answer(exchange, state, record);
  } catch (error) {
    record.status = await respondWithError(exchange, error, state.settings.extraLatencyMs);
    record.finishedAt ??= performance.now();
  }
}
