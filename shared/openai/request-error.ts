import { GatewayError } from "../http/errors.js";

/**
 * A Chat Completions request the gateway cannot translate: the message names the field
 * (`messages.2.tool_calls.0.function.arguments: ...`), like the schema's messages. A
 * GatewayError (invalid_request_error, 400), so a handler that catches those answers it.
 */
export class ChatRequestError extends GatewayError {
  constructor(
    /** The field at fault, as a dotted path. */
    readonly param: string,
    problem: string,
  ) {
    super("invalid_request_error", `${param}: ${problem}`);
  }
}
