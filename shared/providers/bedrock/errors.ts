import type { AnthropicErrorType } from "../../http/errors.js";
import { anthropicErrorResponse, errorTypeForStatus } from "../anthropic-errors.js";
import { jsonObject } from "../json.js";

/**
 * Bedrock's exceptions (InvokeModel / InvokeModelWithResponseStream / CountTokens, and the
 * AWS authentication ones) as Anthropic error types. Overload-like exceptions become
 * `overloaded_error` (529) so that retries and fallbacks treat them as the Anthropic API's.
 * Keys are lower-case: answers say `ThrottlingException`, stream frames `throttlingException`.
 */
const ERROR_TYPES: Readonly<Record<string, AnthropicErrorType>> = {
  throttlingexception: "rate_limit_error",
  servicequotaexceededexception: "rate_limit_error",
  serviceunavailableexception: "overloaded_error",
  modelnotreadyexception: "overloaded_error",
  validationexception: "invalid_request_error",
  accessdeniedexception: "permission_error",
  resourcenotfoundexception: "not_found_error",
  modeltimeoutexception: "timeout_error",
  internalserverexception: "api_error",
  modelerrorexception: "api_error",
  modelstreamerrorexception: "api_error",
  unrecognizedclientexception: "authentication_error",
  invalidsignatureexception: "authentication_error",
  incompletesignatureexception: "authentication_error",
  missingauthenticationtokenexception: "authentication_error",
  expiredtokenexception: "authentication_error",
};

/** `x-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/...` names the exception before the colon. */
function exceptionName(header: string | null, body: Record<string, unknown>): string {
  const named = header ?? (typeof body.__type === "string" ? body.__type : typeof body.code === "string" ? body.code : "");
  const name = named.split(":", 1)[0] ?? "";
  return name.slice(name.lastIndexOf("#") + 1);
}

function errorMessage(body: Record<string, unknown>, fallback: string): string {
  const message = body.message ?? body.Message;
  return typeof message === "string" && message !== "" ? message : fallback;
}

/** The Anthropic error type of a Bedrock exception, by name, else by HTTP status. */
export function bedrockErrorType(name: string, status: number): AnthropicErrorType {
  return ERROR_TYPES[name.toLowerCase()] ?? errorTypeForStatus(status);
}

/** Translates a Bedrock error answer (`x-amzn-ErrorType` and `{"message": ...}`) into Anthropic's format. */
export async function bedrockErrorResponse(response: Response): Promise<Response> {
  const body = jsonObject(await response.text()) ?? {};
  const name = exceptionName(response.headers.get("x-amzn-errortype"), body);
  const message = errorMessage(body, `Amazon Bedrock answered ${response.status}${name ? ` (${name})` : ""}.`);
  return anthropicErrorResponse(bedrockErrorType(name, response.status), message, {
    retryAfter: response.headers.get("retry-after"),
    requestId: response.headers.get("x-amzn-requestid"),
  });
}

/** The Anthropic error type and message of an exception frame in a stream (payload `{"message": ...}`). */
export function streamExceptionError(kind: string, payload: string): { type: AnthropicErrorType; message: string } {
  return { type: bedrockErrorType(kind, 500), message: errorMessage(jsonObject(payload) ?? {}, `Amazon Bedrock stream failed (${kind}).`) };
}
