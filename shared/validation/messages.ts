import * as z from "zod/mini";
import "./zod.js";

const contentBlock = z.looseObject({ type: z.string().check(z.minLength(1)) });

const message = z.looseObject({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(contentBlock)]),
});

/** Largest max_tokens any current model accepts; larger values are surely a mistake. */
export const MAX_OUTPUT_TOKENS = 128_000;

const requestFields = {
  model: z.string().check(z.minLength(1), z.maxLength(256)),
  messages: z.array(message).check(z.minLength(1)),
  system: z.optional(z.union([z.string(), z.array(contentBlock)])),
};

/**
 * The parts of a Messages request the gateway relies on. Everything else is
 * passed through to the upstream untouched, which validates it in full.
 */
export const messagesRequestSchema = z.looseObject({
  ...requestFields,
  max_tokens: z.int().check(z.minimum(1), z.maximum(MAX_OUTPUT_TOKENS)),
  stream: z.optional(z.boolean()),
});

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

export const countTokensRequestSchema = z.looseObject(requestFields);

export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;
