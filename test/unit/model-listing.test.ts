import { describe, expect, it } from "vitest";
import { anthropicModelPage, findModel, openAIModel, tenantModels } from "../../shared/models/listing.js";
import { priceTable } from "../../shared/pricing/cost.js";
import { DEFAULT_PRICES } from "../../shared/pricing/prices.js";
import { modelPolicySchema } from "../../shared/tenants/model.js";

const prices = priceTable(DEFAULT_PRICES);
const everything = tenantModels(modelPolicySchema.parse({}), prices);

describe("the models a tenant may use", () => {
  it("start with auto, then every priced model of the catalog, newest first, each once", () => {
    expect(everything[0]!.id).toBe("auto");
    const ids = everything.map((model) => model.id);
    expect(ids).toContain("claude-opus-4-7");
    expect(ids).toContain("claude-sonnet-4-5-20250929");
    expect(new Set(ids).size).toBe(ids.length);
    const dates = everything.slice(1).map((model) => model.createdAt);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it("are only the allowed ones when the tenant's policy lists them, aliases resolved", () => {
    const allowed = tenantModels(modelPolicySchema.parse({ allowedModels: ["claude-haiku-4-5", "claude-sonnet-4-6"] }), prices);
    expect(allowed.map((model) => model.id)).toEqual(["auto", "claude-sonnet-4-6", "claude-haiku-4-5-20251001"]);
    expect(findModel(allowed, "claude-haiku-4-5")?.displayName).toBe("Claude Haiku 4.5");
    expect(findModel(allowed, "claude-opus-4-7")).toBeNull();
  });

  it("page like Anthropic's Models API and list like OpenAI's", () => {
    const first = anthropicModelPage(everything, { limit: "2" });
    expect(first).toMatchObject({ has_more: true, first_id: "auto", data: [{ type: "model", id: "auto" }, { type: "model" }] });
    const second = anthropicModelPage(everything, { limit: "2", after_id: first.last_id! });
    expect(second.first_id).toBe(everything[2]!.id);
    const back = anthropicModelPage(everything, { limit: "1", before_id: second.first_id! });
    expect(back.data.map((model) => model.id)).toEqual([first.last_id]);
    expect(openAIModel(everything[1]!)).toMatchObject({ object: "model", owned_by: "anthropic", created: expect.any(Number) });
  });
});
