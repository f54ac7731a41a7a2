import { describe, expect, it } from "vitest";
import { bedrockErrorResponse } from "../../shared/providers/bedrock/errors.js";
import { vertexErrorResponse } from "../../shared/providers/vertex/errors.js";

async function translated(response: Promise<Response>): Promise<{ status: number; body: unknown; headers: Headers }> {
  const answer = await response;
  return { status: answer.status, body: await answer.json(), headers: answer.headers };
}

function bedrockError(status: number, exception: string, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ message }), {
    status,
    headers: {
      "content-type": "application/json",
      "x-amzn-errortype": `${exception}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      "x-amzn-requestid": "5f0c-req",
      ...headers,
    },
  });
}

describe("Bedrock errors in Anthropic's format", () => {
  it.each([
    [429, "ThrottlingException", 429, "rate_limit_error"],
    [400, "ServiceQuotaExceededException", 429, "rate_limit_error"],
    [503, "ServiceUnavailableException", 529, "overloaded_error"],
    [429, "ModelNotReadyException", 529, "overloaded_error"],
    [400, "ValidationException", 400, "invalid_request_error"],
    [403, "AccessDeniedException", 403, "permission_error"],
    [404, "ResourceNotFoundException", 404, "not_found_error"],
    [408, "ModelTimeoutException", 504, "timeout_error"],
    [500, "InternalServerException", 500, "api_error"],
    [424, "ModelErrorException", 500, "api_error"],
    [403, "InvalidSignatureException", 401, "authentication_error"],
    [403, "UnrecognizedClientException", 401, "authentication_error"],
  ])("%i %s -> %i %s", async (status, exception, anthropicStatus, type) => {
    const answer = await translated(bedrockErrorResponse(bedrockError(status, exception, "what Bedrock said")));
    expect(answer.status).toBe(anthropicStatus);
    expect(answer.body).toEqual({ type: "error", error: { type, message: "what Bedrock said" } });
    expect(answer.headers.get("request-id")).toBe("5f0c-req");
  });

  it("falls back on the status for unknown exceptions, and keeps retry-after", async () => {
    const answer = await translated(bedrockErrorResponse(bedrockError(418, "TeapotException", "short and stout", { "retry-after": "3" })));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { type: "invalid_request_error" } });
    expect(answer.headers.get("retry-after")).toBe("3");
    const bare = await translated(bedrockErrorResponse(new Response("<html>bad gateway</html>", { status: 502 })));
    expect(bare).toMatchObject({ status: 500, body: { error: { type: "api_error", message: "Amazon Bedrock answered 502." } } });
  });
});

describe("Vertex AI errors in Anthropic's format", () => {
  const google = (code: number, status: string, message: string): Response =>
    new Response(JSON.stringify({ error: { code, message, status } }), { status: code, headers: { "content-type": "application/json" } });

  it.each([
    [429, "RESOURCE_EXHAUSTED", 429, "rate_limit_error"],
    [400, "INVALID_ARGUMENT", 400, "invalid_request_error"],
    [401, "UNAUTHENTICATED", 401, "authentication_error"],
    [403, "PERMISSION_DENIED", 403, "permission_error"],
    [404, "NOT_FOUND", 404, "not_found_error"],
    [503, "UNAVAILABLE", 529, "overloaded_error"],
    [504, "DEADLINE_EXCEEDED", 504, "timeout_error"],
    [500, "INTERNAL", 500, "api_error"],
  ])("%i %s -> %i %s", async (code, status, anthropicStatus, type) => {
    const answer = await translated(vertexErrorResponse(google(code, status, "what Google said")));
    expect(answer.status).toBe(anthropicStatus);
    expect(answer.body).toEqual({ type: "error", error: { type, message: "what Google said" } });
  });

  it("reads the array form streaming methods use", async () => {
    const body = JSON.stringify([{ error: { code: 429, message: "Quota exceeded", status: "RESOURCE_EXHAUSTED" } }]);
    const answer = await translated(vertexErrorResponse(new Response(body, { status: 429 })));
    expect(answer).toMatchObject({ status: 429, body: { error: { type: "rate_limit_error", message: "Quota exceeded" } } });
  });

  it("passes Anthropic-shaped bodies through with their status", async () => {
    const body = { type: "error", error: { type: "overloaded_error", message: "Overloaded" }, request_id: "req_1" };
    const answer = await translated(
      vertexErrorResponse(new Response(JSON.stringify(body), { status: 529, headers: { "retry-after": "2" } })),
    );
    expect(answer.status).toBe(529);
    expect(answer.body).toEqual(body);
    expect(answer.headers.get("retry-after")).toBe("2");
  });
});
