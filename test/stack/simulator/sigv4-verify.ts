import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { bedrockError } from "./bedrock-dialect.js";
import type { AwsCredentials } from "./credentials.js";
import { WireError } from "./dialect.js";

/** Who signed a request, and for which region. */
export interface SigV4Identity {
  accessKeyId: string;
  region: string;
}

const SERVICE = "bedrock";
/** AWS refuses requests whose timestamp is more than 5 minutes from its clock. */
const MAX_SKEW_MS = 5 * 60_000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

function refuse(exception: string, message: string, requestId: string): WireError {
  return new WireError(bedrockError(403, exception, message, requestId));
}

function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical URI of a non-S3 service: each segment of the path as sent, percent-encoded once more. */
function canonicalUri(rawPath: string): string {
  return rawPath.split("/").map(uriEncode).join("/");
}

function canonicalQuery(rawQuery: string): string {
  return [...new URLSearchParams(rawQuery)]
    .map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`)
    .sort()
    .join("&");
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  const joined = Array.isArray(value) ? value.join(",") : value;
  return joined?.trim().replace(/\s+/g, " ");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

function formatAmzDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * Checks a request's AWS Signature Version 4 the way AWS does, recomputing the signature
 * from the request as received (method, raw path, query, the signed headers, the body's
 * SHA-256) with the secret of the access key it names. Every failure is Bedrock's 403.
 */
export function verifySigV4(
  request: IncomingMessage,
  body: Buffer,
  credentials: ReadonlyMap<string, AwsCredentials>,
  requestId: string,
  now: number = Date.now(),
): SigV4Identity {
  const authorization = request.headers.authorization;
  if (authorization === undefined) throw refuse("MissingAuthenticationTokenException", "Missing Authentication Token", requestId);
  const match = AUTHORIZATION.exec(authorization.trim());
  if (match === null) {
    throw refuse(
      "IncompleteSignatureException",
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters, in AWS4-HMAC-SHA256 form.",
      requestId,
    );
  }
  const [, accessKeyId = "", scopeDate = "", region = "", service = "", signedHeaderList = "", signature = ""] = match;

  const amzDate = headerValue(request, "x-amz-date") ?? "";
  const date = AMZ_DATE.exec(amzDate);
  if (date === null) {
    throw refuse("IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", requestId);
  }
  const signedAt = Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]), Number(date[4]), Number(date[5]), Number(date[6]));
  if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    const bound = formatAmzDate(signedAt < now ? now - MAX_SKEW_MS : now + MAX_SKEW_MS);
    const relation = signedAt < now ? `is now earlier than ${bound} (${formatAmzDate(now)} - 5 min.)` : `is now later than ${bound} (${formatAmzDate(now)} + 5 min.)`;
    throw refuse("InvalidSignatureException", `Signature expired: ${amzDate} ${relation}`, requestId);
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    throw refuse("InvalidSignatureException", `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`, requestId);
  }
  if (service !== SERVICE) throw refuse("InvalidSignatureException", `Credential should be scoped to correct service: '${SERVICE}'.`, requestId);
  if (!REGION.test(region)) throw refuse("InvalidSignatureException", "Credential should be scoped to a valid region.", requestId);

  const known = credentials.get(accessKeyId);
  const sessionTokenMatches = known?.sessionToken === undefined || headerValue(request, "x-amz-security-token") === known.sessionToken;
  if (known === undefined || !sessionTokenMatches) {
    throw refuse("UnrecognizedClientException", "The security token included in the request is invalid.", requestId);
  }

  const signedHeaders = signedHeaderList.split(";");
  if (!signedHeaders.includes("host")) {
    throw refuse("InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.", requestId);
  }
  const [rawPath = "/", rawQuery = ""] = (request.url ?? "/").split("?", 2);
  const canonicalRequest = [
    request.method ?? "GET",
    canonicalUri(rawPath),
    canonicalQuery(rawQuery),
    signedHeaders.map((name) => `${name}:${headerValue(request, name) ?? ""}\n`).join(""),
    signedHeaderList,
    createHash("sha256").update(body).digest("hex"),
  ].join("\n");
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash("sha256").update(canonicalRequest, "utf8").digest("hex")}`;
  let key = hmac(`AWS4${known.secretAccessKey}`, scopeDate);
  for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
  const expected = createHmac("sha256", key).update(stringToSign, "utf8").digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) {
    throw refuse(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
      requestId,
    );
  }
  return { accessKeyId, region };
}
