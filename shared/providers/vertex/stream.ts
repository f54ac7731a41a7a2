import { messageStartWithModel } from "../answer-model.js";
import { utf8 } from "../../text/bytes.js";
import { type ChunkTransformer, transformedBody } from "../chunk-stream.js";

const LF = 0x0a;
const DATA_PREFIX = "data: ";
/** message_start is the first event and small; a first event longer than this is passed on untouched. */
const FIRST_EVENT_LIMIT_BYTES = 64 * 1024;

/** End of the first SSE event (the index after its blank line), or -1 while incomplete. */
function firstEventEnd(bytes: Uint8Array): number {
  for (let newline = bytes.indexOf(LF); newline !== -1; newline = bytes.indexOf(LF, newline + 1)) {
    if (bytes[newline + 1] === LF) return newline + 2;
  }
  return -1;
}

/** The first event with its `message_start` data's model replaced; other events are returned unchanged. */
function rewriteFirstEvent(event: string, answerModel: string): string {
  const lines = event.split("\n");
  const dataIndex = lines.findIndex((line) => line.startsWith(DATA_PREFIX));
  if (!lines.includes("event: message_start") || dataIndex === -1) return event;
  lines[dataIndex] = DATA_PREFIX + messageStartWithModel(lines[dataIndex]!.slice(DATA_PREFIX.length), answerModel);
  return lines.join("\n");
}

/**
 * Vertex streams are already Anthropic SSE: the bytes pass through untouched, except the
 * first event, `message_start`, whose `message.model` becomes edgegate's id. Once that
 * event is out, every chunk is passed on as it arrives, without being looked at.
 */
class FirstEventModelRewriter implements ChunkTransformer {
  /** Bytes of the first event so far; null once it has been passed on. */
  #head: Uint8Array | null = new Uint8Array(0);
  readonly #decoder = new TextDecoder();

  constructor(private readonly answerModel: string) {}

  push(chunk: Uint8Array, emit: (bytes: Uint8Array) => void): boolean {
    if (this.#head === null) {
      emit(chunk);
      return true;
    }
    const bytes = new Uint8Array(this.#head.length + chunk.length);
    bytes.set(this.#head);
    bytes.set(chunk, this.#head.length);
    const end = firstEventEnd(bytes);
    if (end === -1 && bytes.length < FIRST_EVENT_LIMIT_BYTES) {
      this.#head = bytes;
      return true;
    }
    this.#head = null;
    if (end === -1) {
      emit(bytes);
      return true;
    }
    emit(utf8.encode(rewriteFirstEvent(this.#decoder.decode(bytes.subarray(0, end)), this.answerModel)));
    if (end < bytes.length) emit(bytes.subarray(end));
    return true;
  }

  end(emit: (bytes: Uint8Array) => void): void {
    if (this.#head !== null && this.#head.length > 0) emit(this.#head);
  }
}

/** A Vertex streamed answer's body with edgegate's model id in message_start. */
export function vertexStreamWithModel(upstream: ReadableStream<Uint8Array>, answerModel: string): ReadableStream<Uint8Array> {
  return transformedBody(upstream, new FirstEventModelRewriter(answerModel));
}
