/**
 * A local stand-in for the Upstash Redis REST API, backed by a real Redis.
 *
 * Speaks exactly what @upstash/redis 1.39 and @upstash/ratelimit 2.2 use:
 *   POST /            ["SET","k","v","EX",100]          -> 200 {"result":...} | 400 {"error":"<redis error>"}
 *   POST /pipeline    [[...],[...]]                      -> 200 [{"result":...}|{"error":"..."}, ...] (not atomic)
 *   POST /multi-exec  [[...],[...]]                      -> same shape, inside MULTI/EXEC (atomic)
 *   Authorization: Bearer <token>  (else 401 {"error":"Unauthorized"})
 *   Upstash-Encoding: base64       -> strings in results are base64 of the raw bytes
 * plus a control plane for tests / benchmarks (same Bearer token, never faulted):
 *   GET  /_bridge/stats   -> BridgeStats
 *   POST /_bridge/reset   -> resets the stats
 *   GET|POST /_bridge/faults  (POST body: BridgeFaults, replaces the current faults)
 *
 * The path form (`/set/k/v`) is not implemented: the client only uses it for
 * SSE subscribe/psubscribe, which a gateway does not need.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Command, Redis as IORedis, type Pipeline, type RedisOptions } from "ioredis";
import { LuaCompat, type ScriptMapping } from "./lua-compat.js";
import { resultJson } from "./resp-json.js";

export interface UpstashBridgeOptions {
  /** HTTP port; 0 or undefined = pick a free one. */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** e.g. redis://127.0.0.1:6379 */
  redisUrl: string;
  /** Bearer token clients must send. */
  token: string;
}

export interface BridgeStats {
  /** Requests that reached a Redis endpoint (/_bridge/* excluded), including faulted and unauthorized ones. */
  requests: number;
  /** Same, per URL path ("/", "/pipeline", "/multi-exec", ...). */
  byPath: Record<string, number>;
  /** Redis commands received in authorized requests (a pipeline of N counts N). */
  commands: number;
  /** performance.now() at each request's arrival (the most recent 10,000), to order round trips against other events. */
  arrivals: number[];
}

export interface BridgeFaults {
  /** Added before answering each request. */
  delayMs?: number;
  /** Refuse: destroy the socket without an answer. */
  down?: boolean;
  /** Answer every request with this HTTP status and {"error":"injected fault"}. */
  status?: number;
}

export interface UpstashBridge {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  token: string;
  stats(): BridgeStats;
  resetStats(): void;
  /** Replaces the current faults; setFaults({}) clears them. */
  setFaults(f: BridgeFaults): void;
  close(): Promise<void>;
}

const REDIS_OPTIONS: RedisOptions = {
  lazyConnect: true,
  // Integer replies as decimal strings: exact 64-bit values, and they can be told
  // apart from bulk/status replies, which arrive as Buffers (binary-safe).
  stringNumbers: true,
  // Commands are sent with sendCommand()/explicit pipelines, which bypass ioredis
  // auto-pipelining anyway (and ioredis 5 auto-pipelining loses the command name
  // of call()/callBuffer()). Concurrent requests still share the one socket: Redis
  // answers in order, and Node coalesces writes while the socket is busy.
  enableAutoPipelining: false,
  maxRetriesPerRequest: 2,
  // Never replay a command Redis may already have executed (INCR twice...).
  autoResendUnfulfilledCommands: false,
  connectionName: "upstash-bridge",
};

const BUFFER_REPLIES = { replyEncoding: null } as const;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Would break or block the shared connection. */
const FORBIDDEN = new Set([
  "multi", "exec", "discard", "watch", "unwatch", "select", "swapdb",
  "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe",
  "monitor", "quit", "reset", "hello", "auth", "sync", "psync", "replconf",
]);
/** Run on a dedicated connection so they cannot stall everyone else. */
const BLOCKING = new Set([
  "blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "wait", "waitaof",
]);

type Arg = string | number;

