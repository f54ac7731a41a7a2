/**
 * Whether a regional gateway's answer counts against that region's breaker.
 * `status` is the response status seen before the first body byte, or null when
 * the region could not be reached at all. 4xx answers (429 from a tenant's own
 * limits included) are about the request or the tenant, not the region.
 */
export function isRegionFailure(status: number | null): boolean {
  return status === null || status >= 500;
}
