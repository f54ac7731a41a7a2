/**
 * `npm run docs:screenshots`: the README's dashboard screenshots (docs/), from a local
 * stack given a few minutes of varied traffic (a slow spell, an error burst, a tenant
 * hitting its rate limit), so the charts show lines over time. Takes about 7 minutes.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { sendTimed } from "../integration/operators.js";
import { startStack } from "../stack/stack.js";

const MINUTES = 6;
const DOCS = join(import.meta.dirname, "../../docs");
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const EASY = "What are your opening hours?";
const HARD = "Prove rigorously that every finite group of prime order is cyclic, then derive the consequences step by step and compare two proof strategies in depth.";

const stack = await startStack({ timeScale: 1 });
try {
  const acme = await stack.admin.createTenant({ id: "acme", name: "Acme Outdoor" });
  const { key: acmeKey } = await stack.admin.createKey(acme.id, { label: "backend" });
  const globex = await stack.admin.createTenant({ id: "globex", name: "Globex", limits: { requestsPerMinute: 20 } });
  const { key: globexKey } = await stack.admin.createKey(globex.id, { label: "backend" });

  const startedAt = Date.now();
  for (let round = 0; Date.now() - startedAt < MINUTES * 60_000; round++) {
    const minute = Math.floor((Date.now() - startedAt) / 60_000);
    const slow = minute === 2 || minute === 3;
    const ttft = (index: number) => (slow ? 900 + 150 * (index % 5) : 250 + 60 * (index % 5));
    const errors = minute === 4 ? "sim:fault=500" : "";
    await Promise.all([
      sendTimed(stack, acmeKey, Array.from({ length: 3 }, () => EASY), 3, { model: "auto" }),
      sendTimed(stack, acmeKey, [`${HARD} sim:tokens=40`], 1, { model: "auto", max_tokens: 8_000, thinking: { type: "enabled", budget_tokens: 4_000 } }),
      sendTimed(stack, acmeKey, Array.from({ length: 4 }, (_, index) => `order ${round}.${index} sim:ttft=${ttft(index)} sim:tokens=60 sim:tps=90 ${index === 0 ? errors : ""}`), 4),
      sendTimed(stack, globexKey, Array.from({ length: minute === 5 ? 12 : 3 }, (_, index) => `report ${round}.${index} sim:ttft=${ttft(index + 2)} sim:tokens=30`), 3),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 8_000));
  }

  await mkdir(DOCS, { recursive: true });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  const shoot = async (token: string, file: string) => {
    const page: Page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    await page.goto(`${stack.gateway.url}/dashboard`);
    await page.getByLabel("Admin token or secret key").fill(token);
    await page.getByRole("button", { name: "Show metrics" }).click();
    await page.getByText(/requests in the last/).waitFor();
    await page.selectOption("#window", "15m");
    await page.getByText(/requests in the last 15 minutes/).waitFor();
    await page.screenshot({ path: join(DOCS, file), fullPage: true });
  };
  await shoot(stack.adminToken, "dashboard-operator.png");
  await shoot(acmeKey, "dashboard-tenant.png");
  await browser.close();
  console.log(`screenshots in ${DOCS}`);
} finally {
  await stack.stop();
}
