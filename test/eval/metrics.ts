/**
 * Router evaluation metrics (pure functions, no I/O).
 *
 * Definitions follow RouteLLM (see /work/shared/router-data/README.md):
 *
 *   quality(x)  mean quality when the share x of prompts with the highest
 *               scores goes to the strong model and the rest to the weak one
 *   PGR(x)      (quality(x) - weak mean) / (strong mean - weak mean)
 *   APGR        area under PGR(x) for x in [0, 1]
 *   CPT(p)      smallest share of strong calls x with PGR(x) >= p
 *
 * Ties: prompts with equal scores are one group; inside a group the curve is
 * the straight line between the group's end points, i.e. the expected value
 * under random tie-breaking. A router that gives every prompt the same score
 * is therefore a random router (APGR 0.5), and the result does not depend on
 * input order.
 *
 * Two areas are reported:
 *   apgr         exact trapezoid over every tie-group breakpoint (primary)
 *   apgrDiscrete RouteLLM-style: PGR read at 11 evenly spaced strong-call
 *                shares (0%, 10%, ..., 100%) and integrated by trapezoid
 */

export interface CurvePoint {
  /** Share of prompts routed to the strong model, 0..1. */
  share: number;
  /** Mean quality at that share. */
  quality: number;
  /** Performance gap recovered at that share. */
  pgr: number;
}

export interface RouterCurve {
  n: number;
  weakMean: number;
  strongMean: number;
  points: CurvePoint[];
}

function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Indices sorted by score descending; NaN scores last; stable. */
function orderByScore(scores: readonly number[]): number[] {
  const idx = scores.map((_, i) => i);
  const key = (i: number): number => {
    const v = scores[i] ?? Number.NaN;
    return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
  };
  idx.sort((a, b) => key(b) - key(a) || a - b);
  return idx;
}

/** Quality / PGR curve with one point per tie group (plus the origin). */
export function routerCurve(
  scores: readonly number[],
  weak: readonly number[],
  strong: readonly number[],
): RouterCurve {
  const n = scores.length;
  if (weak.length !== n || strong.length !== n) throw new Error("length mismatch");
  const weakMean = mean(weak);
  const strongMean = mean(strong);
  const gap = strongMean - weakMean;
  const pgrOf = (q: number): number => (gap === 0 ? Number.NaN : (q - weakMean) / gap);
  const points: CurvePoint[] = [{ share: 0, quality: weakMean, pgr: pgrOf(weakMean) }];
  if (n === 0) return { n, weakMean, strongMean, points };
  const order = orderByScore(scores);
  let sumGain = 0;
  let k = 0;
  while (k < n) {
    const first = order[k] ?? 0;
    const s0 = scores[first] ?? Number.NaN;
    let j = k;
    while (j < n) {
      const idx = order[j] ?? 0;
      const s = scores[idx] ?? Number.NaN;
      if (!(s === s0 || (Number.isNaN(s) && Number.isNaN(s0)))) break;
      sumGain += (strong[idx] ?? 0) - (weak[idx] ?? 0);
      j++;
    }
    const q = weakMean + sumGain / n;
    points.push({ share: j / n, quality: q, pgr: pgrOf(q) });
    k = j;
  }
  return { n, weakMean, strongMean, points };
}

/** Area under the PGR curve by trapezoid over all breakpoints. */
export function apgr(curve: RouterCurve): number {
  let area = 0;
  const pts = curve.points;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1];
    const b = pts[i];
    if (a === undefined || b === undefined) continue;
    area += ((a.pgr + b.pgr) / 2) * (b.share - a.share);
  }
  return area;
}

/** PGR at an arbitrary share, interpolating linearly inside tie groups. */
export function pgrAt(curve: RouterCurve, share: number): number {
  const pts = curve.points;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1];
    const b = pts[i];
    if (a === undefined || b === undefined) continue;
    if (share <= b.share + 1e-12) {
      const w = b.share === a.share ? 1 : (share - a.share) / (b.share - a.share);
      return a.pgr + (b.pgr - a.pgr) * Math.min(1, Math.max(0, w));
    }
  }
  const last = pts[pts.length - 1];
  return last === undefined ? Number.NaN : last.pgr;
}

