/** How the Messages pipeline's results are given to the caller, in the caller's API format. */
export interface ResponseShape {
  /** A complete (non-streamed) Anthropic message, as the upstream's JSON text. */
  message(text: string, servedModel: string, status: number, headers: Headers): Response;
  /** A streamed answer: the relayed Anthropic SSE bytes. */
  stream(body: ReadableStream<Uint8Array>, servedModel: string, status: number, headers: Headers): Response;
  /** An upstream error in Anthropic's format (status, headers and body as the upstream sent them). */
  upstreamError(response: Response): Response | Promise<Response>;
}

/** The Messages API itself: everything passes through unchanged. */
export const anthropicShape: ResponseShape = {
  message: (text, _model, status, headers) => new Response(text, { status, headers }),
  stream: (body, _model, status, headers) => new Response(body, { status, headers }),
  upstreamError: (response) => response,
};
