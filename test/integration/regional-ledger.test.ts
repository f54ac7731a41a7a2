import Redis from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { estimateInputTokens } from "../../shared/metering/estimate.js";
import { type Deployment, startStack, type Stack } from "../stack/stack.js";
import { ANTHROPIC_VERSION, type MessageBody, messageBody, newTenant, readUntilThenAbort } from "./helpers.js";

/**
 * The regional design on the real stack: three regions, each deciding its hot path with
 * its own database (budget leases, rate credits, replicated keys and tenants), the
 * primary holding the authoritative budgets. After every test the budget invariant is
 * checked on the databases themselves: settled + open reservations + outstanding leases
 * never exceed a budget, and the leases the primary counts are the ones regions hold.
 */

let stack: Stack;
let primary: Redis;
let regionDatabases: Redis[];

beforeAll(async () => {
  stack = await startStack({
    topology: "regions",
    timeScale: 0.05,
    streamIdleTimeoutMs: 2_000,
    // Endpoints that answered the faults of one test rest at most 300 ms, never into the next test.
    vars: { RETRY_MAX_DELAY_MS: "300" },
  });
  primary = new Redis(stack.redis.url);
  regionDatabases = stack.deployments.map((_, index) => new Redis(`${stack.redis.url}/${index + 1}`));
});

afterAll(async () => {
  primary?.disconnect();
  for (const database of regionDatabases ?? []) database.disconnect();
  await stack?.stop();
});

/** Tenants with a budget the test made: the invariant is checked for each after the test. */
const budgeted: Array<{ id: string; budgetMicroUsd: number }> = [];

afterEach(async () => {
  for (const deployment of stack.deployments) deployment.database?.setFaults({});
  stack.bridge.setFaults({});
  for (const tenant of budgeted.splice(0)) await expectBudgetInvariant(tenant.id, tenant.budgetMicroUsd);
});

const DAY = () => new Date().toISOString().slice(0, 10);

function figures(hash: Record<string, string>): (field: string) => number {
  return (field) => Number(hash[field] ?? 0);
}

async function expectBudgetInvariant(tenantId: string, budgetMicroUsd: number): Promise<void> {
  const day = figures(await primary.hgetall(`eg:u:${tenantId}:d:${DAY()}`));
  expect(day("total|cost") + day("total|reserved") + day("total|leased")).toBeLessThanOrEqual(budgetMicroUsd);
  const lease = figures(await primary.hgetall(`eg:ls:${tenantId}:${DAY()}`));
  let outstanding = 0;
  for (const [index, deployment] of stack.deployments.entries()) {
    const region = deployment.region;
    const onPrimary = lease(`${region}|g`) - lease(`${region}|s`) - lease(`${region}|r`);
    outstanding += onPrimary;
    const local = figures(await regionDatabases[index]!.hgetall(`eg:ll:${tenantId}:${DAY()}`));
    expect(local("g")).toBeLessThanOrEqual(lease(`${region}|g`));
    expect(local("g") - local("s") - local("r") - local("v")).toBeGreaterThanOrEqual(0);
  }
  expect(day("total|leased")).toBe(outstanding);
}

