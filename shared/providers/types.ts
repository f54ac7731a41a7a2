/** The kinds of upstream endpoint a region can call Claude on. */
export type ProviderKind = "anthropic" | "bedrock" | "vertex";

/** One Messages call, in Anthropic's terms; each provider translates it to its own wire format. */
export interface ProviderRequest {
  /** edgegate's (Anthropic's) model id, e.g. "claude-sonnet-4-6"; the provider maps it to its own. */
  model: string;
  /** The Messages request body without `model` (and, for count_tokens, without `max_tokens` / `stream`). */
  body: Record<string, unknown>;
  stream: boolean;
  /** The client's `anthropic-version` and `anthropic-beta` values. */
  anthropicVersion: string;
  betas: readonly string[];
  signal: AbortSignal;
}

/**
 * One upstream endpoint: the Anthropic API, a Bedrock region, a Vertex AI location. Whatever the
 * provider, the answer is in Anthropic's format, so the relay, meter and clients cannot tell which
 * provider served:
 * - success: 200; for streams a body of Anthropic SSE bytes (`event: ...\ndata: {...}\n\n`),
 *   produced incrementally as the provider's own frames arrive; otherwise the Anthropic message JSON.
 *   Model ids in the answer are edgegate's, not the provider's.
 * - errors: Anthropic's status and body `{"type":"error","error":{"type","message"}}`, with
 *   `retry-after` when the provider said when to retry.
 * `send` and `countTokens` reject only when the endpoint could not be reached or the signal aborted.
 */
export interface Provider {
  readonly kind: ProviderKind;
  /** Stable id for logs, headers, metrics and prices: "anthropic", "bedrock:eu-central-1", "vertex:europe-west1". */
  readonly id: string;
  /** The provider's id for one of edgegate's model ids, or null when this endpoint does not serve it. */
  modelId(model: string): string | null;
  send(request: ProviderRequest): Promise<Response>;
  countTokens(request: ProviderRequest): Promise<Response>;
}
