import * as z from "zod/mini";
import { MAX_MESSAGES, MAX_OUTPUT_TOKENS, MAX_TOOLS } from "./limits.js";
import { boundedArray, boundedDepth, intBetween, modelId, nonEmptyString, numberBetween } from "./schema-parts.js";
import { expected } from "./zod.js";


/**
 * A content block: any type the upstream knows (it validates their fields), but the
 * text of text blocks is read here (routing, token estimates), so it must be a string.
 */
const contentBlock = z
  .looseObject(
    { type: nonEmptyString('a block type such as "text", "image" or "tool_result"') },
    { error: expected('a content block object with a string type, such as {"type": "text", "text": "..."}') },
  )
  .check(
    z.superRefine((block, ctx) => {
      if (block.type === "text" && typeof block.text !== "string") {
        const message = expected("a string (text blocks carry their text)")({ input: block.text });
        ctx.addIssue({ code: "custom", path: ["text"], input: block.text, message });
      }
    }),
  );

const content = z.union([z.string(), boundedArray(contentBlock, { what: "an array of content blocks" })], {
  error: expected("a string or an array of content blocks"),
});

const ROLE_EXPECTED = '"user" or "assistant"';
const role = z.enum(["user", "assistant"], {
  error: (issue) =>
    issue.input === "system"
      ? `expected ${ROLE_EXPECTED}, got "system": put the system prompt in the top-level "system" field`
      : expected(ROLE_EXPECTED)(issue),
});

const message = z.looseObject({ role, content }, { error: expected('a message object such as {"role": "user", "content": "Hello"}') });

const messages = boundedArray(message, { min: 1, max: MAX_MESSAGES, what: `a non-empty array of at most ${MAX_MESSAGES} messages` });

const textBlock = z.looseObject(
  {
    type: z.literal("text", { error: expected('"text" (system prompt blocks are text blocks)') }),
    text: z.string({ error: expected("a string") }),
  },
  { error: expected('a text block such as {"type": "text", "text": "..."}') },
);
const system = z.union([z.string(), boundedArray(textBlock, { what: "an array of text blocks" })], {
  error: expected("a string or an array of text blocks"),
});

/** Custom tools have a name; server toolsets may have only a type. */
const tool = z
  .looseObject(
    { name: z.optional(nonEmptyString("a non-empty string")), type: z.optional(nonEmptyString("a non-empty string")) },
    { error: expected('a tool definition such as {"name": "get_weather", "input_schema": {...}}') },
  )
  .check(
    z.superRefine((value, ctx) => {
      if (value.name === undefined && value.type === undefined) {
        ctx.addIssue({ code: "custom", path: ["name"], input: undefined, message: "required: expected a tool name (or a toolset type)" });
      }
    }),
  );

const tools = boundedArray(tool, { max: MAX_TOOLS, what: `an array of at most ${MAX_TOOLS} tool definitions` });

const toolChoice = z.looseObject(
  {
    type: nonEmptyString('"auto", "any", "tool" or "none"'),
    name: z.optional(z.string({ error: expected("a tool name") })),
    disable_parallel_tool_use: z.optional(z.boolean({ error: expected("true or false") })),
  },
  { error: expected('an object such as {"type": "auto"}') },
);

const thinking = z.looseObject(
  {
    type: nonEmptyString('"enabled", "adaptive" or "disabled"'),
    budget_tokens: z.optional(intBetween(1, Number.MAX_SAFE_INTEGER)),
  },
  { error: expected('an object such as {"type": "enabled", "budget_tokens": 2048}') },
);

const metadata = z.looseObject(
  {
    user_id: z.optional(
      z.nullable(z.string({ error: expected("a string") }).check(z.maxLength(256, { error: expected("a string of at most 256 characters") }))),
    ),
  },
  { error: expected('an object such as {"user_id": "..."}') },
);

const stopSequences = boundedArray(z.string({ error: expected("a string") }), { what: "an array of strings" });

/** Fields shared by Messages and count_tokens requests. */
const promptFields = {
  model: modelId,
  messages,
  system: z.optional(system),
  tools: z.optional(tools),
  tool_choice: z.optional(toolChoice),
  thinking: z.optional(thinking),
};

/**
 * Refuses JSON nested deeper than MAX_JSON_DEPTH anywhere in the request, including
 * fields passed through unvalidated.
 */
/**
 * The parts of a Messages request the gateway relies on, with the documented types of
 * the common options. Everything else is passed through to the upstream untouched,
 * which validates it in full. Roles are not required to alternate, nor to start with
 * "user": the API merges consecutive turns itself.
 */
export const messagesRequestSchema = z
  .looseObject(
    {
      ...promptFields,
      max_tokens: intBetween(1, MAX_OUTPUT_TOKENS),
      stream: z.optional(z.boolean({ error: expected("true or false") })),
      metadata: z.optional(metadata),
      stop_sequences: z.optional(stopSequences),
      temperature: z.optional(numberBetween(0, 1)),
      top_p: z.optional(numberBetween(0, 1)),
      top_k: z.optional(intBetween(0, Number.MAX_SAFE_INTEGER)),
    },
    { error: expected("a JSON object with model, max_tokens and messages") },
  )
  .check(boundedDepth);

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

export const countTokensRequestSchema = z
  .looseObject(promptFields, { error: expected("a JSON object with model and messages") })
  .check(boundedDepth);

export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;


export { MAX_JSON_DEPTH, MAX_MESSAGES, MAX_MODEL_ID_LENGTH, MAX_OUTPUT_TOKENS, MAX_TOOLS, tooDeep } from "./limits.js";
