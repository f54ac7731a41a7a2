/**
 * Fidelity of the local Upstash REST bridge (test/stack/upstash-bridge) against
 * the real @upstash/redis and @upstash/ratelimit clients, backed by a real redis-server.
 *
 *   npx vitest run --project integration test/integration/upstash-bridge.test.ts
 */
import { Ratelimit } from "@upstash/ratelimit";
import { Redis, errors } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../stack/redis/redis-server.js";
import { sha1Hex, stripUpstashShebangFlags } from "../stack/upstash-bridge/lua-compat.js";
import { startUpstashBridge, type UpstashBridge } from "../stack/upstash-bridge/server.js";

const TOKEN = "bridge-test-token";

let redisServer: RedisServer;
let bridge: UpstashBridge;
let direct: IORedis; // talks to redis-server directly, to check what the bridge really did
let redis: Redis; // default options: base64 responses + auto-pipelining

let seq = 0;
const key = (name: string) => `t${++seq}:${name}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Raw HTTP call, to check the wire format itself. */
async function post(
  path: string,
  body: unknown,
  opts: { token?: string | null; base64?: boolean } = {},
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (opts.base64 ?? true) headers["Upstash-Encoding"] = "base64";
  const res = await fetch(bridge.url + path, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

const b64 = (s: string | Buffer) => (typeof s === "string" ? Buffer.from(s, "utf8") : s).toString("base64");

/** Sliding windows are fixed-size buckets: do not straddle a boundary mid-test. */
async function awayFromWindowEdge(windowMs: number, marginMs = 1_000): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await sleep(left + 20);
}

beforeAll(async () => {
  redisServer = await startRedisServer({ port: 0 });
  bridge = await startUpstashBridge({ port: 0, redisUrl: redisServer.url, token: TOKEN });
  direct = new IORedis(redisServer.url);
  await direct.flushall();
  redis = new Redis({ url: bridge.url, token: TOKEN });
});

afterAll(async () => {
  direct?.disconnect();
  await bridge?.close();
  await redisServer?.stop();
});

beforeEach(() => {
  bridge.setFaults({});
  bridge.resetStats();
});

describe("wire format", () => {
  it("POST / returns {result}; status OK stays plain, bulk strings are base64, integers are numbers", async () => {
    const k = key("wire");
    expect(await post("/", ["SET", k, "héllo", "EX", 100])).toEqual({ status: 200, json: { result: "OK" } });
    expect(await post("/", ["GET", k])).toEqual({ status: 200, json: { result: b64("héllo") } });
    expect(await post("/", ["GET", k], { base64: false })).toEqual({ status: 200, json: { result: "héllo" } });
    expect(await post("/", ["INCRBY", key("n"), 5])).toEqual({ status: 200, json: { result: 5 } });
    expect(await post("/", ["GET", key("missing")])).toEqual({ status: 200, json: { result: null } });
    // status replies other than OK are encoded like any string
    expect(await post("/", ["PING"])).toEqual({ status: 200, json: { result: b64("PONG") } });
    // inside arrays even "OK" must be encoded: the client base64-decodes every array string
    await direct.set(`${k}:ok`, "OK");
    expect(await post("/", ["MGET", `${k}:ok`, key("none")])).toEqual({ status: 200, json: { result: [b64("OK"), null] } });
  });

  it("is binary-safe: raw bytes come back base64-encoded exactly", async () => {
    const k = key("bin");
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x0d, 0x0a, 0x41]);
    await direct.set(k, bytes);
    expect(await post("/", ["GET", k])).toEqual({ status: 200, json: { result: bytes.toString("base64") } });
    const piped = await post("/pipeline", [["GET", k], ["STRLEN", k]]);
    expect(piped).toEqual({ status: 200, json: [{ result: bytes.toString("base64") }, { result: 7 }] });
  });

  it("keeps exact 64-bit integers", async () => {
    const k = key("big");
    const res = await fetch(bridge.url, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(["INCRBY", k, "9223372036854775806"]),
    });
    expect(await res.text()).toBe('{"result":9223372036854775806}');
  });

  it("a Redis error is HTTP 400 with the Redis text unchanged", async () => {
    const sha = "f".repeat(40);
    expect(await post("/", ["EVALSHA", sha, 0])).toEqual({
      status: 400,
      json: { error: "NOSCRIPT No matching script. Please use EVAL." },
    });
    const k = key("wt");
    await direct.set(k, "x");
    expect(await post("/", ["HGET", k, "f"])).toEqual({
      status: 400,
      json: { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
    });
  });

  it("rejects a missing or wrong token with 401, and malformed bodies with 400", async () => {
    expect(await post("/", ["PING"], { token: null })).toEqual({ status: 401, json: { error: "Unauthorized" } });
    expect(await post("/pipeline", [["PING"]], { token: "nope" })).toEqual({ status: 401, json: { error: "Unauthorized" } });
    expect((await post("/", { not: "a command" })).status).toBe(400);
    expect((await post("/pipeline", [])).status).toBe(400);
    // connection-state commands would corrupt the shared connection
    expect((await post("/", ["MULTI"])).status).toBe(400);
  });
});

describe("@upstash/redis (default options: base64 + auto-pipelining)", () => {
  it("strings: set EX / get / incr / incrby / decrby / mget", async () => {
    const k = key("s");
    expect(await redis.set(k, "v1", { ex: 100 })).toBe("OK");
    expect(await redis.get(k)).toBe("v1");
    const ttl = await redis.ttl(k);
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    const n = key("n");
    expect(await redis.incr(n)).toBe(1);
    expect(await redis.incrby(n, 4)).toBe(5);
    expect(await redis.decrby(n, 2)).toBe(3);
    expect(await redis.mget(k, n, key("missing"))).toEqual(["v1", 3, null]);
    expect(await direct.get(n)).toBe("3");
  });

  it("unicode, control characters and JSON values round-trip", async () => {
    const k = key("u");
    const text = 'héllo ✓ 日本語 🎉 "quoted" \\ back\nline\u0000nul\u0001';
    await redis.set(k, text);
    expect(await redis.get(k)).toBe(text);
    expect(await direct.getBuffer(k)).toEqual(Buffer.from(text, "utf8"));
    expect(await redis.mget(k, k)).toEqual([text, text]);

    const j = key("json");
    const value = { a: 1, nested: { b: [1, 2, "x"], c: null }, s: "ünï" };
    await redis.set(j, value);
    expect(await direct.get(j)).toBe(JSON.stringify(value)); // what the client serialised
    expect(await redis.get(j)).toEqual(value);

    const ok = key("ok");
    await redis.set(ok, "OK");
    expect(await redis.get(ok)).toBe("OK");
    expect(await redis.mget(ok, k)).toEqual(["OK", text]);
  });

  it("hashes: hset / hget / hgetall / hincrby", async () => {
    const h = key("h");
    expect(await redis.hset(h, { a: 1, b: "x", c: "ü" })).toBe(3);
    expect(await redis.hget(h, "a")).toBe(1);
    expect(await redis.hget(h, "c")).toBe("ü");
    expect(await redis.hgetall(h)).toEqual({ a: 1, b: "x", c: "ü" });
    expect(await redis.hincrby(h, "a", 10)).toBe(11);
    expect(await direct.hget(h, "a")).toBe("11");
    expect(await redis.hgetall(key("nohash"))).toBeNull();
  });

  it("sorted sets: zadd / zrange withScores / zincrby / zrange byScore", async () => {
    const z = key("z");
    expect(await redis.zadd(z, { score: 1, member: "a" }, { score: 2.5, member: "b" }, { score: 3, member: "c" })).toBe(3);
    expect(await redis.zrange(z, 0, -1, { withScores: true })).toEqual(["a", 1, "b", 2.5, "c", 3]);
    expect(await redis.zincrby(z, 2, "a")).toBe(3);
    expect(await redis.zrange(z, 2, 3, { byScore: true })).toEqual(["b", "a", "c"]);
    expect(await redis.zscore(z, "b")).toBe(2.5);
  });

  it("auto-pipelining: concurrent commands share /pipeline requests (reads and writes batch separately)", async () => {
    const a = key("ap");
    const [s, g, i] = await Promise.all([redis.set(a, "1"), redis.get(key("none")), redis.incr(key("ap2"))]);
    expect([s, g, i]).toEqual(["OK", null, 1]);
    const st = bridge.stats();
    expect(st.commands).toBe(3);
    expect(st.byPath["/pipeline"]).toBe(2);
    expect(st.requests).toBe(2);
  });

  it("pipeline(): one /pipeline request, results in order, per-command errors", async () => {
    const k = key("p");
    const s = key("pstr");
    await direct.set(s, "str");
    bridge.resetStats();
    const res = await redis.pipeline().set(k, 1).incr(k).get(k).hget(s, "x").exec({ keepErrors: true });
    expect(res.map((r) => r.result)).toEqual(["OK", 2, 2, undefined]);
    expect(res[3]?.error).toBe("WRONGTYPE Operation against a key holding the wrong kind of value");
    expect(bridge.stats()).toMatchObject({ requests: 1, byPath: { "/pipeline": 1 }, commands: 4 });
    await expect(redis.pipeline().incr(k).hget(s, "x").exec()).rejects.toThrow(
      "Command 2 [ hget ] failed: WRONGTYPE Operation against a key holding the wrong kind of value",
    );
  });

  it("multi(): one /multi-exec request, atomic under concurrency", async () => {
    const k = key("m");
    expect(await redis.multi().incr(k).incr(k).get(k).exec()).toEqual([1, 2, 2]);
    expect(bridge.stats().byPath["/multi-exec"]).toBe(1);

    const c = key("mc");
    const other = new Redis({ url: bridge.url, token: TOKEN });
    const txs = Array.from({ length: 20 }, () => {
      const m = redis.multi();
      for (let i = 0; i < 5; i++) m.incr(c);
      return m.exec<number[]>();
    });
    const singles = Array.from({ length: 50 }, () => other.incr(c));
    const [txResults] = await Promise.all([Promise.all(txs), Promise.all(singles)]);
    for (const r of txResults) {
      expect(r).toHaveLength(5);
      for (let i = 1; i < 5; i++) expect(r[i]).toBe((r[0] as number) + i); // nothing interleaved
    }
    expect(await direct.get(c)).toBe(String(20 * 5 + 50));
  });

  it("/multi-exec really runs MULTI/EXEC: a queueing error aborts the whole transaction, unlike /pipeline", async () => {
    const k = key("abort");
    const tx = await post("/multi-exec", [["INCR", k], ["SET", "only-one-arg"]]);
    expect(tx.status).toBe(400);
    expect((tx.json as { error: string }).error).toMatch(/^EXECABORT Transaction discarded because of previous errors\./);
    expect(await direct.get(k)).toBeNull();

    const pipe = await post("/pipeline", [["INCR", k], ["SET", "only-one-arg"]]);
    expect(pipe).toEqual({
      status: 200,
      json: [{ result: 1 }, { error: "ERR wrong number of arguments for 'set' command" }],
    });
    // a runtime error inside MULTI only fails that command
    const s = key("mstr");
    await direct.set(s, "x");
    expect(await post("/multi-exec", [["INCR", k], ["HGET", s, "f"], ["INCR", k]])).toEqual({
      status: 200,
      json: [{ result: 2 }, { error: "WRONGTYPE Operation against a key holding the wrong kind of value" }, { result: 3 }],
    });
  });

  it("scripts: eval / evalsha (NOSCRIPT passes through) / scriptLoad / createScript", async () => {
    const k = key("lua");
    expect(await redis.eval("return {KEYS[1], ARGV[1], 42, {7, 'x'}, false}", [k], ["arg"])).toEqual([
      k,
      "arg",
      42,
      [7, "x"],
      null,
    ]);
    const missing = "0".repeat(40);
    await expect(redis.evalsha(missing, [], [])).rejects.toThrow("NOSCRIPT No matching script. Please use EVAL.");

    const body = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
    const sha = await redis.scriptLoad(body);
    expect(sha).toBe(sha1Hex(body));
    expect(await redis.evalsha(sha, [k], [5])).toBe(5);
    expect(await redis.scriptExists(sha, missing)).toEqual([1, 0]);

    const script = redis.createScript<string>(`return ARGV[1] .. '${seq}'`);
    await direct.script("FLUSH");
    bridge.resetStats();
    expect(await script.exec([], ["cold"])).toBe(`cold${seq}`);
    expect(bridge.stats().requests).toBe(2); // EVALSHA -> NOSCRIPT, then EVAL
    bridge.resetStats();
    expect(await script.exec([], ["warm"])).toBe(`warm${seq}`);
    expect(bridge.stats().requests).toBe(1);
  });

  it("scripts with Upstash-only shebang flags (allow-key-locking) run, addressed by the client's sha", async () => {
    const body = "#!lua flags=allow-key-locking\nreturn redis.call('INCR', KEYS[1])";
    // stock Redis 7 refuses the flag, which is why the bridge rewrites the shebang
    await expect(direct.eval(body, 0)).rejects.toThrow(/Unexpected flag in script shebang: allow-key-locking/);

    const k = key("shebang");
    const clientSha = sha1Hex(body);
    await direct.script("FLUSH");
    await expect(redis.evalsha(clientSha, [k], [])).rejects.toThrow("NOSCRIPT");
    expect(await redis.eval(body, [k], [])).toBe(1);
    expect(await redis.evalsha(clientSha, [k], [])).toBe(2);
    expect(await redis.scriptLoad(body)).toBe(clientSha);
    expect(await redis.scriptExists(clientSha)).toEqual([1]);

    const bad = "#!lua flags=allow-key-locking\nreturn redis.call('nope')";
    const rewrittenSha = sha1Hex(stripUpstashShebangFlags(bad) as string);
    const err = await redis.eval(bad, [], []).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toContain(sha1Hex(bad));
    expect(err?.message).not.toContain(rewrittenSha);
  });

  it("errors: WRONGTYPE is thrown with Redis's message (auto-pipelined and direct)", async () => {
    const k = key("wrongtype");
    await redis.set(k, "str");
    await expect(redis.hget(k, "f")).rejects.toThrow("WRONGTYPE Operation against a key holding the wrong kind of value");
    const plain = new Redis({ url: bridge.url, token: TOKEN, enableAutoPipelining: false });
    const err = await plain.lpush(k, "x").then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(errors.UpstashError);
    expect((err as Error).message).toMatch(/^WRONGTYPE Operation against a key holding the wrong kind of value/);
    expect(bridge.stats().byPath["/"]).toBe(1);
  });

  it("a bad token is rejected by the client", async () => {
    const bad = new Redis({ url: bridge.url, token: "wrong-token", retry: false });
    await expect(bad.get(key("x"))).rejects.toThrow("Unauthorized");
    const badPlain = new Redis({ url: bridge.url, token: "wrong-token", retry: false, enableAutoPipelining: false });
    await expect(badPlain.set(key("x"), 1)).rejects.toThrow(errors.UpstashError);
    expect(await direct.exists(key("x"))).toBe(0);
  });

  it("automaticDeserialization: false returns raw strings and real numbers", async () => {
    const raw = new Redis({ url: bridge.url, token: TOKEN, automaticDeserialization: false });
    const k = key("raw");
    await raw.set(k, '{"a":1}');
    expect(await raw.get(k)).toBe('{"a":1}');
    const n = key("rawn");
    await raw.set(n, "41");
    expect(await raw.get(n)).toBe("41"); // a bulk string stays a string
    expect(await raw.incr(n)).toBe(42); // an integer reply is a number
    expect(await raw.eval("return {1, '2'}", [], [])).toEqual([1, "2"]);
  });

  it("responseEncoding: false (plain JSON strings) also works", async () => {
    const plain = new Redis({ url: bridge.url, token: TOKEN, responseEncoding: false });
    const k = key("plain");
    const text = "plain ✓ 日本語 🎉 OK";
    await plain.set(k, text);
    expect(await plain.get(k)).toBe(text);
    expect(await plain.mget(k, key("none"))).toEqual([text, null]);
    const h = key("plainh");
    await plain.hset(h, { f: "v", n: 2 });
    expect(await plain.hgetall(h)).toEqual({ f: "v", n: 2 });
    expect(await plain.multi().incr(key("pn")).get(k).exec()).toEqual([1, text]);
  });
});

describe("@upstash/ratelimit", () => {
  it("slidingWindow(5, '10 s') admits exactly 5 of 8 concurrent calls", async () => {
    const rl = new Ratelimit({ redis, limiter: Ratelimit.slidingWindow(5, "10 s"), prefix: key("rl") });
    await awayFromWindowEdge(10_000);
    const res = await Promise.all(Array.from({ length: 8 }, () => rl.limit("user")));
    expect(res.filter((r) => r.success)).toHaveLength(5);
    expect(res.filter((r) => r.success).map((r) => r.remaining).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(res.every((r) => r.limit === 5)).toBe(true);
  });

  it("tokenBucket admits exactly maxTokens of 8 concurrent calls", async () => {
    const rl = new Ratelimit({ redis, limiter: Ratelimit.tokenBucket(1, "60 s", 5), prefix: key("tb") });
    const res = await Promise.all(Array.from({ length: 8 }, () => rl.limit("user")));
    expect(res.filter((r) => r.success)).toHaveLength(5);
    expect(res.filter((r) => !r.success).every((r) => r.remaining === 0)).toBe(true);
  });

  it("limit(id, { rate }) consumes n units and a negative rate refunds", async () => {
    await awayFromWindowEdge(10_000);
    const sw = new Ratelimit({ redis, limiter: Ratelimit.slidingWindow(10, "10 s"), prefix: key("rate") });
    expect((await sw.limit("u", { rate: 3 })).remaining).toBe(7);
    expect((await sw.limit("u", { rate: -2 })).remaining).toBe(9);
    expect((await sw.limit("u")).remaining).toBe(8);
    const over = await sw.limit("u", { rate: 20 });
    expect(over.success).toBe(false);

    const tb = new Ratelimit({ redis, limiter: Ratelimit.tokenBucket(1, "60 s", 10), prefix: key("ratetb") });
    expect((await tb.limit("u", { rate: 3 })).remaining).toBe(7);
    expect((await tb.limit("u", { rate: -2 })).remaining).toBe(9);
  });

  it("one limit() costs 2 bridge requests cold (EVALSHA -> NOSCRIPT -> EVAL) and 1 warm", async () => {
    const rl = new Ratelimit({ redis, limiter: Ratelimit.slidingWindow(100, "10 s"), prefix: key("count") });
    await direct.script("FLUSH");
    bridge.resetStats();
    expect((await rl.limit("u")).success).toBe(true);
    expect(bridge.stats()).toMatchObject({ requests: 2, byPath: { "/pipeline": 2 }, commands: 2 });

    bridge.resetStats();
    expect((await rl.limit("u")).success).toBe(true);
    expect(bridge.stats()).toMatchObject({ requests: 1, byPath: { "/pipeline": 1 }, commands: 1 });

    // concurrent calls are auto-pipelined into a single request
    bridge.resetStats();
    await Promise.all(Array.from({ length: 10 }, (_, i) => rl.limit(`u${i}`)));
    expect(bridge.stats()).toMatchObject({ requests: 1, byPath: { "/pipeline": 1 }, commands: 10 });
  });

  it("ephemeralCache answers a known-blocked identifier without a round trip", async () => {
    const rl = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(1, "10 s"),
      prefix: key("eph"),
      ephemeralCache: new Map(),
    });
    await awayFromWindowEdge(10_000);
    expect((await rl.limit("u")).success).toBe(true);
    expect((await rl.limit("u")).success).toBe(false);
    bridge.resetStats();
    const cached = await rl.limit("u");
    expect(cached).toMatchObject({ success: false, reason: "cacheBlock" });
    expect(bridge.stats().requests).toBe(0);
  });

  it("timeout fails open with reason 'timeout' when the bridge is slow", async () => {
    const rl = new Ratelimit({ redis, limiter: Ratelimit.slidingWindow(1, "10 s"), prefix: key("to"), timeout: 50 });
    bridge.setFaults({ delayMs: 250 });
    const t0 = performance.now();
    const res = await rl.limit("u");
    expect(performance.now() - t0).toBeLessThan(200);
    expect(res).toMatchObject({ success: true, reason: "timeout" });
    await sleep(300); // let the delayed request finish before the next test
  });
});

describe("faults and control plane", () => {
  it("delayMs adds latency to Redis endpoints", async () => {
    const k = key("delay");
    let t0 = performance.now();
    await redis.get(k);
    const base = performance.now() - t0;
    expect(base).toBeLessThan(150);
    bridge.setFaults({ delayMs: 200 });
    t0 = performance.now();
    await redis.get(k);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
  });

  it("down destroys the connection: the client throws after its retries", async () => {
    const client = new Redis({ url: bridge.url, token: TOKEN, retry: { retries: 1, backoff: () => 1 } });
    bridge.setFaults({ down: true });
    await expect(client.get(key("down"))).rejects.toThrow();
    expect(bridge.stats().requests).toBe(2); // first attempt + 1 retry
    bridge.setFaults({});
    expect(await client.set(key("up"), "v")).toBe("OK");
  });

  it("status 503 makes every Redis request fail; the control plane keeps working", async () => {
    bridge.setFaults({ status: 503 });
    const client = new Redis({ url: bridge.url, token: TOKEN, retry: false });
    await expect(client.get(key("503"))).rejects.toThrow("injected fault");
    expect(await post("/", ["PING"])).toEqual({ status: 503, json: { error: "injected fault" } });
    const stats = await fetch(`${bridge.url}/_bridge/stats`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(stats.status).toBe(200);
  });

  it("/_bridge/stats, /_bridge/reset and /_bridge/faults over HTTP (token required)", async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    await redis.set(key("cp"), 1);
    await post("/multi-exec", [["PING"], ["PING"]]);
    const res = await fetch(`${bridge.url}/_bridge/stats`, { headers: auth });
    const overHttp = (await res.json()) as { requests: number; byPath: Record<string, number>; commands: number; arrivals: number[] };
    expect(overHttp).toMatchObject({ requests: 2, byPath: { "/pipeline": 1, "/multi-exec": 1 }, commands: 3 });
    expect(overHttp.arrivals).toHaveLength(2);
    expect(overHttp.arrivals[0]!).toBeLessThanOrEqual(overHttp.arrivals[1]!);
    expect((await fetch(`${bridge.url}/_bridge/stats`)).status).toBe(401);
    expect((await fetch(`${bridge.url}/_bridge/reset`, { method: "POST" })).status).toBe(401);

    expect((await fetch(`${bridge.url}/_bridge/reset`, { method: "POST", headers: auth })).status).toBe(200);
    expect(bridge.stats()).toMatchObject({ requests: 0, byPath: {}, commands: 0 });

    const set = await fetch(`${bridge.url}/_bridge/faults`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ status: 503 }),
    });
    expect(await set.json()).toEqual({ status: 503 });
    expect((await post("/", ["PING"])).status).toBe(503);
    const bad = await fetch(`${bridge.url}/_bridge/faults`, { method: "POST", headers: auth, body: '{"status":"x"}' });
    expect(bad.status).toBe(400);
    await fetch(`${bridge.url}/_bridge/faults`, { method: "POST", headers: auth, body: "{}" });
    expect(await post("/", ["PING"])).toEqual({ status: 200, json: { result: b64("PONG") } });
  });
});
