import * as z from "zod/mini";
import { MAX_MESSAGES, MAX_OUTPUT_TOKENS, MAX_TOOLS } from "../validation/limits.js";
import { boundedArray, boundedDepth, intBetween, modelId, nonEmptyString, numberBetween } from "../validation/schema-parts.js";
import { describeValue, expected } from "../validation/zod.js";
import type {
  AnthropicContentBlockParam,
  AnthropicMessageParam,
  AnthropicTextBlockParam,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicToolResultBlockParam,
  AnthropicToolUseBlockParam,
  MessagesRequestBody,
} from "./anthropic-types.js";
import { anthropicTool, anthropicToolChoice, appendTurn, parseArguments, TOOL_NAME, toolUseId, trimFinalAssistantText } from "./blocks.js";
import { imageBlock } from "./image.js";
import { ChatRequestError } from "./request-error.js";

export { ChatRequestError } from "./request-error.js";

const MAX_USER_ID_LENGTH = 256;

const boolean = z.boolean({ error: expected("true or false") });

/** The error of a part or message whose discriminating field (`type`, `role`) matches no option. */
function unknownKind(field: string, kinds: string, object: string, unsupported = "") {
  return (issue: { readonly code?: string; readonly input?: unknown }): string => {
    if (issue.code !== "invalid_union" || typeof issue.input !== "object" || issue.input === null) return expected(object)(issue);
    const value = (issue.input as Record<string, unknown>)[field];
    return expected(kinds)({ input: value }) + (value === undefined ? "" : unsupported);
  };
}

const textPart = z.looseObject({ type: z.literal("text"), text: z.string({ error: expected("a string") }) });
const refusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string({ error: expected("a string") }) });
const imagePart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.looseObject(
    { url: nonEmptyString("an image URL: https://... or data:image/png;base64,...") },
    { error: expected('an object such as {"url": "https://example.com/cat.png"}') },
  ),
});

const PART_EXPECTED = 'a content part object such as {"type": "text", "text": "..."}';
const textParts = boundedArray(
  z.discriminatedUnion("type", [textPart], { error: unknownKind("type", '"text" (the only part type here)', PART_EXPECTED) }),
  { what: "an array of text parts" },
);
const userParts = boundedArray(
  z.discriminatedUnion("type", [textPart, imagePart], {
    error: unknownKind("type", '"text" or "image_url"', PART_EXPECTED, " (audio and file parts are not supported)"),
  }),
  { what: "an array of content parts" },
);
const assistantParts = boundedArray(
  z.discriminatedUnion("type", [textPart, refusalPart], { error: unknownKind("type", '"text" or "refusal"', PART_EXPECTED) }),
  { what: "an array of text parts" },
);

const textContent = z.union([z.string(), textParts], { error: expected("a string or an array of text parts") });

const toolCall = z.looseObject(
  {
    id: nonEmptyString("a tool call id"),
    type: z.optional(z.literal("function", { error: expected('"function"') })),
    function: z.looseObject(
      {
        name: nonEmptyString("a function name"),
        arguments: z.string({ error: expected('the arguments as a JSON string, such as "{\\"city\\": \\"Paris\\"}"') }),
      },
      { error: expected('an object such as {"name": "get_weather", "arguments": "{}"}') },
    ),
  },
  { error: expected('a tool call such as {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}') },
);

const ROLES = '"system", "developer", "user", "assistant" or "tool"';
const message = z.discriminatedUnion(
  "role",
  [
    z.looseObject({ role: z.enum(["system", "developer"]), content: textContent }),
    z.looseObject({
      role: z.literal("user"),
      content: z.union([z.string(), userParts], { error: expected("a string or an array of content parts") }),
    }),
    z.looseObject({
      role: z.literal("assistant"),
      content: z.nullish(z.union([z.string(), assistantParts], { error: expected("a string, an array of text parts or null") })),
      tool_calls: z.nullish(boundedArray(toolCall, { what: "an array of tool calls" })),
    }),
    z.looseObject({ role: z.literal("tool"), tool_call_id: nonEmptyString("the id of the tool call answered"), content: textContent }),
  ],
  { error: unknownKind("role", ROLES, 'a message object such as {"role": "user", "content": "Hello"}') },
);

