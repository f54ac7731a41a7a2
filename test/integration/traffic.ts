import IORedis from "ioredis";
import { expect } from "vitest";
import type { Stack } from "../stack/stack.js";
import { MODEL, messageBody, readUntilThenAbort, sendMessage } from "./helpers.js";

export interface PlannedRequest {
  prompt: string;
  /** The client leaves after the first content delta. */
  disconnect: boolean;
}

export interface SentRequest extends PlannedRequest {
  status: number;
  /** Error bodies, kept to explain an unexpected status. */
  errorBody: string | null;
  /** The upstream request id of the attempt that answered (relayed `request-id`). */
  upstreamId: string | null;
  /** The gateway's request id. */
  requestId: string;
}

/** Sends `count` streamed requests at the given concurrency, as `plan` describes each. */
export async function sendTraffic(
  stack: Stack,
  key: string,
  count: number,
  concurrency: number,
  plan: (index: number) => PlannedRequest,
): Promise<SentRequest[]> {
  const sent: SentRequest[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const planned = plan(next++);
      const controller = new AbortController();
      const body = messageBody(planned.prompt, { stream: true, max_tokens: 400 });
      const response = await sendMessage(stack, key, body, controller.signal);
      let errorBody: string | null = null;
      if (planned.disconnect && response.ok) {
        await readUntilThenAbort(response, controller, (text) => text.includes("content_block_delta"));
      } else {
        const text = await response.text();
        if (!response.ok) errorBody = text.slice(0, 300);
      }
      sent.push({
        ...planned,
        status: response.status,
        errorBody,
        upstreamId: response.headers.get("request-id"),
        requestId: response.headers.get("x-request-id")!,
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return sent;
}

/** What the simulator that served `upstreamId` recorded, whichever region's it was. */
export function ledgerRecord(stack: Stack, upstreamId: string) {
  return stack.deployments.map((deployment) => deployment.simulator!.ledger.get(upstreamId)).find((record) => record !== undefined);
}

/**
 * Waits until every region with a database of its own has applied its settlements to the
 * primary: no reservation open there, and its outbox empty.
 */
export async function regionsSettled(stack: Stack, tenantId: string): Promise<void> {
  for (const deployment of stack.deployments) {
    if (!deployment.databaseRedisUrl) continue;
    const database = new IORedis(deployment.databaseRedisUrl);
    try {
      await expect
        .poll(async () => (await database.hlen(`eg:r:${tenantId}`)) + (await database.llen("eg:outbox")), { timeout: 20_000 })
        .toBe(0);
    } finally {
      database.disconnect();
    }
  }
}

export function usageCounters(redis: IORedis, tenantId: string, period: "d" | "m" = "d"): Promise<Record<string, number>> {
  const now = new Date().toISOString();
  const key = `eg:u:${tenantId}:${period}:${period === "d" ? now.slice(0, 10) : now.slice(0, 7)}`;
  return redis.hgetall(key).then((raw) => Object.fromEntries(Object.entries(raw).map(([field, value]) => [field, Number(value)])));
}

/**
 * Checks that the tenant's counters hold exactly what the traffic produced: input
 * tokens and (where the final usage arrived) output tokens equal the simulator's own
 * counts; where it did not, the gateway's estimates, within a factor of two of what
 * could have been relayed; nothing for requests that never reached a served answer;
 * and no reservation left behind.
 */
export async function expectCountersMatchTraffic(stack: Stack, redis: IORedis, tenantId: string, sent: SentRequest[]): Promise<void> {
  const logs = await Promise.all(sent.map((request) => stack.gateway.waitForLog(request.requestId, 20_000)));
  await expect.poll(() => redis.hlen(`eg:r:${tenantId}`), { timeout: 10_000 }).toBe(0);
  await regionsSettled(stack, tenantId);

  let served = 0;
  let input = 0;
  let exactOutput = 0;
  let estimatedOutput = 0;
  let estimatedCount = 0;
  const estimates = { relayedInFull: { estimated: 0, sent: 0 }, cutShort: { estimated: 0, sent: 0 } };
  sent.forEach((request, index) => {
    const log = logs[index]!;
    if (request.status !== 200) {
      const record = ledgerRecord(stack, request.upstreamId!)!;
      expect(record.status, `request ${index} (${request.prompt}) was not served, as upstream said`).toBe(request.status);
      return;
    }
    const record = ledgerRecord(stack, request.upstreamId!)!;
    served++;
    input += record.inputTokens;
    if (log.usage_estimated) {
      estimatedCount++;
      estimatedOutput += log.output_tokens as number;
      const bucket = request.disconnect || log.outcome !== "completed" ? estimates.cutShort : estimates.relayedInFull;
      bucket.estimated += log.output_tokens as number;
      bucket.sent += record.outputTokensSent;
    } else {
      expect(log.output_tokens, `request ${index}`).toBe(record.outputTokensSent);
      exactOutput += record.outputTokensSent;
    }
  });
  const day = await usageCounters(redis, tenantId);
  expect(day["total|requests"]).toBe(served);
  expect(day["total|input"]).toBe(input);
  expect(day["total|output"]).toBe(exactOutput + estimatedOutput);
  expect(day[`${MODEL}|output`]).toBe(exactOutput + estimatedOutput);
  expect(day["total|estimated"] ?? 0).toBe(estimatedCount);
  // Estimates come from relayed text (about 4 characters a token). Where the stream ended with an
  // upstream error event, everything sent was relayed; where the client left or the stream was cut,
  // the simulator may have written more than the gateway read before it aborted.
  if (estimates.relayedInFull.sent > 0) {
    expect(estimates.relayedInFull.estimated).toBeGreaterThan(estimates.relayedInFull.sent / 2);
    expect(estimates.relayedInFull.estimated).toBeLessThan(estimates.relayedInFull.sent * 2);
  }
  if (estimates.cutShort.sent > 0) expect(estimates.cutShort.estimated).toBeLessThan(estimates.cutShort.sent * 2);
  expect(day["total|reserved"]).toBe(0);
  expect(await usageCounters(redis, tenantId, "m")).toEqual(day);
}
