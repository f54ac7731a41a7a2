import { errorBody } from "../../../shared/http/errors.js";
import type { AnthropicMessage } from "../../../shared/openai/anthropic-types.js";
import { toOpenAIError } from "../../../shared/openai/errors.js";
import type { ChatCompletionRequest } from "../../../shared/openai/request.js";
import { toChatCompletion } from "../../../shared/openai/response.js";
import { ChatStreamTranslator } from "../../../shared/openai/stream.js";
import { SseParser } from "../../../shared/sse/parser.js";
import { disconnectAware } from "../../../shared/upstream/relay.js";
import type { ResponseShape } from "./response-shape.js";

/**
 * The OpenAI Chat Completions format: a message becomes a `chat.completion`, a stream
 * becomes `chat.completion.chunk` events (each written as soon as its Anthropic event
 * arrives) ending with `data: [DONE]`, and errors take OpenAI's shape with the same status.
 */
export function openAIShape(chat: ChatCompletionRequest, requestId: string): ResponseShape {
  const id = `chatcmpl-${requestId}`;
  const created = Math.floor(Date.now() / 1000);
  return {
    message(text, servedModel, status, headers) {
      const completion = toChatCompletion(JSON.parse(text) as AnthropicMessage, servedModel, id, created);
      headers.set("content-type", "application/json");
      return new Response(JSON.stringify(completion), { status, headers });
    },
    stream(body, servedModel, status, headers) {
      const translator = new ChatStreamTranslator({
        id,
        created,
        model: servedModel,
        includeUsage: chat.stream_options?.include_usage === true,
      });
      headers.set("content-type", "text/event-stream; charset=utf-8");
      return new Response(disconnectAware(translateSse(body, translator)), { status, headers });
    },
    async upstreamError(response) {
      const body: unknown = await response.json().catch(() => errorBody("api_error", response.statusText));
      return openAIErrorResponse(response.status, body, response.headers);
    },
  };
}

export function openAIErrorResponse(status: number, anthropicBody: unknown, headers: HeadersInit = {}): Response {
  const out = new Headers(headers);
  out.set("content-type", "application/json");
  return new Response(JSON.stringify(toOpenAIError(status, anthropicBody)), { status, headers: out });
}

function translateSse(body: ReadableStream<Uint8Array>, translator: ChatStreamTranslator): ReadableStream<Uint8Array> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const emit = (text: string, controller: TransformStreamDefaultController<Uint8Array>) => {
    if (text) controller.enqueue(encoder.encode(text));
  };
  return body.pipeThrough(
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
}
