import type * as z from "zod/mini";
import { describeIssues } from "../validation/zod.js";
import { GatewayError } from "./errors.js";

export interface BodyLimits {
  maxBytes: number;
  /** Longest the client may take to send the whole body. */
  timeoutMs: number;
}

/**
 * Reads a request body while counting its bytes as they arrive: a body over the limit is
 * refused as soon as it crosses it (413, whatever Content-Length says or omits), and one
 * that trickles in past the deadline is refused too (408). Nothing unbounded is buffered.
 */
export async function readBody(request: Request, limits: BodyLimits): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length"));
  if (declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, limits.timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) throw tooSlow(limits.timeoutMs);
      if (done) break;
      total += value.byteLength;
      if (total > limits.maxBytes) {
        reader.cancel().catch(() => {});
        throw tooLarge(limits.maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    if (timedOut) throw tooSlow(limits.timeoutMs);
    throw new GatewayError("invalid_request_error", "The request body could not be read; the connection was interrupted.", { status: 400 });
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * Reads and validates a JSON request body within its size and time limits.
 * With `emptyAs`, an empty body stands for that value (admin actions without fields).
 */
export async function readJsonBody<Schema extends z.ZodMiniType>(
  request: Request,
  schema: Schema,
  limits: BodyLimits,
  options: { emptyAs?: unknown } = {},
): Promise<z.infer<Schema>> {
  const bytes = await readBody(request, limits);
  let parsed: unknown;
  try {
    parsed = bytes.byteLength === 0 && "emptyAs" in options ? options.emptyAs : JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new GatewayError("invalid_request_error", "The request body is not valid JSON.");
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new GatewayError("invalid_request_error", describeIssues(result.error.issues));
  return result.data;
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(
    "request_too_large",
    `The request body exceeds the ${maxBytes}-byte limit; shorten the conversation or send large files by reference.`,
  );
}

function tooSlow(timeoutMs: number): GatewayError {
  // 408 Request Timeout; Anthropic's error types have none for it, and the client's request is at fault.
  return new GatewayError("invalid_request_error", `The request body did not arrive within ${timeoutMs} ms; send it faster, or in a smaller request.`, {
    status: 408,
  });
}
