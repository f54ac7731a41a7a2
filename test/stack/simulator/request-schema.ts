import { z } from "zod";
import { ApiError } from "./errors.js";

/** The parts of a Messages API request the simulator reads; other fields are accepted and ignored. */

const CacheControl = z.object({ type: z.literal("ephemeral"), ttl: z.enum(["5m", "1h"]).optional() });

const TextBlock = z.looseObject({
  type: z.literal("text"),
  text: z.string(),
  cache_control: CacheControl.optional(),
});

const ContentBlock = z
  .looseObject({ type: z.string(), text: z.string().optional(), cache_control: CacheControl.optional() })
  .refine((block) => block.type !== "text" || block.text !== undefined, { message: "Field required", path: ["text"] });

const InputMessage = z.object({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(ContentBlock)]),
});

const Tool = z.looseObject({
  name: z.string(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
  cache_control: CacheControl.optional(),
});

const ToolChoice = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("auto") }),
  z.looseObject({ type: z.literal("any") }),
  z.looseObject({ type: z.literal("none") }),
  z.looseObject({ type: z.literal("tool"), name: z.string() }),
]);

const Thinking = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("enabled"), budget_tokens: z.int().min(1024) }),
  z.looseObject({ type: z.literal("adaptive") }),
  z.looseObject({ type: z.literal("disabled") }),
]);

const PromptRequest = z.looseObject({
  model: z.string(),
  messages: z.array(InputMessage).min(1),
  system: z.union([z.string(), z.array(TextBlock)]).optional(),
  tools: z.array(Tool).optional(),
  tool_choice: ToolChoice.optional(),
  thinking: Thinking.optional(),
});

const MessagesRequest = PromptRequest.extend({
  max_tokens: z.int().min(1),
  stream: z.boolean().optional(),
})
  .refine((request) => request.thinking?.type !== "enabled" || request.thinking.budget_tokens < request.max_tokens, {
    message: "`max_tokens` must be greater than `thinking.budget_tokens`",
    path: ["max_tokens"],
  })
  .refine(
    (request) =>
      request.tool_choice?.type !== "tool" || (request.tools ?? []).some((tool) => tool.name === request.tool_choice?.name),
    { message: "tool_choice names a tool that is not in `tools`", path: ["tool_choice", "name"] },
  );

export type CacheControl = z.infer<typeof CacheControl>;
export type ContentBlock = z.infer<typeof ContentBlock>;
export type InputMessage = z.infer<typeof InputMessage>;
export type Tool = z.infer<typeof Tool>;
export type PromptRequest = z.infer<typeof PromptRequest>;
export type MessagesRequest = z.infer<typeof MessagesRequest>;

function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body, {
    error: (issue) => (issue.input === undefined ? "Field required" : undefined),
  });
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const where = issue?.path.join(".") ?? "";
  throw new ApiError("invalid_request_error", `${where}: ${issue?.message ?? "invalid request"}`);
}

export function parseMessagesRequest(body: unknown): MessagesRequest {
  return parseWith(MessagesRequest, body);
}

/** `count_tokens` takes the same prompt fields but no `max_tokens`. */
export function parsePromptRequest(body: unknown): PromptRequest {
  return parseWith(PromptRequest, body);
}
