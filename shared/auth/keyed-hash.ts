const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

/**
 * HMAC-SHA256 with the gateway's secret, one derived key per purpose (so a value keyed
 * for one use is useless for another). Keys are imported once per isolate.
 */
export async function keyedHash(secret: string, purpose: string, message: string): Promise<Uint8Array> {
  const id = `${purpose}\n${secret}`;
  let key = keys.get(id);
  if (!key) {
    key = derivedKey(secret, purpose);
    keys.set(id, key);
  }
  return new Uint8Array(await crypto.subtle.sign("HMAC", await key, encoder.encode(message)));
}

async function derivedKey(secret: string, purpose: string): Promise<CryptoKey> {
  const master = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const derived = await crypto.subtle.sign("HMAC", master, encoder.encode(`edgegate:${purpose}`));
  return crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}
