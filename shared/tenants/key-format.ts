import type { KeyKind } from "./model.js";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const PREFIX: Record<KeyKind, string> = { secret: "sk-eg-", publishable: "pk-eg-" };

/** 32 base62 characters: about 190 bits of randomness. */
function randomToken(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let token = "";
  // 248 is the largest multiple of 62 below 256: rejecting above it keeps every character equally likely.
  for (let i = 0; token.length < length; i++) {
    const byte = i < bytes.length ? bytes[i]! : crypto.getRandomValues(new Uint8Array(1))[0]!;
    if (byte < 248) token += ALPHABET[byte % 62];
  }
  return token;
}

export function newKey(kind: KeyKind): string {
  return PREFIX[kind] + randomToken(32);
}

export function newKeyId(): string {
  return `key_${randomToken(12)}`;
}

export function keyKindOf(key: string): KeyKind | null {
  if (key.startsWith(PREFIX.secret)) return "secret";
  if (key.startsWith(PREFIX.publishable)) return "publishable";
  return null;
}

export function keyPreview(key: string): string {
  return `${key.slice(0, 10)}...`;
}