const tool = z.looseObject(
  {
    type: z.literal("function", { error: expected('"function" (the only tool type supported)') }),
    function: z.looseObject(
      {
        name: z.string({ error: expected("a function name") }).check(
          z.regex(TOOL_NAME, { error: expected("a function name of 1 to 64 letters, digits, _ and -") }),
        ),
        description: z.nullish(z.string({ error: expected("a string") })),
        parameters: z.nullish(z.looseObject({}, { error: expected("a JSON Schema object") })),
      },
      { error: expected('an object such as {"name": "get_weather", "parameters": {...}}') },
    ),
  },
  { error: expected('a tool such as {"type": "function", "function": {"name": "get_weather", "parameters": {...}}}') },
);

const toolChoice = z.union(
  [
    z.enum(["none", "auto", "required"]),
    z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: nonEmptyString("a tool name") }) }),
  ],
  { error: expected('"none", "auto", "required" or {"type": "function", "function": {"name": "..."}}') },
);

const userId = z.string({ error: expected("a string") }).check(
  z.maxLength(MAX_USER_ID_LENGTH, { error: expected(`a string of at most ${MAX_USER_ID_LENGTH} characters`) }),
);

/**
 * An OpenAI Chat Completions request, as far as the gateway can serve it. Optional
 * fields may be null (OpenAI's clients send that for "not given"). Fields not listed
 * (logprobs, response_format, seed, penalties...) are tolerated and ignored.
 */
export const chatCompletionRequestSchema = z
  .looseObject(
    {
      model: modelId,
      messages: boundedArray(message, { min: 1, max: MAX_MESSAGES, what: `a non-empty array of at most ${MAX_MESSAGES} messages` }),
      max_tokens: z.nullish(intBetween(1, MAX_OUTPUT_TOKENS)),
      max_completion_tokens: z.nullish(intBetween(1, MAX_OUTPUT_TOKENS)),
      temperature: z.nullish(numberBetween(0, 2)),
      top_p: z.nullish(numberBetween(0, 1)),
      stop: z.nullish(
        z.union([z.string(), boundedArray(z.string({ error: expected("a string") }), { what: "an array of strings" })], {
          error: expected("a string or an array of strings"),
        }),
      ),
      tools: z.nullish(boundedArray(tool, { max: MAX_TOOLS, what: `an array of at most ${MAX_TOOLS} tools` })),
      tool_choice: z.nullish(toolChoice),
      parallel_tool_calls: z.nullish(boolean),
      stream: z.nullish(boolean),
      stream_options: z.nullish(
        z.looseObject({ include_usage: z.nullish(boolean) }, { error: expected('an object such as {"include_usage": true}') }),
      ),
      user: z.nullish(userId),
      /** OpenAI's successor to `user`. */
      safety_identifier: z.nullish(userId),
      n: z.nullish(
        z.literal(1, {
          error: (issue) => `only 1 choice per request is supported, got ${describeValue(issue.input)}: send separate requests for more`,
        }),
      ),
    },
    { error: expected("a JSON object with model and messages") },
  )
  .check(boundedDepth);

export type ChatCompletionRequest = z.output<typeof chatCompletionRequestSchema>;
type ChatMessage = ChatCompletionRequest["messages"][number];
type ChatTool = NonNullable<ChatCompletionRequest["tools"]>[number];
type ChatToolCall = NonNullable<Extract<ChatMessage, { role: "assistant" }>["tool_calls"]>[number];

/**
 * The Messages request for a validated Chat Completions request. Throws ChatRequestError
 * for what the schema cannot see: tool arguments that are not a JSON object, images that
 * are neither an http(s) nor a base64 data URL, a tool_choice naming no defined tool, a
 * conversation of system messages only.
 */