interface Prepared {
  name: string;
  args: Arg[];
  /** Set when a script was rewritten / an EVALSHA sha was mapped (see lua-compat.ts). */
  map: ScriptMapping | null;
  /** SCRIPT LOAD of a rewritten script: answer with the client's sha. */
  loadSha: string | null;
  blocking: boolean;
}

function hasBlockArg(args: Arg[]): boolean {
  for (const a of args) if (typeof a === "string" && a.length === 5 && a.toLowerCase() === "block") return true;
  return false;
}

function prepare(raw: unknown, lua: LuaCompat): Prepared | string {
  if (!Array.isArray(raw) || raw.length === 0) return "ERR failed to parse command: expected a non-empty JSON array";
  const first: unknown = raw[0];
  if (typeof first !== "string" || first.length === 0) return "ERR failed to parse command: the command name must be a string";
  const n = raw.length - 1;
  const args: Arg[] = new Array<Arg>(n);
  for (let i = 0; i < n; i++) {
    const a: unknown = raw[i + 1];
    args[i] = typeof a === "string" || typeof a === "number" ? a : typeof a === "boolean" ? String(a) : (JSON.stringify(a) ?? "");
  }
  const lower = first.toLowerCase();
  let name = first;
  let map: ScriptMapping | null = null;
  let loadSha: string | null = null;
  let blocking = false;
  switch (lower) {
    case "hgetall":
      name = "HGETALL"; // ioredis turns replies of a command named "hgetall" into an object
      break;
    case "eval":
    case "eval_ro": {
      const script = args[0];
      if (typeof script === "string") {
        const r = lua.forScript(script);
        if (r) {
          args[0] = r.script;
          map = r;
        }
      }
      break;
    }
    case "evalsha":
    case "evalsha_ro": {
      const sha = args[0];
      if (typeof sha === "string") {
        const m = lua.forSha(sha);
        if (m) {
          args[0] = m.redisSha;
          map = m;
        }
      }
      break;
    }
    case "script": {
      const sub = typeof args[0] === "string" ? args[0].toLowerCase() : "";
      if (sub === "load" && typeof args[1] === "string") {
        const r = lua.forScript(args[1]);
        if (r) {
          args[1] = r.script;
          map = r;
          loadSha = r.clientSha;
        }
      } else if (sub === "exists") {
        for (let i = 1; i < args.length; i++) {
          const a = args[i];
          const m = typeof a === "string" ? lua.forSha(a) : null;
          if (m) args[i] = m.redisSha;
        }
      }
      break;
    }
    case "client":
      if (typeof args[0] === "string" && args[0].toLowerCase() === "reply") {
        return "ERR command 'CLIENT REPLY' is not supported by the Upstash REST bridge";
      }
      break;
    case "xread":
    case "xreadgroup":
      blocking = hasBlockArg(args);
      break;
    default:
      if (FORBIDDEN.has(lower)) return `ERR command '${first.toUpperCase()}' is not supported by the Upstash REST bridge`;
      blocking = BLOCKING.has(lower);
  }
  return { name, args, map, loadSha, blocking };
}

function finish(p: Prepared, value: unknown): unknown {
  return p.loadSha !== null && Buffer.isBuffer(value) ? Buffer.from(p.loadSha, "latin1") : value;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorText(p: Prepared, err: unknown): string {
  const msg = messageOf(err);
  return p.map ? LuaCompat.fixText(msg, p.map) : msg;
}

function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === "ReplyError";
}

const errorJson = (msg: string) => `{"error":${JSON.stringify(msg)}}`;
const UNAUTHORIZED = errorJson("Unauthorized");
const INJECTED = errorJson("injected fault");

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let first: Buffer | null = null;
    let chunks: Buffer[] | null = null;
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      if (first === null) first = c;
      else (chunks ??= [first]).push(c);
    });
    req.on("end", () => {
      const f = first as Buffer | null;
      resolve(chunks ? Buffer.concat(chunks).toString("utf8") : f ? f.toString("utf8") : "");
    });
    req.on("error", reject);
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function normalizeFaults(f: unknown): BridgeFaults {
  if (f === null || typeof f !== "object" || Array.isArray(f)) throw new TypeError("faults must be a JSON object");
  const { delayMs, down, status } = f as Record<string, unknown>;
  const out: BridgeFaults = {};
  if (delayMs !== undefined && delayMs !== null && delayMs !== 0) {
    if (typeof delayMs !== "number" || !Number.isFinite(delayMs) || delayMs < 0) throw new TypeError("delayMs must be a number >= 0");
    out.delayMs = delayMs;
  }
  if (down !== undefined && down !== null && down !== false) {
    if (down !== true) throw new TypeError("down must be a boolean");
    out.down = true;
  }
  if (status !== undefined && status !== null && status !== 0) {
    if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) {
      throw new TypeError("status must be an HTTP status code (100-599)");
    }
    out.status = status;
  }
  return out;
}

