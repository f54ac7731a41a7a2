import { sha256Hex } from "../auth/constant-time.js";
import { GatewayError } from "../http/errors.js";

/** The anonymous session id the widget keeps in sessionStorage and sends with each message. */
export const SESSION_HEADER = "x-edgegate-session";
const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * A widget visitor: their IP address plus the widget's anonymous session id, both only
 * as hashes salted with the key id, so limits can be kept per visitor and per IP
 * without storing either in the clear.
 */
export interface Visitor {
  id: string;
  ipId: string;
}

export async function identifyVisitor(request: Request, keyId: string): Promise<Visitor> {
  const session = request.headers.get(SESSION_HEADER);
  if (session !== null && !SESSION_ID.test(session)) {
    throw new GatewayError(
      "invalid_request_error",
      `${SESSION_HEADER}: expected 16-64 letters, digits, "-" or "_" (a random id the widget keeps per browser session).`,
    );
  }
  // Cloudflare sets cf-connecting-ip on every request that reaches a Worker.
  const ip = networkOf(request.headers.get("cf-connecting-ip") ?? "unknown");
  const [ipHash, visitorHash] = await Promise.all([
    sha256Hex(`${keyId}|${ip}`),
    sha256Hex(`${keyId}|${ip}|${session ?? ""}`),
  ]);
  return { id: visitorHash.slice(0, 32), ipId: ipHash.slice(0, 32) };
}

/**
 * The address limits are counted for: an IPv4 address as is, an IPv6 address by its /64
 * prefix, the block one subscriber usually gets (else every visitor has 2^64 "IPs").
 */
export function networkOf(ip: string): string {
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = ip.includes("::") ? (tail ? tail.split(":") : []) : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