export function toMessagesRequest(chat: ChatCompletionRequest, defaults: { maxTokens: number }): MessagesRequestBody {
  const { system, messages } = toConversation(chat.messages);
  const body: MessagesRequestBody = {
    model: chat.model,
    max_tokens: chat.max_completion_tokens ?? chat.max_tokens ?? defaults.maxTokens,
    messages,
  };
  if (system !== "") body.system = system;
  const stop = typeof chat.stop === "string" ? [chat.stop] : (chat.stop ?? []);
  if (stop.length > 0) body.stop_sequences = stop;
  // OpenAI's temperature runs from 0 to 2, Anthropic's from 0 to 1: halving maps the one
  // range onto the other, end to end (so an explicit 1, OpenAI's default, becomes 0.5).
  if (typeof chat.temperature === "number") body.temperature = chat.temperature / 2;
  // top_p 1 samples from everything, as if it were not sent; sending it anyway would trip
  // the models that refuse temperature and top_p together.
  if (typeof chat.top_p === "number" && chat.top_p < 1) body.top_p = chat.top_p;
  const tools = chat.tools ?? [];
  if (tools.length > 0) body.tools = tools.map(toAnthropicTool);
  const choice = typeof chat.tool_choice === "object" && chat.tool_choice !== null ? { name: chat.tool_choice.function.name } : chat.tool_choice;
  const toolChoice = anthropicToolChoice(choice, chat.parallel_tool_calls, tools.map((tool) => tool.function.name), "tool_choice.function.name");
  if (toolChoice) body.tool_choice = toolChoice;
  const userId = chat.user || chat.safety_identifier;
  if (userId) body.metadata = { user_id: userId };
  if (chat.stream) body.stream = true;
  return body;
}

/**
 * System and developer messages, wherever they stand, make the system prompt: Anthropic
 * has no system turns. The others become turns, a tool message a user turn of one
 * tool_result, and turns of the same role in a row are merged into one.
 */
function toConversation(chatMessages: readonly ChatMessage[]): { system: string; messages: AnthropicMessageParam[] } {
  const systemTexts: string[] = [];
  const turns: AnthropicMessageParam[] = [];
  const append = (role: AnthropicMessageParam["role"], blocks: AnthropicContentBlockParam[]): void => appendTurn(turns, role, blocks);
  chatMessages.forEach((message, index) => {
    const path = `messages.${index}`;
    switch (message.role) {
      case "system":
      case "developer":
        for (const text of texts(message.content)) systemTexts.push(text);
        return;
      case "user":
        return append("user", userBlocks(message.content, `${path}.content`));
      case "assistant": {
        const toolUses = (message.tool_calls ?? []).map((call, callIndex) => toolUseBlock(call, `${path}.tool_calls.${callIndex}`));
        return append("assistant", [...textBlocks(message.content ?? []), ...toolUses]);
      }
      case "tool":
        return append("user", [toolResultBlock(message.tool_call_id, message.content)]);
    }
  });
  if (turns.length === 0) {
    const problem = "expected at least one user, assistant or tool message with content, besides system and developer messages";
    throw new ChatRequestError("messages", problem);
  }
  trimFinalAssistantText(turns);
  return { system: systemTexts.join("\n\n"), messages: turns };
}

type TextLike = { type: "text"; text: string } | { type: "refusal"; refusal: string };

/** The non-blank texts of a content; the upstream refuses empty and blank text blocks. */
function texts(content: string | readonly TextLike[]): string[] {
  const all = typeof content === "string" ? [content] : content.map((part) => (part.type === "text" ? part.text : part.refusal));
  return all.filter((text) => /\S/.test(text));
}

function textBlocks(content: string | readonly TextLike[]): AnthropicTextBlockParam[] {
  return texts(content).map((text) => ({ type: "text", text }));
}

function userBlocks(content: Extract<ChatMessage, { role: "user" }>["content"], path: string): AnthropicContentBlockParam[] {
  if (typeof content === "string") return textBlocks(content);
  const blocks: AnthropicContentBlockParam[] = [];
  content.forEach((part, index) => {
    if (part.type === "image_url") blocks.push(imageBlock(part.image_url.url, `${path}.${index}.image_url.url`));
    else if (/\S/.test(part.text)) blocks.push({ type: "text", text: part.text });
  });
  return blocks;
}

function toolUseBlock(call: ChatToolCall, path: string): AnthropicToolUseBlockParam {
  const input = parseArguments(call.function.arguments, `${path}.function.arguments`);
  return { type: "tool_use", id: toolUseId(call.id), name: call.function.name, input };
}

function toolResultBlock(toolCallId: string, content: string | readonly TextLike[]): AnthropicToolResultBlockParam {
  const block: AnthropicToolResultBlockParam = { type: "tool_result", tool_use_id: toolUseId(toolCallId) };
  if (typeof content === "string") {
    if (content !== "") block.content = content;
  } else {
    const blocks = textBlocks(content);
    if (blocks.length > 0) block.content = blocks;
  }
  return block;
}

function toAnthropicTool(tool: ChatTool): AnthropicTool {
  return anthropicTool(tool.function);
}
