import type { DialectName } from "./dialect.js";
import type { Fault } from "./directives.js";
import type { StopReason } from "./generate.js";

/**
 * What the simulator did for one `POST /v1/messages`. Times are `performance.now()`
 * milliseconds of the simulator's process. A record is updated in place until
 * `finishedAt` is set.
 */
export interface LedgerRecord {
  /** The answer's request id (`request-id`; Bedrock's `x-amzn-RequestId`; Vertex sends none). */
  requestId: string;
  /** The wire format the request came in. */
  format: DialectName;
  /**
   * The credential the request came with: the API key; for Bedrock, the AWS access key id;
   * for Vertex, the service account's email. Null when it had none.
   */
  apiKey: string | null;
  /** The `anthropic-version` header of an Anthropic-format request; null otherwise. */
  anthropicVersion: string | null;
  /** The model as requested, in the format's own naming; null when the request was rejected before it was read. */
  model: string | null;
  /** Bedrock's signing region or Vertex's location; null for the Anthropic format. */
  region: string | null;
  /** The answer's message id (`msg_...`, `msg_bdrk_...`, `msg_vrtx_...`); null when none was made. */
  messageId: string | null;
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

export function newLedgerRecord(requestId: string, format: DialectName, startedAt: number): LedgerRecord {
  return {
    requestId,
    format,
    apiKey: null,
    anthropicVersion: null,
    model: null,
    region: null,
    messageId: null,
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

  /** The record of the request answered with this message id (how Vertex answers are found: they carry no request id). */
  byMessageId(messageId: string): Readonly<LedgerRecord> | undefined {
    return [...this.#records.values()].find((record) => record.messageId === messageId);
  }

  clear(): void {
    this.#records.clear();
  }
}
