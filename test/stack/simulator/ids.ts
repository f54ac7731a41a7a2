import { randomBytes } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * A random id shaped like the API's: `msg_01...`, `req_01...`, `toolu_01...` (22 base62
 * characters after `01`); Bedrock's and Vertex's message ids read `msg_bdrk_01...`, `msg_vrtx_01...`.
 */
export function randomId(prefix: "msg" | "msg_bdrk" | "msg_vrtx" | "req" | "toolu"): string {
  const suffix = Array.from(randomBytes(22), (byte) => BASE62.charAt(byte % BASE62.length)).join("");
  return `${prefix}_01${suffix}`;
}
