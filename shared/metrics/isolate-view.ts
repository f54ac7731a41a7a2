import type { Increments } from "./samples.js";

/** Minutes an isolate keeps in memory. */
export const ISOLATE_MINUTES = 60;
/**
 * Fields all kept minutes may hold together (about 17 MB of a 128 MB isolate); increments
 * of fields beyond are counted as dropped.
 */
const MAX_FIELDS = 100_000;

/**
 * The metrics of the requests this isolate settled, per minute, as the settlement wrote
 * them: the same fields, so they read like the stored ones. Lost when the isolate goes.
 */
export class IsolateMetrics {
  private readonly minutes = new Map<number, Map<string, number>>();
  private fieldCount = 0;
  /** Increments left out because their minute was full (reported with the isolate's answers). */
  dropped = 0;

  record(minute: number, increments: Increments): void {
    let fields = this.minutes.get(minute);
    if (!fields) {
      fields = new Map();
      this.minutes.set(minute, fields);
      for (const [old, oldFields] of this.minutes) {
        if (old > minute - ISOLATE_MINUTES) continue;
        this.fieldCount -= oldFields.size;
        this.minutes.delete(old);
      }
    }
    for (const [field, amount] of increments) {
      const current = fields.get(field);
      if (current !== undefined) fields.set(field, current + amount);
      else if (this.fieldCount >= MAX_FIELDS) this.dropped++;
      else {
        fields.set(field, amount);
        this.fieldCount++;
      }
    }
  }

  /** Minutes first..last, each with its fields (empty where nothing was settled). */
  range(first: number, last: number): Array<{ startMs: number; fields: ReadonlyMap<string, number> }> {
    return Array.from({ length: Math.max(0, last - first + 1) }, (_, index) => ({
      startMs: (first + index) * 60_000,
      fields: this.minutes.get(first + index) ?? new Map<string, number>(),
    }));
  }
}
