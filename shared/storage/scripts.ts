import type { Redis } from "@upstash/redis";
import { sha1Hex } from "./sha1.js";

export interface LuaScript {
  source: string;
  sha1: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha1: sha1Hex(source) };
}

/**
 * Runs a script by its hash, falling back to EVAL when Redis has not cached it yet,
 * as @upstash/ratelimit does. Calling this synchronously alongside other commands
 * lets the client's auto-pipelining send them all in one HTTP request.
 */
export async function runScript<T>(redis: Redis, script: LuaScript, keys: string[], args: (string | number)[]): Promise<T> {
  const stringArgs = args.map(String);
  try {
    return (await redis.evalsha(script.sha1, keys, stringArgs)) as T;
  } catch (error) {
    if (!String(error).includes("NOSCRIPT")) throw error;
    return (await redis.eval(script.source, keys, stringArgs)) as T;
  }
}
