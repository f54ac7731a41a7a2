/**
 * The parts of the Anthropic Messages API that the OpenAI translation produces and
 * reads. Type aliases rather than interfaces, so a request body is assignable to the
 * validated MessagesRequest type, whose objects carry an index signature.
 */

export type AnthropicImageMediaType = "image/jpeg" | "image/png" | "image/gif" | "image/webp";

export type AnthropicTextBlockParam = { type: "text"; text: string };

export type AnthropicImageBlockParam = {
  type: "image";
  source: { type: "base64"; media_type: AnthropicImageMediaType; data: string } | { type: "url"; url: string };
};

export type AnthropicToolUseBlockParam = { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

export type AnthropicToolResultBlockParam = {
  type: "tool_result";
  tool_use_id: string;
  content?: string | AnthropicTextBlockParam[];
};

export type AnthropicContentBlockParam =
  | AnthropicTextBlockParam
  | AnthropicImageBlockParam
  | AnthropicToolUseBlockParam
  | AnthropicToolResultBlockParam;

export type AnthropicMessageParam = { role: "user" | "assistant"; content: AnthropicContentBlockParam[] };

export type AnthropicTool = { name: string; description?: string; input_schema: Record<string, unknown> };

export type AnthropicToolChoice =
  | { type: "auto" | "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
  | { type: "none" };

export type MessagesRequestBody = {
  model: string;
  max_tokens: number;
  messages: AnthropicMessageParam[];
  system?: string;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
  stream?: boolean;
};

export type AnthropicUsage = {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
};

/**
 * A content block of a response. Only text and tool_use blocks are read; the others
 * (thinking, server tool blocks, future types) are dropped, so every field but `type`
 * is optional here.
 */
export type AnthropicResponseBlock = {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
};

/** A complete (non-streamed) Messages API response, as far as the translation reads it. */
export type AnthropicMessage = {
  content: readonly AnthropicResponseBlock[];
  stop_reason: string | null;
  usage: AnthropicUsage;
};
