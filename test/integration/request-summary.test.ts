import { expect, it } from "vitest";
import { summarizeRequest } from "../stack/request-summary.js";

it("summarizes a streamed request's log line on one line: route, outcome, tenant, region, model and tier, tokens, first token, time, cost", () => {
  const line = {
    ts: "2026-11-30T01:41:57.586Z",
    msg: "request",
    request_id: "egr_abc",
    region: "us-east",
    method: "POST",
    path: "/v1/messages",
    tenant_id: "dev",
    key_id: "key_1",
    model_requested: "auto",
    tier: "light",
    attempts: 1,
    attempt_outcomes: "claude-haiku-4-5#k0=200",
    status: 200,
    model: "claude-haiku-4-5",
    input_tokens: 2,
    output_tokens: 59,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 1200,
    usage_estimated: false,
    ttft_ms: 309.4,
    outcome: "completed",
    cost_usd: 0.000297,
    total_ms: 1723,
  };
  expect(summarizeRequest(line)).toBe(
    "01:41:57  POST /v1/messages 200  completed  tenant dev  us-east  auto -> claude-haiku-4-5 (light)  2 in / 59 out tokens (1200 cache read)  ttft 309 ms  total 1.72 s  $0.000297  egr_abc",
  );
});

it("leaves out what a line does not have (an admin call, a refusal) and shows retries and estimates", () => {
  expect(summarizeRequest({ msg: "request", request_id: "egr_1", method: "GET", path: "/healthz", status: 200, total_ms: 0.4 })).toBe(
    "GET /healthz 200  total 0 ms  egr_1",
  );
  expect(
    summarizeRequest({
      msg: "request",
      request_id: "egr_2",
      status: 529,
      outcome: "upstream_error",
      model_requested: "claude-opus-4-7",
      attempts: 3,
      attempt_outcomes: "claude-opus-4-7#k0=529 claude-opus-4-7#k0=529 claude-sonnet-4-6#k0=529",
      input_tokens: 5,
      output_tokens: 12,
      usage_estimated: true,
      some_future_field: { nested: true },
    }),
  ).toBe("529  upstream_error  claude-opus-4-7  5 in / 12 out tokens (estimated)  claude-opus-4-7#k0=529 claude-opus-4-7#k0=529 claude-sonnet-4-6#k0=529  egr_2");
});