export async function startUpstashBridge(opts: UpstashBridgeOptions): Promise<UpstashBridge> {
  if (!opts.token) throw new Error("startUpstashBridge: token is required");
  const authHeader = `Bearer ${opts.token}`;
  const lua = new LuaCompat();

  const shared = new IORedis(opts.redisUrl, REDIS_OPTIONS);
  let lastRedisError: Error | null = null;
  shared.on("error", (err: Error) => {
    lastRedisError = err; // keep ioredis from printing "Unhandled error event"
  });
  try {
    await shared.connect();
  } catch (err) {
    shared.disconnect();
    throw new Error(`upstash bridge: cannot connect to Redis at ${opts.redisUrl}: ${messageOf(lastRedisError ?? err)}`);
  }

  let requests = 0;
  let commands = 0;
  let byPath = new Map<string, number>();
  let arrivals: number[] = [];
  let faults: BridgeFaults = {};

  const getStats = (): BridgeStats => ({ requests, byPath: Object.fromEntries(byPath), commands, arrivals: [...arrivals] });
  const resetStats = () => {
    requests = 0;
    commands = 0;
    byPath = new Map();
    arrivals = [];
  };

  /** A short-lived connection for blocking commands. */
  const dedicated = (): IORedis => {
    const c = shared.duplicate({ lazyConnect: false, connectionName: "upstash-bridge-blocking" });
    c.on("error", () => {});
    return c;
  };

  async function single(body: unknown, base64: boolean, res: ServerResponse): Promise<void> {
    const p = prepare(body, lua);
    if (typeof p === "string") return send(res, 400, errorJson(p));
    commands++;
    const conn = p.blocking ? dedicated() : shared;
    try {
      const value = await conn.sendCommand(new Command(p.name, p.args, BUFFER_REPLIES));
      send(res, 200, `{"result":${resultJson(finish(p, value), base64)}}`);
    } catch (err) {
      send(res, isReplyError(err) ? 400 : 500, errorJson(errorText(p, err)));
    } finally {
      if (conn !== shared) conn.disconnect();
    }
  }

  async function batch(body: unknown, base64: boolean, res: ServerResponse, atomic: boolean): Promise<void> {
    if (!Array.isArray(body) || body.length === 0) {
      return send(res, 400, errorJson("ERR failed to parse pipeline request: expected a non-empty JSON array of commands"));
    }
    const n = body.length;
    commands += n;
    const prepared: Array<Prepared | string> = new Array(n);
    let runnable = 0;
    let blocking = false;
    for (let i = 0; i < n; i++) {
      const p = prepare(body[i], lua);
      prepared[i] = p;
      if (typeof p !== "string") {
        runnable++;
        if (p.blocking) blocking = true;
      } else if (atomic) {
        // What Redis does when a command fails to queue inside MULTI.
        return send(res, 400, errorJson(`EXECABORT Transaction discarded because of previous errors. Previous errors: ${p}`));
      }
    }

    let results: Array<[Error | null, unknown]> = [];
    if (runnable > 0) {
      const conn = blocking && !atomic ? dedicated() : shared;
      try {
        if (runnable === 1 && !atomic) {
          const p = prepared.find((x): x is Prepared => typeof x !== "string") as Prepared;
          try {
            results = [[null, await conn.sendCommand(new Command(p.name, p.args, BUFFER_REPLIES))]];
          } catch (err) {
            if (!isReplyError(err)) throw err;
            results = [[err as Error, null]];
          }
        } else {
          // multi() is typed as ChainableCommander, but is a Pipeline at runtime.
          const pipe = (atomic ? conn.multi() : conn.pipeline()) as unknown as Pipeline;
          for (const p of prepared) if (typeof p !== "string") pipe.sendCommand(new Command(p.name, p.args, BUFFER_REPLIES));
          results = ((await pipe.exec()) ?? []) as Array<[Error | null, unknown]>;
        }
      } catch (err) {
        if (atomic && isReplyError(err)) {
          // EXECABORT (a command failed to queue): Redis ran nothing.
          const prev = (err as { previousErrors?: Error[] }).previousErrors;
          const detail = prev && prev.length > 0 ? ` Previous errors: ${prev.map((e) => e.message).join("; ")}` : "";
          return send(res, 400, errorJson(messageOf(err) + detail));
        }
        return send(res, 500, errorJson(messageOf(err)));
      } finally {
        if (conn !== shared) conn.disconnect();
      }
    }

    let out = "[";
    let j = 0;
    for (let i = 0; i < n; i++) {
      if (i > 0) out += ",";
      const p = prepared[i] as Prepared | string;
      if (typeof p === "string") {
        out += errorJson(p);
        continue;
      }
      const r = results[j++];
      if (!r) out += errorJson("ERR no reply from Redis");
      else if (r[0]) out += errorJson(errorText(p, r[0]));
      else out += `{"result":${resultJson(finish(p, r[1]), base64)}}`;
    }
    send(res, 200, out + "]");
  }

  async function control(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== authHeader) return send(res, 401, UNAUTHORIZED);
    const method = req.method;
    if (path === "/_bridge/stats" && (method === "GET" || method === "POST")) {
      return send(res, 200, JSON.stringify(getStats()));
    }
    if (path === "/_bridge/reset" && method === "POST") {
      resetStats();
      return send(res, 200, JSON.stringify(getStats()));
    }
    if (path === "/_bridge/faults") {
      if (method === "GET") return send(res, 200, JSON.stringify(faults));
      if (method === "POST") {
        try {
          faults = normalizeFaults(JSON.parse(await readBody(req)));
        } catch (err) {
          return send(res, 400, errorJson(`invalid faults: ${messageOf(err)}`));
        }
        return send(res, 200, JSON.stringify(faults));
      }
    }
    send(res, 404, errorJson(`unknown control endpoint ${method} ${path}`));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    if (path.startsWith("/_bridge/")) return control(path, req, res);

    requests++;
    byPath.set(path, (byPath.get(path) ?? 0) + 1);
    if (arrivals.push(performance.now()) > 10_000) arrivals.shift();

    const f = faults;
    if (f.down) {
      req.socket.destroy();
      return;
    }
    if (f.delayMs) {
      await sleep(f.delayMs);
      if (faults.down) {
        req.socket.destroy();
        return;
      }
    }
    if (f.status) return send(res, f.status, INJECTED);

    if (req.headers.authorization !== authHeader) return send(res, 401, UNAUTHORIZED);
    if (path !== "/" && path !== "/pipeline" && path !== "/multi-exec") {
      return send(res, 404, errorJson(`ERR unsupported endpoint ${path}: this bridge serves POST /, /pipeline and /multi-exec`));
    }
    if (req.method !== "POST") return send(res, 405, errorJson("ERR only POST is supported by this bridge"));

    const base64 = req.headers["upstash-encoding"] === "base64";
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (err) {
      return send(res, 400, errorJson(`ERR failed to parse request body: ${messageOf(err)}`));
    }
    if (path === "/") return single(body, base64, res);
    return batch(body, base64, res, path === "/multi-exec");
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, errorJson(messageOf(err)));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  server.on("connection", (socket) => socket.setNoDelay(true));

  const host = opts.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: opts.port ?? 0, host }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    shared.disconnect();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    token: opts.token,
    stats: getStats,
    resetStats,
    setFaults(f: BridgeFaults) {
      faults = normalizeFaults(f);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).finally(() => shared.disconnect());
      return closing;
    },
  };
}
