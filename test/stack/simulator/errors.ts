/** Error types of the Anthropic API and the JSON body it sends with them. */
export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

const STATUS_BY_TYPE: Readonly<Record<ApiErrorType, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

/** An error answered to the client as `{"type":"error","error":{...},"request_id":...}`. */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly type: ApiErrorType,
    message: string,
    /** Extra response headers, e.g. `retry-after` on 429. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.status = STATUS_BY_TYPE[type];
  }
}

export interface ErrorPayload {
  type: ApiErrorType;
  message: string;
}

export interface ErrorBody {
  type: "error";
  error: ErrorPayload;
  request_id: string;
}

export function errorBody(error: ApiError, requestId: string): ErrorBody {
  return { type: "error", error: { type: error.type, message: error.message }, request_id: requestId };
}
