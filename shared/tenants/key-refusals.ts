import { GatewayError } from "../http/errors.js";

/** Why a presented key is refused, worded once for every place that checks it. */
export const keyRefusals = {
  unknown: () => new GatewayError("authentication_error", "Invalid API key."),
  revoked: () => new GatewayError("authentication_error", "This API key has been revoked; ask your operator for a new one."),
  tenantDisabled: () => new GatewayError("authentication_error", "This account is disabled; contact your operator."),
} as const;
