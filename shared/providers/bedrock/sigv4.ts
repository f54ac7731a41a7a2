import { bufferSource, toHex, utf8 } from "../../text/bytes.js";

/** AWS credentials: a long-term key pair, or temporary ones with their session token. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignableRequest {
  method: string;
  url: URL;
  /** Headers to send and sign, lower-case names (`host`, `x-amz-date` and the token are added). */
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const HMAC = { name: "HMAC", hash: "SHA-256" } as const;

/** RFC 3986 percent-encoding, as SigV4's canonical form wants it (encodeURIComponent leaves !'()* alone). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Each path segment encoded once more, as every service but S3 expects (`%3A` in the URL signs as `%253A`). */
function canonicalPath(pathname: string): string {
  return pathname.split("/").map(uriEncode).join("/");
}

function canonicalQuery(params: URLSearchParams): string {
  return [...params]
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, aValue], [b, bValue]) => (a === b ? (aValue < bValue ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

/** `20150830T123600Z` */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", bufferSource(data)));
}

async function hmac(key: CryptoKey, data: string): Promise<ArrayBuffer> {
  return crypto.subtle.sign("HMAC", key, bufferSource(utf8.encode(data)));
}

function hmacKey(raw: ArrayBuffer | Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw instanceof Uint8Array ? bufferSource(raw) : raw, HMAC, false, ["sign"]);
}

/**
 * Signs requests with AWS Signature Version 4 (headers, not query string) for one
 * credential set, region and service, using WebCrypto only. The derived signing key
 * changes once a day and is cached, so a request costs two SHA-256 digests and one HMAC.
 */
export class SigV4Signer {
  #signingKey: { dateStamp: string; key: Promise<CryptoKey> } | null = null;

  constructor(
    private readonly credentials: AwsCredentials,
    private readonly region: string,
    private readonly service: string,
  ) {}

  /** The headers to send: the given ones plus `host`, `x-amz-date`, the session token and `authorization`. */
  async sign(request: SignableRequest, now: Date = new Date()): Promise<Record<string, string>> {
    const timestamp = amzDate(now);
    const dateStamp = timestamp.slice(0, 8);
    const headers: Record<string, string> = { ...request.headers, host: request.url.host, "x-amz-date": timestamp };
    if (this.credentials.sessionToken) headers["x-amz-security-token"] = this.credentials.sessionToken;

    const names = Object.keys(headers).sort();
    const signedHeaders = names.join(";");
    const canonicalHeaders = names.map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, " ")}\n`).join("");
    const canonicalRequest = [
      request.method,
      canonicalPath(request.url.pathname),
      canonicalQuery(request.url.searchParams),
      canonicalHeaders,
      signedHeaders,
      await sha256Hex(request.body),
    ].join("\n");
    const scope = `${dateStamp}/${this.region}/${this.service}/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${timestamp}\n${scope}\n${await sha256Hex(utf8.encode(canonicalRequest))}`;
    const signature = toHex(await hmac(await this.#keyFor(dateStamp), stringToSign));

    // The host header is the runtime's to send; it was signed with the URL's host.
    const { host: _host, ...sent } = headers;
    sent.authorization = `${ALGORITHM} Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return sent;
  }

  #keyFor(dateStamp: string): Promise<CryptoKey> {
    if (this.#signingKey?.dateStamp !== dateStamp) {
      const key = this.#deriveKey(dateStamp);
      // A failed derivation is not cached.
      key.catch(() => {
        if (this.#signingKey?.key === key) this.#signingKey = null;
      });
      this.#signingKey = { dateStamp, key };
    }
    return this.#signingKey.key;
  }

  async #deriveKey(dateStamp: string): Promise<CryptoKey> {
    let key = await hmac(await hmacKey(utf8.encode(`AWS4${this.credentials.secretAccessKey}`)), dateStamp);
    for (const part of [this.region, this.service, "aws4_request"]) key = await hmac(await hmacKey(key), part);
    return hmacKey(key);
  }
}