function sendTo(deployment: Deployment, key: string, body: MessageBody, signal?: AbortSignal): Promise<Response> {
  return fetch(`${deployment.gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION },
    body: JSON.stringify(body),
    signal,
  });
}

/** Where the region admitted a request, from its log line. */
async function admittedOn(deployment: Deployment, response: Response): Promise<string> {
  const line = await deployment.gateway.waitForLog(response.headers.get("x-request-id")!);
  return String(line.admitted_on);
}

/** Sends cheap requests to a region until it admits one with its own database; resolves with the answers' message ids. */
async function warmUp(deployment: Deployment, key: string, body: MessageBody): Promise<string[]> {
  const messageIds: string[] = [];
  const reasons: string[] = [];
  // A region that saw its database fail sends its hot path to the primary for a few seconds.
  const giveUpAt = performance.now() + 20_000;
  while (performance.now() < giveUpAt) {
    const response = await sendTo(deployment, key, body);
    expect(response.status).toBe(200);
    messageIds.push(messageIdOf(await response.text()));
    const line = await deployment.gateway.waitForLog(response.headers.get("x-request-id")!);
    if (line.admitted_on === "region") return messageIds;
    reasons.push(`${line.admitted_on}: ${line.primary_reason ?? ""} ${line.storage ?? ""}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${deployment.region} never admitted locally in 20 s: ${reasons.join("; ")}`);
}

function messageIdOf(answer: string): string {
  return /"id":"(msg_[^"]+)"/.exec(answer)![1]!;
}

async function outboxesEmpty(): Promise<boolean> {
  const lengths = await Promise.all(regionDatabases.map((database) => database.llen("eg:outbox")));
  return lengths.every((length) => length === 0);
}

/** The gateway's worst case for `body` on a list-price endpoint (us-east): input at the 1-hour cache-write rate, max_tokens at the output rate. */
function sonnetWorstCase(body: MessageBody): number {
  const inputBound = estimateInputTokens(body as { messages: { content: unknown }[] }).upperBound;
  return Math.ceil(inputBound * 6) + (body.max_tokens ?? 0) * 15;
}

describe("budgets across three regions", () => {
  it("3 x 40 concurrent requests against a budget for 10 worst cases: at most 10 admitted, at most the budget spent", async () => {
    const slow = messageBody("sim:tokens=5 sim:ttft=20000 a slow answer", { max_tokens: 1_000 });
    const worstCase = sonnetWorstCase(slow);
    const budgetMicroUsd = 10 * worstCase;
    const tenant = await newTenant(stack, { limits: { dailyBudgetUsd: budgetMicroUsd / 1e6 } });
    budgeted.push({ id: tenant.id, budgetMicroUsd });

    const responses = await Promise.all(stack.deployments.flatMap((deployment) => Array.from({ length: 40 }, () => sendTo(deployment, tenant.key, slow))));
    const admitted = responses.filter((response) => response.status === 200);
    expect(admitted.length).toBeGreaterThan(0);
    expect(admitted.length).toBeLessThanOrEqual(10);
    expect(responses.every((response) => response.status === 200 || response.status === 402)).toBe(true);
    await expectBudgetInvariant(tenant.id, budgetMicroUsd);
    await Promise.all(responses.map((response) => response.text()));
    await expect.poll(outboxesEmpty, { timeout: 10_000 }).toBe(true);
    await expect.poll(async () => Number(await primary.hget(`eg:u:${tenant.id}:d:${DAY()}`, "total|requests")), { timeout: 10_000 }).toBe(admitted.length);
  });

  it("stays within the budget with upstream faults, client disconnects and a region's database going down mid-run", async () => {
    const body = (i: number) =>
      messageBody(
        i % 5 === 1 ? `sim:fault=529 request ${i}` : i % 5 === 2 ? `sim:tokens=400 sim:tps=200 request ${i}` : `sim:tokens=${40 + (i % 30)} sim:ttft=2000 request ${i}`,
        { max_tokens: 600, stream: true },
      );
    const worstCase = sonnetWorstCase(body(0));
    const budgetMicroUsd = 30 * worstCase;
    const tenant = await newTenant(stack, { limits: { dailyBudgetUsd: budgetMicroUsd / 1e6 } });
    budgeted.push({ id: tenant.id, budgetMicroUsd });
    const cheap = messageBody("sim:tokens=2 warm", { max_tokens: 600 });
    const startedAt = performance.now();
    /** The message id of every answer the clients got (from message_start). */
    const messageIds: string[] = [];
    for (const deployment of stack.deployments) messageIds.push(...(await warmUp(deployment, tenant.key, cheap)));

    const eu = stack.deployments.find((deployment) => deployment.region === "eu-west")!;
    const statuses: number[] = [];
    const unexpected: string[] = [];
    /** Answers whose client left after the first delta: their output may be estimated from what was relayed. */
    const leftEarly = new Set<string>();
    const served = async (deployment: Deployment, i: number): Promise<void> => {
      const controller = new AbortController();
      const response = await sendTo(deployment, tenant.key, body(i), controller.signal);
      statuses.push(response.status);
      if (![200, 402, 529].includes(response.status)) {
        const line = await deployment.gateway.waitForLog(response.headers.get("x-request-id")!);
        unexpected.push(`${deployment.region} #${i}: ${response.status} ${await response.clone().text()} ${JSON.stringify(line)}`);
      }
      const text =
        response.ok && i % 5 === 2 ? await readUntilThenAbort(response, controller, (read) => read.includes("content_block_delta")) : await response.text();
      if (response.ok) {
        messageIds.push(messageIdOf(text));
        if (i % 5 === 2) leftEarly.add(messageIdOf(text));
      }
    };
    // Four rounds of 10 concurrent requests per region; eu-west's database is down for the middle two.
    for (let round = 0; round < 4; round++) {
      eu.database!.setFaults(round === 1 || round === 2 ? { down: true } : {});
      await Promise.all(stack.deployments.flatMap((deployment) => Array.from({ length: 10 }, (_, i) => served(deployment, round * 10 + i))));
      await expectBudgetInvariant(tenant.id, budgetMicroUsd);
    }
    expect(unexpected).toEqual([]);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(3);

    // Settlements eu-west could not write while its database was down wait in its spool; then every outbox drains.
    await expect.poll(() => settledEverywhere(tenant.id), { timeout: 20_000 }).toBe(true);
    const day = figures(await primary.hgetall(`eg:u:${tenant.id}:d:${DAY()}`));
    expect(day("total|cost")).toBeLessThanOrEqual(budgetMicroUsd);
    // Every answer a client got is metered once: requests and input exactly as the simulators
    // served them; output exactly where the final usage arrived, estimated from the relayed
    // text where the client left early. (Upstream calls started before an admission that then
    // refused them were aborted and cost the tenant nothing.)
    const gotAnswers = new Set(messageIds);
    const answered = stack.deployments
      .flatMap((deployment) => deployment.simulator!.ledger.all())
      .filter((record) => record.startedAt >= startedAt && record.messageId !== null && gotAnswers.has(record.messageId));
    expect(answered.length).toBe(messageIds.length);
    expect(day("total|requests")).toBe(messageIds.length);
    expect(day("total|input")).toBe(answered.reduce((sum, record) => sum + record.inputTokens, 0));
    const completedOutput = answered
      .filter((record) => record.completed && !leftEarly.has(record.messageId!))
      .reduce((sum, record) => sum + record.outputTokensSent, 0);
    expect(day("total|output")).toBeGreaterThanOrEqual(completedOutput);
    expect(day("total|output")).toBeLessThanOrEqual(2 * answered.reduce((sum, record) => sum + record.outputTokensSent, 0) + 100);
  });
});

