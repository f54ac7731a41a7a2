import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page, type Response as PageResponse } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_STYLE_NONCE, type DemoSite, startDemoSite } from "../stack/demo-site/server.js";
import { DEV_TENANT_ID, startStack, type Stack } from "../stack/stack.js";
import { TURNSTILE_TEST_SECRETS, TURNSTILE_TEST_SITE_KEY } from "../stack/turnstile/server.js";

/** Debian's Chromium (.ci/run installs it); flags from this machine's notes: no sandbox as root, no background traffic. */
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ARTIFACTS = join(import.meta.dirname, "../artifacts");

/**
 * Cloudflare's Turnstile script cannot be fetched here (no internet), so the browser is
 * given a stand-in with the same entry point: render() into the given element, then the
 * callback with a token, as Turnstile's test site keys do without interaction.
 */
const TURNSTILE_API_STAND_IN = `window.turnstile = {
  render(element, options) {
    element.textContent = "Verifying you are human…";
    setTimeout(() => options.callback("XXXX.DUMMY.TOKEN.XXXX"), 100);
    return "stand-in";
  },
};`;

let stack: Stack;
let browser: Browser;
let otherSite: DemoSite;

beforeAll(async () => {
  // Real timing (time scale 1): answers stream at the simulated model's pace, as users see them.
  stack = await startStack({ timeScale: 1 });
  otherSite = await startDemoSite({ gatewayUrl: stack.gateway.url });
  otherSite.useKey(stack.widgetKey);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  await mkdir(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await otherSite?.close();
  await stack?.stop();
});

/** Records every text the latest answer bubble shows, as the page renders it. */
async function watchAnswers(page: Page): Promise<void> {
  await page.evaluate(() => {
    const root = document.querySelector("[data-edgegate-widget]")!.shadowRoot!;
    const renders: string[] = [];
    (window as unknown as { renders: string[] }).renders = renders;
    new MutationObserver(() => {
      const answers = root.querySelectorAll(".msg.assistant");
      const text = answers[answers.length - 1]?.textContent ?? "";
      if (text !== renders[renders.length - 1]) renders.push(text);
    }).observe(root.querySelector(".log")!, { subtree: true, childList: true, characterData: true });
  });
}

const renders = (page: Page) => page.evaluate(() => (window as unknown as { renders: string[] }).renders.splice(0));

const isChatAnswer = (response: PageResponse): boolean =>
  response.url().includes("/v1/widget/chat") && response.request().method() === "POST";

function chatResponse(page: Page): Promise<PageResponse> {
  return page.waitForResponse(isChatAnswer);
}

describe("the chat widget in Chromium", () => {
  it("streams answers token by token, stops on demand, remembers the session, and explains rate limits", async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.demo.url}/`);
    const launcher = page.getByRole("button", { name: "Ask Acme" });
    await launcher.click();
    const input = page.getByRole("textbox", { name: "Message" });
    await expect.poll(() => input.evaluate((element) => element.matches(":focus"))).toBe(true);
    await expect.poll(() => page.getByRole("dialog", { name: "Ask Acme" }).isVisible()).toBe(true);
    await watchAnswers(page);

    // First reply: it grows in place, one render per few tokens.
    const firstResponse = chatResponse(page);
    await input.fill("Which tent fits two people? sim:tokens=40 sim:tps=25");
    await input.press("Enter");
    expect((await firstResponse).status()).toBe(200);
    const sendButton = page.getByRole("button", { name: "Send" });
    await sendButton.waitFor({ state: "visible", timeout: 20_000 });
    const first = await renders(page);
    const final = first.at(-1)!;
    const partials = first.filter((text) => text !== "" && text !== final);
    expect(final.length).toBeGreaterThan(40);
    expect(partials.length).toBeGreaterThanOrEqual(3);
    for (const [index, text] of first.entries()) if (index > 0) expect(text.startsWith(first[index - 1]!)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "widget-reply.png") });

    // Thumbs under a complete answer: a rating is counted by the tier that served it, and can be changed.
    const rated = page.waitForResponse((response) => response.url().includes("/v1/widget/feedback"));
    await page.getByRole("button", { name: "Good answer" }).click();
    expect((await rated).status()).toBe(200);
    await expect.poll(() => page.getByRole("button", { name: "Good answer" }).getAttribute("aria-pressed")).toBe("true");
    const feedbackOf = async () => {
      const report = await stack.admin.usage(DEV_TENANT_ID);
      return Object.values(report.month.by_tier).reduce((sum, tier) => ({ up: sum.up + tier.feedback.up, down: sum.down + tier.feedback.down }), { up: 0, down: 0 });
    };
    expect(await feedbackOf()).toEqual({ up: 1, down: 0 });
    const changed = page.waitForResponse((response) => response.url().includes("/v1/widget/feedback"));
    await page.getByRole("button", { name: "Bad answer" }).click();
    expect((await changed).status()).toBe(200);
    await expect.poll(() => page.getByRole("button", { name: "Bad answer" }).getAttribute("aria-pressed")).toBe("true");
    expect(await page.getByRole("button", { name: "Good answer" }).getAttribute("aria-pressed")).toBe("false");
    expect(await feedbackOf()).toEqual({ up: 0, down: 1 });
    await page.screenshot({ path: join(ARTIFACTS, "widget-rated.png") });

    // Second reply: a long one, stopped after a few words.
    const secondResponse = chatResponse(page);
    await input.fill("Tell me everything about camping stoves. sim:tokens=3000 sim:tps=20");
    await input.press("Enter");
    const upstreamRequestId = (await secondResponse).headers()["request-id"]!;
    const stopButton = page.getByRole("button", { name: "Stop generating" });
    await stopButton.waitFor({ state: "visible" });
    const answers = page.locator("[data-edgegate-widget] .msg.assistant");
    await expect.poll(() => answers.count()).toBe(3); // greeting, first answer, this one
    await expect.poll(async () => (await answers.last().textContent())!.length, { timeout: 10_000 }).toBeGreaterThan(10);
    await stopButton.click();
    await sendButton.waitFor({ state: "visible", timeout: 5_000 });
    const stopped = answers.last();
    const shownAtStop = await stopped.textContent();
    await page.waitForTimeout(1_000);
    expect(await stopped.textContent()).toBe(shownAtStop);
    expect(await stopped.getAttribute("data-stopped")).toBe("true");
    await page.screenshot({ path: join(ARTIFACTS, "widget-stopped.png") });
    // The gateway gave up the upstream stream too: the simulator saw the client leave early.
    await expect
      .poll(() => stack.simulator!.ledger.get(upstreamRequestId)?.clientAborted, { timeout: 15_000 })
      .toBe(true);
    expect(stack.simulator!.ledger.get(upstreamRequestId)!.outputTokensSent).toBeLessThan(3000);

    // The conversation survives a reload within the session.
    await page.reload();
    await page.getByRole("button", { name: "Ask Acme" }).click();
    const bubbles = page.locator("[data-edgegate-widget] .msg");
    await expect.poll(() => bubbles.count()).toBe(5); // greeting, 2 questions, 2 answers
    expect(await bubbles.nth(1).textContent()).toContain("Which tent fits two people?");
    // Only the complete answer can be rated (the stopped one cannot), and its rating is remembered.
    expect(await page.getByRole("group", { name: "Rate this answer" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Bad answer" }).getAttribute("aria-pressed")).toBe("true");

    // Over the visitor's limit, the widget says so and gives the message back.
    const [widgetKey] = (await stack.admin.listKeys("dev")).filter((key) => key.kind === "publishable");
    await stack.admin.updateKey("dev", widgetKey!.id, { widget: { visitorLimits: { requestsPerMinute: 1 } } });
    await new Promise((resolve) => setTimeout(resolve, 4_500)); // the gateway's key cache (4 s on widget routes)
    const question = page.getByRole("textbox", { name: "Message" });
    // The limit is a bucket refilled continuously: the earlier messages may have drained
    // from it by now, so one more may be answered before the next is refused.
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3 && statuses.at(-1) !== 429; attempt++) {
      const answered = chatResponse(page);
      await question.fill("One more question?");
      await question.press("Enter");
      statuses.push((await answered).status());
      await page.getByRole("button", { name: "Send" }).waitFor({ state: "visible", timeout: 20_000 });
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((status) => status === 200)).toBe(true);
    const status = page.getByRole("status");
    await expect.poll(() => status.textContent()).toMatch(/faster than this chat allows\. Please try again in \d+ seconds\./);
    expect(await question.inputValue()).toBe("One more question?");
    await page.screenshot({ path: join(ARTIFACTS, "widget-rate-limited.png") });
    await stack.admin.updateKey("dev", widgetKey!.id, { widget: { visitorLimits: { requestsPerMinute: 10 } } });
    await page.close();
  });

  it("is refused on a page from an origin the key does not allow", async () => {
    const page = await browser.newPage();
    // The gateway answers 403 without CORS headers, so the browser withholds the answer from the page.
    const configRefused = page.waitForEvent("requestfailed", (request) => request.url().includes("/v1/widget/config"));
    await page.goto(`${otherSite.url}/`);
    await configRefused;
    await page.getByRole("button", { name: "Chat", exact: true }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("This chat is not available on this page.");
    expect(await page.getByRole("textbox", { name: "Message" }).isDisabled()).toBe(true);
    // A script on that page cannot call the chat endpoint either: the preflight is refused.
    const outcome = await page.evaluate(async ([url]) => {
      try {
        await fetch(url!, { method: "POST", headers: { "content-type": "application/json" }, body: '{"messages":[]}' });
        return "answered";
      } catch (error) {
        return error instanceof TypeError ? "blocked" : String(error);
      }
    }, [`${stack.gateway.url}/v1/widget/chat?key=${stack.widgetKey}`]);
    expect(outcome).toBe("blocked");
    await page.screenshot({ path: join(ARTIFACTS, "widget-refused.png") });
    await page.close();
  });

  it("runs the Turnstile challenge when the key asks for one, then chats", async () => {
    const site = await startDemoSite({ gatewayUrl: stack.gateway.url });
    const created = await stack.admin.createKey(DEV_TENANT_ID, {
      kind: "publishable",
      label: "widget with Turnstile",
      widget: {
        allowedOrigins: [site.origin],
        title: "Checked chat",
        turnstile: { siteKey: TURNSTILE_TEST_SITE_KEY, secretKey: TURNSTILE_TEST_SECRETS.passes },
      },
    });
    site.useKey(created.key);
    const page = await browser.newPage();
    await page.route("https://challenges.cloudflare.com/turnstile/v0/api.js*", (route) =>
      route.fulfill({ contentType: "text/javascript", body: TURNSTILE_API_STAND_IN }),
    );
    const sessions: Array<{ status: number; token: string | undefined }> = [];
    const chats: number[] = [];
    page.on("response", (response) => {
      if (response.url().includes("/v1/widget/session") && response.request().method() === "POST") {
        sessions.push({ status: response.status(), token: response.request().headers()["cf-turnstile-response"] });
      }
      if (isChatAnswer(response)) chats.push(response.status());
    });
    const verifications = stack.turnstile.verifications();
    await page.goto(`${site.url}/`);
    await page.getByRole("button", { name: "Checked chat" }).click();
    const input = page.getByRole("textbox", { name: "Message" });
    await input.fill("Hello sim:tokens=12 sim:tps=50");
    await input.press("Enter");
    await page.getByRole("button", { name: "Send" }).waitFor({ state: "visible", timeout: 20_000 });
    // The session asks for the bot check once; the chat then runs on the checked session.
    expect(sessions).toEqual([
      { status: 403, token: undefined },
      { status: 201, token: "XXXX.DUMMY.TOKEN.XXXX" },
    ]);
    expect(chats).toEqual([200]);
    expect(stack.turnstile.verifications()).toBe(verifications + 1);
    expect((await page.locator("[data-edgegate-widget] .msg.assistant").last().textContent())!.length).toBeGreaterThan(10);
    expect(await page.getByRole("status").textContent()).toBe("");
    await page.screenshot({ path: join(ARTIFACTS, "widget-turnstile.png") });
    await page.close();
    await site.close();
  });

  it("works on a page with a strict Content-Security-Policy (no inline styles or scripts)", async () => {
    const gateway = stack.gateway.url;
    const site = await startDemoSite({
      gatewayUrl: gateway,
      contentSecurityPolicy: `default-src 'none'; script-src ${gateway}; connect-src ${gateway}; style-src 'nonce-${DEMO_STYLE_NONCE}'`,
    });
    const created = await stack.admin.createKey(DEV_TENANT_ID, {
      kind: "publishable",
      label: "widget under CSP",
      widget: { allowedOrigins: [site.origin], title: "Strict chat" },
    });
    site.useKey(created.key);
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) violations.push(message.text());
    });
    await page.goto(`${site.url}/`);
    const launcher = page.getByRole("button", { name: "Strict chat" });
    await launcher.waitFor();
    // The widget's own styles applied: the launcher has its colour, and the page logged no violation.
    expect(await launcher.evaluate((element) => getComputedStyle(element).backgroundColor)).toBe("rgb(59, 76, 202)");
    await launcher.click();
    const input = page.getByRole("textbox", { name: "Message" });
    await input.fill("Hello sim:tokens=8 sim:tps=50");
    await input.press("Enter");
    await page.getByRole("button", { name: "Send" }).waitFor({ state: "visible", timeout: 20_000 });
    expect((await page.locator("[data-edgegate-widget] .msg.assistant").last().textContent())!.length).toBeGreaterThan(5);
    expect(violations).toEqual([]);
    await page.close();
    await site.close();
  });
});
