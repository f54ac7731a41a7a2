import { toBase64 } from "../../../shared/text/bytes.js";
import { crc32 } from "../../../shared/providers/crc32.js";

/**
 * Encodes AWS event-stream messages (`application/vnd.amazon.eventstream`), as Bedrock's
 * `invoke-with-response-stream` sends them. Pure (Uint8Array only) so that unit tests in
 * workerd can build frames with it too. Header values: a string (type 7), a boolean
 * (types 0/1), an int32 (type 4) or bytes (type 6).
 */
export type HeaderValue = string | boolean | number | Uint8Array;

const utf8 = new TextEncoder();

function headerBytes(name: string, value: HeaderValue): Uint8Array {
  const nameBytes = utf8.encode(name);
  let typeAndValue: Uint8Array;
  if (typeof value === "boolean") {
    typeAndValue = Uint8Array.of(value ? 0 : 1);
  } else if (typeof value === "number") {
    typeAndValue = new Uint8Array(5);
    typeAndValue[0] = 4;
    new DataView(typeAndValue.buffer).setInt32(1, value);
  } else {
    const data = typeof value === "string" ? utf8.encode(value) : value;
    typeAndValue = new Uint8Array(3 + data.length);
    typeAndValue[0] = typeof value === "string" ? 7 : 6;
    new DataView(typeAndValue.buffer).setUint16(1, data.length);
    typeAndValue.set(data, 3);
  }
  const bytes = new Uint8Array(1 + nameBytes.length + typeAndValue.length);
  bytes[0] = nameBytes.length;
  bytes.set(nameBytes, 1);
  bytes.set(typeAndValue, 1 + nameBytes.length);
  return bytes;
}

export function encodeEventStreamMessage(headers: ReadonlyArray<readonly [string, HeaderValue]>, payload: Uint8Array): Uint8Array {
  const encodedHeaders = headers.map(([name, value]) => headerBytes(name, value));
  const headersLength = encodedHeaders.reduce((total, header) => total + header.length, 0);
  const totalLength = 12 + headersLength + payload.length + 4;
  const message = new Uint8Array(totalLength);
  const view = new DataView(message.buffer);
  view.setUint32(0, totalLength);
  view.setUint32(4, headersLength);
  view.setUint32(8, crc32(message, 0, 8));
  let at = 12;
  for (const header of encodedHeaders) {
    message.set(header, at);
    at += header.length;
  }
  message.set(payload, at);
  view.setUint32(totalLength - 4, crc32(message, 0, totalLength - 4));
  return message;
}

/** Bedrock's padding field: random length, so that frame sizes do not give away token lengths. */
const PADDING_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** A `chunk` event carrying one Anthropic stream event, as Bedrock frames it: `{"bytes": base64(json), "p": padding}`. */
export function bedrockChunkMessage(eventJson: string, paddingLength: number): Uint8Array {
  const base64 = toBase64(utf8.encode(eventJson));
  const payload = JSON.stringify({ bytes: base64, p: PADDING_ALPHABET.slice(0, paddingLength % (PADDING_ALPHABET.length + 1)) });
  return encodeEventStreamMessage(
    [
      [":event-type", "chunk"],
      [":content-type", "application/json"],
      [":message-type", "event"],
    ],
    utf8.encode(payload),
  );
}

/** An exception frame, as Bedrock ends a stream that failed: `{"message": ...}` under `:exception-type`. */
export function bedrockExceptionMessage(exceptionType: string, message: string): Uint8Array {
  return encodeEventStreamMessage(
    [
      [":exception-type", exceptionType],
      [":content-type", "application/json"],
      [":message-type", "exception"],
    ],
    utf8.encode(JSON.stringify({ message })),
  );
}
