import { GatewayError } from "../http/errors.js";
import { KNOWN_BETAS } from "./betas.js";

/** Features with costs outside the request's own text, which a tenant must be allowed to use. */
export const OPT_IN_FEATURES = ["web_search", "web_fetch", "mcp_servers"] as const;
export type OptInFeature = (typeof OPT_IN_FEATURES)[number];

/**
 * Bounds the reservation assumes for content the upstream adds to a request by itself.
 * They are the worst case the budget check plans for; see the README's pricing section.
 */
export const CONTENT_ALLOWANCES = {
  /** The results of one web search. */
  webSearchResultTokens: 25_000,
  /** What one fetched page adds beyond its max_content_tokens (title, wrapping). */
  webFetchOverheadTokens: 1_000,
  /** MCP tool calls one request may make, and the result tokens of each. */
  mcpCalls: 10,
  mcpResultTokens: 20_000,
  /** The largest max_uses the gateway accepts on a web search or web fetch tool. */
  maxServerToolUses: 20,
} as const;

/** Top-level Messages fields the gateway knows, and what they cost beyond tokens. */
const REQUEST_FIELDS: Readonly<Record<string, "tokens" | "refused" | { optIn: OptInFeature }>> = {
  model: "tokens",
  messages: "tokens",
  max_tokens: "tokens",
  system: "tokens",
  metadata: "tokens",
  stop_sequences: "tokens",
  stream: "tokens",
  temperature: "tokens",
  top_p: "tokens",
  top_k: "tokens",
  tools: "tokens",
  tool_choice: "tokens",
  thinking: "tokens",
  service_tier: "tokens",
  context_management: "tokens",
  output_format: "tokens",
  output_config: "tokens",
  mcp_servers: { optIn: "mcp_servers" },
  container: "refused",
};

/** The largest context window of any model, in tokens. */
const MAX_CONTEXT_TOKENS = 1_000_000;

/** The beta that lifts the context window to 1M tokens, at long-context prices. */
export const LONG_CONTEXT_BETA = "context-1m-2025-08-07";

/** Client-side tool types (the client runs them; they cost only tokens). */
const CLIENT_TOOL_TYPE = /^(custom|(bash|text_editor|computer|memory)_\d{8})$/;

/** Operator settings: betas and top-level fields accepted beyond the ones the gateway knows. */
export interface FeatureConfig {
  extraBetas: ReadonlySet<string>;
  extraFields: ReadonlySet<string>;
}

/** What a request switches on that the reservation must plan for, once it has been accepted. */
export interface RequestFeatures {
  /** The betas to send upstream (the client's, each checked). */
  betas: string[];
  /** Opt-in features the request uses (for the log line). */
  used: OptInFeature[];
  /** The long-context beta is on: every model that may serve needs a long-context price. */
  longContext: boolean;
  /** Sampling rounds the upstream may run for the request: 1, plus one per server tool use. */
  rounds: number;
  /** Input tokens the upstream may add by itself (server tool results). */
  addedInputTokens: number;
  /** Most web searches the request may make. */
  webSearches: number;
}

/** The parts of a request the check reads. */
export interface FeatureBearingRequest {
  messages: ReadonlyArray<{ role?: unknown; content: unknown }>;
  tools?: unknown;
  [field: string]: unknown;
}

/**
 * Checks everything a request can switch on against what the gateway can meter:
 * betas, top-level fields, tool types and content sources. Refuses what it cannot
 * meter or does not know (400), and opt-in features the tenant is not allowed (403);
 * otherwise says what the reservation must add for the upstream's own work.
 */
export function checkRequestFeatures(
  request: FeatureBearingRequest,
  betaHeader: string | null,
  allowed: readonly OptInFeature[],
  config: FeatureConfig,
  options: { countOnly?: boolean } = {},
): RequestFeatures {
  const used = new Set<OptInFeature>();
  // Counting tokens costs nothing: opt-in features need no permission there, only what is refused outright is refused.
  const countOnly = options.countOnly === true;
  const requireOptIn = (feature: OptInFeature, what: string): void => {
    if (!countOnly && !allowed.includes(feature)) {
      throw new GatewayError(
        "permission_error",
        `${what} needs the "${feature}" feature, which your account does not have; ask your operator to add it to the tenant's allowedFeatures.`,
      );
    }
    used.add(feature);
  };

  const betas = parseBetas(betaHeader);
  for (const beta of betas) {
    const known = Object.hasOwn(KNOWN_BETAS, beta) ? KNOWN_BETAS[beta] : undefined;
    if (!known) {
      if (config.extraBetas.has(beta)) continue;
      throw refused(`anthropic-beta "${beta}" is not known to this gateway, which forwards only betas whose costs it meters; the operator can allow it with ALLOWED_BETAS`);
    }
    if (known.class === "refused") throw refused(`anthropic-beta "${beta}" is not available through this gateway: ${known.why}`);
    if (typeof known.class === "object") requireOptIn(known.class.optIn, `anthropic-beta "${beta}"`);
  }

  for (const field of Object.keys(request)) {
    const known = Object.hasOwn(REQUEST_FIELDS, field) ? REQUEST_FIELDS[field] : undefined;
    if (known === undefined) {
      if (config.extraFields.has(field)) continue;
      throw refused(`${field}: this field is not known to this gateway, which forwards only fields whose costs it meters; the operator can allow it with ALLOWED_REQUEST_FIELDS`);
    }
    if (known === "refused") throw refused(`${field}: not available through this gateway (code execution containers bill time that cannot be metered per request)`);
    if (typeof known === "object") requireOptIn(known.optIn, field);
  }

  const tools = toolUses(request.tools, requireOptIn, countOnly);
  const mcpCalls = used.has("mcp_servers") ? CONTENT_ALLOWANCES.mcpCalls : 0;
  request.messages.forEach((message, index) => refuseFileContent(message.content, `messages.${index}.content`));
  return {
    betas,
    used: [...used],
    longContext: betas.includes(LONG_CONTEXT_BETA),
    rounds: 1 + tools.webSearches + tools.webFetches + mcpCalls,
    addedInputTokens: tools.webSearches * CONTENT_ALLOWANCES.webSearchResultTokens + tools.fetchedTokens + mcpCalls * CONTENT_ALLOWANCES.mcpResultTokens,
    webSearches: tools.webSearches,
  };
}

