import { describe, expect, it } from "vitest";
import { GatewayError } from "../../shared/http/errors.js";
import { CONTENT_ALLOWANCES, checkRequestFeatures, type OptInFeature, tokenBound } from "../../shared/request-policy/features.js";

const config = { extraBetas: new Set<string>(), extraFields: new Set<string>() };
const base = { model: "claude-sonnet-4-6", max_tokens: 100, messages: [{ role: "user", content: "hi" }] };

function refusal(request: Record<string, unknown>, betas: string | null = null, allowed: OptInFeature[] = []): { status: number; message: string } {
  try {
    checkRequestFeatures({ ...base, ...request } as Parameters<typeof checkRequestFeatures>[0], betas, allowed, config);
  } catch (error) {
    if (error instanceof GatewayError) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error("not refused");
}

describe("what a request may switch on", () => {
  it("passes plain requests, client tools and betas that only cost tokens", () => {
    const features = checkRequestFeatures(
      { ...base, tools: [{ name: "lookup", input_schema: {} }, { type: "bash_20250124", name: "bash" }], thinking: { type: "enabled", budget_tokens: 50 } },
      "interleaved-thinking-2025-05-14, extended-cache-ttl-2025-04-11",
      [],
      config,
    );
    expect(features).toEqual({
      betas: ["interleaved-thinking-2025-05-14", "extended-cache-ttl-2025-04-11"],
      used: [],
      longContext: false,
      rounds: 1,
      addedInputTokens: 0,
      webSearches: 0,
    });
  });

  it("refuses betas and fields it does not know, unless the operator allows them", () => {
    expect(refusal({}, "brand-new-2027-01-01")).toMatchObject({ status: 400, message: expect.stringContaining("ALLOWED_BETAS") });
    expect(refusal({ inference_geo: "us" })).toMatchObject({ status: 400, message: expect.stringContaining("ALLOWED_REQUEST_FIELDS") });
    const allowing = { extraBetas: new Set(["brand-new-2027-01-01"]), extraFields: new Set(["inference_geo"]) };
    expect(checkRequestFeatures({ ...base, inference_geo: "us" }, "brand-new-2027-01-01", [], allowing).betas).toEqual(["brand-new-2027-01-01"]);
  });

  it("refuses what it cannot meter: code execution, Files API content, unknown tool types", () => {
    expect(refusal({}, "code-execution-2025-08-25").message).toContain("container time");
    expect(refusal({}, "files-api-2025-04-14").message).toContain("shared by every tenant");
    expect(refusal({ tools: [{ type: "code_execution_20250825", name: "code_execution" }] }).message).toContain("code execution");
    expect(refusal({ container: "c_1" }).message).toContain("container");
    expect(refusal({ tools: [{ type: "mystery_20260101", name: "x" }] }).message).toContain("not known");
    const fileBlock = { type: "document", source: { type: "file", file_id: "file_1" } };
    expect(refusal({ messages: [{ role: "user", content: [fileBlock] }] }).message).toContain("Files API");
  });

  it("needs the tenant's opt-in for server tools and MCP servers", () => {
    const search = { type: "web_search_20250305", name: "web_search", max_uses: 3 };
    expect(refusal({ tools: [search] })).toMatchObject({ status: 403, message: expect.stringContaining('"web_search"') });
    expect(refusal({ mcp_servers: [{ type: "url", url: "https://mcp.example", name: "x" }] }, "mcp-client-2025-04-04").status).toBe(403);
    const allowed = checkRequestFeatures({ ...base, tools: [search] }, null, ["web_search"], config);
    expect(allowed).toMatchObject({ used: ["web_search"], rounds: 4, webSearches: 3, addedInputTokens: 3 * CONTENT_ALLOWANCES.webSearchResultTokens });
  });

  it("needs server tools to be bounded: max_uses, and max_content_tokens for web fetch", () => {
    expect(refusal({ tools: [{ type: "web_search_20250305", name: "web_search" }] }, null, ["web_search"]).message).toContain("max_uses");
    const fetchTool = { type: "web_fetch_20250910", name: "web_fetch", max_uses: 2 };
    expect(refusal({ tools: [fetchTool] }, null, ["web_fetch"]).message).toContain("max_content_tokens");
    const bounded = checkRequestFeatures({ ...base, tools: [{ ...fetchTool, max_content_tokens: 5_000 }] }, null, ["web_fetch"], config);
    expect(bounded.addedInputTokens).toBe(2 * (5_000 + CONTENT_ALLOWANCES.webFetchOverheadTokens));
  });

  it("knows nothing of names it was not told, Object's own included", () => {
    for (const name of ["constructor", "toString", "hasOwnProperty", "__proto__"]) {
      expect(refusal({ [name]: 1 }).message, name).toContain("not known to this gateway");
      expect(refusal({}, name).message, name).toContain("not known to this gateway");
    }
  });

  it("bounds the tokens of every sampling round a server tool can cause", () => {
    expect(tokenBound(1_000, 100, { betas: [], used: [], longContext: false, rounds: 1, addedInputTokens: 0, webSearches: 0 })).toEqual({ inputTokens: 1_000, outputTokens: 100 });
    expect(tokenBound(1_000, 100, { betas: [], used: [], longContext: false, rounds: 3, addedInputTokens: 500, webSearches: 2 })).toEqual({
      inputTokens: 3 * (1_000 + 500 + 100),
      outputTokens: 100,
    });
  });
});
