import * as z from "zod/mini";
import { MAX_MESSAGES, MAX_OUTPUT_TOKENS, MAX_TOOLS } from "../../validation/limits.js";
import { boundedArray, boundedDepth, intBetween, modelId, nonEmptyString, numberBetween } from "../../validation/schema-parts.js";
import { expected } from "../../validation/zod.js";
import type { AnthropicContentBlockParam, AnthropicMessageParam, MessagesRequestBody } from "../anthropic-types.js";
import { anthropicTool, anthropicToolChoice, appendTurn, parseArguments, TOOL_NAME, toolUseId, trimFinalAssistantText } from "../blocks.js";
import { imageBlock } from "../image.js";
import { ChatRequestError } from "../request-error.js";

const MAX_USER_ID_LENGTH = 256;
const boolean = z.boolean({ error: expected("true or false") });
const text = z.string({ error: expected("a string") });

const inputText = z.looseObject({ type: z.literal("input_text"), text });
const outputText = z.looseObject({ type: z.literal("output_text"), text });
const refusal = z.looseObject({ type: z.literal("refusal"), refusal: text });
const inputImage = z.looseObject({
  type: z.literal("input_image"),
  image_url: z.nullish(nonEmptyString("an image URL: https://... or data:image/png;base64,...")),
  file_id: z.nullish(text),
});
const inputFile = z.looseObject({ type: z.literal("input_file") });
const PART_KINDS = '"input_text", "input_image", "output_text" or "refusal"';
const part = z.discriminatedUnion("type", [inputText, outputText, refusal, inputImage, inputFile], {
  error: (issue) => expected(PART_KINDS)({ input: (issue.input as { type?: unknown } | undefined)?.type }),
});
const parts = boundedArray(part, { what: "an array of content parts" });

const messageItem = z.looseObject({
  type: z.optional(z.literal("message")),
  role: z.enum(["user", "assistant", "system", "developer"], { error: expected('"user", "assistant", "system" or "developer"') }),
  content: z.union([z.string(), parts], { error: expected("a string or an array of content parts") }),
});
const functionCall = z.looseObject({
  type: z.literal("function_call"),
  call_id: nonEmptyString("the call's id"),
  name: nonEmptyString("a function name"),
  arguments: z.string({ error: expected('the arguments as a JSON string, such as "{\\"city\\": \\"Paris\\"}"') }),
});
const functionCallOutput = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: nonEmptyString("the id of the call answered"),
  output: z.union([z.string(), parts], { error: expected("a string or an array of content parts") }),
});
/** Items the client may send back from earlier answers that carry nothing the model needs. */
const reasoning = z.looseObject({ type: z.literal("reasoning") });

const ITEM_KINDS = 'a message ({"role": "user", "content": "..."}), "function_call", "function_call_output" or "reasoning"';
const item = z.union([messageItem, functionCall, functionCallOutput, reasoning], {
  error: (issue) => {
    const type = (issue.input as { type?: unknown } | undefined)?.type;
    if (type === "item_reference") {
      return "item references need stored responses, which this gateway does not keep: send the items themselves (the Vercel AI SDK does with providerOptions: { openai: { store: false } })";
    }
    return expected(ITEM_KINDS)({ input: type ?? issue.input });
  },
});

const functionTool = z.looseObject(
  {
    type: z.literal("function", { error: expected('"function" (the only tool type supported; built-in tools such as web search are not)') }),
    name: z.string({ error: expected("a function name") }).check(z.regex(TOOL_NAME, { error: expected("a function name of 1 to 64 letters, digits, _ and -") })),
    description: z.nullish(text),
    parameters: z.nullish(z.looseObject({}, { error: expected("a JSON Schema object") })),
  },
  { error: expected('a tool such as {"type": "function", "name": "get_weather", "parameters": {...}}') },
);

const toolChoice = z.union(
  [z.enum(["none", "auto", "required"]), z.looseObject({ type: z.literal("function"), name: nonEmptyString("a tool name") })],
  { error: expected('"none", "auto", "required" or {"type": "function", "name": "..."}') },
);

const textFormat = z.looseObject(
  {
    format: z.optional(
      z.looseObject({ type: z.literal("text", { error: expected('"text" (structured output formats are not supported)') }) }),
    ),
  },
  { error: expected('an object such as {"format": {"type": "text"}}') },
);

const userId = text.check(z.maxLength(MAX_USER_ID_LENGTH, { error: expected(`a string of at most ${MAX_USER_ID_LENGTH} characters`) }));

/** Fields that need state kept on the server between requests, which the gateway does not keep (it never stores prompts). */
const STATEFUL_FIELDS = ["previous_response_id", "conversation", "prompt"] as const;

/**
 * An OpenAI Responses API request, as far as the gateway can serve it. Optional fields
 * may be null. Fields not listed (store, include, truncation, reasoning...) are tolerated
 * and ignored; those that need stored state are refused.
 */