/**
 * The input and output tokens a request may be billed for: each sampling round reads
 * the whole prompt, everything the upstream added and the answer so far.
 */
export function tokenBound(inputUpperBound: number, maxTokens: number, features: RequestFeatures): { inputTokens: number; outputTokens: number } {
  // No round can read more than the largest context window.
  const perRound = Math.min(MAX_CONTEXT_TOKENS, inputUpperBound + features.addedInputTokens + (features.rounds > 1 ? maxTokens : 0));
  return { inputTokens: features.rounds * perRound, outputTokens: maxTokens };
}

/** The betas of an `anthropic-beta` header: comma-separated, each once. */
export function parseBetas(header: string | null): string[] {
  if (!header) return [];
  return [...new Set(header.split(",").map((beta) => beta.trim()).filter(Boolean))];
}

interface ServerToolUses {
  webSearches: number;
  webFetches: number;
  fetchedTokens: number;
}

function toolUses(tools: unknown, requireOptIn: (feature: OptInFeature, what: string) => void, countOnly: boolean): ServerToolUses {
  const uses: ServerToolUses = { webSearches: 0, webFetches: 0, fetchedTokens: 0 };
  if (!Array.isArray(tools)) return uses;
  tools.forEach((tool: unknown, index) => {
    const { type } = (tool ?? {}) as { type?: unknown };
    if (type === undefined || type === null || (typeof type === "string" && CLIENT_TOOL_TYPE.test(type))) return;
    const path = `tools.${index}`;
    if (typeof type !== "string") throw refused(`${path}.type: expected a string`);
    if (/^web_search_\d{8}$/.test(type)) {
      requireOptIn("web_search", `${path} (${type})`);
      if (!countOnly) uses.webSearches += maxUses(tool, path);
    } else if (/^web_fetch_\d{8}$/.test(type)) {
      requireOptIn("web_fetch", `${path} (${type})`);
      if (countOnly) return;
      const count = maxUses(tool, path);
      uses.webFetches += count;
      uses.fetchedTokens += count * (maxContentTokens(tool, path) + CONTENT_ALLOWANCES.webFetchOverheadTokens);
    } else if (/^code_execution_\d{8}$/.test(type)) {
      throw refused(`${path}: code execution is not available through this gateway (its containers bill time that cannot be metered per request)`);
    } else {
      throw refused(`${path}: the tool type "${type}" is not known to this gateway; it may be a server tool with charges the gateway cannot meter`);
    }
  });
  return uses;
}

function maxUses(tool: unknown, path: string): number {
  const value = (tool as { max_uses?: unknown }).max_uses;
  const limit = CONTENT_ALLOWANCES.maxServerToolUses;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > limit) {
    throw refused(`${path}.max_uses: set it (an integer from 1 to ${limit}) so that the gateway can reserve the tool's cost`);
  }
  return value as number;
}

function maxContentTokens(tool: unknown, path: string): number {
  const value = (tool as { max_content_tokens?: unknown }).max_content_tokens;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 1_000_000) {
    throw refused(`${path}.max_content_tokens: set it (an integer from 1 to 1000000) so that the gateway can reserve what fetched pages cost`);
  }
  return value as number;
}

/** Refuses Files API content in a content array (tool results included): uploaded files would be shared by every tenant. */
function refuseFileContent(content: unknown, path: string): void {
  if (!Array.isArray(content)) return;
  content.forEach((block: unknown, index) => {
    if (typeof block !== "object" || block === null) return;
    const { type, source, content: nested } = block as { type?: unknown; source?: { type?: unknown }; content?: unknown };
    if (source?.type === "file" || type === "container_upload") {
      throw refused(`${path}.${index}: Files API content is not available through this gateway (uploaded files would be shared by every tenant)`);
    }
    if (type === "tool_result") refuseFileContent(nested, `${path}.${index}.content`);
  });
}

function refused(message: string): GatewayError {
  return new GatewayError("invalid_request_error", message);
}
