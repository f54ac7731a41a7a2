import { type BilledUsage, NO_USAGE } from "../pricing/cost.js";
import type { SseEvent } from "../sse/parser.js";
import { parseJsonOrUndefined } from "../text/json.js";

export interface UpstreamErrorEvent {
  type: string;
  message: string;
}

/** What one upstream response produced, as observed while relaying it. */
export interface MeteredResponse {
  model: string | null;
  usage: BilledUsage;
  stopReason: string | null;
  /** message_delta reported the final output count. */
  usageReported: boolean;
  /** Output tokens were estimated from relayed text because the final usage never arrived. */
  estimated: boolean;
  /** Characters of generated content seen (text, tool input JSON, thinking). */
  generatedChars: number;
  /** Content deltas seen: each carries at least one output token. */
  contentDeltas: number;
  /** performance.now() when the first content delta was seen, or null. */
  firstTokenAt: number | null;
  upstreamError: UpstreamErrorEvent | null;
  completed: boolean;
}

/** Rough output-token estimate used only when the upstream never reported usage. */
export const CHARS_PER_TOKEN_ESTIMATE = 4;

interface RawUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: { ephemeral_1h_input_tokens?: number | null } | null;
  server_tool_use?: { web_search_requests?: number | null } | null;
}

/**
 * Accumulates usage from Anthropic stream events (or a whole message). Pure: the
 * caller supplies the clock so the meter can be tested without timing.
 */
export class UsageMeter {
  private model: string | null = null;
  private readonly usage: BilledUsage = { ...NO_USAGE };
  private stopReason: string | null = null;
  private usageReported = false;
  private generatedChars = 0;
  private contentDeltas = 0;
  private firstTokenAt: number | null = null;
  private upstreamError: UpstreamErrorEvent | null = null;
  private completed = false;

  get sawFirstToken(): boolean {
    return this.firstTokenAt !== null;
  }

  observe(event: SseEvent, now: number): void {
    switch (event.event) {
      case "content_block_delta": {
        this.firstTokenAt ??= now;
        const length = deltaLength(parseJsonOrUndefined(event.data));
        if (length !== null) {
          this.contentDeltas += 1;
          this.generatedChars += length;
        }
        return;
      }
      case "message_start": {
        const message = field(parseJsonOrUndefined(event.data), "message");
        this.model = stringField(message, "model") ?? this.model;
        this.applyUsage(field(message, "usage") as RawUsage | undefined);
        return;
      }
      case "message_delta": {
        const data = parseJsonOrUndefined(event.data);
        this.stopReason = stringField(field(data, "delta"), "stop_reason") ?? this.stopReason;
        const usage = field(data, "usage") as RawUsage | undefined;
        this.applyUsage(usage);
        if (typeof usage?.output_tokens === "number") this.usageReported = true;
        return;
      }
      case "message_stop":
        this.completed = true;
        return;
      case "error": {
        const error = field(parseJsonOrUndefined(event.data), "error");
        this.upstreamError = {
          type: stringField(error, "type") ?? "api_error",
          message: stringField(error, "message") ?? "",
        };
        return;
      }
      default:
        return; // ping, content_block_start/stop and future event types carry no usage
    }
  }

  /**
   * What was produced. Without the final usage (the stream was cut), output tokens are
   * estimated: never fewer than the content deltas seen (each carries a token at least)
   * nor than about four characters a token.
   */
  result(): MeteredResponse {
    const usage = { ...this.usage };
    const estimated = !this.usageReported && this.contentDeltas > 0;
    if (estimated) {
      usage.outputTokens = Math.max(usage.outputTokens, this.contentDeltas, Math.ceil(this.generatedChars / CHARS_PER_TOKEN_ESTIMATE));
    }
    return {
      model: this.model,
      usage,
      stopReason: this.stopReason,
      usageReported: this.usageReported,
      estimated,
      generatedChars: this.generatedChars,
      contentDeltas: this.contentDeltas,
      firstTokenAt: this.firstTokenAt,
      upstreamError: this.upstreamError,
      completed: this.completed,
    };
  }

  private applyUsage(raw: RawUsage | undefined): void {
    if (!raw) return;
    if (typeof raw.input_tokens === "number") this.usage.inputTokens = raw.input_tokens;
    if (typeof raw.output_tokens === "number") this.usage.outputTokens = raw.output_tokens;
    if (typeof raw.cache_creation_input_tokens === "number") {
      this.usage.cacheCreationInputTokens = raw.cache_creation_input_tokens;
    }
    if (typeof raw.cache_read_input_tokens === "number") this.usage.cacheReadInputTokens = raw.cache_read_input_tokens;
    const oneHour = raw.cache_creation?.ephemeral_1h_input_tokens;
    if (typeof oneHour === "number") this.usage.cacheCreation1hInputTokens = oneHour;
    const searches = raw.server_tool_use?.web_search_requests;
    if (typeof searches === "number") this.usage.webSearchRequests = searches;
  }
}


function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function stringField(value: unknown, name: string): string | null {
  const found = field(value, name);
  return typeof found === "string" ? found : null;
}

/** Characters of generated content in a delta; null for deltas that carry no tokens (signatures). */
function deltaLength(data: unknown): number | null {
  const delta = field(data, "delta");
  const text = field(delta, "text") ?? field(delta, "partial_json") ?? field(delta, "thinking");
  return typeof text === "string" ? text.length : null;
}
