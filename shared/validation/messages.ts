import { z } from "zod";

const contentBlock = z.looseObject({ type: z.string().min(1) });

const message = z.looseObject({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(contentBlock)]),
});

/** Largest max_tokens any current model accepts; larger values are surely a mistake. */
export const MAX_OUTPUT_TOKENS = 128_000;

/**
 * The parts of a Messages request the gateway relies on. Everything else is
 * passed through to the upstream untouched, which validates it in full.
 */
export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1).max(256),
  max_tokens: z.number().int().min(1).max(MAX_OUTPUT_TOKENS),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(contentBlock)]).optional(),
  stream: z.boolean().optional(),
});

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

export const countTokensRequestSchema = messagesRequestSchema.omit({ max_tokens: true, stream: true });

export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;

/** A validation failure phrased for the person fixing the request. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
}
