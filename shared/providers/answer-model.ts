import { isRecord, jsonObject } from "./json.js";

/**
 * Answers as the Anthropic API gives them. Providers answer with their own model names
 * (or none); clients must see edgegate's: these rewrite the `model` of a whole answer and
 * of a stream's `message_start`, and build the success responses.
 */

/** A non-streaming answer's JSON with `model` set; text that is not a JSON object is left as it is. */
export function messageWithModel(json: string, model: string): string {
  const message = jsonObject(json);
  if (message === null) return json;
  message.model = model;
  return JSON.stringify(message);
}

/** A `message_start` event's data with `message.model` set; anything else is left as it is. */
export function messageStartWithModel(json: string, model: string): string {
  const event = jsonObject(json);
  if (event === null || event.type !== "message_start" || !isRecord(event.message)) return json;
  event.message.model = model;
  return JSON.stringify(event);
}

/** A whole answer: the provider's message with edgegate's model, as the Anthropic API's JSON. */
export async function wholeAnswer(upstream: Response, answerModel: string, headers: Record<string, string> = {}): Promise<Response> {
  return new Response(messageWithModel(await upstream.text(), answerModel), {
    status: 200,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** A streamed answer: Anthropic SSE bytes, with the Anthropic API's headers. */
export function streamedAnswer(body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...headers },
  });
}
