import { MAX_JSON_DEPTH, tooDeep } from "../validation/limits.js";
import { describeValue } from "../validation/zod.js";
import type { AnthropicMessageParam, AnthropicTool, AnthropicToolChoice } from "./anthropic-types.js";
import { ChatRequestError } from "./request-error.js";

/** OpenAI's rule for function names, which is also Anthropic's for tool names. */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/**
 * Parsed tool arguments become a tool_use block's input, five levels down in the
 * Messages request (request, messages, message, content, block), whose depth is capped.
 */
const MAX_ARGUMENTS_DEPTH = MAX_JSON_DEPTH - 5;

/**
 * Anthropic tool ids allow only letters, digits, _ and -; OpenAI's allow anything. The
 * same replacement applies to a call's id and to the tool message answering it, so the
 * pair still matches.
 */
export function toolUseId(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, "_");
}

export function parseArguments(json: string, path: string): Record<string, unknown> {
  const example = 'a JSON object as a string, such as "{\\"city\\": \\"Paris\\"}" ("{}" for none)';
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ChatRequestError(path, `expected ${example}; this is not valid JSON (${reason})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ChatRequestError(path, `expected ${example}, got JSON holding ${describeValue(value)}`);
  }
  if (tooDeep(value, MAX_ARGUMENTS_DEPTH)) throw new ChatRequestError(path, `JSON nested more than ${MAX_ARGUMENTS_DEPTH} levels deep; flatten this value`);
  return value as Record<string, unknown>;
}

/** Adds blocks as a turn; turns of the same role in a row are merged into one, as the upstream wants them. */
export function appendTurn(turns: AnthropicMessageParam[], role: AnthropicMessageParam["role"], blocks: AnthropicMessageParam["content"]): void {
  if (blocks.length === 0) return;
  const last = turns.at(-1);
  if (last?.role !== role) turns.push({ role, content: blocks });
  else for (const block of blocks) last.content.push(block);
}

/** The upstream refuses a conversation whose final assistant text ends in whitespace. */
export function trimFinalAssistantText(turns: AnthropicMessageParam[]): void {
  const last = turns.at(-1);
  const block = last?.role === "assistant" ? last.content.at(-1) : undefined;
  if (block?.type === "text") block.text = block.text.trimEnd();
}

/** An OpenAI function definition as an Anthropic tool. */
export function anthropicTool(fn: { name: string; description?: string | null; parameters?: Record<string, unknown> | null }): AnthropicTool {
  // The upstream requires an object schema; OpenAI lets "type" (or the whole schema) go unsaid.
  const tool: AnthropicTool = { name: fn.name, input_schema: { type: "object", ...fn.parameters } };
  if (fn.description) tool.description = fn.description;
  return tool;
}

/** OpenAI's tool choice, with a named function reduced to its name. */
export type OpenAIToolChoice = "none" | "auto" | "required" | { name: string } | null | undefined;

/**
 * Anthropic's tool_choice for OpenAI's: "required" is "any", a named function "tool",
 * and parallel_tool_calls: false turns parallel use off. Nothing when the default does.
 */
export function anthropicToolChoice(
  choice: OpenAIToolChoice,
  parallelToolCalls: boolean | null | undefined,
  toolNames: readonly string[],
  namePath: string,
): AnthropicToolChoice | undefined {
  const named = typeof choice === "object" && choice !== null ? choice.name : null;
  if (toolNames.length === 0) {
    if (choice === "required" || named !== null) throw new ChatRequestError("tool_choice", 'a tool can only be required when "tools" defines some');
    return undefined;
  }
  if (named !== null && !toolNames.includes(named)) {
    throw new ChatRequestError(namePath, `expected the name of a tool in "tools", got ${describeValue(named)}`);
  }
  const parallel = parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  if (choice === "none") return { type: "none" };
  if (choice === "required") return { type: "any", ...parallel };
  if (named !== null) return { type: "tool", name: named, ...parallel };
  // "auto" is the default either way; sent when asked for, or to turn parallel calls off.
  return choice === "auto" || parallelToolCalls === false ? { type: "auto", ...parallel } : undefined;
}
