import type { BucketState } from "./buckets.js";

/** What an admission left: the tightest remaining of each per-minute limit, and the budget room (null: unknown). */
export interface Headroom {
  requests: number;
  tokens: number;
  /** Micro-USD left to reserve; Infinity without a budget; null when the admission does not say. */
  budgetMicroUsd: number | null;
}

export function headroomOf(states: readonly BucketState[], budgetMicroUsd: number | null): Headroom {
  let requests = Number.POSITIVE_INFINITY;
  let tokens = Number.POSITIVE_INFINITY;
  for (const state of states) {
    if (state.bucket.dimension === "requests") requests = Math.min(requests, state.remaining);
    if (state.bucket.dimension === "tokens") tokens = Math.min(tokens, state.remaining);
  }
  return { requests, tokens, budgetMicroUsd };
}

interface Seen extends Headroom {
  at: number;
}

const MAX_ENTRIES = 10_000;

/**
 * An isolate's recent view of each caller's headroom (by key, or key and widget
 * visitor), from its last admission: the upstream call may start while the next
 * admission is in flight only when that view is fresh and shows room for at least two
 * more requests like this one. A caller it has not seen gets no head start.
 */
export class HeadroomView {
  private readonly entries = new Map<string, Seen>();
  /** Upstream calls started before an admission that then refused: each may have cost something. */
  refusedAfterStart = 0;

  constructor(private readonly freshForMs: number) {}

  note(caller: string, headroom: Headroom, now: number): void {
    this.entries.delete(caller);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(caller, { ...headroom, at: now });
  }

  /**
   * Whether the upstream call may start before admission; when it may, the request's
   * share is taken from the view at once, so that concurrent requests cannot all count
   * on the same room.
   */
  claimHeadStart(caller: string, request: { tokens: number; reserveMicroUsd: number }, now: number): boolean {
    const seen = this.entries.get(caller);
    if (!seen || now - seen.at > this.freshForMs) return false;
    const allowed =
      seen.requests >= 2 && seen.tokens >= 2 * request.tokens && seen.budgetMicroUsd !== null && seen.budgetMicroUsd >= 2 * request.reserveMicroUsd;
    if (allowed) {
      seen.requests -= 1;
      seen.tokens -= request.tokens;
      seen.budgetMicroUsd! -= request.reserveMicroUsd;
    }
    return allowed;
  }

  forget(caller: string): void {
    this.entries.delete(caller);
  }
}
