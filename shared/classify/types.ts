/**
 * Public types of the complexity classifier.
 *
 * `MessagesRequestLike` is deliberately a loose structural view of an
 * Anthropic Messages API request: the classifier only reads from it and must
 * tolerate anything a client may send (missing fields, wrong types, unknown
 * block kinds). Nothing here is validated; the extractor checks every value
 * with `typeof` before using it.
 */

/** Model tiers, cheapest first. */
export const TIERS = ["light", "standard", "deep"] as const;
export type Tier = (typeof TIERS)[number];

/** score >= standard -> "standard"; score >= deep -> "deep"; otherwise "light". */
export interface Thresholds {
  standard: number;
  deep: number;
}

export interface Classification {
  /** Complexity score in [0, 1] (logistic output of the weighted model). */
  score: number;
  tier: Tier;
  /**
   * Feature ids (short kebab-case) that drove the score, most important first:
   * the largest positive contributions; when nothing pushed the score up, the
   * strongest simplicity signals (e.g. "greeting", "support-chat").
   */
  reasons: string[];
}

export interface ContentBlockLike {
  type: string;
  text?: string;
  [k: string]: unknown;
}

export interface MessageLike {
  role: string;
  content: string | ContentBlockLike[];
}

export interface MessagesRequestLike {
  system?: string | Array<{ type: string; text?: string }>;
  messages: MessageLike[];
  tools?: unknown[];
  max_tokens?: number;
  thinking?: { type: string; budget_tokens?: number };
}

/**
 * A fitted model as shipped in model-data.ts (written by `npm run
 * train:router`): the logistic model's bias and per-feature weights, the
 * default tier thresholds chosen on held-out folds, and the hashed n-gram
 * weights as int8 q on a square-root scale, w = sign(q) * (q / 127)^2 *
 * gramMax, base64-encoded.
 */
export interface FittedModel {
  bias: number;
  weights: Readonly<Record<string, number>>;
  /** Mean feature values over the training fixtures (reasons are measured from them). */
  reference: Readonly<Record<string, number>>;
  thresholds: Thresholds;
  gramBits: number;
  gramMax: number;
  gramWeights: string;
}
