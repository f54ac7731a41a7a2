import { type ModelPrice, SERVER_TOOL_PRICES, type TokenPrices } from "./prices.js";

/** Everything a request is billed for. */
export interface BilledUsage {
  inputTokens: number;
  outputTokens: number;
  /** All cache writes; `cacheCreation1hInputTokens` of them with the 1-hour TTL. */
  cacheCreationInputTokens: number;
  cacheCreation1hInputTokens: number;
  cacheReadInputTokens: number;
  webSearchRequests: number;
}

export const NO_USAGE: Readonly<BilledUsage> = {
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationInputTokens: 0,
  cacheCreation1hInputTokens: 0,
  cacheReadInputTokens: 0,
  webSearchRequests: 0,
};

/**
 * Prices as integers: nano-dollars per token. A price in USD per million tokens times
 * 1,000 is nano-dollars per token, so every listed price (at most three decimals per
 * million tokens) is a whole number, and a request's cost is exact integer arithmetic.
 */
interface NanoRates {
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
}

export interface PricedModel {
  model: string;
  rates: NanoRates;
  longContext: (NanoRates & { aboveInputTokens: number }) | null;
}

export interface PriceTable {
  /** The model's price, or null when the table has none (such a model is refused). */
  priceOf(model: string): PricedModel | null;
  /** Every priced model id, for model lists. */
  models(): string[];
}

const NANO_PER_MICRO = 1_000;
const WEB_SEARCH_NANO = Math.round(SERVER_TOOL_PRICES.webSearchUsd * 1e9);

export function priceTable(prices: Readonly<Record<string, ModelPrice>>): PriceTable {
  const byModel = new Map<string, PricedModel>();
  for (const [model, price] of Object.entries(prices)) {
    byModel.set(model, {
      model,
      rates: nanoRates(price, model),
      longContext: price.longContext ? { ...nanoRates(price.longContext, model), aboveInputTokens: price.longContext.aboveInputTokens } : null,
    });
  }
  return {
    priceOf: (model) => byModel.get(model) ?? byModel.get(canonicalModel(model)) ?? null,
    models: () => [...byModel.keys()],
  };
}

/** `claude-sonnet-4-5-20250929` and `claude-3-7-sonnet-latest` are priced as their family. */
export function canonicalModel(model: string): string {
  return model.replace(/-(\d{8}|latest)$/, "");
}

function nanoRates(price: TokenPrices, model: string): NanoRates {
  const nano = (usdPerMillion: number, what: string): number => {
    const value = usdPerMillion * 1_000;
    const whole = Math.round(value);
    if (!(usdPerMillion >= 0) || Math.abs(value - whole) > 1e-6) {
      throw new Error(`The ${what} price of ${model} (${usdPerMillion}) must be >= 0 with at most 3 decimals per million tokens.`);
    }
    return whole;
  };
  return {
    input: nano(price.input, "input"),
    output: nano(price.output, "output"),
    cacheWrite5m: nano(price.cacheWrite5m, "cacheWrite5m"),
    cacheWrite1h: nano(price.cacheWrite1h, "cacheWrite1h"),
    cacheRead: nano(price.cacheRead, "cacheRead"),
  };
}

/** The rates a request is billed at: long-context rates when its input is above the model's threshold. */
function ratesFor(priced: PricedModel, inputTokens: number): NanoRates {
  return priced.longContext && inputTokens > priced.longContext.aboveInputTokens ? priced.longContext : priced.rates;
}

/** List price, in basis points: an endpoint's price relative to it (regional endpoints: 11,000). */
export const LIST_PRICE_BASIS_POINTS = 10_000;

/**
 * Cost in integer micro-dollars: the exact cost in nano-dollars (times the endpoint's
 * price in basis points of list price), rounded up once per request (at most $0.000001
 * over, never under).
 */
export function costMicroUsd(usage: BilledUsage, priced: PricedModel, basisPoints = LIST_PRICE_BASIS_POINTS): number {
  const oneHour = Math.min(usage.cacheCreation1hInputTokens, usage.cacheCreationInputTokens);
  const fiveMinute = usage.cacheCreationInputTokens - oneHour;
  const rates = ratesFor(priced, usage.inputTokens + usage.cacheCreationInputTokens + usage.cacheReadInputTokens);
  const nano =
    usage.inputTokens * rates.input +
    usage.outputTokens * rates.output +
    fiveMinute * rates.cacheWrite5m +
    oneHour * rates.cacheWrite1h +
    usage.cacheReadInputTokens * rates.cacheRead +
    usage.webSearchRequests * WEB_SEARCH_NANO;
  return ceilDiv(nano * basisPoints, NANO_PER_MICRO * LIST_PRICE_BASIS_POINTS);
}

/** What a request can cost at most, from bounds the gateway knows before calling the upstream. */
export interface CostBound {
  /** Input tokens the request cannot exceed (every byte of text a token), over every server-side iteration. */
  inputTokens: number;
  outputTokens: number;
  webSearches: number;
}

/**
 * The most a request can cost: every input token at the dearest input rate (a 1-hour
 * cache write), every output token at the output rate, long-context rates whenever the
 * input may cross the threshold, and every allowed server tool use.
 */
export function worstCaseCostMicroUsd(bound: CostBound, priced: PricedModel, basisPoints = LIST_PRICE_BASIS_POINTS): number {
  const rates = ratesFor(priced, bound.inputTokens);
  const inputRate = Math.max(rates.input, rates.cacheWrite5m, rates.cacheWrite1h);
  const nano = bound.inputTokens * inputRate + bound.outputTokens * rates.output + bound.webSearches * WEB_SEARCH_NANO;
  return ceilDiv(nano * basisPoints, NANO_PER_MICRO * LIST_PRICE_BASIS_POINTS);
}

/** Integer division rounded up, exact for the integers a cost is made of (below 2^53). */
function ceilDiv(numerator: number, denominator: number): number {
  const quotient = Math.floor(numerator / denominator);
  const remainder = numerator - quotient * denominator;
  return remainder > 0 ? quotient + 1 : quotient;
}

/** Integer micro-dollars as an exact decimal string of dollars ("0.000240"). */
export function formatUsd(microUsd: number): string {
  const sign = microUsd < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(microUsd));
  return `${sign}${Math.floor(abs / 1e6)}.${String(abs % 1e6).padStart(6, "0")}`;
}

/** Integer micro-dollars as a JSON number of dollars with no float artefacts (0.00024, not 0.00023999999999999998). */
export function usdNumber(microUsd: number): number {
  return Number(formatUsd(microUsd));
}
