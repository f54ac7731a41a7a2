import { errorBody } from "../http/errors.js";
import type { UpstreamFailure } from "./attempts.js";

/** Upstream headers worth passing back with an upstream error. */
const RELAYED_ERROR_HEADERS = ["retry-after", "retry-after-ms", "request-id", "x-should-retry"] as const;

/**
 * The answer to an upstream failure that happened before any byte reached the client:
 * the upstream's own status and Anthropic error body when it sent one, otherwise a
 * gateway-made error in the same format (504 when the upstream did not answer in time).
 */
export function upstreamFailureResponse(failure: UpstreamFailure, requestId: string): Response {
  switch (failure.kind) {
    case "response": {
      const headers = new Headers({ "content-type": "application/json" });
      for (const name of RELAYED_ERROR_HEADERS) {
        const value = failure.headers.get(name);
        if (value) headers.set(name, value);
      }
      const body = isErrorBody(failure.body)
        ? failure.body
        : JSON.stringify(errorBody(failure.status === 529 ? "overloaded_error" : "api_error", `The upstream answered ${failure.status}.`, requestId));
      return new Response(body, { status: failure.status, headers });
    }
    case "first-byte-timeout":
      return json(504, errorBody("timeout_error", `The upstream sent no first byte within ${failure.timeoutMs} ms, even after retries; retry later.`, requestId));
    case "timeout":
      return json(504, errorBody("timeout_error", "The upstream did not answer in time; retry, or ask for fewer tokens.", requestId));
    case "client-gone":
      return json(499, errorBody("api_error", "The client closed the request.", requestId));
    case "network":
      return json(502, errorBody("api_error", "Could not reach the upstream API; retry shortly.", requestId));
    case "resting": {
      const seconds = Math.max(1, Math.ceil(failure.retryAfterMs / 1000));
      const [status, type, message] =
        failure.reason === "rate-limited"
          ? [429, "rate_limit_error", `This region's upstream rate limits are exhausted for now; retry in ${seconds} s.`]
          : [529, "overloaded_error", `This region's upstream endpoints are overloaded; retry in ${seconds} s.`];
      const response = json(status, errorBody(type, message, requestId));
      response.headers.set("retry-after", String(seconds));
      return response;
    }
    case "no-endpoint":
      return json(
        503,
        errorBody(
          "api_error",
          `No upstream endpoint of this region serves ${failure.model} where your account's data may be processed; ask your operator, or use another model.`,
          requestId,
        ),
      );
  }
}

function isErrorBody(text: string): boolean {
  try {
    const value = JSON.parse(text) as { type?: unknown; error?: unknown };
    return value.type === "error" && typeof value.error === "object" && value.error !== null;
  } catch {
    return false;
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
