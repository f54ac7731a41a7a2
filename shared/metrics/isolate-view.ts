import type { Increments } from "./samples.js";

/** Minutes an isolate keeps in memory. */
export const ISOLATE_MINUTES = 60;
/**
 * Fields all kept minutes may hold together (about 17 MB of a 128 MB isolate); when full,
 * the oldest minutes are let go first.
 */
const MAX_FIELDS = 100_000;

/**
 * The metrics of the requests this isolate settled, per minute, as the settlement wrote
 * them: the same fields, so they read like the stored ones. Lost when the isolate goes.
 */
export class IsolateMetrics {
  private readonly minutes = new Map<number, Map<string, number>>();
  private fieldCount = 0;
  /** Increments left out because the view was full with this minute and later ones (reported with the isolate's answers). */
  dropped = 0;

  record(minute: number, increments: Increments): void {
    let fields = this.minutes.get(minute);
    if (!fields) {
      fields = new Map();
      this.minutes.set(minute, fields);
      for (const old of [...this.minutes.keys()]) if (old <= minute - ISOLATE_MINUTES) this.evict(old);
    }
    for (const [field, amount] of increments) {
      const current = fields.get(field);
      if (current !== undefined) {
        fields.set(field, current + amount);
        continue;
      }
      // Full: the oldest minutes make room for newer ones (the present matters most).
      while (this.fieldCount >= MAX_FIELDS && this.evictOldestBefore(minute));
      if (this.fieldCount >= MAX_FIELDS) this.dropped++;
      else {
        fields.set(field, amount);
        this.fieldCount++;
      }
    }
  }

  private evictOldestBefore(minute: number): boolean {
    let oldest: number | null = null;
    for (const kept of this.minutes.keys()) if (kept < minute && (oldest === null || kept < oldest)) oldest = kept;
    if (oldest === null) return false;
    this.evict(oldest);
    return true;
  }

  private evict(minute: number): void {
    this.fieldCount -= this.minutes.get(minute)?.size ?? 0;
    this.minutes.delete(minute);
  }

  /** Minutes first..last, each with its fields (empty where nothing was settled). */
  range(first: number, last: number): Array<{ startMs: number; fields: ReadonlyMap<string, number> }> {
    return Array.from({ length: Math.max(0, last - first + 1) }, (_, index) => ({
      startMs: (first + index) * 60_000,
      fields: this.minutes.get(first + index) ?? new Map<string, number>(),
    }));
  }
}
