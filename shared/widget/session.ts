import { constantTimeEqual } from "../auth/constant-time.js";
import { keyedHash } from "../auth/keyed-hash.js";
import { GatewayError } from "../http/errors.js";
import { fromBase64Url, toBase64Url } from "../text/bytes.js";

/** The request header carrying the visitor's session token. */
export const SESSION_HEADER = "x-edgegate-session";
/** A visitor session lasts this long; the widget then asks for a new one. */
export const SESSION_SECONDS = 3600;

/** What a session token vouches for: a visitor of one key, on one network, until it expires. */
export interface WidgetSession {
  keyId: string;
  /** Random, made by the gateway: the visitor's identity for their limits. */
  sessionId: string;
  /** The keyed hash of the network the session was issued to. */
  networkId: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** The visitor passed the key's Turnstile challenge when the session was issued. */
  verified: boolean;
}

interface Payload {
  k: string;
  s: string;
  n: string;
  e: number;
  t: 0 | 1;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Issues a signed session token: `<payload>.<signature>`, both base64url. Visitors cannot mint or alter one. */
export async function issueSession(secret: string, session: Omit<WidgetSession, "sessionId" | "expiresAt">, now: number): Promise<{ token: string; session: WidgetSession }> {
  const issued: WidgetSession = {
    ...session,
    sessionId: toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
    expiresAt: Math.floor(now / 1000) + SESSION_SECONDS,
  };
  const payload: Payload = { k: issued.keyId, s: issued.sessionId, n: issued.networkId, e: issued.expiresAt, t: issued.verified ? 1 : 0 };
  const body = toBase64Url(encoder.encode(JSON.stringify(payload)));
  return { token: `${body}.${await signature(secret, body)}`, session: issued };
}

/**
 * The session a token vouches for, if it is genuine, for this key, not expired and used
 * from the network it was issued to; otherwise a 401 that tells the widget to get a new
 * session (`x-edgegate-session: renew`).
 */
export async function verifySession(secret: string, token: string | null, expected: { keyId: string; networkId: string }, now: number): Promise<WidgetSession> {
  if (!token) throw renew(`Widget requests need a visitor session: POST /v1/widget/session first and send its token in ${SESSION_HEADER}.`);
  const [body, mac, extra] = token.split(".");
  if (!body || !mac || extra !== undefined || token.length > 1024) throw renew("The widget session token is malformed; start a new session.");
  if (!constantTimeEqual(mac, await signature(secret, body))) throw renew("The widget session token is not valid; start a new session.");
  const payload = JSON.parse(decoder.decode(fromBase64Url(body))) as Payload;
  if (payload.k !== expected.keyId) throw renew("The widget session belongs to another widget key; start a new session.");
  if (payload.e * 1000 <= now) throw renew("The widget session has expired; start a new session.");
  if (payload.n !== expected.networkId) throw renew("The widget session was started from another network; start a new session.");
  return { keyId: payload.k, sessionId: payload.s, networkId: payload.n, expiresAt: payload.e, verified: payload.t === 1 };
}

async function signature(secret: string, body: string): Promise<string> {
  return toBase64Url(await keyedHash(secret, "widget-session", body));
}

function renew(message: string): GatewayError {
  return new GatewayError("authentication_error", message, { headers: { [SESSION_HEADER]: "renew" } });
}
