import { type SseEvent, SseParser } from "../../../shared/sse/parser.js";
import { disconnectAware } from "../../../shared/upstream/relay.js";

/** Turns Anthropic stream events into another API's stream text, event by event, with a last word at the end. */
export interface StreamTranslator {
  translate(event: SseEvent): string;
  end(): string;
}

/**
 * An Anthropic SSE body translated as it streams: each event's translation is sent as
 * soon as the event is in. The runtime pumps the result to the client, so a disconnect
 * reaches the relay (see disconnectAware).
 */
export function translateSse(body: ReadableStream<Uint8Array>, translator: StreamTranslator): ReadableStream<Uint8Array> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const emit = (text: string, controller: TransformStreamDefaultController<Uint8Array>) => {
    if (text) controller.enqueue(encoder.encode(text));
  };
  const translated = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        let out = "";
        for (const event of parser.feed(decoder.decode(chunk, { stream: true }))) out += translator.translate(event);
        emit(out, controller);
      },
      flush(controller) {
        let out = "";
        for (const event of parser.end()) out += translator.translate(event);
        emit(out + translator.end(), controller);
      },
    }),
  );
  return disconnectAware(translated);
}
