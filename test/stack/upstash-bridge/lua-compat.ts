/**
 * Lua compatibility between Upstash and a stock Redis 7.
 *
 * @upstash/ratelimit (2.x) starts every script with `#!lua flags=allow-key-locking`.
 * Upstash accepts that flag; Redis 7 refuses it:
 *   ERR Unexpected flag in script shebang: allow-key-locking
 * So the bridge drops Upstash-only shebang flags before a script reaches Redis.
 * The client addresses scripts by sha1(original text) (EVALSHA), whereas Redis
 * caches the rewritten text under sha1(rewritten text); this module keeps the
 * mapping so that EVALSHA / SCRIPT LOAD / SCRIPT EXISTS behave exactly as on
 * Upstash: the client only ever sees sha1 of the script it sent.
 *
 * The mapping is a pure function of the script text, so it never needs to be
 * invalidated: after a SCRIPT FLUSH, EVALSHA of a mapped sha gets Redis's own
 * NOSCRIPT error and the client falls back to EVAL, which re-caches the script.
 */
import { createHash } from "node:crypto";

/** Shebang flags that Upstash accepts but Redis 7 rejects. */
export const UPSTASH_ONLY_SHEBANG_FLAGS: ReadonlySet<string> = new Set(["allow-key-locking"]);

export interface ScriptMapping {
  /** sha1 of the script as the client sent it (what EVALSHA / SCRIPT LOAD use). */
  clientSha: string;
  /** sha1 of the text Redis actually runs. */
  redisSha: string;
}

export interface ScriptRewrite extends ScriptMapping {
  /** The text sent to Redis. */
  script: string;
}

export function sha1Hex(text: string): string {
  return createHash("sha1").update(text, "utf8").digest("hex");
}

/**
 * Return the script without Upstash-only shebang flags, or null when Redis can
 * run it unchanged. Line count is preserved (error line numbers stay right).
 */
export function stripUpstashShebangFlags(script: string): string | null {
  if (script.charCodeAt(0) !== 35 /* # */ || script.charCodeAt(1) !== 33 /* ! */) return null;
  let eol = script.indexOf("\n");
  if (eol < 0) eol = script.length;
  const line = script.slice(0, eol);
  const body = line.trimEnd();
  const trailing = line.slice(body.length); // e.g. "\r"
  const parts = body.split(" ");
  let changed = false;
  const kept: string[] = [];
  for (const part of parts) {
    if (part.startsWith("flags=")) {
      const flags = part.slice("flags=".length).split(",");
      const keptFlags = flags.filter((f) => !UPSTASH_ONLY_SHEBANG_FLAGS.has(f));
      if (keptFlags.length !== flags.length) {
        changed = true;
        if (keptFlags.length > 0) kept.push(`flags=${keptFlags.join(",")}`);
        continue;
      }
    }
    kept.push(part);
  }
  if (!changed) return null;
  return kept.join(" ") + trailing + script.slice(eol);
}

export class LuaCompat {
  /** script text -> rewrite (null: runs unchanged). Bounded. */
  private readonly byScript = new Map<string, ScriptRewrite | null>();
  /** client sha -> redis sha (lower-case hex) */
  private readonly toRedis = new Map<string, string>();
  /** redis sha -> client sha */
  private readonly toClient = new Map<string, string>();

  /** Rewrite for EVAL / EVAL_RO / SCRIPT LOAD, or null if the script runs unchanged. */
  forScript(script: string): ScriptRewrite | null {
    if (script.charCodeAt(0) !== 35 /* # */ || script.charCodeAt(1) !== 33 /* ! */) return null;
    const cached = this.byScript.get(script);
    if (cached !== undefined) return cached;
    const rewritten = stripUpstashShebangFlags(script);
    let r: ScriptRewrite | null = null;
    if (rewritten !== null) {
      r = { clientSha: sha1Hex(script), redisSha: sha1Hex(rewritten), script: rewritten };
      this.toRedis.set(r.clientSha, r.redisSha);
      this.toClient.set(r.redisSha, r.clientSha);
    }
    if (this.byScript.size >= 1024) this.byScript.clear();
    this.byScript.set(script, r);
    return r;
  }

  /** Mapping for an EVALSHA / EVALSHA_RO / SCRIPT EXISTS argument, or null if none. */
  forSha(sha: string): ScriptMapping | null {
    if (this.toRedis.size === 0) return null;
    let redisSha = this.toRedis.get(sha);
    if (redisSha !== undefined) return { clientSha: sha, redisSha };
    const lower = sha.toLowerCase();
    if (lower === sha) return null;
    redisSha = this.toRedis.get(lower);
    return redisSha === undefined ? null : { clientSha: sha, redisSha };
  }

  /** Replace the Redis-side sha by the client-visible one (error texts mention it). */
  static fixText(text: string, m: ScriptMapping): string {
    return text.includes(m.redisSha) ? text.split(m.redisSha).join(m.clientSha) : text;
  }
}