/** No reservation open on the primary or in any region, and every outbox applied. */
async function settledEverywhere(tenantId: string): Promise<boolean> {
  const open = await Promise.all([primary, ...regionDatabases].map((database) => database.hlen(`eg:r:${tenantId}`)));
  return open.every((count) => count === 0) && (await outboxesEmpty());
}

describe("keys and tenants in every region", () => {
  it("a revocation takes effect in every region within 5 s", async () => {
    const tenant = await newTenant(stack);
    const cheap = messageBody("sim:tokens=2 warm", { max_tokens: 50 });
    for (const deployment of stack.deployments) await warmUp(deployment, tenant.key, cheap);
    await stack.admin.revokeKey(tenant.id, tenant.keyId);
    const revokedAt = performance.now();
    const refusedAfter = await Promise.all(
      stack.deployments.map(async (deployment) => {
        for (;;) {
          const response = await sendTo(deployment, tenant.key, cheap);
          await response.text();
          if (response.status === 401) return performance.now() - revokedAt;
          expect(response.status).toBe(200);
          expect(performance.now() - revokedAt).toBeLessThan(5_000);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }),
    );
    expect(Math.max(...refusedAfter)).toBeLessThan(5_000);
  });
});

describe("the upstream call starts while admission is in flight", () => {
  it("only for a caller with recent headroom; a refusal after the start aborts the call, is logged and costs the tenant nothing", async () => {
    const tenant = await newTenant(stack);
    const usEast = stack.deployments.find((deployment) => deployment.region === "us-east")!;
    const cheap = messageBody("sim:tokens=2 hello", { max_tokens: 50 });
    const first = await sendTo(usEast, tenant.key, cheap);
    await first.text();
    expect((await usEast.gateway.waitForLog(first.headers.get("x-request-id")!)).head_start).toBeUndefined();
    const second = await sendTo(usEast, tenant.key, cheap);
    await second.text();
    expect((await usEast.gateway.waitForLog(second.headers.get("x-request-id")!)).head_start).toBe("granted");

    await stack.admin.revokeKey(tenant.id, tenant.keyId);
    let served = 2;
    for (;;) {
      const response = await sendTo(usEast, tenant.key, cheap);
      await response.text();
      const line = await usEast.gateway.waitForLog(response.headers.get("x-request-id")!);
      if (response.status === 401) {
        expect(line.head_start).toBe("refused");
        break;
      }
      expect(response.status).toBe(200);
      served++;
    }
    await expect.poll(outboxesEmpty, { timeout: 10_000 }).toBe(true);
    await expect.poll(async () => Number(await primary.hget(`eg:u:${tenant.id}:d:${DAY()}`, "total|requests")), { timeout: 10_000 }).toBe(served);
  });
});

describe("sparse traffic", () => {
  it("is still decided in the region: the replica and rate credit outlive gaps of several seconds", async () => {
    const tenant = await newTenant(stack);
    const usEast = stack.deployments.find((deployment) => deployment.region === "us-east")!;
    const cheap = messageBody("sim:tokens=2 now and then", { max_tokens: 50 });
    await warmUp(usEast, tenant.key, cheap);
    const sides: string[] = [];
    for (let i = 0; i < 3; i++) {
      // Longer than the replica's maximum age (2.5 s): only kept fresh in the background.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      const response = await sendTo(usEast, tenant.key, cheap);
      await response.text();
      sides.push(await admittedOn(usEast, response));
    }
    expect(sides).toEqual(["region", "region", "region"]);
  });
});

describe("outages", () => {
  it("a region whose database is down is served by the primary", async () => {
    const tenant = await newTenant(stack);
    const cheap = messageBody("sim:tokens=2 hello", { max_tokens: 50 });
    const eu = stack.deployments.find((deployment) => deployment.region === "eu-west")!;
    await warmUp(eu, tenant.key, cheap);
    eu.database!.setFaults({ down: true });
    const response = await sendTo(eu, tenant.key, cheap);
    expect(response.status).toBe(200);
    await response.text();
    expect(await admittedOn(eu, response)).toBe("primary");
  });

  it("a primary outage leaves lease-holding regions serving, and every record lands once when it is back", async () => {
    const tenant = await newTenant(stack, { limits: { dailyBudgetUsd: 50 } });
    budgeted.push({ id: tenant.id, budgetMicroUsd: 50_000_000 });
    const cheap = (i: number) => messageBody(`sim:tokens=3 request ${i}`, { max_tokens: 50 });
    for (const deployment of stack.deployments) await warmUp(deployment, tenant.key, cheap(0));
    await expect.poll(outboxesEmpty, { timeout: 10_000 }).toBe(true);
    const before = Number(await primary.hget(`eg:u:${tenant.id}:d:${DAY()}`, "total|requests"));

    stack.bridge.setFaults({ down: true });
    let servedDuringOutage = 0;
    for (const deployment of stack.deployments) {
      for (let i = 0; i < 4; i++) {
        const response = await sendTo(deployment, tenant.key, cheap(i));
        expect(response.status, await response.clone().text()).toBe(200);
        await response.text();
        servedDuringOutage++;
      }
    }
    expect(await outboxesEmpty()).toBe(false);
    stack.bridge.setFaults({});
    // The region's spool drains its outbox once the primary answers again, without further traffic.
    await expect.poll(outboxesEmpty, { timeout: 20_000 }).toBe(true);
    expect(Number(await primary.hget(`eg:u:${tenant.id}:d:${DAY()}`, "total|requests"))).toBe(before + servedDuringOutage);
  });
});
