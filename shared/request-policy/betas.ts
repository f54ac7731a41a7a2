import type { OptInFeature } from "./features.js";

/**
 * What each `anthropic-beta` the gateway knows switches on, and whether it may cost
 * more than the tokens the meter sees:
 * - "tokens": nothing but tokens, which are metered and reserved like any others;
 * - "metered": a price the meter and the reservation know (1-hour cache writes, long context);
 * - an opt-in feature: allowed only when the tenant's policy allows that feature;
 * - "refused": costs the gateway cannot attribute to a request, or data shared across tenants.
 * A beta not listed here is refused, unless the operator lists it in ALLOWED_BETAS.
 */
export type BetaClass = "tokens" | "metered" | "refused" | { optIn: OptInFeature };

export const KNOWN_BETAS: Readonly<Record<string, { class: BetaClass; why?: string }>> = {
  "prompt-caching-2024-07-31": { class: "tokens" },
  "extended-cache-ttl-2025-04-11": { class: "metered" },
  "context-1m-2025-08-07": { class: "metered" },
  "token-efficient-tools-2025-02-19": { class: "tokens" },
  "interleaved-thinking-2025-05-14": { class: "tokens" },
  "fine-grained-tool-streaming-2025-05-14": { class: "tokens" },
  "output-128k-2025-02-19": { class: "tokens" },
  "computer-use-2024-10-22": { class: "tokens" },
  "computer-use-2025-01-24": { class: "tokens" },
  "computer-use-2025-11-24": { class: "tokens" },
  "pdfs-2024-09-25": { class: "tokens" },
  "token-counting-2024-11-01": { class: "tokens" },
  "search-results-2025-06-09": { class: "tokens" },
  "context-management-2025-06-27": { class: "tokens" },
  "model-context-window-exceeded-2025-08-26": { class: "tokens" },
  "structured-outputs-2025-11-13": { class: "tokens" },
  "effort-2025-11-24": { class: "tokens" },
  "web-fetch-2025-09-10": { class: { optIn: "web_fetch" } },
  "mcp-client-2025-04-04": { class: { optIn: "mcp_servers" } },
  "mcp-client-2025-11-20": { class: { optIn: "mcp_servers" } },
  "code-execution-2025-05-22": { class: "refused", why: "code execution bills container time, which cannot be metered per request" },
  "code-execution-2025-08-25": { class: "refused", why: "code execution bills container time, which cannot be metered per request" },
  "skills-2025-10-02": { class: "refused", why: "skills run in code execution containers, whose time cannot be metered per request" },
  "files-api-2025-04-14": { class: "refused", why: "uploaded files would be shared by every tenant of this gateway" },
};
