import { describe, expect, it } from "vitest";
import { errorBody } from "../../shared/http/errors.js";
import { statusOfAnthropicError, toOpenAIError } from "../../shared/openai/errors.js";

describe("toOpenAIError", () => {
  const converted = (status: number, type: string, message = "m") => toOpenAIError(status, errorBody(type, message)).body.error;

  it("uses OpenAI's error types by status, with a code only where it adds something", () => {
    expect(toOpenAIError(400, errorBody("invalid_request_error", "max_tokens: too big")).body).toEqual({
      error: { message: "max_tokens: too big", type: "invalid_request_error", code: null, param: null },
    });
    expect(converted(401, "authentication_error")).toMatchObject({ type: "authentication_error", code: null });
    expect(converted(403, "permission_error")).toMatchObject({ type: "permission_error", code: null });
    expect(converted(404, "not_found_error")).toMatchObject({ type: "not_found_error", code: null });
    expect(converted(413, "request_too_large")).toMatchObject({ type: "invalid_request_error", code: "request_too_large" });
    expect(converted(500, "api_error")).toMatchObject({ type: "server_error", code: "api_error" });
    expect(converted(504, "timeout_error")).toMatchObject({ type: "server_error", code: "timeout_error" });
    expect(converted(529, "overloaded_error")).toMatchObject({ type: "server_error", code: "overloaded_error" });
  });

  it("tells a rate limit from an exhausted budget, which OpenAI answers as 429 insufficient_quota", () => {
    expect(converted(429, "rate_limit_error")).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    expect(toOpenAIError(402, errorBody("billing_error", "Monthly budget spent"))).toEqual({
      status: 429,
      body: { error: { message: "Monthly budget spent", type: "insufficient_quota", code: "insufficient_quota", param: null } },
    });
  });

  it("still answers when the body is not an Anthropic error", () => {
    expect(toOpenAIError(502, "<html>Bad gateway</html>").body).toEqual({
      error: { message: "The request failed with status 502.", type: "server_error", code: null, param: null },
    });
  });

  it("knows the status each Anthropic error type travels with", () => {
    expect(statusOfAnthropicError("overloaded_error")).toBe(529);
    expect(statusOfAnthropicError("billing_error")).toBe(402);
    expect(statusOfAnthropicError("toString")).toBe(500);
    expect(statusOfAnthropicError("something_new")).toBe(500);
  });
});
