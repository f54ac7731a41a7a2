import * as z from "zod/mini";
import { expected, flattenIssues } from "./zod.js";

/** Largest max_tokens any current model accepts; larger values are surely a mistake. */
export const MAX_OUTPUT_TOKENS = 128_000;
/** The Messages API's own limit on messages in one request. */
export const MAX_MESSAGES = 100_000;
export const MAX_TOOLS = 1_000;
export const MAX_MODEL_ID_LENGTH = 256;
/**
 * How deeply JSON may nest anywhere in a request. Real requests (tool schemas, tool
 * inputs) stay far below this. Deeper values only cost: re-serialising a body nested
 * millions of levels deep (the token estimate, the SDK's request body) takes seconds of
 * CPU in workerd, and overflows the stack past a few thousand levels in Node or in
 * structuredClone.
 */
export const MAX_JSON_DEPTH = 128;
/** An array stops being checked after this many bad items (see boundedArray). */
const MAX_BAD_ITEMS_REPORTED = 3;

/**
 * An array whose items are checked one by one, stopping after a few bad ones. A plain
 * z.array collects an issue per bad item and merges them with `push(...issues)`, which
 * overflows the stack (a RangeError, so a 500) on an array of a few hundred thousand bad
 * items, well within the body size limit; it also wastes time on an answer of 3 issues.
 * The length limits are checked first, so an oversized array fails fast too.
 */
function boundedArray<Item extends z.ZodMiniType>(item: Item, limits: { min?: number; max?: number; what: string }) {
  const error = expected(limits.what);
  const min = limits.min ?? 0;
  const max = limits.max ?? Number.MAX_SAFE_INTEGER;
  return z.pipe(
    z.custom<unknown[]>((value) => Array.isArray(value), { error }).check(
      z.minLength(min, { error }),
      z.maxLength(max, { error }),
      z.superRefine((items: unknown[], ctx) => {
        if (items.length < min || items.length > max) return;
        let bad = 0;
        for (let index = 0; index < items.length && bad < MAX_BAD_ITEMS_REPORTED; index++) {
          const result = item.safeParse(items[index]);
          if (result.success) continue;
          bad++;
          for (const issue of flattenIssues(result.error.issues)) {
            ctx.addIssue({ code: "custom", path: [index, ...issue.path], message: issue.message, input: undefined });
          }
        }
      }),
    ),
    // The items passed the check above; this only gives the array its item type.
    z.custom<Array<z.output<Item>>>(),
  );
}

/**
 * Model ids as the API and its cloud variants spell them ("claude-sonnet-4-6",
 * "claude-opus-4-1@20250805", "anthropic.claude-...-v1:0", inference-profile ARNs) or
 * "auto". The id ends up in response headers, so nothing outside this set is allowed.
 */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/;
const MODEL_EXPECTED = `a model id such as "claude-sonnet-4-6" or "auto" (up to ${MAX_MODEL_ID_LENGTH} letters, digits and . _ - : @ / +)`;

const model = z.string({ error: expected(MODEL_EXPECTED) }).check(
  z.minLength(1, { error: expected(MODEL_EXPECTED) }),
  z.maxLength(MAX_MODEL_ID_LENGTH, { error: expected(MODEL_EXPECTED) }),
  z.regex(MODEL_ID, { error: expected(MODEL_EXPECTED) }),
);

function nonEmptyString(what: string) {
  return z.string({ error: expected(what) }).check(z.minLength(1, { error: expected(what) }));
}

function intBetween(min: number, max: number) {
  const what = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  return z.int({ error: expected(what) }).check(z.minimum(min, { error: expected(what) }), z.maximum(max, { error: expected(what) }));
}

function numberBetween(min: number, max: number) {
  const what = `a number from ${min} to ${max}`;
  return z.number({ error: expected(what) }).check(z.minimum(min, { error: expected(what) }), z.maximum(max, { error: expected(what) }));
}

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
  model,
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
const boundedDepth = z.superRefine((request: unknown, ctx) => {
  const path = tooDeep(request, MAX_JSON_DEPTH);
  if (path) {
    ctx.addIssue({
      code: "custom",
      path: path.slice(0, 6),
      input: undefined,
      message: `JSON nested more than ${MAX_JSON_DEPTH} levels deep; flatten this value`,
    });
  }
});

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

/**
 * The path to the first container nested deeper than `maxDepth` (the value itself is
 * level 1), or null. Recursive, but never deeper than `maxDepth` calls.
 */
export function tooDeep(value: unknown, maxDepth: number): PropertyKey[] | null {
  return typeof value === "object" && value !== null ? deeperThan(value, maxDepth - 1) : null;
}

/** The path below `container` to a container more than `levels` levels down, or null. */
function deeperThan(container: object, levels: number): PropertyKey[] | null {
  if (Array.isArray(container)) {
    for (let index = 0; index < container.length; index++) {
      const child: unknown = container[index];
      if (typeof child !== "object" || child === null) continue;
      if (levels === 0) return [index];
      const below = deeperThan(child, levels - 1);
      if (below) return [index, ...below];
    }
    return null;
  }
  const record = container as Readonly<Record<string, unknown>>;
  for (const key in record) {
    const child = record[key];
    if (typeof child !== "object" || child === null) continue;
    if (levels === 0) return [key];
    const below = deeperThan(child, levels - 1);
    if (below) return [key, ...below];
  }
  return null;
}
