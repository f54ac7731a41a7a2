import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { ApiError } from "./errors.js";

/** The Messages API's request size limit. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** The whole body, or null when it exceeds the limit (the rest is drained so a 413 can still be sent). */
async function readBodyWithinLimit(request: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    // Without setEncoding() an IncomingMessage yields Buffers.
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    }
  } catch {
    throw new ApiError("invalid_request_error", "The request body could not be read.");
  }
  return size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : null;
}

/** The raw body (signatures are checked over its bytes); 413 when it exceeds the limit. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const body = await readBodyWithinLimit(request);
  if (body === null) throw new ApiError("request_too_large", "Request exceeds the maximum allowed number of bytes.");
  return body;
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    throw new ApiError("invalid_request_error", "There was an issue with your request body: it is not valid JSON.");
  }
}

export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  return parseJson(await readBody(request));
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
  });
  response.end(payload);
}
