import { describe, expect, it } from "vitest";
import { GatewayError } from "../../shared/http/errors.js";
import {
  type ChatCompletionRequest,
  ChatRequestError,
  chatCompletionRequestSchema,
  toMessagesRequest,
} from "../../shared/openai/request.js";
import { toChatCompletion } from "../../shared/openai/response.js";
import { type MessagesRequest, messagesRequestSchema } from "../../shared/validation/messages.js";
import { describeIssues } from "../../shared/validation/zod.js";

const DEFAULTS = { maxTokens: 4096 };
const hello = { role: "user", content: "Hello" };

/** Validates like the route will (readJsonBody answers with describeIssues) and throws the message. */
function chat(body: Record<string, unknown>): ChatCompletionRequest {
  const result = chatCompletionRequestSchema.safeParse({ model: "claude-sonnet-4-6", ...body });
  if (!result.success) throw new Error(describeIssues(result.error.issues));
  return result.data;
}

function translate(body: Record<string, unknown>) {
  return toMessagesRequest(chat(body), DEFAULTS);
}

/** The message of the error translating `body` throws, validation included. */
function rejection(body: Record<string, unknown>): string {
  try {
    translate(body);
  } catch (error) {
    return (error as Error).message;
  }
  return "accepted";
}

describe("toMessagesRequest: a tool call round trip", () => {
  const weatherTool = {
    type: "function",
    function: {
      name: "get_weather",
      description: "Current weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  };
  const conversation = [
    { role: "system", content: "You are terse." },
    { role: "user", content: "Weather in Paris and Oslo?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
        { id: "call_2", type: "function", function: { name: "get_weather", arguments: '{"city": "Oslo"}' } },
      ],
    },
    { role: "tool", tool_call_id: "call_1", content: "18C, sunny" },
    { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "4C, snow" }] },
    { role: "user", content: "Thanks. Which is warmer?" },
  ];

  it("turns tool_calls into tool_use blocks and consecutive tool messages into one user turn of tool_results", () => {
    const body = translate({ messages: conversation, tools: [weatherTool], max_completion_tokens: 500 });
    expect(body).toEqual({
      model: "claude-sonnet-4-6",
      max_tokens: 500,
      system: "You are terse.",
      messages: [
        { role: "user", content: [{ type: "text", text: "Weather in Paris and Oslo?" }] },
        {
          role: "assistant",
          content: [
            { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
            { type: "tool_use", id: "call_2", name: "get_weather", input: { city: "Oslo" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "call_1", content: "18C, sunny" },
            { type: "tool_result", tool_use_id: "call_2", content: [{ type: "text", text: "4C, snow" }] },
            { type: "text", text: "Thanks. Which is warmer?" },
          ],
        },
      ],
      tools: [
        {
          name: "get_weather",
          description: "Current weather for a city",
          input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      ],
    });
    // What the gateway sends on must pass the Messages route's own validation, and type.
    const typed: MessagesRequest = body;
    expect(messagesRequestSchema.safeParse(typed).success).toBe(true);
  });

  it("gives back tool calls the client can answer, and their answers translate to matching tool_results", () => {
    const answer = toChatCompletion(
      {
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_01A", name: "get_weather", input: { city: "Paris" } },
        ],
        stop_reason: "tool_use",
        usage: { input_tokens: 50, output_tokens: 20 },
      },
      "claude-sonnet-4-6",
      "chatcmpl-1",
      1_700_000_000,
    );
    const reply = answer.choices[0].message;
    expect(reply.tool_calls).toEqual([
      { id: "toolu_01A", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
    ]);
    const next = translate({
      messages: [hello, reply, { role: "tool", tool_call_id: "toolu_01A", content: "18C" }],
      tools: [weatherTool],
    });
    expect(next.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_01A", name: "get_weather", input: { city: "Paris" } },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01A", content: "18C" }] },
    ]);
  });

  it("rewrites tool call ids the upstream would refuse, the same way on both sides", () => {
    const body = translate({
      messages: [
        hello,
        { role: "assistant", tool_calls: [{ id: "functions.get_weather:0", type: "function", function: { name: "get_weather", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "functions.get_weather:0", content: "" },
      ],
      tools: [weatherTool],
    });
    expect(body.messages.slice(1)).toEqual([
      { role: "assistant", content: [{ type: "tool_use", id: "functions_get_weather_0", name: "get_weather", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "functions_get_weather_0" }] },
    ]);
  });

  it("rejects tool arguments that are not a JSON object, naming the field", () => {
    const withArguments = (args: unknown) => ({
      messages: [hello, { role: "assistant", tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: args } }] }],
    });
    expect(rejection(withArguments('{"city": "Par'))).toMatch(
      /^messages\.1\.tool_calls\.0\.function\.arguments: expected a JSON object as a string, such as "{\\"city\\": \\"Paris\\"}" \("{}" for none\); this is not valid JSON \(.+\)$/,
    );
    expect(rejection(withArguments("[1, 2]"))).toBe(
      'messages.1.tool_calls.0.function.arguments: expected a JSON object as a string, such as "{\\"city\\": \\"Paris\\"}" ("{}" for none), got JSON holding an array of 2',
    );
    expect(rejection(withArguments({ city: "Paris" }))).toBe(
      'messages.1.tool_calls.0.function.arguments: expected the arguments as a JSON string, such as "{\\"city\\": \\"Paris\\"}", got an object',
    );
    const deep = '{"a":'.repeat(200) + "1" + "}".repeat(200);
    expect(rejection(withArguments(deep))).toBe("messages.1.tool_calls.0.function.arguments: JSON nested more than 123 levels deep; flatten this value");
    let thrown: unknown;
    try {
      translate(withArguments(""));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ChatRequestError);
    expect(thrown).toBeInstanceOf(GatewayError);
    expect(thrown).toMatchObject({ status: 400, type: "invalid_request_error", param: "messages.1.tool_calls.0.function.arguments" });
  });
});