/** RouteLLM-style area: PGR at `steps + 1` evenly spaced shares, trapezoid. */
export function apgrDiscrete(curve: RouterCurve, steps = 10): number {
  let area = 0;
  let prev = pgrAt(curve, 0);
  for (let i = 1; i <= steps; i++) {
    const cur = pgrAt(curve, i / steps);
    area += (prev + cur) / 2 / steps;
    prev = cur;
  }
  return area;
}

/**
 * Call-performance threshold: smallest strong-call share at which PGR reaches
 * `target` (0..1), interpolating linearly; NaN if never reached.
 */
export function cpt(curve: RouterCurve, target: number): number {
  const pts = curve.points;
  const first = pts[0];
  if (first !== undefined && first.pgr >= target) return first.share;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1];
    const b = pts[i];
    if (a === undefined || b === undefined) continue;
    if (b.pgr >= target) {
      if (b.pgr === a.pgr) return b.share;
      const w = (target - a.pgr) / (b.pgr - a.pgr);
      return a.share + (b.share - a.share) * Math.min(1, Math.max(0, w));
    }
  }
  return Number.NaN;
}

/** Deterministic PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random-router baseline: APGR averaged over `trials` routers drawing uniform
 * random scores from a fixed seed. (Its expected value is exactly 0.5.)
 */
export function randomApgr(
  weak: readonly number[],
  strong: readonly number[],
  trials = 20,
  seed = 12345,
): number {
  const rnd = mulberry32(seed);
  let total = 0;
  for (let t = 0; t < trials; t++) {
    const scores = weak.map(() => rnd());
    total += apgr(routerCurve(scores, weak, strong));
  }
  return total / trials;
}

/** Quality and PGR when exactly the prompts flagged `toStrong` use the strong model. */
export function operatingPoint(
  toStrong: readonly boolean[],
  weak: readonly number[],
  strong: readonly number[],
): CurvePoint {
  const n = toStrong.length;
  let q = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (toStrong[i] === true) {
      q += strong[i] ?? 0;
      k++;
    } else {
      q += weak[i] ?? 0;
    }
  }
  const quality = n === 0 ? Number.NaN : q / n;
  const w = mean(weak);
  const s = mean(strong);
  return { share: n === 0 ? Number.NaN : k / n, quality, pgr: s === w ? Number.NaN : (quality - w) / (s - w) };
}

/** ROC AUC by the rank-sum (Mann-Whitney) statistic with average ranks for ties. */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number {
  const n = scores.length;
  const idx = scores.map((_, i) => i).sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0));
  let rankSumPos = 0;
  let pos = 0;
  let k = 0;
  while (k < n) {
    let j = k;
    const s0 = scores[idx[k] ?? 0] ?? 0;
    while (j < n && (scores[idx[j] ?? 0] ?? 0) === s0) j++;
    const avgRank = (k + 1 + j) / 2; // ranks k+1 .. j
    for (let t = k; t < j; t++) {
      if ((labels[idx[t] ?? 0] ?? 0) >= 0.5) {
        rankSumPos += avgRank;
        pos++;
      }
    }
    k = j;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function accuracy(predicted: readonly boolean[], labels: readonly number[]): number {
  if (predicted.length === 0) return Number.NaN;
  let ok = 0;
  for (let i = 0; i < predicted.length; i++) {
    if (predicted[i] === (labels[i] ?? 0) >= 0.5) ok++;
  }
  return ok / predicted.length;
}

export function shares<T extends string>(values: readonly T[], keys: readonly T[]): Record<T, number> {
  const out = {} as Record<T, number>;
  for (const k of keys) out[k] = 0;
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  const n = values.length;
  for (const k of keys) out[k] = n === 0 ? 0 : out[k] / n;
  return out;
}
