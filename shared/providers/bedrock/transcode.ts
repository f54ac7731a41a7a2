import type { AnthropicErrorType } from "../../http/errors.js";
import { sseErrorEvent } from "../anthropic-errors.js";
import { messageStartWithModel } from "../answer-model.js";
import { fromBase64, utf8 } from "../../text/bytes.js";
import { type ChunkTransformer, transformedBody } from "../chunk-stream.js";
import { streamExceptionError } from "./errors.js";
import { EventStreamDecoder, EventStreamError, type EventStreamMessage } from "./event-stream.js";

/**
 * Bedrock's streamed answer (event-stream frames, each `chunk` carrying one Anthropic
 * stream event as base64 JSON) re-emitted as the Anthropic API's SSE bytes:
 * `event: <type>\ndata: <json>\n\n`, one chunk per event, as soon as its frame is whole.
 *
 * The common case is kept cheap: the event JSON is decoded from base64 once, its type read
 * from the bytes, and the output assembled from a precomputed `event: <type>\ndata: `
 * prefix, without parsing or re-serializing. Only `message_start` (the model becomes
 * edgegate's) and a `message_stop` carrying Bedrock's invocation metrics (dropped) are parsed.
 */

const text = new TextDecoder();
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const CHUNK_PAYLOAD_PREFIX = utf8.encode('{"bytes":"');
const EVENT_JSON_PREFIX = utf8.encode('{"type":"');
const BARE_MESSAGE_STOP = '{"type":"message_stop"}';

interface KnownType {
  name: string;
  nameBytes: Uint8Array;
  /** `event: <name>\ndata: ` */
  sseHead: Uint8Array;
}

/** The Messages stream's event types, commonest first. */
const KNOWN_TYPES: readonly KnownType[] = [
  "content_block_delta",
  "content_block_start",
  "content_block_stop",
  "message_delta",
  "message_start",
  "message_stop",
  "ping",
  "error",
].map((name) => ({ name, nameBytes: utf8.encode(name), sseHead: utf8.encode(`event: ${name}\ndata: `) }));

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let index = 0; index < prefix.length; index += 1) if (bytes[index] !== prefix[index]) return false;
  return true;
}

/** The known type whose name is `bytes[start, end)`, if any. */
function knownType(bytes: Uint8Array, start: number, end: number): KnownType | undefined {
  const length = end - start;
  search: for (const type of KNOWN_TYPES) {
    if (type.nameBytes.length !== length) continue;
    for (let index = 0; index < length; index += 1) if (bytes[start + index] !== type.nameBytes[index]) continue search;
    return type;
  }
  return undefined;
}

/** The base64 text of a chunk's `{"bytes":"...", "p":"..."}` payload. */
function chunkBase64(payload: Uint8Array): string {
  if (startsWith(payload, CHUNK_PAYLOAD_PREFIX)) {
    const end = payload.indexOf(QUOTE, CHUNK_PAYLOAD_PREFIX.length);
    if (end > 0) {
      const base64 = text.decode(payload.subarray(CHUNK_PAYLOAD_PREFIX.length, end));
      // A JSON writer that escapes "/" as "\/" needs the full parse below.
      if (!base64.includes("\\")) return base64;
    }
  }
  const parsed = JSON.parse(text.decode(payload)) as { bytes?: unknown };
  if (typeof parsed.bytes !== "string") throw new EventStreamError("Bedrock chunk without bytes");
  return parsed.bytes;
}

function sseFrame(head: Uint8Array, json: Uint8Array): Uint8Array {
  const frame = new Uint8Array(head.length + json.length + 2);
  frame.set(head);
  frame.set(json, head.length);
  frame[frame.length - 2] = LF;
  frame[frame.length - 1] = LF;
  return frame;
}

function sseFrameFromText(type: string, json: string): Uint8Array {
  return utf8.encode(`event: ${type}\ndata: ${json}\n\n`);
}

/** The slow path: any event the fast path cannot frame as it is. Returns null for JSON without a type. */
function reframedEvent(json: string, answerModel: string): Uint8Array | null {
  const event = JSON.parse(json) as { type?: unknown; [field: string]: unknown };
  if (typeof event.type !== "string") return null;
  if (event.type === "message_start") return sseFrameFromText(event.type, messageStartWithModel(json, answerModel));
  if (event.type === "message_stop") return sseFrameFromText(event.type, BARE_MESSAGE_STOP);
  return sseFrameFromText(event.type, JSON.stringify(event));
}

/** One Anthropic event's JSON bytes as an SSE frame; null when there is nothing to send. */
function sseFrameOfEvent(json: Uint8Array, answerModel: string): Uint8Array | null {
  if (startsWith(json, EVENT_JSON_PREFIX)) {
    const nameEnd = json.indexOf(QUOTE, EVENT_JSON_PREFIX.length);
    const type = nameEnd > 0 ? knownType(json, EVENT_JSON_PREFIX.length, nameEnd) : undefined;
    const singleLine = json.indexOf(LF) === -1 && json.indexOf(CR) === -1;
    if (type !== undefined && singleLine && type.name !== "message_start" && type.name !== "message_stop") {
      return sseFrame(type.sseHead, json);
    }
  }
  return reframedEvent(text.decode(json), answerModel);
}

function errorFrame(type: AnthropicErrorType, message: string): Uint8Array {
  return utf8.encode(sseErrorEvent(type, message));
}

/** The SSE frame for one event-stream message, or null for messages that carry nothing for the client. */
function sseFrameOfMessage(message: EventStreamMessage, answerModel: string): { frame: Uint8Array | null; last: boolean } {
  if (message.messageType === "event") {
    if (message.kind !== "chunk") return { frame: null, last: false };
    return { frame: sseFrameOfEvent(fromBase64(chunkBase64(message.payload)), answerModel), last: false };
  }
  if (message.messageType === "exception") {
    const error = streamExceptionError(message.kind, text.decode(message.payload));
    return { frame: errorFrame(error.type, error.message), last: true };
  }
  const detail = message.errorMessage || message.kind || "unknown error";
  return { frame: errorFrame("api_error", `Amazon Bedrock stream failed: ${detail}`), last: true };
}

/**
 * Bedrock's event-stream bytes to Anthropic SSE bytes, one upstream chunk at a time. An
 * exception frame becomes an Anthropic `error` event and ends the answer, as does a
 * corrupt frame or a stream that stops mid-frame.
 */
export class BedrockSseTranscoder implements ChunkTransformer {
  readonly #decoder = new EventStreamDecoder();
  #over = false;

  constructor(private readonly answerModel: string) {}

  push(chunk: Uint8Array, emit: (bytes: Uint8Array) => void): boolean {
    try {
      this.#decoder.push(chunk, (message) => {
        if (this.#over) return;
        const { frame, last } = sseFrameOfMessage(message, this.answerModel);
        if (frame !== null) emit(frame);
        this.#over = last;
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      emit(errorFrame("api_error", `Amazon Bedrock sent a stream that could not be read: ${reason}`));
      this.#over = true;
    }
    return !this.#over;
  }

  end(emit: (bytes: Uint8Array) => void): void {
    if (this.#decoder.midMessage) emit(errorFrame("api_error", "Amazon Bedrock's stream ended in the middle of an event."));
  }
}

/** A Bedrock streamed answer's body as the Anthropic API's SSE body. */
export function bedrockStreamToSse(upstream: ReadableStream<Uint8Array>, answerModel: string): ReadableStream<Uint8Array> {
  return transformedBody(upstream, new BedrockSseTranscoder(answerModel));
}
