/**
 * Spawn a throwaway, non-persistent `redis-server` for tests and benchmarks.
 *
 *   const redis = await startRedisServer({ port: 0 });   // 0 = pick a free port
 *   ... redis.url === "redis://127.0.0.1:<port>"
 *   await redis.stop();
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants as fsConstants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { findFreePort } from "../ports.js";

export interface RedisServerOptions {
  /** TCP port on 127.0.0.1; 0 or undefined = pick a free port. */
  port?: number;
  /** Path of the redis-server binary; default: $REDIS_SERVER_BIN, else `redis-server` on PATH. */
  bin?: string;
  /** Extra command-line arguments, e.g. ["--maxmemory", "64mb"]. */
  extraArgs?: string[];
  /** How long to wait for the server to answer (default 10 s). */
  startTimeoutMs?: number;
}

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:<port> */
  url: string;
  pid: number;
  /** Temporary working directory (removed by stop()). */
  dir: string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export const REDIS_INSTALL_HINT =
  "redis-server was not found on PATH. Install it with:\n" +
  "  Debian/Ubuntu: sudo apt-get install -y redis-server\n" +
  "  macOS:         brew install redis\n" +
  "or point REDIS_SERVER_BIN at an existing redis-server binary.";

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolve the redis-server binary or throw an Error that says how to install it. */
export function findRedisServerBinary(bin?: string): string {
  const explicit = bin ?? process.env.REDIS_SERVER_BIN;
  if (explicit) {
    if (isAbsolute(explicit) || explicit.includes("/")) {
      if (isExecutable(explicit)) return explicit;
      throw new Error(`redis-server binary "${explicit}" is not an executable file.\n${REDIS_INSTALL_HINT}`);
    }
  }
  const name = explicit || "redis-server";
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(REDIS_INSTALL_HINT);
}

// Make sure no redis-server outlives the process that started it (the handler
// is synchronous, as 'exit' handlers must be).
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of liveChildren) c.kill("SIGKILL");
    });
  }
}

/**
 * Ask whoever listens on `port` for its process id (INFO server). Resolves null
 * while nothing answers (or the server is still loading). Checking the pid makes
 * sure we talk to the server we spawned, not to one that already held the port.
 */
function serverPid(port: number, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    let buf = "";
    const done = (pid: number | null) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(pid);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    sock.setNoDelay(true);
    sock.once("error", () => done(null));
    sock.on("connect", () => sock.write("INFO server\r\n"));
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      if (buf.startsWith("-")) return done(null); // e.g. -LOADING
      const m = /process_id:(\d+)\r\n/.exec(buf);
      if (m) done(Number(m[1]));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class StartFailure extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
  }
}

async function startOnce(bin: string, port: number, dir: string, opts: RedisServerOptions): Promise<RedisServer> {
  const args = [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--save", "",
    "--appendonly", "no",
    "--dir", dir,
    "--daemonize", "no",
    "--loglevel", "warning",
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], cwd: dir });
  trackChild(child);

  let output = "";
  const collect = (d: Buffer) => {
    if (output.length < 16_384) output += d.toString("utf8");
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  child.once("error", (err) => {
    spawnError = err;
  });

  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (!exited && child.exitCode === null && child.pid !== undefined && !spawnError) {
        child.kill("SIGTERM");
        const killTimer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exitPromise;
        clearTimeout(killTimer);
      }
    })();
    return stopped;
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  for (;;) {
    if (spawnError) {
      await stop().catch(() => {});
      throw new StartFailure(`failed to spawn ${bin}: ${(spawnError as Error).message}`, false);
    }
    if (exited) {
      const e = exited as { code: number | null; signal: NodeJS.Signals | null };
      throw new StartFailure(
        `redis-server exited during startup (code ${e.code}, signal ${e.signal}) on port ${port}:\n${output.trim()}`,
        /address already in use/i.test(output),
      );
    }
    const pid = await serverPid(port, 500);
    if (pid !== null && pid === child.pid) break;
    if (pid !== null && child.exitCode === null) {
      // Someone else answers on this port; ours will fail to bind and exit.
      await Promise.race([exitPromise, sleep(2_000)]);
      if (!exited) {
        await stop();
        throw new StartFailure(`port ${port} is already served by another redis-server (pid ${pid})`, true);
      }
      continue;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new StartFailure(`redis-server on port ${port} did not answer in time:\n${output.trim()}`, false);
    }
    await sleep(20);
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    dir,
    stop,
  };
}

/**
 * Start redis-server on 127.0.0.1 with no persistence (`--save "" --appendonly no`)
 * in a fresh temp dir and wait until it answers (INFO server from the spawned pid).
 */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = findRedisServerBinary(opts.bin);
  const pickPort = !opts.port;
  const attempts = pickPort ? 5 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = pickPort ? await findFreePort() : (opts.port as number);
    const dir = await mkdtemp(join(tmpdir(), "edgegate-redis-"));
    try {
      const server = await startOnce(bin, port, dir, opts);
      const stopProcess = server.stop;
      let stopped: Promise<void> | null = null;
      server.stop = () => {
        stopped ??= stopProcess().finally(() => rm(dir, { recursive: true, force: true }));
        return stopped;
      };
      return server;
    } catch (err) {
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      lastError = err;
      if (!(err instanceof StartFailure && err.addressInUse && pickPort)) break;
    }
  }
  throw lastError;
}
