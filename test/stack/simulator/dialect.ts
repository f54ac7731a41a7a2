import type { OutgoingHttpHeaders } from "node:http";
import type { ApiError } from "./errors.js";
import type { LedgerRecord } from "./ledger.js";
import type { MessageBody } from "./message.js";
import type { StreamEvent } from "./stream-events.js";

/** The three wire formats the simulator speaks: Anthropic's API, Bedrock's InvokeModel, Vertex AI's rawPredict. */
export type DialectName = "anthropic" | "bedrock" | "vertex";

/** An error as a service sends it: status, headers and JSON body. */
export interface RenderedError {
  status: number;
  headers: OutgoingHttpHeaders;
  body: unknown;
}

/**
 * What differs between the services for the same answer: ids, headers, error bodies and
 * stream framing. Generation, timing, faults, prompt caching and the ledger are shared, so
 * one prompt gets the same text and usage whichever format asks.
 */
export interface Dialect {
  name: DialectName;
  messageIdPrefix: "msg" | "msg_bdrk" | "msg_vrtx";
  newRequestId(): string;
  /** Headers on every answer; `exhausted` on a rate-limit refusal. */
  headers(requestId: string, exhausted: boolean): OutgoingHttpHeaders;
  /** An Anthropic-typed error (validation, faults, outages) as this service reports it. */
  renderError(error: ApiError, requestId: string): RenderedError;
  /** Extra headers of a whole (non-streaming) answer. */
  wholeAnswerHeaders(message: MessageBody): OutgoingHttpHeaders;
  stream: {
    contentType: string;
    /** One write: an event as this service frames it. */
    encode(event: StreamEvent, record: Readonly<LedgerRecord>): string | Uint8Array;
    /** What `fault=error-mid` writes before the stream ends. */
    failure(): string | Uint8Array;
  };
}

/** An error already in a service's own format (e.g. an authentication failure), sent as it is. */
export class WireError extends Error {
  constructor(readonly rendered: RenderedError) {
    super(`simulated ${rendered.status}`);
  }
}
