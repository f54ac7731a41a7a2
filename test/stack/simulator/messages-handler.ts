import { performance } from "node:perf_hooks";
import { type Directives, parseDirectives } from "./directives.js";
import type { Exchange } from "./exchange.js";
import { respondWithError } from "./exchange.js";
import { holdConnection, interruptionOf, upfrontFaultError } from "./faults.js";
import { planOutput } from "./generate.js";
import { canonicalJson, sha256Hex } from "./hash.js";
import { randomId } from "./ids.js";
import type { LedgerRecord } from "./ledger.js";
import { newLedgerRecord } from "./ledger.js";
import type { ModelSpec } from "./profiles.js";
import { lastUserText, promptSegments } from "./prompt.js";
import type { MessagesRequest } from "./request-schema.js";
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

/** A Messages request as one service's endpoint received it: authenticated, parsed, its model resolved. */
export interface ReceivedMessages {
  /** The Messages fields; `model` is the Anthropic id (for fault scopes), whatever the format named. */
  request: MessagesRequest;
  model: ModelSpec;
  stream: boolean;
}

/**
 * Reads one format's request: checks its credentials and parses its body, filling the
 * ledger record's credential, model and region as it learns them, so a refused request
 * still shows who sent it.
 */
export type ReceiveMessages = (exchange: Exchange, state: SimulatorState, record: LedgerRecord) => Promise<ReceivedMessages>;

/** Fields that do not change the answer: the stream flag and the cloud formats' version and beta fields. */
const NOT_ANSWER_DETERMINING = new Set(["stream", "anthropic_version", "anthropic_beta"]);

/** Equal requests get equal answers in every format: the seed hashes the resolved model and the request's content. */
function answerSeed(request: MessagesRequest, model: ModelSpec): string {
  const fields = Object.fromEntries(Object.entries(request).filter(([field]) => !NOT_ANSWER_DETERMINING.has(field)));
  return sha256Hex(canonicalJson({ ...fields, model: model.id }));
}

async function answer(exchange: Exchange, state: SimulatorState, record: LedgerRecord, receive: ReceiveMessages): Promise<void> {
  const { request, model, stream } = await receive(exchange, state, record);
  record.stream = stream;
  const text = lastUserText(request);
  const directives = withFaultScope(parseDirectives(text, exchange.request.headers), text, request.model, state);
  record.fault = state.settings.outage ?? directives.fault;
  const faultError = upfrontFaultError(state.settings.outage ? { ...directives, fault: state.settings.outage } : directives);
  if (faultError !== null) throw faultError;
  if (record.fault === "stall-first") return holdConnection(exchange, record);

  const input = state.promptCaches[exchange.dialect.name].apply(promptSegments(request), model);
  record.inputTokens = input.inputTokens;
  record.cacheCreationInputTokens = input.cacheCreationInputTokens;
  record.cacheReadInputTokens = input.cacheReadInputTokens;
  state.rateLimits.consume(input.inputTokens + input.cacheCreationInputTokens + input.cacheReadInputTokens, request.max_tokens);

  const plan = planOutput({
    seed: answerSeed(request, model),
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
  const header = { id: randomId(exchange.dialect.messageIdPrefix), model: model.id, input };
  record.messageId = header.id;
  const interruption = interruptionOf(directives);
  if (stream) await streamAnswer(exchange, streamEvents(header, plan), schedule, interruption, record);
  else await sendWholeAnswer(exchange, header, plan, schedule, interruption, record);
}

/** A Messages request in any format: every request, answered or not, gets a ledger record. */
export async function handleMessages(exchange: Exchange, state: SimulatorState, receive: ReceiveMessages): Promise<void> {
  const record = newLedgerRecord(exchange.requestId, exchange.dialect.name, exchange.receivedAt);
  state.ledger.add(record);
  exchange.clientGone.addEventListener("abort", () => {
    if (record.finishedAt !== null) return;
    record.clientAborted = true;
    record.finishedAt = performance.now();
  });
  try {
    await answer(exchange, state, record, receive);
  } catch (error) {
    record.status = await respondWithError(exchange, error, state.settings.extraLatencyMs);
    record.finishedAt ??= performance.now();
  }
}
