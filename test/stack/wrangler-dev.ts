import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface WranglerDevOptions {
  port: number;
  /** Vars and secrets, written to a private env file rather than the command line. */
  vars: Record<string, string>;
  configPath?: string;
  environment?: string;
  /** Echo wrangler's own output (for `npm start`); logs are collected either way. */
  echo?: boolean;
}

export interface WranglerDev {
  url: string;
  /** Structured request log lines the Worker printed, parsed. */
  logs: RequestLogLine[];
  waitForLog(requestId: string, timeoutMs?: number): Promise<RequestLogLine>;
  stop(): Promise<void>;
}

export type RequestLogLine = Record<string, unknown> & { request_id: string; msg: string };

const WRANGLER = join(import.meta.dirname, "../../node_modules/wrangler/bin/wrangler.js");

/** Runs a Worker under `wrangler dev` (workerd) on loopback and collects its request logs. */
export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const stateDir = await mkdtemp(join(tmpdir(), "edgegate-wrangler-"));
  const envFile = join(stateDir, "dev.env");
  await writeFile(envFile, Object.entries(options.vars).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n"), {
    mode: 0o600,
  });
  const args = [
    WRANGLER, "dev",
    "--config", options.configPath ?? "wrangler.toml",
    "--ip", "127.0.0.1",
    "--port", String(options.port),
    "--inspector-port", "0",
    "--env-file", envFile,
    "--persist-to", join(stateDir, "state"),
    "--show-interactive-dev-session=false",
    "--log-level", "log",
  ];
  if (options.environment) args.push("--env", options.environment);
  const child = spawn(process.execPath, args, {
    cwd: join(import.meta.dirname, "../.."),
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });

  const logs: RequestLogLine[] = [];
  const waiters = new Map<string, (line: RequestLogLine) => void>();
  const url = `http://127.0.0.1:${options.port}`;
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onLine = (line: string): void => {
      if (options.echo) console.log(line);
      if (output.length < 20_000) output += `${line}\n`;
      if (line.includes("Ready on")) resolve();
      const parsed = parseLogLine(line);
      if (parsed) {
        logs.push(parsed);
        waiters.get(parsed.request_id)?.(parsed);
      }
    };
    createInterface({ input: child.stdout! }).on("line", onLine);
    createInterface({ input: child.stderr! }).on("line", onLine);
    child.once("exit", (code) => reject(new Error(`wrangler dev exited with ${code} before it was ready:\n${output}`)));
  });
  await withTimeout(ready, 60_000, () => `wrangler dev did not start within 60 s:\n${output}`);
  await waitUntilServing(`${url}/healthz`);

  return {
    url,
    logs,
    waitForLog(requestId, timeoutMs = 10_000) {
      const found = logs.find((line) => line.request_id === requestId);
      if (found) return Promise.resolve(found);
      return withTimeout(
        new Promise<RequestLogLine>((resolve) => waiters.set(requestId, resolve)),
        timeoutMs,
        () => `no log line for request ${requestId}`,
      );
    },
    async stop() {
      await stopProcess(child);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

function parseLogLine(line: string): RequestLogLine | null {
  const start = line.indexOf('{"ts"');
  if (start === -1) return null;
  try {
    const parsed = JSON.parse(line.slice(start)) as Partial<RequestLogLine>;
    return typeof parsed.request_id === "string" && parsed.msg === "request" ? (parsed as RequestLogLine) : null;
  } catch {
    return null;
  }
}

async function waitUntilServing(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not answer`);
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
