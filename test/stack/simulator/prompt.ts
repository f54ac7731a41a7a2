import type { CacheControl, ContentBlock, InputMessage, PromptRequest } from "./request-schema.js";

/**
 * One piece of the prompt, in the order the API builds its cache prefix:
 * tools, then system, then messages. Blocks that may carry `cache_control` are
 * separate segments so that a cache breakpoint can sit after any of them.
 */
export interface PromptSegment {
  text: string;
  cacheControl: CacheControl | undefined;
}

function withoutCacheControl<T extends { cache_control?: CacheControl }>(block: T): Omit<T, "cache_control"> {
  const { cache_control: _ignored, ...rest } = block;
  return rest;
}

function blockSegment(block: ContentBlock): PromptSegment {
  const text = block.type === "text" && block.text !== undefined ? block.text : JSON.stringify(withoutCacheControl(block));
  return { text, cacheControl: block.cache_control };
}

export function promptSegments(request: PromptRequest): PromptSegment[] {
  const tools = (request.tools ?? []).map((tool) => ({
    text: JSON.stringify(withoutCacheControl(tool)),
    cacheControl: tool.cache_control,
  }));
  const system =
    typeof request.system === "string"
      ? [{ text: request.system, cacheControl: undefined }]
      : (request.system ?? []).map(blockSegment);
  const messages = request.messages.flatMap((message) =>
    typeof message.content === "string"
      ? [{ text: message.content, cacheControl: undefined }]
      : message.content.map(blockSegment),
  );
  return [...tools, ...system, ...messages];
}

function lastUserMessage(request: PromptRequest): InputMessage | undefined {
  return [...request.messages].reverse().find((message) => message.role === "user");
}

/** The text of the last user message's text blocks: where directives are read from. */
export function lastUserText(request: PromptRequest): string {
  const content = lastUserMessage(request)?.content ?? "";
  if (typeof content === "string") return content;
  return content.flatMap((block) => (block.type === "text" && block.text !== undefined ? [block.text] : [])).join("\n");
}

/** True when the last user message answers a tool call. */
export function lastUserHasToolResult(request: PromptRequest): boolean {
  const content = lastUserMessage(request)?.content ?? "";
  return typeof content !== "string" && content.some((block) => block.type === "tool_result");
}
