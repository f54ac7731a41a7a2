/**
 * Allowed origins are exact origins ("https://shop.example", "http://localhost:5173") or
 * one leading wildcard for subdomains ("https://*.shop.example", which does not match
 * the bare domain). They are compared with the browser's serialised Origin header.
 */
const ORIGIN_PATTERN = /^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/;
const SUBDOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/;

export function isOriginPattern(value: string): boolean {
  return ORIGIN_PATTERN.test(value);
}

export function originAllowed(origin: string | null, allowed: readonly string[]): origin is string {
  if (!origin) return false;
  return allowed.some((pattern) => {
    const wildcard = pattern.indexOf("://*.");
    if (wildcard < 0) return pattern === origin;
    const prefix = pattern.slice(0, wildcard + 3);
    const suffix = pattern.slice(wildcard + 4);
    if (!origin.startsWith(prefix) || !origin.endsWith(suffix)) return false;
    return SUBDOMAIN.test(origin.slice(prefix.length, origin.length - suffix.length));
  });
}
