/**
 * Weighted, L2-regularised logistic regression over dense features plus
 * hashed n-gram buckets, with one intercept per data family, fitted by
 * L-BFGS. Deterministic: no randomness, fixed iteration order.
 *
 *   z_i = intercept[family_i] + dense_i . wDense + grams_i . wGrams
 *   minimise  sum_i s_i * logloss(target_i, sigmoid(z_i)) / sum_i s_i
 *             + lambdaDense / 2 * |wDense - prior|^2 + lambdaGrams / 2 * |wGrams|^2
 *
 * Per-family intercepts absorb what is constant within a data set (its base
 * rate, its answer format), so the shared weights only learn what separates
 * prompts inside each set. At run time the intercept of the project's own
 * chat-like fixtures serves as the bias.
 */

import type { FeatureRow } from "./featurize.js";

export interface FitInput {
  rows: readonly FeatureRow[];
  targets: readonly number[];
  sampleWeights: readonly number[];
  /** Family index of each row (0 .. families - 1). */
  family: readonly number[];
  families: number;
  denseSize: number;
  gramSize: number;
  /**
   * Dense weights held at a given value instead of fitted (NaN: fitted). For
   * signals the training data cannot teach (request options, which no
   * training row has) and for deliberate priors.
   */
  fixedDense: readonly number[];
  /**
   * Dense weights constrained to be >= 0 (fitted as softplus(u)): signals of
   * difficulty that must never make a prompt look simpler, whatever a
   * benchmark's quirks (one MMLU subject with a weak strong model would
   * otherwise teach "mathematics is easy").
   */
  nonNegativeDense: readonly boolean[];
  /** Prior mean of each dense weight: the L2 penalty pulls towards it (0 when absent). */
  priorDense?: readonly number[];
}

export interface FitOptions {
  lambdaDense: number;
  lambdaGrams: number;
  iterations: number;
}

export interface FittedWeights {
  dense: Float64Array;
  grams: Float64Array;
  intercepts: Float64Array;
  loss: number;
  iterations: number;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** log(1 + e^z), stable. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

export function linearScore(row: FeatureRow, dense: ArrayLike<number>, grams: ArrayLike<number>, bias: number): number {
  let z = bias;
  for (let d = 0; d < row.dense.length; d++) z += (row.dense[d] ?? 0) * (dense[d] ?? 0);
  const { index, value } = row.grams;
  for (let k = 0; k < index.length; k++) z += (value[k] ?? 0) * (grams[index[k] ?? 0] ?? 0);
  return z;
}

export function fitLogistic(input: FitInput, options: FitOptions): FittedWeights {
  const { rows, targets, sampleWeights, family, families, denseSize, gramSize } = input;
  const nParams = denseSize + gramSize + families;
  let totalWeight = 0;
  for (const s of sampleWeights) totalWeight += s;

  // Parameter layout: [dense | grams | intercepts].
  const fixed = (d: number): boolean => !Number.isNaN(input.fixedDense[d] ?? Number.NaN);
  const positive = (d: number): boolean => !fixed(d) && input.nonNegativeDense[d] === true;
  // theta holds u for constrained weights; the weight itself is softplus(u).
  const weightOf = (theta: Float64Array, d: number): number =>
    fixed(d) ? (input.fixedDense[d] ?? 0) : positive(d) ? softplus(theta[d] ?? 0) : (theta[d] ?? 0);
  const dense = new Float64Array(denseSize);
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    for (let d = 0; d < denseSize; d++) dense[d] = weightOf(theta, d);
    grad.fill(0);
    const grams = theta.subarray(denseSize, denseSize + gramSize);
    let loss = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const f = family[i] ?? 0;
      const z = linearScore(row, dense, grams, theta[denseSize + gramSize + f] ?? 0);
      const y = targets[i] ?? 0;
      const s = (sampleWeights[i] ?? 0) / totalWeight;
      loss += s * (softplus(z) - y * z);
      const r = s * (sigmoid(z) - y);
      for (let d = 0; d < denseSize; d++) grad[d] = (grad[d] ?? 0) + r * (row.dense[d] ?? 0);
      const { index, value } = row.grams;
      for (let k = 0; k < index.length; k++) {
        const g = denseSize + (index[k] ?? 0);
        grad[g] = (grad[g] ?? 0) + r * (value[k] ?? 0);
      }
      const b = denseSize + gramSize + f;
      grad[b] = (grad[b] ?? 0) + r;
    }
    for (let d = 0; d < denseSize; d++) {
      if (fixed(d)) {
        grad[d] = 0;
        continue;
      }
      const w = dense[d] ?? 0;
      const off = w - (input.priorDense?.[d] ?? 0);
      loss += (options.lambdaDense / 2) * off * off;
      const g = (grad[d] ?? 0) + options.lambdaDense * off;
      grad[d] = positive(d) ? g * sigmoid(theta[d] ?? 0) : g;
    }
    for (let g = denseSize; g < denseSize + gramSize; g++) {
      const w = theta[g] ?? 0;
      loss += (options.lambdaGrams / 2) * w * w;
      grad[g] = (grad[g] ?? 0) + options.lambdaGrams * w;
    }
    return loss;
  };

  const { theta, loss, iterations } = lbfgs(evaluate, new Float64Array(nParams), options.iterations);
  return {
    dense: Float64Array.from({ length: denseSize }, (_, d) => weightOf(theta, d)),
    grams: theta.slice(denseSize, denseSize + gramSize),
    intercepts: theta.slice(denseSize + gramSize),
    loss,
    iterations,
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] ?? 0) * (b[k] ?? 0);
  return s;
}