export const responsesRequestSchema = z
  .looseObject(
    {
      model: modelId,
      input: z.union(
        [z.string(), boundedArray(item, { min: 1, max: MAX_MESSAGES, what: `a non-empty array of at most ${MAX_MESSAGES} items` })],
        { error: expected("a string or an array of input items") },
      ),
      instructions: z.nullish(text),
      max_output_tokens: z.nullish(intBetween(1, MAX_OUTPUT_TOKENS)),
      temperature: z.nullish(numberBetween(0, 2)),
      top_p: z.nullish(numberBetween(0, 1)),
      tools: z.nullish(boundedArray(functionTool, { max: MAX_TOOLS, what: `an array of at most ${MAX_TOOLS} tools` })),
      tool_choice: z.nullish(toolChoice),
      parallel_tool_calls: z.nullish(boolean),
      stream: z.nullish(boolean),
      text: z.nullish(textFormat),
      metadata: z.nullish(z.record(z.string(), z.string())),
      user: z.nullish(userId),
      safety_identifier: z.nullish(userId),
    },
    { error: expected("a JSON object with model and input") },
  )
  .check(
    boundedDepth,
    z.superRefine((request, ctx) => {
      for (const field of STATEFUL_FIELDS) {
        if (request[field] === undefined || request[field] === null) continue;
        ctx.addIssue({
          code: "custom",
          path: [field],
          input: request[field],
          message: "this gateway keeps no responses or conversations (it never stores prompts): send the whole conversation in input",
        });
      }
    }),
  );

export type ResponsesRequest = z.output<typeof responsesRequestSchema>;
type Item = Extract<ResponsesRequest["input"], unknown[]>[number];
type MessageItem = z.output<typeof messageItem>;
type Part = z.output<typeof part>;

function isMessage(item: Item | MessageItem): item is MessageItem {
  return item.type === undefined || item.type === "message";
}

/**
 * The Messages request for a validated Responses request: instructions and system or
 * developer messages make the system prompt, messages and function calls and outputs
 * make the turns. Throws ChatRequestError where the schema cannot see the problem.
 */
export function toMessagesRequestFromResponses(request: ResponsesRequest, defaults: { maxTokens: number }): MessagesRequestBody {
  const systemTexts = request.instructions && /\S/.test(request.instructions) ? [request.instructions] : [];
  const turns: AnthropicMessageParam[] = [];
  const items: ReadonlyArray<Item | MessageItem> = typeof request.input === "string" ? [{ role: "user", content: request.input }] : request.input;
  items.forEach((item, index) => {
    const path = `input.${index}`;
    if (isMessage(item)) {
      if (item.role === "system" || item.role === "developer") systemTexts.push(...partTexts(item.content, `${path}.content`));
      else appendTurn(turns, item.role, contentBlocks(item.content, `${path}.content`));
      return;
    }
    switch (item.type) {
      case "function_call":
        appendTurn(turns, "assistant", [
          { type: "tool_use", id: toolUseId(item.call_id), name: item.name, input: parseArguments(item.arguments, `${path}.arguments`) },
        ]);
        return;
      case "function_call_output": {
        const output = typeof item.output === "string" ? item.output : partTexts(item.output, `${path}.output`).join("\n");
        appendTurn(turns, "user", [{ type: "tool_result", tool_use_id: toolUseId(item.call_id), ...(output ? { content: output } : {}) }]);
        return;
      }
      default:
        return; // reasoning items carry nothing the model reads back
    }
  });
  if (turns.length === 0) throw new ChatRequestError("input", "expected at least one user, assistant or function call item besides instructions");
  trimFinalAssistantText(turns);

  const body: MessagesRequestBody = { model: request.model, max_tokens: request.max_output_tokens ?? defaults.maxTokens, messages: turns };
  if (systemTexts.length > 0) body.system = systemTexts.join("\n\n");
  // OpenAI's temperature runs from 0 to 2, Anthropic's from 0 to 1.
  if (typeof request.temperature === "number") body.temperature = request.temperature / 2;
  if (typeof request.top_p === "number" && request.top_p < 1) body.top_p = request.top_p;
  const tools = request.tools ?? [];
  if (tools.length > 0) body.tools = tools.map(anthropicTool);
  const choice = anthropicToolChoice(request.tool_choice, request.parallel_tool_calls, tools.map((tool) => tool.name), "tool_choice.name");
  if (choice) body.tool_choice = choice;
  const userId = request.user || request.safety_identifier;
  if (userId) body.metadata = { user_id: userId };
  if (request.stream) body.stream = true;
  return body;
}

function contentBlocks(content: string | readonly Part[], path: string): AnthropicContentBlockParam[] {
  if (typeof content === "string") return /\S/.test(content) ? [{ type: "text", text: content }] : [];
  const blocks: AnthropicContentBlockParam[] = [];
  content.forEach((part, index) => {
    const partPath = `${path}.${index}`;
    if (part.type === "input_image") blocks.push(imageBlock(imageUrlOf(part, partPath), `${partPath}.image_url`));
    else if (part.type === "input_file") throw new ChatRequestError(partPath, "file inputs are not supported; send the text, or images as input_image");
    else {
      const value = part.type === "refusal" ? part.refusal : part.text;
      if (/\S/.test(value)) blocks.push({ type: "text", text: value });
    }
  });
  return blocks;
}

function partTexts(content: string | readonly Part[], path: string): string[] {
  return contentBlocks(content, path).flatMap((block) => (block.type === "text" ? [block.text] : []));
}

function imageUrlOf(part: Extract<Part, { type: "input_image" }>, path: string): string {
  if (part.image_url) return part.image_url;
  throw new ChatRequestError(`${path}.file_id`, "uploaded files are not supported: send the image as image_url (https:// or a data URL)");
}
