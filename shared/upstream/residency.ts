import { regionById } from "../geo/regions.js";
import type { Tenant } from "../tenants/model.js";
import type { Endpoint } from "./endpoint-pool.js";

/**
 * The endpoints a tenant's prompts may go to. A tenant pinned to regions may use only
 * endpoints that process in those regions' geographies (never a global endpoint, which
 * may process anywhere); an unpinned tenant may use every endpoint of the chain.
 */
export function residencyOf(tenant: Pick<Tenant, "regionPin">): (endpoint: Endpoint) => boolean {
  if (!tenant.regionPin) return () => true;
  const geographies = new Set(tenant.regionPin.flatMap((id) => regionById(id)?.geography ?? []));
  return (endpoint) => geographies.has(endpoint.geography);
}
