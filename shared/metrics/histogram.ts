/**
 * Fixed log-scale histogram buckets: every isolate and region counts into the same
 * buckets, so counts add up across them and percentiles of the sum are exact to one
 * bucket. Each bucket is 2^(1/4) (about 19%) wider than the one below.
 */
export interface Histogram {
  /** Upper bounds of the buckets, ascending; a last, unbounded bucket holds the rest. */
  bounds: readonly number[];
}

function logScale(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => Math.round(first * 2 ** (k / 4) * 100) / 100);
}

/** Time to first token, ms: 10 ms to about 130 s. */
export const TTFT_MS: Histogram = { bounds: logScale(10, 55) };
/** Output tokens per second: 1 to about 2,000. */
export const TOKENS_PER_SECOND: Histogram = { bounds: logScale(1, 45) };

/** The bucket a value falls in: the first whose upper bound is at least the value (bounds.length: above them all). */
export function bucketOf(histogram: Histogram, value: number): number {
  const { bounds } = histogram;
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (bounds[middle]! >= value) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Observations in bucket counts. */
export function histogramCount(counts: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const count of counts.values()) total += count;
  return total;
}

/**
 * The p-quantile (0..1) of bucket counts, as the upper bound of the bucket it falls in
 * (the last bucket reports the highest bound); null without observations.
 */
export function quantile(histogram: Histogram, counts: ReadonlyMap<number, number>, p: number): number | null {
  const total = histogramCount(counts);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (let bucket = 0; bucket <= histogram.bounds.length; bucket++) {
    seen += counts.get(bucket) ?? 0;
    if (seen >= rank) return histogram.bounds[Math.min(bucket, histogram.bounds.length - 1)]!;
  }
  return histogram.bounds.at(-1)!;
}
