/** The OpenAI Responses API shapes the gateway produces. */

export type OutputText = { type: "output_text"; text: string; annotations: never[] };

export type MessageOutputItem = {
  type: "message";
  id: string;
  status: "in_progress" | "completed" | "incomplete";
  role: "assistant";
  content: OutputText[];
};

export type FunctionCallOutputItem = {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: "in_progress" | "completed" | "incomplete";
};

export type OutputItem = MessageOutputItem | FunctionCallOutputItem;

export type ResponseUsage = {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
};

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

/** The parts of the request a response echoes back. */
export type ResponseEcho = {
  instructions: string | null;
  max_output_tokens: number | null;
  parallel_tool_calls: boolean;
  temperature: number | null;
  top_p: number | null;
  tool_choice: unknown;
  tools: unknown[];
  metadata: Record<string, string>;
  user: string | null;
};

export type ResponseObject = ResponseEcho & {
  id: string;
  object: "response";
  created_at: number;
  status: ResponseStatus;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  model: string;
  output: OutputItem[];
  previous_response_id: null;
  reasoning: { effort: null; summary: null };
  store: false;
  text: { format: { type: "text" } };
  truncation: "disabled";
  usage: ResponseUsage | null;
};
