/**
 * Byte helpers (base64, base64url, hex), using the runtime's native base64 where it has one
 * (workerd: `Uint8Array.fromBase64`, `toBase64`) and a portable path elsewhere (Node 20).
 */

interface NativeBase64 {
  fromBase64?: (text: string) => Uint8Array;
}
interface NativeToBase64 {
  toBase64?: (this: Uint8Array, options?: { alphabet?: "base64" | "base64url"; omitPadding?: boolean }) => string;
}

const nativeFromBase64 = (Uint8Array as unknown as NativeBase64).fromBase64?.bind(Uint8Array);
const nativeToBase64 = (Uint8Array.prototype as unknown as NativeToBase64).toBase64;

function portableFromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/** Decodes standard base64 (with or without padding); throws on anything else. */
export const fromBase64: (text: string) => Uint8Array = nativeFromBase64 ?? portableFromBase64;

function portableToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let index = 0; index < bytes.length; index += 1) binary += String.fromCharCode(bytes[index]!);
  return btoa(binary);
}

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  return nativeToBase64 ? nativeToBase64.call(bytes) : portableToBase64(bytes);
}

/** Decodes base64url (with or without padding). */
export function fromBase64Url(text: string): Uint8Array {
  return fromBase64(text.replaceAll("-", "+").replaceAll("_", "/"));
}

/** base64url without padding, as JWTs use. */
export function toBase64Url(bytes: Uint8Array): string {
  if (nativeToBase64) return nativeToBase64.call(bytes, { alphabet: "base64url", omitPadding: true });
  return portableToBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let hex = "";
  for (let index = 0; index < view.length; index += 1) hex += HEX[view[index]!];
  return hex;
}

export const utf8 = new TextEncoder();

/**
 * A byte array as WebCrypto's parameter type. TypeScript's DOM library wants views of a
 * plain ArrayBuffer, which every array here is (none is backed by a SharedArrayBuffer);
 * the Workers types do not say so, hence the cast instead of a copy.
 */
export function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}
