import { GatewayError } from "../http/errors.js";
import { PINNED_REGIONS_HEADER, UPSTREAM_CALLS_HEADER } from "../http/region-answers.js";

/** Why a presented key is refused, worded once for every place that checks it. */
export const keyRefusals = {
  unknown: () => new GatewayError("authentication_error", "Invalid API key."),
  revoked: () => new GatewayError("authentication_error", "This API key has been revoked; ask your operator for a new one."),
  tenantDisabled: () => new GatewayError("authentication_error", "This account is disabled; contact your operator."),
} as const;

/**
 * A tenant pinned to other regions called this one. The answer names the pin, so the
 * front Worker (whose cached pin may be older) sends the request on to the pinned region.
 */
export function pinRefusal(pin: readonly string[], region: string): GatewayError {
  return new GatewayError(
    "permission_error",
    `Your account is pinned to ${pin.join(", ")}; this is region ${region}. Call your region's endpoint (or the global one, which routes there).`,
    { headers: { [PINNED_REGIONS_HEADER]: pin.join(","), [UPSTREAM_CALLS_HEADER]: "0" } },
  );
}
