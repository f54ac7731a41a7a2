import { describe, expect, it } from "vitest";
import { type BilledUsage, costMicroUsd, formatUsd, NO_USAGE, priceTable, usdNumber, worstCaseCostMicroUsd } from "../../shared/pricing/cost.js";
import { DEFAULT_PRICES } from "../../shared/pricing/prices.js";

const prices = priceTable(DEFAULT_PRICES);
const usage = (fields: Partial<BilledUsage>): BilledUsage => ({ ...NO_USAGE, ...fields });
const priced = (model: string) => {
  const found = prices.priceOf(model);
  if (!found) throw new Error(`no price for ${model}`);
  return found;
};
const MILLION = 1_000_000;

describe("the price table", () => {
  it("prices every model at its own list price, legacy ones included", () => {
    // 100k input and 100k output tokens cost exactly a tenth of input + output dollars.
    const listed: Array<[string, number]> = [
      ["claude-opus-4-7", 30],
      ["claude-opus-4-5-20251101", 30],
      ["claude-opus-4-1-20250805", 90],
      ["claude-opus-4-20250514", 90],
      ["claude-opus-4-0", 90],
      ["claude-3-opus-20240229", 90],
      ["claude-sonnet-4-6", 18],
      ["claude-sonnet-4-5-20250929", 18],
      ["claude-sonnet-4-20250514", 18],
      ["claude-3-7-sonnet-latest", 18],
      ["claude-3-5-sonnet-20241022", 18],
      ["claude-haiku-4-5-20251001", 6],
      ["claude-3-5-haiku-20241022", 4.8],
      ["claude-3-haiku-20240307", 1.5],
    ];
    for (const [model, dollars] of listed) {
      expect(costMicroUsd(usage({ inputTokens: 100_000, outputTokens: 100_000 }), priced(model)), model).toBe(dollars * 1e5);
    }
  });

  it("has no price for a model it does not know (such a model is refused, never guessed)", () => {
    expect(prices.priceOf("claude-opus-5")).toBeNull();
    expect(prices.priceOf("gpt-4o")).toBeNull();
  });

  it("bills 1-hour cache writes at twice the input price and 5-minute ones at 1.25x", () => {
    const opus = priced("claude-opus-4-7");
    expect(costMicroUsd(usage({ cacheCreationInputTokens: MILLION, cacheCreation1hInputTokens: MILLION }), opus)).toBe(10e6);
    expect(costMicroUsd(usage({ cacheCreationInputTokens: MILLION }), opus)).toBe(6.25e6);
    expect(costMicroUsd(usage({ cacheCreationInputTokens: 3 * MILLION, cacheCreation1hInputTokens: MILLION }), opus)).toBe(22.5e6);
  });

  it("is exact to the nano-dollar and rounds up once per request", () => {
    // Claude Haiku 3 cache reads: $0.03 per million = 30 nano-dollars a token.
    const haiku3 = priced("claude-3-haiku");
    expect(costMicroUsd(usage({ cacheReadInputTokens: 100 }), haiku3)).toBe(3);
    expect(costMicroUsd(usage({ cacheReadInputTokens: 101 }), haiku3)).toBe(4);
    expect(costMicroUsd(usage({ inputTokens: 3, outputTokens: 1 }), priced("claude-3-5-haiku"))).toBe(7); // 2.4 + 4 = 6.4 -> 7
  });

  it("bills the long-context premium for the whole request once its input passes 200k tokens", () => {
    const sonnet = priced("claude-sonnet-4-6");
    expect(costMicroUsd(usage({ inputTokens: 200_000, outputTokens: 1_000 }), sonnet)).toBe(600_000 + 15_000);
    expect(costMicroUsd(usage({ inputTokens: 150_000, cacheReadInputTokens: 50_001, outputTokens: 1_000 }), sonnet)).toBe(
      900_000 + 30_001 + 22_500,
    );
  });

  it("bills web searches at $10 per thousand", () => {
    expect(costMicroUsd(usage({ webSearchRequests: 3 }), priced("claude-sonnet-4-6"))).toBe(30_000);
  });

  it("reserves the worst case: input at the 1-hour cache rate, long-context rates when the input may pass the threshold", () => {
    const sonnet = priced("claude-sonnet-4-6");
    expect(worstCaseCostMicroUsd({ inputTokens: 1_000, outputTokens: 100, webSearches: 0 }, sonnet)).toBe(6_000 + 1_500);
    expect(worstCaseCostMicroUsd({ inputTokens: 300_000, outputTokens: 100, webSearches: 2 }, sonnet)).toBe(3_600_000 + 2_250 + 20_000);
  });

  it("refuses prices it cannot hold exactly", () => {
    expect(() => priceTable({ odd: { input: 0.0001, output: 1, cacheWrite5m: 1, cacheWrite1h: 1, cacheRead: 1 } })).toThrow(/at most 3 decimals/);
  });
});

describe("money in reports", () => {
  it("prints integer micro-dollars exactly", () => {
    expect(formatUsd(240)).toBe("0.000240");
    expect(formatUsd(12_345_678)).toBe("12.345678");
    expect(usdNumber(240)).toBe(0.00024);
    expect(String(usdNumber(3 * 80))).toBe("0.00024");
  });
});
