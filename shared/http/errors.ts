/** Anthropic's error types and the HTTP status each one travels with. */
export const ERROR_STATUS = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
} as const;

export type AnthropicErrorType = keyof typeof ERROR_STATUS;

export interface AnthropicErrorBody {
  type: "error";
  error: { type: string; message: string };
  request_id?: string;
}

/**
 * An error the gateway answers with, in Anthropic's error format. Thrown anywhere
 * in request handling and turned into a response by the app's error handler.
 */
export class GatewayError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    readonly type: AnthropicErrorType,
    message: string,
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = options.status ?? ERROR_STATUS[type];
    this.headers = options.headers ?? {};
  }
}

export function errorBody(type: string, message: string, requestId?: string): AnthropicErrorBody {
  const body: AnthropicErrorBody = { type: "error", error: { type, message } };
  if (requestId) body.request_id = requestId;
  return body;
}

export function errorResponse(error: GatewayError, requestId?: string): Response {
  return new Response(JSON.stringify(errorBody(error.type, error.message, requestId)), {
    status: error.status,
    headers: { "content-type": "application/json", ...error.headers },
  });
}
