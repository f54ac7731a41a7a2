import { estimateInputTokens } from "../metering/estimate.js";

/** Shortest prefix each model will cache, in tokens; shorter prefixes are sent unmarked. */
const MIN_CACHEABLE_TOKENS: ReadonlyArray<[prefix: string, tokens: number]> = [["claude-haiku", 2048]];
const DEFAULT_MIN_CACHEABLE_TOKENS = 1024;

interface CacheableRequest {
  model: string;
  system?: unknown;
  tools?: unknown;
  messages: ReadonlyArray<{ content: unknown }>;
}

const EPHEMERAL = { type: "ephemeral" } as const;

/**
 * Marks the stable prefix (tools, then the system prompt) for prompt caching when it
 * is long enough to be cached and the client placed no cache_control of its own.
 * Returns the request unchanged otherwise.
 */
export function withPromptCaching<T extends CacheableRequest>(request: T): T {
  if (hasCacheControl(request)) return request;
  const prefix = estimateInputTokens({ system: request.system, tools: request.tools, messages: [] }).typical;
  if (prefix < minCacheableTokens(request.model)) return request;
  if (typeof request.system === "string" && request.system.length > 0) {
    return { ...request, system: [{ type: "text", text: request.system, cache_control: EPHEMERAL }] };
  }
  if (Array.isArray(request.system) && request.system.length > 0) {
    const system = [...request.system];
    system[system.length - 1] = { ...system[system.length - 1], cache_control: EPHEMERAL };
    return { ...request, system };
  }
  if (Array.isArray(request.tools) && request.tools.length > 0) {
    const tools = [...request.tools];
    tools[tools.length - 1] = { ...tools[tools.length - 1], cache_control: EPHEMERAL };
    return { ...request, tools };
  }
  return request;
}

function minCacheableTokens(model: string): number {
  return MIN_CACHEABLE_TOKENS.find(([prefix]) => model.startsWith(prefix))?.[1] ?? DEFAULT_MIN_CACHEABLE_TOKENS;
}

function hasCacheControl(request: CacheableRequest): boolean {
  const blocks = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  const marked = (block: unknown) => typeof block === "object" && block !== null && "cache_control" in block;
  return (
    blocks(request.system).some(marked) ||
    blocks(request.tools).some(marked) ||
    request.messages.some((message) => blocks(message.content).some(marked))
  );
}
