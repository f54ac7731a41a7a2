/** Prices in USD per million tokens, as Anthropic lists them. */
export interface TokenPrices {
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
}

export interface ModelPrice extends TokenPrices {
  /**
   * Long-context pricing: when a request's input (input + cache writes + cache reads)
   * exceeds `aboveInputTokens`, every token of that request is billed at these rates.
   */
  longContext?: TokenPrices & { aboveInputTokens: number };
}

/** Server tools billed per use, in USD per use (web search: $10 per 1,000 searches). */
export const SERVER_TOOL_PRICES = { webSearchUsd: 0.01 } as const;

/** A model's rates from its input and output prices, with the standard cache multipliers (1.25x, 2x, 0.1x). */
function standard(input: number, output: number): TokenPrices {
  return { input, output, cacheWrite5m: input * 1.25, cacheWrite1h: input * 2, cacheRead: input / 10 };
}

/** Anthropic's long-context rates (over 200k input tokens) for the models with a 1M-token context. */
const LONG_CONTEXT = 200_000;
const withLongContext = (base: TokenPrices, input: number, output: number): ModelPrice => ({
  ...base,
  longContext: { ...standard(input, output), aboveInputTokens: LONG_CONTEXT },
});

const OPUS_4_5 = standard(5, 25);
const OPUS_4 = standard(15, 75);
const SONNET = standard(3, 15);
const SONNET_LONG = withLongContext(SONNET, 6, 22.5);
const HAIKU_4_5 = standard(1, 5);
const HAIKU_3_5 = standard(0.8, 4);
/** Claude Haiku 3's cache rates are listed rounded: $0.30 / $0.50 / $0.03. */
const HAIKU_3: TokenPrices = { input: 0.25, output: 1.25, cacheWrite5m: 0.3, cacheWrite1h: 0.5, cacheRead: 0.03 };

/**
 * The list prices of every Claude model, current and legacy (see README). A model id
 * is priced by its exact entry, else without its date suffix (`-20250929`) or
 * `-latest`; a model with no price is refused, never priced by a guess. Operators add
 * or override prices with the PRICING_JSON variable; prices live here, never in logic.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  "claude-opus-4-7": OPUS_4_5,
  "claude-opus-4-6": withLongContext(OPUS_4_5, 10, 37.5),
  "claude-opus-4-5": OPUS_4_5,
  "claude-opus-4-1": OPUS_4,
  "claude-opus-4-0": OPUS_4,
  "claude-opus-4": OPUS_4,
  "claude-sonnet-4-6": SONNET_LONG,
  "claude-sonnet-4-5": SONNET_LONG,
  "claude-sonnet-4-0": SONNET_LONG,
  "claude-sonnet-4": SONNET_LONG,
  "claude-haiku-4-5": HAIKU_4_5,
  "claude-3-7-sonnet": SONNET,
  "claude-3-5-sonnet": SONNET,
  "claude-3-5-haiku": HAIKU_3_5,
  "claude-3-opus": OPUS_4,
  "claude-3-sonnet": SONNET,
  "claude-3-haiku": HAIKU_3,
  "claude-2.1": standard(8, 24),
  "claude-2.0": standard(8, 24),
  "claude-instant-1.2": standard(0.8, 2.4),
};
