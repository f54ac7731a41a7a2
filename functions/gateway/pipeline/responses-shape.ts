import type { AnthropicMessage } from "../../../shared/openai/anthropic-types.js";
import type { ResponsesRequest } from "../../../shared/openai/responses/request.js";
import { responseFrame, toResponse } from "../../../shared/openai/responses/response.js";
import { ResponsesStreamTranslator } from "../../../shared/openai/responses/stream.js";
import { openAIErrorResponse } from "../../../shared/openai/errors.js";
import type { ResponseShape } from "./response-shape.js";
import { translateSse } from "./translate-sse.js";

/**
 * The OpenAI Responses API format: a message becomes a `response` object, a stream the
 * Responses events (response.created ... response.output_text.delta ... response.completed),
 * each written as soon as its Anthropic event arrives; errors take OpenAI's shape.
 */
export function responsesShape(request: ResponsesRequest, requestId: string): ResponseShape {
  const id = `resp_${requestId}`;
  const createdAt = Math.floor(Date.now() / 1000);
  return {
    message(text, servedModel, status, headers) {
      const response = toResponse(JSON.parse(text) as AnthropicMessage, responseFrame(request, id, servedModel, createdAt));
      headers.set("content-type", "application/json");
      return new Response(JSON.stringify(response), { status, headers });
    },
    stream(body, servedModel, status, headers) {
      headers.set("content-type", "text/event-stream; charset=utf-8");
      return new Response(translateSse(body, new ResponsesStreamTranslator(responseFrame(request, id, servedModel, createdAt))), { status, headers });
    },
    async upstreamError(response) {
      const body: unknown = await response.json().catch(() => undefined);
      return openAIErrorResponse(response.status, body, response.headers);
    },
  };
}
