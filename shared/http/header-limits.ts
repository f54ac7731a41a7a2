import { utf8Length } from "../text/utf8.js";
import { GatewayError } from "./errors.js";

/** Longest value of any one request header, in bytes. */
export const MAX_HEADER_VALUE_BYTES = 8 * 1024;
/** Most bytes all request headers may take together ("name: value\r\n" each). */
export const MAX_TOTAL_HEADER_BYTES = 32 * 1024;
/** Longest credential header: edgegate keys are far shorter, so more is not a key. */
export const MAX_CREDENTIAL_HEADER_CHARS = 512;
const CREDENTIAL_HEADERS = ["x-api-key", "authorization"] as const;

/**
 * Refuses requests whose headers are too large, before any work is done for them:
 * any value over 8 KB, over 32 KB of headers in total, or a credential header over
 * 512 characters. Returns the error to answer with, or null.
 *
 * The status is 431 (Request Header Fields Too Large). Anthropic's error format has no
 * type for it (413's request_too_large is about the body), so the type is
 * invalid_request_error, like other problems the client has to fix in its request.
 */
export function checkHeaderLimits(headers: Headers): GatewayError | null {
  for (const name of CREDENTIAL_HEADERS) {
    const value = headers.get(name);
    if (value !== null && value.length > MAX_CREDENTIAL_HEADER_CHARS) {
      return tooLarge(
        `The ${name} header is ${value.length} characters long, over the ${MAX_CREDENTIAL_HEADER_CHARS}-character limit; ` +
          `send only your edgegate key (x-api-key: <key> or authorization: Bearer <key>).`,
      );
    }
  }
  let total = 0;
  for (const [name, value] of headers) {
    const valueBytes = utf8Length(value);
    if (valueBytes > MAX_HEADER_VALUE_BYTES) {
      return tooLarge(
        `The ${printable(name)} header is ${valueBytes} bytes long, over the ${MAX_HEADER_VALUE_BYTES}-byte limit per header; ` +
          "shorten it or leave it out.",
      );
    }
    total += utf8Length(name) + valueBytes + 4;
  }
  if (total > MAX_TOTAL_HEADER_BYTES) {
    return tooLarge(
      `The request headers take ${total} bytes, over the ${MAX_TOTAL_HEADER_BYTES}-byte limit in total; ` +
        "send fewer or shorter headers.",
    );
  }
  return null;
}

function tooLarge(message: string): GatewayError {
  // Anthropic has no error type for 431; invalid_request_error is the closest.
  return new GatewayError("invalid_request_error", message, { status: 431 });
}


/** A header name as it may appear in a message: names are tokens, but cap the length. */
function printable(name: string): string {
  return name.length <= 64 ? name : `${name.slice(0, 64)}...`;
}
