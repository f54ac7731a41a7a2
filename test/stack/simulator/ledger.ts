import type { Fault } from "./directives.js";
import type { StopReason } from "./generate.js";

/**
 * What the simulator did for one `POST /v1/messages`. Times are `performance.now()`
 * milliseconds of the simulator's process. A record is updated in place until
 * `finishedAt` is set.
 */
export interface LedgerRecord {
  requestId: string;
  /** The provider key the request came with; null when it had none. */
  apiKey: string | null;
  /** The model as requested; null when the request was rejected before it was read. */
  model: string | null;
  stream: boolean;
  inputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  /** Output tokens written to the socket (equals the reported usage whenever message_delta was sent). */
  outputTokensSent: number;
  outputTokensPlanned: number;
  /** The stop reason reported to the client; null if none was. */
  stopReason: StopReason | null;
  fault: Fault | null;
  /** HTTP status sent; null if the client left before any response. */
  status: number | null;
  /** message_stop written (streaming) or the full body sent (non-streaming). */
  completed: boolean;
  /** The client closed the connection before the response was complete. */
  clientAborted: boolean;
  startedAt: number;
  /** First output token written (non-streaming: the body). */
  firstTokenAt: number | null;
  finishedAt: number | null;
  /** Time of each SSE event write. */
  eventTimes: number[];
}

export function newLedgerRecord(requestId: string, startedAt: number): LedgerRecord {
  return {
    requestId,
    apiKey: null,
    model: null,
    stream: false,
    inputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    outputTokensSent: 0,
    outputTokensPlanned: 0,
    stopReason: null,
    fault: null,
    status: null,
    completed: false,
    clientAborted: false,
    startedAt,
    firstTokenAt: null,
    finishedAt: null,
    eventTimes: [],
  };
}

export class Ledger {
  readonly #records = new Map<string, LedgerRecord>();

  add(record: LedgerRecord): void {
    this.#records.set(record.requestId, record);
  }

  /** All records, oldest first. */
  all(): readonly Readonly<LedgerRecord>[] {
    return [...this.#records.values()];
  }

  get(requestId: string): Readonly<LedgerRecord> | undefined {
    return this.#records.get(requestId);
  }

  clear(): void {
    this.#records.clear();
  }
}
