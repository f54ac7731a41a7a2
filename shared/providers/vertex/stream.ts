import { messageStartWithModel } from "../answer-model.js";
import { utf8 } from "../bytes.js";

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
export function vertexStreamWithModel(answerModel: string): TransformStream<Uint8Array, Uint8Array> {
  let head: Uint8Array | null = new Uint8Array(0);
  const decoder = new TextDecoder();
  return new TransformStream({
    transform(chunk, controller) {
      if (head === null) {
        controller.enqueue(chunk);
        return;
      }
      const bytes = new Uint8Array(head.length + chunk.length);
      bytes.set(head);
      bytes.set(chunk, head.length);
      const end = firstEventEnd(bytes);
      if (end === -1 && bytes.length < FIRST_EVENT_LIMIT_BYTES) {
        head = bytes;
        return;
      }
      head = null;
      if (end === -1) {
        controller.enqueue(bytes);
        return;
      }
      controller.enqueue(utf8.encode(rewriteFirstEvent(decoder.decode(bytes.subarray(0, end)), answerModel)));
      if (end < bytes.length) controller.enqueue(bytes.subarray(end));
    },
    flush(controller) {
      if (head !== null && head.length > 0) controller.enqueue(head);
    },
  });
}
