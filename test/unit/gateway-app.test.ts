import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";

// Runs the gateway inside workerd against real Redis (behind the Upstash bridge, started by the
// project's global setup). The upstream points at a closed port, so these tests cover what the
// gateway decides on its own: authentication, validation, admin, and upstream failure mapping.
const gateway = (exports as unknown as { default: Fetcher }).default;
const ADMIN = { authorization: "Bearer unit-admin-token" };

function call(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  return gateway.fetch(`http://gateway${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
  });
}

const valid = { model: "claude-sonnet-4-6", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };

async function expectError(response: Response, status: number, type: string): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get("x-request-id")).toMatch(/^egr_/);
  const body = (await response.json()) as { type: string; error: { type: string; message: string }; request_id: string };
  expect(body.type).toBe("error");
  expect(body.error.type).toBe(type);
  expect(body.request_id).toBe(response.headers.get("x-request-id"));
  return body.error.message;
}

let secretKey: string;
let publishableKey: string;

beforeAll(async () => {
  const tenantId = `unit-${crypto.randomUUID().slice(0, 8)}`;
  const created = await call("/admin/tenants", { body: { id: tenantId, name: "Unit tests" }, headers: ADMIN });
  expect(created.status).toBe(201);
  const secret = await call(`/admin/tenants/${tenantId}/keys`, { body: { label: "unit" }, headers: ADMIN });
  secretKey = ((await secret.json()) as { key: string }).key;
  const publishable = await call(`/admin/tenants/${tenantId}/keys`, { body: { kind: "publishable" }, headers: ADMIN });
  publishableKey = ((await publishable.json()) as { key: string }).key;
});

describe("gateway app in workerd", () => {
  it("answers /healthz without a key", async () => {
    const response = await call("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", region: "unit" });
  });

  it("rejects a missing key with a message that says where the key goes", async () => {
    const message = await expectError(await call("/v1/messages", { body: valid }), 401, "authentication_error");
    expect(message).toContain("x-api-key");
  });

  it("rejects an unknown key, via either header", async () => {
    await expectError(await call("/v1/messages", { body: valid, headers: { "x-api-key": "sk-eg-nope" } }), 401, "authentication_error");
    await expectError(await call("/v1/messages", { body: valid, headers: { authorization: "Bearer nope" } }), 401, "authentication_error");
  });

  it("refuses publishable keys outside the widget endpoint", async () => {
    const message = await expectError(
      await call("/v1/messages", { body: valid, headers: { "x-api-key": publishableKey } }),
      403,
      "permission_error",
    );
    expect(message).toContain("widget");
  });

  it("rejects malformed JSON and invalid fields with actionable messages", async () => {
    const headers = { "x-api-key": secretKey };
    expect(await expectError(await call("/v1/messages", { body: "{not json", headers }), 400, "invalid_request_error")).toContain("JSON");
    const noMessages = await call("/v1/messages", { body: { ...valid, messages: [] }, headers });
    expect(await expectError(noMessages, 400, "invalid_request_error")).toContain("messages");
    const badRole = await call("/v1/messages", { body: { ...valid, messages: [{ role: "robot", content: "hi" }] }, headers });
    expect(await expectError(badRole, 400, "invalid_request_error")).toContain("messages.0.role");
  });

  it("needs a known anthropic-version, as the API does", async () => {
    const missing = await call("/v1/messages", { body: valid, headers: { "x-api-key": secretKey, "anthropic-version": "" } });
    expect(await expectError(missing, 400, "invalid_request_error")).toContain("anthropic-version: header is required");
    const unknown = await call("/v1/messages", { body: valid, headers: { "x-api-key": secretKey, "anthropic-version": "2099-01-01" } });
    expect(await expectError(unknown, 400, "invalid_request_error")).toContain("2023-06-01");
  });

  it("rejects an oversized body with 413", async () => {
    const big = { ...valid, messages: [{ role: "user", content: "x".repeat(70_000) }] };
    await expectError(await call("/v1/messages", { body: big, headers: { "x-api-key": secretKey } }), 413, "request_too_large");
  });

  it("maps an unreachable upstream to 502 in Anthropic's format, with rate-limit headers", async () => {
    const response = await call("/v1/messages", { body: { ...valid, stream: true }, headers: { "x-api-key": secretKey } });
    expect(response.headers.get("x-ratelimit-limit-requests")).toBe("600");
    expect(await expectError(response, 502, "api_error")).toContain("upstream");
  });

  it("answers unknown routes with not_found_error", async () => {
    await expectError(await call("/v2/nothing"), 404, "not_found_error");
  });

  it("guards the admin API with the admin token", async () => {
    await expectError(await call("/admin/tenants"), 401, "authentication_error");
    await expectError(await call("/admin/tenants", { headers: { authorization: "Bearer wrong" } }), 401, "authentication_error");
    expect((await call("/admin/tenants", { headers: ADMIN })).status).toBe(200);
  });

  it("validates admin input", async () => {
    const bad = await call("/admin/tenants", { body: { name: "", limits: { requestsPerMinute: -1 } }, headers: ADMIN });
    const message = await expectError(bad, 400, "invalid_request_error");
    expect(message).toContain("name");
  });
});
