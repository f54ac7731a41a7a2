import type { z } from "zod";
import { describeIssues } from "../validation/messages.js";
import { GatewayError } from "./errors.js";

/** Reads and validates a JSON request body, enforcing the size limit before parsing. */
export async function readJsonBody<Schema extends z.ZodType>(
  request: Request,
  schema: Schema,
  maxBytes: number,
): Promise<z.infer<Schema>> {
  const declared = Number(request.headers.get("content-length"));
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new GatewayError("invalid_request_error", "The request body is not valid JSON.");
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new GatewayError("invalid_request_error", describeIssues(result.error));
  return result.data;
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(
    "request_too_large",
    `The request body exceeds the ${maxBytes}-byte limit; shorten the conversation or send large files by reference.`,
  );
}
