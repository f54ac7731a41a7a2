import { sha256Hex } from "./constant-time.js";
import { toHex } from "../text/bytes.js";
import { keyedHash } from "./keyed-hash.js";

/**
 * The address limits are counted for: an IPv4 address as is, an IPv6 address by its /64
 * prefix, the block one subscriber usually gets (else every client has 2^64 "IPs").
 */
export function networkOf(ip: string): string {
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = ip.includes("::") ? (tail ? tail.split(":") : []) : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

/** The client's network as Cloudflare saw it (cf-connecting-ip is set on every request that reaches a Worker). */
export function clientNetwork(headers: Headers): string {
  return networkOf(headers.get("cf-connecting-ip") ?? "unknown");
}

/**
 * The wider network a session is bound to: an IPv4 /24 or an IPv6 /48, so a visitor
 * whose address moves within their provider's block (mobile networks, relays) keeps
 * their session, while a token copied elsewhere does not work.
 */
export function sessionNetwork(headers: Headers): string {
  const ip = headers.get("cf-connecting-ip") ?? "unknown";
  if (!ip.includes(":")) return ip.replace(/\.\d+$/, ".0/24");
  return `${networkOf(ip).split(":").slice(0, 3).join(":")}::/48`;
}

/**
 * A network's identifier for limit counters: keyed with the gateway's secret, so it
 * cannot be reversed by trying every address. Without a secret (a misconfiguration the
 * README warns about) it is a plain hash, which can be.
 */
export async function networkId(network: string, secret: string): Promise<string> {
  if (!secret) return (await sha256Hex(`edgegate-network|${network}`)).slice(0, 32);
  return toHex(await keyedHash(secret, "network", network)).slice(0, 32);
}
