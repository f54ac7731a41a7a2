import type { ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Exchange } from "./exchange.js";
import type { Interruption } from "./faults.js";
import { holdConnection } from "./faults.js";
import type { LedgerRecord } from "./ledger.js";
import { sleepUntil } from "./sleep.js";
import type { StreamEvent } from "./stream-events.js";
import { costsOutputToken } from "./stream-events.js";
import type { TokenSchedule } from "./timing.js";

/** One `write` per event, framed as the exchange's service frames it, recorded in the ledger as it happens. */
function writeEvent(exchange: Exchange, event: StreamEvent, record: LedgerRecord): void {
  const now = performance.now();
  record.eventTimes.push(now);
  if (costsOutputToken(event)) {
    record.outputTokensSent += 1;
    record.firstTokenAt ??= now;
  }
  if (event.type === "message_delta") record.stopReason = event.delta.stop_reason;
  if (event.type === "message_stop") record.completed = true;
  exchange.response.write(exchange.dialect.stream.encode(event, record));
}

function finish(response: ServerResponse, record: LedgerRecord): void {
  response.end();
  record.finishedAt = performance.now();
}

async function interrupt(exchange: Exchange, interruption: Interruption, dueAt: number, record: LedgerRecord): Promise<void> {
  if (interruption.fault === "stall-mid") return holdConnection(exchange, record);
  await sleepUntil(dueAt, exchange.clientGone);
  if (exchange.clientGone.aborted) return;
  exchange.response.write(exchange.dialect.stream.failure());
  record.eventTimes.push(performance.now());
  finish(exchange.response, record);
}

/**
 * Streams `events` in the exchange's stream framing: headers, message_start and ping at
 * `respondAt`, each token-bearing delta at its due time, other events right
 * after the event before them. Stops at once when the client goes away.
 */
export async function streamAnswer(
  exchange: Exchange,
  events: readonly StreamEvent[],
  schedule: TokenSchedule,
  interruption: Interruption | null,
  record: LedgerRecord,
): Promise<void> {
  const { response, clientGone } = exchange;
  await sleepUntil(schedule.respondAt, clientGone);
  if (clientGone.aborted) return;
  response.writeHead(200, {
    ...exchange.headers(),
    "content-type": exchange.dialect.stream.contentType,
    "cache-control": "no-cache",
  });
  record.status = 200;

  for (const event of events) {
    const costsToken = costsOutputToken(event);
    const strikes =
      interruption !== null &&
      (event.type === "message_delta" || (costsToken && record.outputTokensSent >= interruption.afterTokens));
    if (strikes) return interrupt(exchange, interruption, schedule.tokenDueAt(record.outputTokensSent), record);
    if (costsToken) await sleepUntil(schedule.tokenDueAt(record.outputTokensSent), clientGone);
    if (clientGone.aborted || response.destroyed) return;
    writeEvent(exchange, event, record);
  }
  finish(response, record);
}
