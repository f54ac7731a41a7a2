import { regionById } from "../../shared/geo/regions.js";
import { CLIENT_LOCATIONS, distancePenaltyMs } from "../stack/geography.js";
import type { Stack } from "../stack/stack.js";
import { median } from "./stats.js";

export const SINGLE_REGION = "us-east";

export interface LocationRow {
  location: string;
  servedBy: string;
  /** Measured on loopback: request -> first content delta, through the front Worker (median). */
  measuredGeoMs: number;
  /** Measured on loopback straight to the single region's gateway (median). */
  measuredSingleMs: number;
  /** Modelled distance cost from the client to the serving region. */
  networkGeoMs: number;
  networkSingleMs: number;
  geoRoutedMs: number;
  singleRegionMs: number;
}

async function firstTokenMs(url: string, key: string, headers: Record<string, string>): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
    body: JSON.stringify({
      model: "claude-sonnet-4-6",
      max_tokens: 64,
      stream: true,
      messages: [{ role: "user", content: `sim:ttft=0 sim:tokens=3 where am I ${Math.random()}` }],
    }),
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let firstToken = Number.NaN;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    text += decoder.decode(read.value, { stream: true });
    if (Number.isNaN(firstToken) && text.includes("content_block_delta")) firstToken = performance.now() - started;
  }
  return firstToken;
}

/**
 * Time to first token by client location, geo-routed through the front Worker of the
 * regional `stack` versus a single-region (us-east) deployment. The local part is
 * measured on loopback (the client location set with MF-CF-Blob); the distance part is
 * modelled from the published figures (stack/geography.ts), because loopback has no
 * geography.
 */
export async function measureByLocation(stack: Stack, requestsPerLocation: number): Promise<LocationRow[]> {
  const single = stack.deployments.find((deployment) => deployment.region === SINGLE_REGION)!;
  const rows: LocationRow[] = [];
  for (const location of CLIENT_LOCATIONS) {
    const blob = JSON.stringify({ latitude: String(location.latitude), longitude: String(location.longitude), continent: location.continent });
    const geo: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < requestsPerLocation; i++) {
      geo.push(await firstTokenMs(stack.gateway.url, stack.clientKey, { "MF-CF-Blob": blob }));
      direct.push(await firstTokenMs(single.gateway.url, stack.clientKey, {}));
    }
    const routed = await fetch(`${stack.gateway.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "x-api-key": stack.clientKey, "content-type": "application/json", "anthropic-version": "2023-06-01", "MF-CF-Blob": blob },
      body: JSON.stringify({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "hi" }] }),
    });
    await routed.text();
    const servedBy = routed.headers.get("x-edgegate-region") ?? "?";
    const networkGeoMs = distancePenaltyMs(location, regionById(servedBy)!);
    const networkSingleMs = distancePenaltyMs(location, regionById(SINGLE_REGION)!);
    rows.push({
      location: location.name,
      servedBy,
      measuredGeoMs: median(geo),
      measuredSingleMs: median(direct),
      networkGeoMs,
      networkSingleMs,
      geoRoutedMs: median(geo) + networkGeoMs,
      singleRegionMs: median(direct) + networkSingleMs,
    });
  }
  return rows;
}
