/** The client key from `x-api-key` or `Authorization: Bearer <key>`, or null. */
export function presentedKey(headers: Headers): string | null {
  const apiKey = headers.get("x-api-key");
  if (apiKey) return apiKey.trim();
  return bearerToken(headers);
}

/** The token of `Authorization: Bearer <token>`, or null. */
export function bearerToken(headers: Headers): string | null {
  return headers.get("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? null;
}

/** Widget requests carry their publishable key in the URL, so CORS preflights can be answered per key. */
export const WIDGET_PATH_PREFIX = "/v1/widget/";

/** The publishable key of a widget request (`/v1/widget/...?key=pk-eg-...`), or null. */
export function widgetKeyOf(url: URL): string | null {
  return url.pathname.startsWith(WIDGET_PATH_PREFIX) ? url.searchParams.get("key") : null;
}
