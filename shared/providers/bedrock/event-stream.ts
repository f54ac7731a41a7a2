import { crc32 } from "../crc32.js";

/**
 * Incremental decoder of the AWS event-stream framing (`application/vnd.amazon.eventstream`),
 * which Bedrock's `invoke-with-response-stream` answers in. A message is:
 *
 *   total length (u32 BE) | headers length (u32 BE) | prelude CRC32 (of the 8 bytes before)
 *   headers | payload | message CRC32 (of everything before it)
 *
 * and a header is: name length (u8) | name (ASCII) | value type (u8) | value.
 * Only the headers that say what a message is are kept (`:message-type`, `:event-type`,
 * `:exception-type`, `:error-code`, `:error-message`); the payload is handed over as a
 * view, never copied.
 */
export interface EventStreamMessage {
  /** `event`, `exception` or `error`. */
  messageType: string;
  /** `:event-type` of an event, `:exception-type` of an exception, `:error-code` of an error. */
  kind: string;
  /** `:error-message` of an error message, else "". */
  errorMessage: string;
  payload: Uint8Array;
}

/** The bytes are not an event stream, or a frame is corrupt. */
export class EventStreamError extends Error {
  override readonly name = "EventStreamError";
}

const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;
const MIN_MESSAGE_BYTES = PRELUDE_BYTES + CRC_BYTES;
/** The framing's own limits: 16 MiB a message, 128 KiB of headers. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const MAX_HEADERS_BYTES = 128 * 1024;

const EMPTY = new Uint8Array(0);
const text = new TextDecoder();

/** Byte size of the value of each fixed-size header type (0 and 1 are booleans without a value). */
const FIXED_VALUE_BYTES: Readonly<Record<number, number>> = { 0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16 };
const BYTE_ARRAY = 6;
const STRING = 7;

function uint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

const ascii = new TextEncoder();

/** The headers kept, by name, and where each goes. */
const KEPT_HEADERS: ReadonlyArray<{ name: Uint8Array; field: "messageType" | "kind" | "errorMessage" }> = [
  { name: ascii.encode(":message-type"), field: "messageType" },
  { name: ascii.encode(":event-type"), field: "kind" },
  { name: ascii.encode(":exception-type"), field: "kind" },
  { name: ascii.encode(":error-code"), field: "kind" },
  { name: ascii.encode(":error-message"), field: "errorMessage" },
];

/** Values every chunk frame repeats, returned without decoding. */
const COMMON_VALUES: ReadonlyArray<{ bytes: Uint8Array; text: string }> = ["event", "chunk", "exception"].map((text) => ({
  bytes: ascii.encode(text),
  text,
}));

function bytesEqual(bytes: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let index = 0; index < expected.length; index += 1) if (bytes[start + index] !== expected[index]) return false;
  return true;
}

function keptHeader(bytes: Uint8Array, start: number, end: number): (typeof KEPT_HEADERS)[number] | undefined {
  for (const header of KEPT_HEADERS) if (bytesEqual(bytes, start, end, header.name)) return header;
  return undefined;
}

function stringValue(bytes: Uint8Array, start: number, end: number): string {
  for (const common of COMMON_VALUES) if (bytesEqual(bytes, start, end, common.bytes)) return common.text;
  return text.decode(bytes.subarray(start, end));
}

function readMessage(bytes: Uint8Array, start: number, totalBytes: number, headersBytes: number): EventStreamMessage {
  const message: EventStreamMessage = { messageType: "", kind: "", errorMessage: "", payload: EMPTY };
  const headersEnd = start + PRELUDE_BYTES + headersBytes;
  let at = start + PRELUDE_BYTES;
  while (at < headersEnd) {
    const nameEnd = at + 1 + bytes[at]!;
    const type = bytes[nameEnd];
    if (nameEnd >= headersEnd || type === undefined) throw new EventStreamError("event-stream header runs past the headers");
    let valueStart = nameEnd + 1;
    let valueEnd: number;
    if (type === BYTE_ARRAY || type === STRING) {
      valueEnd = valueStart + 2 + ((bytes[valueStart]! << 8) | bytes[valueStart + 1]!);
      valueStart += 2;
    } else {
      const size = FIXED_VALUE_BYTES[type];
      if (size === undefined) throw new EventStreamError(`event-stream header has unknown value type ${type}`);
      valueEnd = valueStart + size;
    }
    if (valueEnd > headersEnd) throw new EventStreamError("event-stream header value runs past the headers");
    if (type === STRING) {
      const kept = keptHeader(bytes, at + 1, nameEnd);
      if (kept !== undefined) message[kept.field] = stringValue(bytes, valueStart, valueEnd);
    }
    at = valueEnd;
  }
  message.payload = bytes.subarray(headersEnd, start + totalBytes - CRC_BYTES);
  return message;
}

export class EventStreamDecoder {
  /** Bytes of a message not yet complete. */
  #pending: Uint8Array = EMPTY;

  /**
   * Feeds the next bytes of the stream (split anywhere) and hands each message completed
   * by them to `onMessage`, in order, as soon as its last byte is in. Throws
   * EventStreamError on a frame that fails its checks; the stream is then unusable.
   */
  push(chunk: Uint8Array, onMessage: (message: EventStreamMessage) => void): void {
    let bytes = chunk;
    if (this.#pending.length > 0) {
      bytes = new Uint8Array(this.#pending.length + chunk.length);
      bytes.set(this.#pending);
      bytes.set(chunk, this.#pending.length);
    }
    let start = 0;
    while (bytes.length - start >= PRELUDE_BYTES) {
      const totalBytes = uint32(bytes, start);
      const headersBytes = uint32(bytes, start + 4);
      if (uint32(bytes, start + 8) !== crc32(bytes, start, start + 8)) {
        throw new EventStreamError("event-stream prelude checksum mismatch");
      }
      if (totalBytes < MIN_MESSAGE_BYTES || totalBytes > MAX_MESSAGE_BYTES) {
        throw new EventStreamError(`event-stream message length ${totalBytes} is out of bounds`);
      }
      if (headersBytes > MAX_HEADERS_BYTES || headersBytes > totalBytes - MIN_MESSAGE_BYTES) {
        throw new EventStreamError(`event-stream headers length ${headersBytes} is out of bounds`);
      }
      if (bytes.length - start < totalBytes) break;
      const crcAt = start + totalBytes - CRC_BYTES;
      if (uint32(bytes, crcAt) !== crc32(bytes, start, crcAt)) throw new EventStreamError("event-stream message checksum mismatch");
      onMessage(readMessage(bytes, start, totalBytes, headersBytes));
      start += totalBytes;
    }
    this.#pending = start === bytes.length ? EMPTY : bytes.subarray(start);
  }

  /** True when the bytes fed so far end inside a message. */
  get midMessage(): boolean {
    return this.#pending.length > 0;
  }
}
