/** The OpenAI Chat Completions response shapes the gateway produces. */

export type ChatFinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export type ChatCompletionUsage = {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
};

export type ChatToolCall = {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
};

export type ChatCompletion = {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: [
    {
      index: 0;
      message: { role: "assistant"; content: string | null; refusal: null; tool_calls?: ChatToolCall[] };
      logprobs: null;
      finish_reason: ChatFinishReason;
    },
  ];
  usage: ChatCompletionUsage;
};

/** A tool call fragment of a stream: the first carries id and name, later ones only arguments. */
export type ChatToolCallDelta = {
  index: number;
  id?: string;
  type?: "function";
  function: { name?: string; arguments: string };
};

export type ChatCompletionChunkDelta = {
  role?: "assistant";
  content?: string;
  tool_calls?: ChatToolCallDelta[];
};

export type ChatCompletionChunk = {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{ index: 0; delta: ChatCompletionChunkDelta; logprobs: null; finish_reason: ChatFinishReason | null }>;
  /** Present (null, then the totals on the last chunk) only when the client asked for usage. */
  usage?: ChatCompletionUsage | null;
};

export type OpenAIErrorBody = {
  error: { message: string; type: string; code: string | null; param: null };
};
