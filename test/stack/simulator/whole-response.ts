import { performance } from "node:perf_hooks";
import { ApiError } from "./errors.js";
import type { Exchange } from "./exchange.js";
import type { Interruption } from "./faults.js";
import { OVERLOADED, holdConnection } from "./faults.js";
import type { OutputPlan } from "./generate.js";
import { sendJson } from "./http-io.js";
import type { LedgerRecord } from "./ledger.js";
import type { MessageHeader } from "./message.js";
import { completeMessageBody } from "./message.js";
import { sleepUntil } from "./sleep.js";
import type { TokenSchedule } from "./timing.js";

/**
 * Answers a non-streaming request when its last token would have been generated.
 * error-mid fails with 529 once `afterTokens` are generated; stall-mid never answers.
 */
export async function sendWholeAnswer(
  exchange: Exchange,
  header: MessageHeader,
  plan: OutputPlan,
  schedule: TokenSchedule,
  interruption: Interruption | null,
  record: LedgerRecord,
): Promise<void> {
  const { clientGone } = exchange;
  if (interruption?.fault === "stall-mid") return holdConnection(exchange, record);
  if (interruption?.fault === "error-mid") {
    await sleepUntil(schedule.tokenDueAt(Math.min(interruption.afterTokens, plan.outputTokens)), clientGone);
    throw new ApiError(OVERLOADED.type, OVERLOADED.message);
  }
  await sleepUntil(schedule.tokenDueAt(Math.max(0, plan.outputTokens - 1)), clientGone);
  if (clientGone.aborted) return;
  const message = completeMessageBody(header, plan);
  sendJson(exchange.response, 200, message, { ...exchange.headers(), ...exchange.dialect.wholeAnswerHeaders(message) });
  const now = performance.now();
  record.status = 200;
  record.outputTokensSent = plan.outputTokens;
  record.stopReason = plan.stopReason;
  record.completed = true;
  record.firstTokenAt = now;
  record.finishedAt = now;
}
