import type * as z from "zod/mini";
import { describeIssues } from "../validation/zod.js";
import { GatewayError } from "./errors.js";

/**
 * Reads and validates a JSON request body, enforcing the size limit before parsing.
 * With `emptyAs`, an empty body stands for that value (admin actions without fields).
 */
export async function readJsonBody<Schema extends z.ZodMiniType>(
  request: Request,
  schema: Schema,
  maxBytes: number,
  options: { emptyAs?: unknown } = {},
): Promise<z.infer<Schema>> {
  const declared = Number(request.headers.get("content-length"));
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
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