describe("toMessagesRequest: conversation shape", () => {
  it("joins system and developer messages, wherever they stand, into the system prompt", () => {
    const body = translate({
      messages: [
        { role: "system", content: "Be terse." },
        { role: "developer", content: [{ type: "text", text: "Answer in French." }, { type: "text", text: "  " }] },
        hello,
        { role: "system", content: "Never use emoji." },
        { role: "assistant", content: "Bonjour" },
      ],
    });
    expect(body.system).toBe("Be terse.\n\nAnswer in French.\n\nNever use emoji.");
    expect(body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Hello" }] },
      { role: "assistant", content: [{ type: "text", text: "Bonjour" }] },
    ]);
  });

  it("merges consecutive turns of one role, drops blank text and trims a final assistant turn", () => {
    const body = translate({
      messages: [
        hello,
        { role: "user", content: [{ type: "text", text: "Are you there?" }] },
        { role: "assistant", content: "" },
        { role: "user", content: "  \n" },
        { role: "assistant", content: [{ type: "text", text: "Yes," }, { type: "refusal", refusal: "but briefly. " }] },
      ],
    });
    expect(body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "Hello" },
          { type: "text", text: "Are you there?" },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Yes," },
          { type: "text", text: "but briefly." },
        ],
      },
    ]);
    expect(body.system).toBeUndefined();
  });

  it("refuses a conversation of system messages only", () => {
    expect(rejection({ messages: [{ role: "system", content: "Be terse." }] })).toBe(
      "messages: expected at least one user, assistant or tool message with content, besides system and developer messages",
    );
  });

  it("turns data: URLs into base64 images and http(s) URLs into URL images", () => {
    const body = translate({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare these" },
            { type: "image_url", image_url: { url: "data:image/jpg;base64,/9j/4AAQ", detail: "high" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
          ],
        },
      ],
    });
    expect(body.messages[0]!.content).toEqual([
      { type: "text", text: "Compare these" },
      { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
    ]);
  });

  it("refuses images it cannot pass on, naming the URL", () => {
    const image = (url: string) => ({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }] }] });
    expect(rejection(image("ftp://example.com/cat.png"))).toBe(
      'messages.0.content.0.image_url.url: expected an https:// image URL or a base64 data URL such as data:image/png;base64,..., got a URL starting "ftp://example.co"',
    );
    expect(rejection(image("data:image/svg+xml;base64,PHN2Zz4="))).toBe(
      'messages.0.content.0.image_url.url: expected an image of type image/jpeg, image/png, image/gif or image/webp, got "image/svg+xml"',
    );
    expect(rejection(image("data:image/png,%89PNG"))).toBe(
      "messages.0.content.0.image_url.url: expected base64 data: data:image/png;base64,...",
    );
    expect(rejection(image("data:image/png;base64,"))).toBe("messages.0.content.0.image_url.url: the data URL holds no image data");
  });
});

