import { GatewayError } from "./errors.js";

/** The Messages API versions the gateway relays (Anthropic's own list). */
export const ANTHROPIC_VERSIONS = ["2026-10-21", "2023-06-01", "2023-01-01"] as const;

/** The version the gateway itself speaks on behalf of clients that have none of their own (OpenAI-compatible routes, the widget). */
export const GATEWAY_ANTHROPIC_VERSION = "2023-06-01";

export interface VersionPolicy {
  accepted: ReadonlySet<string>;
  /** Used when a client sends none; null refuses such requests, as the API does. */
  fallback: string | null;
}

/**
 * The `anthropic-version` a client pinned, relayed upstream so it gets that version's
 * behaviour. A missing or unknown version is refused as the API refuses it, unless the
 * operator configured a version for clients that send none.
 */
export function anthropicVersionOf(headers: Headers, policy: VersionPolicy): string {
  const version = headers.get("anthropic-version")?.trim() || policy.fallback;
  if (!version) {
    throw new GatewayError("invalid_request_error", `anthropic-version: header is required (for example "anthropic-version: ${GATEWAY_ANTHROPIC_VERSION}").`);
  }
  if (!policy.accepted.has(version)) {
    throw new GatewayError(
      "invalid_request_error",
      `anthropic-version: "${version.slice(0, 64)}" is not a valid version; use one of ${[...policy.accepted].join(", ")}.`,
    );
  }
  return version;
}
