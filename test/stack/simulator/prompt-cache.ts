import { createHash } from "node:crypto";
import type { PromptSegment } from "./prompt.js";
import type { ModelSpec } from "./profiles.js";
import { estimateTokens } from "./tokens.js";

export interface InputUsage {
  inputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  /** Cache writes split by TTL, as in the API's `usage.cache_creation`. */
  cacheCreation: { ephemeral5mInputTokens: number; ephemeral1hInputTokens: number };
}

const TTL_MS = { "5m": 5 * 60_000, "1h": 60 * 60_000 } as const;
type Ttl = keyof typeof TTL_MS;

interface Breakpoint {
  key: string;
  /** Estimated tokens of the prefix up to and including the marked segment. */
  prefixTokens: number;
  ttl: Ttl;
}

/** Prefixes ending at a `cache_control` mark that are long enough to be cached, shortest first. */
function cacheBreakpoints(segments: readonly PromptSegment[], model: ModelSpec): { breakpoints: Breakpoint[]; totalTokens: number } {
  const prefixHash = createHash("sha256").update(model.id);
  const breakpoints: Breakpoint[] = [];
  let totalTokens = 0;
  for (const segment of segments) {
    totalTokens += estimateTokens(segment.text);
    prefixHash.update(`\u0000${segment.text.length}:${segment.text}`);
    if (segment.cacheControl !== undefined && totalTokens >= model.minCacheableTokens) {
      breakpoints.push({
        key: prefixHash.copy().digest("hex"),
        prefixTokens: totalTokens,
        ttl: segment.cacheControl.ttl ?? "5m",
      });
    }
  }
  return { breakpoints, totalTokens };
}

/**
 * Prompt caching keyed by a hash of the model and the prefix content. The longest
 * marked prefix already cached (and not expired) is read; the part of the prompt
 * from there to the last marked prefix is written; the rest is plain input.
 * Every breakpoint of the request is stored or refreshed for its TTL.
 * TTLs are real time, not scaled by the simulator's timeScale.
 */
export class PromptCache {
  readonly #expiresAt = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  apply(segments: readonly PromptSegment[], model: ModelSpec): InputUsage {
    const { breakpoints, totalTokens } = cacheBreakpoints(segments, model);
    const now = this.now();
    const cachedTokens = breakpoints
      .filter((breakpoint) => (this.#expiresAt.get(breakpoint.key) ?? 0) > now)
      .reduce((longest, breakpoint) => Math.max(longest, breakpoint.prefixTokens), 0);

    const written: Record<Ttl, number> = { "5m": 0, "1h": 0 };
    let writtenUpTo = cachedTokens;
    for (const breakpoint of breakpoints) {
      this.#expiresAt.set(breakpoint.key, now + TTL_MS[breakpoint.ttl]);
      if (breakpoint.prefixTokens > writtenUpTo) {
        written[breakpoint.ttl] += breakpoint.prefixTokens - writtenUpTo;
        writtenUpTo = breakpoint.prefixTokens;
      }
    }

    const cacheCreationInputTokens = written["5m"] + written["1h"];
    return {
      inputTokens: totalTokens - cachedTokens - cacheCreationInputTokens,
      cacheCreationInputTokens,
      cacheReadInputTokens: cachedTokens,
      cacheCreation: { ephemeral5mInputTokens: written["5m"], ephemeral1hInputTokens: written["1h"] },
    };
  }

  clear(): void {
    this.#expiresAt.clear();
  }
}
