import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../stack/stack.js";
import type { Simulator } from "../stack/simulator/server.js";
import { messageBody, newTenant, readUntilThenAbort, sendMessage } from "./helpers.js";

const STREAMS = 20;
/** At real speed (about 100 tokens/s) a stream of 3,000 tokens lasts half a minute: every client leaves long before its end. */
const LONG_STREAM = "sim:tokens=3000";

/**
 * Opens STREAMS long streams at once, has every client leave after its first content
 * delta, and checks that each upstream stream was abandoned by the gateway (the
 * simulator saw the connection closed before the stream's end) and logged as a client
 * disconnect. Workers allow 6 simultaneous outgoing connections per request, not per
 * isolate, so 20 open streams are as many requests, each with one upstream call.
 */
async function disconnectMidStream(stack: Stack, simulators: Simulator[]): Promise<void> {
  const tenant = await newTenant(stack, { limits: { requestsPerMinute: 10_000, tokensPerMinute: 100_000_000 } });
  const streams = await Promise.all(
    Array.from({ length: STREAMS }, async (_, index) => {
      const controller = new AbortController();
      const response = await sendMessage(stack, tenant.key, messageBody(`${LONG_STREAM} leaving early ${index}`, { stream: true, max_tokens: 4_000 }), controller.signal);
      expect(response.status).toBe(200);
      return { response, controller };
    }),
  );
  // Every stream is open before any client leaves.
  await Promise.all(streams.map(({ response, controller }) => readUntilThenAbort(response, controller, (text) => text.includes("content_block_delta"))));

  const upstreamIds = streams.map(({ response }) => response.headers.get("request-id")!);
  const recordOf = (id: string) => simulators.map((simulator) => simulator.ledger.get(id)).find((record) => record !== undefined);
  await expect
    .poll(() => upstreamIds.filter((id) => recordOf(id)?.clientAborted).length, { timeout: 10_000 })
    .toBe(STREAMS);
  for (const id of upstreamIds) {
    const record = recordOf(id)!;
    expect(record.completed).toBe(false);
    expect(record.outputTokensSent).toBeLessThan(3_000);
  }
  const logs = await Promise.all(streams.map(({ response }) => stack.gateway.waitForLog(response.headers.get("x-request-id")!)));
  expect(logs.map((line) => line.outcome)).toEqual(Array.from({ length: STREAMS }, () => "client_disconnected"));
}

describe("client disconnects reach the gateway at any concurrency", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ timeScale: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(`${STREAMS} streams whose clients leave mid-stream: every upstream stream is abandoned`, async () => {
    await disconnectMidStream(stack, [stack.simulator!]);
  });
});

describe("client disconnects reach the regional gateway through the front Worker", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ topology: "regions", timeScale: 1 });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it(`${STREAMS} streams through the front Worker whose clients leave mid-stream: every upstream stream is abandoned`, async () => {
    await disconnectMidStream(
      stack,
      stack.deployments.map((deployment) => deployment.simulator!),
    );
  });
});
