import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { MetricsAnswer } from "../../shared/metrics/query.js";
import { startStack, type Stack } from "../stack/stack.js";
import { newTenant } from "./helpers.js";
import { metricsJson, sendTimed } from "./operators.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** Screenshots (the README's, in docs/, are copies of a run's). */
const ARTIFACTS = join(import.meta.dirname, "../artifacts");
const CHARTS = ["ttft", "tps", "requests", "errors", "spend", "tiers", "refusals"] as const;

let stack: Stack;
let browser: Browser;
let tenants: Array<{ id: string; key: string }>;

const EASY = "What are your opening hours?";
const HARD = "Prove rigorously that every finite group of prime order is cyclic, then derive the consequences step by step and compare two proof strategies in depth.";

beforeAll(async () => {
  stack = await startStack({ timeScale: 0.3 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  await mkdir(ARTIFACTS, { recursive: true });
  // Traffic for every chart: two tenants, three tiers (auto), slow and fast first tokens, upstream errors, rate refusals.
  tenants = [await newTenant(stack), await newTenant(stack, { limits: { requestsPerMinute: 12 } })];
  const ttft = [200, 400, 700, 1_200, 2_000];
  const sent = [
    // Plain short questions (no directives: the classifier keeps them light).
    ...(await sendTimed(stack, tenants[0]!.key, Array.from({ length: 12 }, () => EASY), 4, { model: "auto" })),
    ...(await sendTimed(stack, tenants[0]!.key, Array.from({ length: 6 }, (_, index) => `${HARD} ${index} sim:tokens=30`), 3, { model: "auto", max_tokens: 8_000, thinking: { type: "enabled", budget_tokens: 4_000 } })),
    ...(await sendTimed(stack, tenants[0]!.key, Array.from({ length: 20 }, (_, index) => `plain ${index} sim:ttft=${ttft[index % 5]} sim:tokens=25 ${index % 5 === 0 ? "sim:fault=error-mid" : ""}`), 4)),
    ...(await sendTimed(stack, tenants[1]!.key, Array.from({ length: 20 }, (_, index) => `other ${index} sim:tokens=10 ${index % 4 === 0 ? "sim:fault=500" : ""}`), 4)),
  ];
  // Failed requests settle just after their answer: the page is opened once every request is counted.
  const admitted = sent.filter((request) => request.status !== 429).length;
  expect(sent.length - admitted).toBeGreaterThan(0);
  await vi.waitFor(
    async () => expect(total(await metricsJson(`${stack.gateway.url}/admin/metrics`, stack.adminToken, { group: "" }), (metric) => metric.startsWith("requests:"))).toBe(admitted),
    { timeout: 15_000, interval: 250 },
  );
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Opens the dashboard, signs in with `token` and waits for the figures. */
async function signedIn(token: string): Promise<{ page: Page; problems: string[]; urls: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const urls: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(String(error)));
  page.on("request", (request) => urls.push(request.url()));
  const response = await page.goto(`${stack.gateway.url}/dashboard`);
  expect(response!.headers()["content-security-policy"]).toMatch(/default-src 'none'; script-src 'self'; style-src 'self'/);
  await page.getByLabel("Admin token or secret key").fill(token);
  await page.getByRole("button", { name: "Show metrics" }).click();
  await page.getByText(/requests in the last/).waitFor({ timeout: 15_000 });
  await page.selectOption("#window", "15m");
  await page.getByText(/requests in the last 15 minutes/).waitFor();
  return { page, problems, urls };
}

/**
 * What each chart drew: its lines and points and their sum (the page's record of the data
 * it gave uPlot), and the pixels of its canvas in its lines' colours (axes and grid are grey).
 */
async function drawn(page: Page) {
  return page.evaluate(
    (charts) =>
      charts.map((id) => {
        const section = document.querySelector<HTMLElement>(`[data-chart="${id}"]`)!;
        const canvas = section.querySelector("canvas");
        const colours = (section.dataset.colors ?? "").split(" ").filter(Boolean).map((hex) => [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16)));
        let pixels = 0;
        if (canvas) {
          const image = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
          for (let index = 0; index < image.length; index += 4) {
            const near = colours.some((rgb) => Math.abs(image[index]! - rgb[0]!) + Math.abs(image[index + 1]! - rgb[1]!) + Math.abs(image[index + 2]! - rgb[2]!) < 30);
            if (near && image[index + 3]! > 200) pixels++;
          }
        }
        return { id, series: Number(section.dataset.series), points: Number(section.dataset.points), sum: Number(section.dataset.sum), pixels, visible: section.checkVisibility() };
      }),
    [...CHARTS],
  );
}

const total = (answer: MetricsAnswer, pick: (metric: string) => boolean) =>
  answer.series.reduce((sum, series) => sum + Object.entries(series.window.counters).reduce((inner, [metric, value]) => inner + (pick(metric) ? value : 0), 0), 0);

describe("the dashboard in Chromium", () => {
  it("draws every chart with the operator's figures, under its Content-Security-Policy, with the token never in a URL", async () => {
    const { page, problems, urls } = await signedIn(stack.adminToken);
    const answer = await metricsJson(`${stack.gateway.url}/admin/metrics`, stack.adminToken, { window: "15m", group: "region,model" });
    const charts = await drawn(page);
    for (const chart of charts) {
      expect(chart, chart.id).toMatchObject({ visible: true });
      expect(chart.series, chart.id).toBeGreaterThan(0);
      expect(chart.points, chart.id).toBeGreaterThan(0);
      // A minute's figures are one point (a ring of a few pixels); a series over several minutes, a line of hundreds.
      expect(chart.pixels, `${chart.id}: pixels in its lines' colours`).toBeGreaterThanOrEqual(8);
    }
    const byId = Object.fromEntries(charts.map((chart) => [chart.id, chart]));
    // The drawn figures are the gateway's: every request, error, refusal and dollar.
    expect(byId.requests!.sum).toBe(total(answer, (metric) => metric.startsWith("requests:")));
    expect(byId.refusals!.sum).toBe(total(answer, (metric) => metric.startsWith("refused:")));
    expect(byId.refusals!.sum).toBeGreaterThan(0);
    expect(byId.errors!.sum).toBe(total(answer, (metric) => metric.startsWith("upstream_errors:")));
    const cost = total(answer, (metric) => metric === "cost_micro_usd");
    const strongest = total(answer, (metric) => metric === "strongest_cost_micro_usd");
    // The spend chart draws spend and routing savings (the strongest model's cost minus spend): together, what the strongest model would have cost.
    expect(cost).toBeGreaterThan(0);
    expect(strongest).toBeGreaterThanOrEqual(cost);
    expect(byId.spend!.sum).toBeCloseTo(strongest / 1e6, 6);
    // Three tiers, shares adding up to 100% in each minute that had requests.
    expect(byId.tiers!.series).toBe(3);
    const minutesWithRequests = answer.times.filter((_, index) => answer.series.some((series) => Object.entries(series.values).some(([metric, values]) => metric.startsWith("tier:") && values[index]! > 0))).length;
    expect(byId.tiers!.sum).toBeCloseTo(100 * minutesWithRequests, 6);
    // p50 and p95 per model and region.
    const models = answer.series.filter((series) => series.window.ttft_ms.count > 0).length;
    expect(byId.ttft!.series).toBe(2 * models);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-operator.png"), fullPage: true });

    expect(problems).toEqual([]);
    expect(page.url()).toBe(`${stack.gateway.url}/dashboard`);
    expect(urls.filter((url) => url.includes(stack.adminToken))).toEqual([]);
    expect(await page.evaluate(() => window.location.href + document.cookie)).not.toContain(stack.adminToken);
  });

  it("shows a tenant only its own figures", async () => {
    // The first tenant: the second spent its requests for this minute (reading metrics counts against the rate limit too).
    const tenant = tenants[0]!;
    const { page, problems } = await signedIn(tenant.key);
    const own = await metricsJson(`${stack.gateway.url}/v1/metrics`, tenant.key, { window: "15m", group: "region,model" });
    const everyone = await metricsJson(`${stack.gateway.url}/admin/metrics`, stack.adminToken, { window: "15m", group: "region,model" });
    const charts = Object.fromEntries((await drawn(page)).map((chart) => [chart.id, chart]));
    expect(charts.requests!.sum).toBe(total(own, (metric) => metric.startsWith("requests:")));
    expect(charts.requests!.sum).toBeLessThan(total(everyone, (metric) => metric.startsWith("requests:")));
    expect(charts.tiers!.series).toBe(3);
    expect(await page.locator("#tenant-filter").isVisible()).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-tenant.png"), fullPage: true });
    expect(problems).toEqual([]);
  });
});
