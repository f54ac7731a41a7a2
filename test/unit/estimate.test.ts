import { describe, expect, it } from "vitest";
import { estimateInputTokens, INPUT_ALLOWANCES } from "../../shared/metering/estimate.js";

const user = (content: unknown) => ({ messages: [{ content }] });

describe("the input estimate's upper bound", () => {
  it("counts every byte of text as a token", () => {
    const { upperBound, typical } = estimateInputTokens(user("héllo wörld"));
    expect(upperBound).toBe(13 + 8);
    expect(typical).toBeLessThan(upperBound);
  });

  it("holds a PDF's pages, not its bytes: one allowance a request, inline or by URL", () => {
    const small = { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0xLjQK" } };
    const byUrl = { type: "document", source: { type: "url", url: "https://example.com/report.pdf" } };
    const one = estimateInputTokens(user([small])).upperBound;
    expect(one).toBeGreaterThanOrEqual(INPUT_ALLOWANCES.pdfTokensPerRequestUpperBound);
    expect(estimateInputTokens(user([small, byUrl])).upperBound).toBeLessThan(2 * INPUT_ALLOWANCES.pdfTokensPerRequestUpperBound);
    // A plain-text document is its text.
    const text = { type: "document", source: { type: "text", media_type: "text/plain", data: "abc" } };
    expect(estimateInputTokens(user([text])).upperBound).toBeLessThan(1_000);
  });

  it("allows for the largest images and for the tools' hidden system prompt", () => {
    const image = { type: "image", source: { type: "url", url: "https://example.com/a.png" } };
    expect(estimateInputTokens(user([image])).upperBound).toBe(INPUT_ALLOWANCES.imageTokensUpperBound + 8);
    const withTools = estimateInputTokens({ ...user("hi"), tools: [{ type: "bash_20250124", name: "bash" }] });
    expect(withTools.upperBound).toBeGreaterThan(INPUT_ALLOWANCES.toolOverheadUpperBound);
  });
});
