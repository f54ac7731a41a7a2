import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { MetricsAnswer } from "../../shared/metrics/query.js";
import type { Stack } from "../stack/stack.js";
import { type MessageBody, messageBody, sendMessage } from "./helpers.js";

export interface TimedRequest {
  prompt: string;
  status: number;
  /** Send -> first content_block_delta event, as the client saw it (null: none came). */
  firstTokenMs: number | null;
  upstreamId: string | null;
  requestId: string;
  headers: Headers;
}

/** Sends streamed requests at a concurrency and times each one's first token on the client. */
export async function sendTimed(stack: Stack, key: string, prompts: readonly string[], concurrency: number, extra: MessageBody = {}): Promise<TimedRequest[]> {
  const sent: TimedRequest[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < prompts.length) {
      const prompt = prompts[next++]!;
      const started = performance.now();
      const response = await sendMessage(stack, key, messageBody(prompt, { stream: true, max_tokens: 100, ...extra }));
      let firstTokenMs: number | null = null;
      if (response.body) {
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let text = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
          if (firstTokenMs === null && text.includes("content_block_delta")) firstTokenMs = performance.now() - started;
        }
      }
      sent.push({
        prompt,
        status: response.status,
        firstTokenMs: response.ok ? firstTokenMs : null,
        upstreamId: response.headers.get("request-id"),
        requestId: response.headers.get("x-request-id")!,
        headers: response.headers,
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return sent;
}

/** GET /admin/metrics (or another metrics path) as JSON. */
export async function metricsJson(url: string, token: string, params: Record<string, string> = {}): Promise<MetricsAnswer> {
  const response = await fetch(`${url}?${new URLSearchParams({ format: "json", ...params })}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as MetricsAnswer;
}

export interface ReceivedAlert {
  path: string;
  headers: IncomingHttpHeaders;
  body: { text: string; blocks: unknown[] };
}

/** A local webhook receiver (Slack's incoming-webhook shape), on a free loopback port; paths under /slow answer after 3 s. */
export async function startWebhookReceiver(): Promise<{ url: string; received: ReceivedAlert[]; close(): Promise<void> }> {
  const received: ReceivedAlert[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ path: request.url ?? "", headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as ReceivedAlert["body"] });
      const answer = () => response.writeHead(200, { "content-type": "text/plain" }).end("ok");
      if (request.url?.startsWith("/slow")) setTimeout(answer, 3_000);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The p-quantile of values, as the histograms define it (the ceil(p * n)-th smallest). */
export function exactQuantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
}