/** Limited-memory BFGS (10 pairs) with a backtracking Armijo line search. */
function lbfgs(
  evaluate: (theta: Float64Array, grad: Float64Array) => number,
  start: Float64Array,
  maxIterations: number,
): { theta: Float64Array; loss: number; iterations: number } {
  const memory = 10;
  const n = start.length;
  let theta = start;
  let grad = new Float64Array(n);
  let loss = evaluate(theta, grad);
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rho: number[] = [];
  let iter = 0;
  for (; iter < maxIterations; iter++) {
    // Two-loop recursion: direction = -H * grad.
    const q = grad.slice();
    const alpha: number[] = [];
    for (let k = sList.length - 1; k >= 0; k--) {
      const a = (rho[k] ?? 0) * dot(sList[k]!, q);
      alpha[k] = a;
      const yk = yList[k]!;
      for (let j = 0; j < n; j++) q[j] = (q[j] ?? 0) - a * (yk[j] ?? 0);
    }
    if (sList.length > 0) {
      const last = sList.length - 1;
      const gamma = dot(sList[last]!, yList[last]!) / dot(yList[last]!, yList[last]!);
      for (let j = 0; j < n; j++) q[j] = (q[j] ?? 0) * gamma;
    }
    for (let k = 0; k < sList.length; k++) {
      const b = (rho[k] ?? 0) * dot(yList[k]!, q);
      const sk = sList[k]!;
      for (let j = 0; j < n; j++) q[j] = (q[j] ?? 0) + sk[j]! * ((alpha[k] ?? 0) - b);
    }
    const direction = q.map((v) => -v);
    let slope = dot(direction, grad);
    if (slope >= 0) {
      // Not a descent direction: restart from steepest descent.
      sList.length = 0;
      yList.length = 0;
      rho.length = 0;
      for (let j = 0; j < n; j++) direction[j] = -(grad[j] ?? 0);
      slope = dot(direction, grad);
    }
    let step = iter === 0 ? 1 / Math.max(1, Math.sqrt(dot(grad, grad))) : 1;
    let next = new Float64Array(n);
    let nextGrad = new Float64Array(n);
    let nextLoss = Number.POSITIVE_INFINITY;
    for (let tries = 0; tries < 30; tries++) {
      for (let j = 0; j < n; j++) next[j] = (theta[j] ?? 0) + step * (direction[j] ?? 0);
      nextLoss = evaluate(next, nextGrad);
      if (nextLoss <= loss + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(nextLoss < loss)) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      s[j] = (next[j] ?? 0) - (theta[j] ?? 0);
      y[j] = (nextGrad[j] ?? 0) - (grad[j] ?? 0);
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      sList.push(s);
      yList.push(y);
      rho.push(1 / sy);
      if (sList.length > memory) {
        sList.shift();
        yList.shift();
        rho.shift();
      }
    }
    const improvement = loss - nextLoss;
    theta = next;
    grad = nextGrad;
    loss = nextLoss;
    next = new Float64Array(n);
    nextGrad = new Float64Array(n);
    if (improvement < 1e-10 * Math.max(1, Math.abs(loss))) break;
  }
  return { theta, loss, iterations: iter };
}
