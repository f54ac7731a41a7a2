import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { descendants } from "../bench/processes.js";
import type { StackFacts } from "../stack/stack-facts.js";
import { findFreePort } from "../stack/ports.js";

const ROOT = join(import.meta.dirname, "../..");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgegate-start-stop-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  facts: StackFacts;
  /** Lines the stack printed to stdout after its facts. */
  lines: string[];
  stackFile: string;
}

/** `npm start -- --json` (or the start script itself) on free ports, until it has printed its facts. */
async function start(how: "npm" | "script", name: string): Promise<Started> {
  const stackFile = join(dir, `${name}.json`);
  const env = {
    ...process.env,
    GATEWAY_PORT: String(await findFreePort()),
    UPSTASH_BRIDGE_PORT: String(await findFreePort()),
    REDIS_PORT: String(await findFreePort()),
    DEMO_PORT: String(await findFreePort()),
    EDGEGATE_STACK_FILE: stackFile,
    EDGEGATE_DEV_RPM: "1234",
  };
  const command = how === "npm" ? ["npm", ["start", "--", "--json"]] as const : [process.execPath, ["--import", "tsx", "test/stack/start.ts", "--json"]] as const;
  const child = spawn(command[0], command[1], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  const facts = await new Promise<StackFacts>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no facts within 90 s; stderr:\n${stderr}`)), 90_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith('{"pid"')) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as StackFacts);
      } else if (line.startsWith("{")) {
        lines.push(line);
      }
    });
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}; stderr:\n${stderr}`)));
  });
  return { child, facts, lines, stackFile };
}

const portOf = (url: string): number => Number(new URL(url).port);

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A process that has exited and been reaped, or is a zombie waiting for init: it holds nothing. */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

describe("npm start stops everything it started", () => {
  it.each([
    ["SIGTERM", "npm"],
    ["SIGINT", "npm"],
    ["SIGHUP", "script"],
  ] as const)("on %s (sent to the %s process)", async (signal, how) => {
    const { child, facts, lines, stackFile } = await start(how, signal);
    const ports = [facts.edge, facts.upstash.url, facts.redis, facts.demoPage, facts.turnstileVerifyUrl, ...facts.regions.map((r) => r.gateway), ...facts.simulators.map((s) => s.url)].map(portOf);
    const processes = descendants(child.pid!);
    expect(processes.map((info) => info.comm)).toEqual(expect.arrayContaining(["redis-server", "workerd"]));
    expect(await Promise.all(ports.map(portIsFree))).not.toContain(true);
    expect(facts.devTenant.limits.requestsPerMinute).toBe(1234);
    expect(JSON.parse(readFileSync(stackFile, "utf8"))).toEqual(facts);

    // The README's curl line works, and the request's JSON log line is printed (stdout is not a terminal).
    const response = await fetch(`${facts.edge}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": facts.devTenant.secretKey, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "auto", max_tokens: 64, stream: true, messages: [{ role: "user", content: "Hello! sim:ttft=0 sim:tokens=3" }] }),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("message_stop");
    const requestId = response.headers.get("x-request-id")!;
    await expect.poll(() => lines.some((line) => line.includes(requestId) && line.includes('"msg":"request"')), { timeout: 10_000 }).toBe(true);

    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill(signal);
    await exited;
    await expect.poll(() => processes.filter((info) => !isGone(info.pid)).map((info) => `${info.pid} ${info.comm}`), { timeout: 10_000 }).toEqual([]);
    await expect.poll(async () => (await Promise.all(ports.map(portIsFree))).every(Boolean), { timeout: 10_000 }).toBe(true);
    expect(existsSync(stackFile)).toBe(false);
  }, 150_000);
});