describe("toMessagesRequest: parameters", () => {
  it("maps stop, temperature, top_p, user, stream and max_tokens", () => {
    const body = translate({ messages: [hello], stop: "END", temperature: 2, top_p: 0.9, user: "user-42", stream: true, max_tokens: 300 });
    expect(body).toMatchObject({ stop_sequences: ["END"], temperature: 1, top_p: 0.9, metadata: { user_id: "user-42" }, stream: true, max_tokens: 300 });
    expect(translate({ messages: [hello], stop: ["a", "b"], temperature: 0.6 })).toMatchObject({ stop_sequences: ["a", "b"], temperature: 0.3 });
  });

  it("leaves out what was not given, or given as null, and takes max_tokens from the defaults", () => {
    const given = { messages: [hello], stop: null, temperature: null, top_p: 1, user: null, stream: false, n: 1, max_tokens: null };
    expect(translate(given)).toEqual({ model: "claude-sonnet-4-6", max_tokens: 4096, messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }] });
    expect(translate({ messages: [hello], stop: [], max_tokens: 10, max_completion_tokens: 20 }).max_tokens).toBe(20);
  });

  it("tolerates fields it does not translate", () => {
    const body = translate({ messages: [hello], model: "auto", logprobs: false, seed: 7, presence_penalty: 0, response_format: { type: "text" } });
    expect(body).toEqual({ model: "auto", max_tokens: 4096, messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }] });
  });

  const tools = [{ type: "function", function: { name: "lookup" } }, { type: "function", function: { name: "save", parameters: { properties: {} } } }];

  it("maps tool_choice and parallel_tool_calls", () => {
    const choiceFor = (extra: Record<string, unknown>) => translate({ messages: [hello], tools, ...extra }).tool_choice;
    expect(choiceFor({})).toBeUndefined();
    expect(choiceFor({ tool_choice: "auto" })).toEqual({ type: "auto" });
    expect(choiceFor({ tool_choice: "none" })).toEqual({ type: "none" });
    expect(choiceFor({ tool_choice: "required" })).toEqual({ type: "any" });
    expect(choiceFor({ tool_choice: { type: "function", function: { name: "save" } } })).toEqual({ type: "tool", name: "save" });
    expect(choiceFor({ parallel_tool_calls: false })).toEqual({ type: "auto", disable_parallel_tool_use: true });
    expect(choiceFor({ tool_choice: "required", parallel_tool_calls: false })).toEqual({ type: "any", disable_parallel_tool_use: true });
    expect(translate({ messages: [hello], tools }).tools).toEqual([
      { name: "lookup", input_schema: { type: "object" } },
      { name: "save", input_schema: { type: "object", properties: {} } },
    ]);
  });

  it("refuses a tool_choice no tool can satisfy", () => {
    expect(rejection({ messages: [hello], tools, tool_choice: { type: "function", function: { name: "delete" } } })).toBe(
      'tool_choice.function.name: expected the name of a tool in "tools", got "delete"',
    );
    expect(rejection({ messages: [hello], tool_choice: "required" })).toBe('tool_choice: a tool can only be required when "tools" defines some');
    expect(translate({ messages: [hello], tool_choice: "none" }).tool_choice).toBeUndefined();
  });
});

describe("chatCompletionRequestSchema", () => {
  it("refuses n other than 1 with a clear message", () => {
    expect(rejection({ messages: [hello], n: 3 })).toBe("n: only 1 choice per request is supported, got 3: send separate requests for more");
  });

  it("says which field is wrong and what it should hold", () => {
    expect(rejection({ messages: [hello], temperature: 2.5 })).toBe("temperature: expected a number from 0 to 2, got 2.5");
    expect(rejection({ messages: [{ role: "function", name: "f", content: "x" }] })).toBe(
      'messages.0.role: expected "system", "developer", "user", "assistant" or "tool", got "function"',
    );
    expect(rejection({ messages: [{ role: "user", content: [{ type: "input_audio", input_audio: {} }] }] })).toBe(
      'messages.0.content.0.type: expected "text" or "image_url", got "input_audio" (audio and file parts are not supported)',
    );
    expect(rejection({ messages: [{ role: "tool", content: "42" }] })).toBe("messages.0.tool_call_id: required: expected the id of the tool call answered");
    expect(rejection({ messages: [hello], tools: [{ type: "function", function: { name: "get weather" } }] })).toBe(
      'tools.0.function.name: expected a function name of 1 to 64 letters, digits, _ and -, got "get weather"',
    );
    expect(rejection({ messages: [hello], tool_choice: "any" })).toBe(
      'tool_choice: expected "none", "auto", "required" or {"type": "function", "function": {"name": "..."}}, got "any"',
    );
    expect(rejection({ messages: [] })).toBe("messages: expected a non-empty array of at most 100000 messages, got an empty array");
    expect(rejection({ messages: [hello], model: "" })).toMatch(/^model: expected a model id such as "claude-sonnet-4-6" or "auto"/);
  });

  it("stops checking a long array of bad items after a few", () => {
    const message = rejection({ messages: [hello], stop: Array.from({ length: 300_000 }, () => 1) });
    expect(message).toBe("stop.0: expected a string, got 1; stop.1: expected a string, got 1; stop.2: expected a string, got 1");
  });
});
