/**
 * Redis reply (as produced by ioredis with Buffer replies and `stringNumbers`)
 * -> the JSON text of an Upstash REST `result`.
 *
 * Input shapes (RESP2, Redis 7):
 *   Buffer        bulk string or status reply ("OK", "PONG", "string")
 *   string        integer reply (ioredis `stringNumbers: true` keeps all 64 bits)
 *   null          nil
 *   Array         multi-bulk, possibly nested, possibly containing Error (Lua tables)
 *
 * Output rules (what @upstash/redis 1.39 decodes):
 *   integers  -> JSON numbers (exact digits), never encoded
 *   nil       -> null
 *   strings   -> base64 of the raw bytes when `Upstash-Encoding: base64`,
 *                else the UTF-8 text; in base64 mode a top-level "OK" stays
 *                plain "OK" (Upstash: "all strings are base64 encoded, except
 *                for the OK response"; the client special-cases it only at the
 *                top level, NOT inside arrays, where "OK" must be encoded)
 *   arrays    -> arrays, recursively
 */

const INTEGER = /^-?\d+$/;

function stringJson(s: string, base64: boolean): string {
  return base64 ? `"${Buffer.from(s, "utf8").toString("base64")}"` : JSON.stringify(s);
}

export function replyToJson(v: unknown, base64: boolean): string {
  if (v === null || v === undefined) return "null";
  if (Buffer.isBuffer(v)) {
    return base64 ? `"${v.toString("base64")}"` : JSON.stringify(v.toString("utf8"));
  }
  if (typeof v === "string") {
    // ioredis stringNumbers: integer replies arrive as decimal strings.
    return INTEGER.test(v) ? v : stringJson(v, base64);
  }
  if (Array.isArray(v)) {
    const n = v.length;
    if (n === 0) return "[]";
    let out = "[" + replyToJson(v[0], base64);
    for (let i = 1; i < n; i++) out += "," + replyToJson(v[i], base64);
    return out + "]";
  }
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  if (v instanceof Error) return stringJson(v.message, base64); // error nested in a Lua table reply
  return JSON.stringify(v) ?? "null";
}

function isOkStatus(v: unknown): boolean {
  return Buffer.isBuffer(v) && v.length === 2 && v[0] === 0x4f && v[1] === 0x4b;
}

/** JSON of a top-level `result` value. */
export function resultJson(v: unknown, base64: boolean): string {
  if (base64 && isOkStatus(v)) return '"OK"';
  return replyToJson(v, base64);
}
