import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Dialect, RenderedError } from "./dialect.js";
import type { ApiErrorType } from "./errors.js";
import { bedrockChunkMessage, bedrockExceptionMessage } from "./event-stream-encoder.js";
import type { LedgerRecord } from "./ledger.js";
import type { StreamEvent } from "./stream-events.js";

/** How Bedrock reports the simulator's Anthropic-typed errors. */
const BEDROCK_ERRORS: Readonly<Record<ApiErrorType, { status: number; exception: string; message?: string }>> = {
  invalid_request_error: { status: 400, exception: "ValidationException" },
  request_too_large: { status: 400, exception: "ValidationException", message: "Input is too long for requested model." },
  authentication_error: { status: 403, exception: "UnrecognizedClientException" },
  not_found_error: { status: 404, exception: "ResourceNotFoundException" },
  rate_limit_error: { status: 429, exception: "ThrottlingException", message: "Too many requests, please wait before trying again." },
  api_error: { status: 500, exception: "InternalServerException", message: "An internal server error occurred. Retry your request." },
  overloaded_error: { status: 503, exception: "ServiceUnavailableException", message: "Bedrock is unable to process your request." },
};

const CORAL_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/";

/** A Bedrock error answer: the exception in `x-amzn-ErrorType`, `{"message": ...}` in the body. */
export function bedrockError(status: number, exception: string, message: string, requestId: string): RenderedError {
  return {
    status,
    headers: { "x-amzn-RequestId": requestId, "x-amzn-ErrorType": `${exception}:${CORAL_NAMESPACE}` },
    body: { message },
  };
}

/** Bedrock appends its own counts and latencies to the last event of a stream. */
function withInvocationMetrics(event: StreamEvent, record: Readonly<LedgerRecord>): object {
  if (event.type !== "message_stop") return event;
  const now = performance.now();
  return {
    ...event,
    "amazon-bedrock-invocationMetrics": {
      inputTokenCount: record.inputTokens,
      outputTokenCount: record.outputTokensSent,
      invocationLatency: Math.round(now - record.startedAt),
      firstByteLatency: Math.round((record.firstTokenAt ?? now) - record.startedAt),
    },
  };
}

/** Bedrock's InvokeModel format: AWS error shapes, event-stream frames carrying base64 Anthropic events. */
export function bedrockDialect(): Dialect {
  return {
    name: "bedrock",
    messageIdPrefix: "msg_bdrk",
    newRequestId: () => randomUUID(),
    headers: (requestId) => ({ "x-amzn-RequestId": requestId }),
    renderError: (error, requestId) => {
      const { status, exception, message } = BEDROCK_ERRORS[error.type];
      return bedrockError(status, exception, message ?? error.message, requestId);
    },
    wholeAnswerHeaders: (message) => ({
      "x-amzn-Bedrock-Input-Token-Count": String(message.usage.input_tokens),
      "x-amzn-Bedrock-Output-Token-Count": String(message.usage.output_tokens),
      "x-amzn-Bedrock-Cache-Read-Input-Token-Count": String(message.usage.cache_read_input_tokens),
      "x-amzn-Bedrock-Cache-Write-Input-Token-Count": String(message.usage.cache_creation_input_tokens),
    }),
    stream: {
      contentType: "application/vnd.amazon.eventstream",
      encode: (event, record) => {
        const json = JSON.stringify(withInvocationMetrics(event, record));
        return bedrockChunkMessage(json, json.length);
      },
      failure: () => bedrockExceptionMessage("serviceUnavailableException", BEDROCK_ERRORS.overloaded_error.message!),
    },
  };
}
