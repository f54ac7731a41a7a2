import type { Thresholds, Tier } from "../classify/index.js";

/** Ratings per usage scope: "~light", "~standard", "~deep", and audited "~light>standard", "~standard>deep". */
export type RatingCounts = Record<string, { up: number; down: number }>;

export interface TuneBounds {
  standard: { min: number; max: number };
  deep: { min: number; max: number };
}

/** Ratings a tier (and the one it is compared with) needs before its threshold may move. */
export const MIN_RATINGS = 20;
/** How much lower a tier's approval must be than the tier above's for its threshold to move. */
export const APPROVAL_MARGIN = 0.05;
/** How far a threshold moves per step (at most one step an hour). */
export const THRESHOLD_STEP = 0.02;

function approval(counts: { up: number; down: number } | undefined): number | null {
  if (!counts || counts.up + counts.down < MIN_RATINGS) return null;
  return counts.up / (counts.up + counts.down);
}

/**
 * Thresholds moved by the tenant's own feedback, or null when nothing should move. For
 * each boundary (light / standard, standard / deep): when the lower tier's approval is
 * more than APPROVAL_MARGIN below the tier above's (measured on the audit sample, which
 * served the lower tier's own traffic one tier up, when it has enough ratings; else on
 * the tier above's own traffic), the upper tier's threshold goes down one step, sending
 * more traffic up, never below the tenant's bound (nor above its current value: the
 * gateway only ever moves traffic up; the tenant moves it back).
 */
export function tunedThresholds(counts: RatingCounts, current: Thresholds, bounds: TuneBounds): Thresholds | null {
  const next = { ...current };
  const boundaries: Array<[lower: Tier, upper: "standard" | "deep"]> = [
    ["light", "standard"],
    ["standard", "deep"],
  ];
  for (const [lower, upper] of boundaries) {
    const below = approval(counts[`~${lower}`]);
    const above = approval(counts[`~${lower}>${upper}`]) ?? approval(counts[`~${upper}`]);
    if (below === null || above === null || below >= above - APPROVAL_MARGIN) continue;
    const lowered = Math.max(bounds[upper].min, round(current[upper] - THRESHOLD_STEP));
    if (lowered < current[upper]) next[upper] = lowered;
  }
  if (next.standard > next.deep) next.standard = next.deep;
  return next.standard !== current.standard || next.deep !== current.deep ? next : null;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
