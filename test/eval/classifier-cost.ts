/**
 * Cost of one classify() call, in microseconds, for three request sizes:
 *
 *   chars100   a ~100-character single-turn prompt
 *   chars10k   a ~10,000-character single message (prose, a list, code)
 *   chars200k  a ~200,000-character conversation (40 turns, system prompt,
 *              tools, a tool result)
 *
 * Reused by the benchmark suite; `tsx test/eval/bench-classify.ts` prints it.
 * Meant for Node: inside the Workers runtime performance.now() does not advance
 * during synchronous work, so the figures there would be meaningless (the
 * loops are capped, so it still terminates).
 */

import { classify, type MessagesRequestLike } from "../../shared/classify/index.js";

export interface ClassifierCost {
  chars100: number;
  chars10k: number;
  chars200k: number;
}

const PROSE =
  "The service should retry failed payments at most three times, but not when the card issuer " +
  "declined the charge for fraud. If the retry succeeds, send a receipt; otherwise notify support. ";

const CODE = [
  "export async function retryPayment(id: string, attempt = 0): Promise<Result> {",
  "  const payment = await repo.get(id);",
  "  if (!payment || payment.status === \"fraud\") return { ok: false };",
  "  for (let i = attempt; i < 3; i++) {",
  "    const res = await gateway.charge(payment.amount, payment.card);",
  "    if (res.ok) { await mailer.receipt(payment.customerId); return res; }",
  "  }",
  "  return { ok: false, error: \"exhausted\" };",
  "}",
].join("\n");

function repeatTo(unit: string, chars: number): string {
  let out = "";
  while (out.length < chars) out += unit;
  return out.slice(0, chars);
}

export function sampleRequests(): Record<keyof ClassifierCost, MessagesRequestLike> {
  const short = "Can you tell me whether my order #4471 has shipped yet, and when it should arrive at my address?";
  const tenK =
    "Please review this payment retry design and list the edge cases:\n\n" +
    repeatTo(PROSE, 5_000) +
    "\n\n1. Idempotency\n2. Backoff\n3. Alerting\n\n```ts\n" +
    repeatTo(CODE + "\n\n", 4_800) +
    "\n```";
  const turns: MessagesRequestLike["messages"] = [];
  for (let t = 0; t < 40; t++) {
    const body = t % 2 === 0 ? repeatTo(PROSE, 3_000) + "\n```ts\n" + repeatTo(CODE, 1_900) + "\n```" : repeatTo(PROSE, 4_900);
    turns.push({ role: t % 2 === 0 ? "user" : "assistant", content: body });
  }
  turns.push({
    role: "user",
    content: [
      { type: "tool_result", tool_use_id: "t1", content: repeatTo(CODE, 2_000) },
      { type: "text", text: "Given all of the above, refactor retryPayment to use exponential backoff." },
    ],
  });
  return {
    chars100: { messages: [{ role: "user", content: short.slice(0, 100) }] },
    chars10k: { messages: [{ role: "user", content: tenK.slice(0, 10_000) }], max_tokens: 4096 },
    chars200k: {
      system: repeatTo("You are a careful senior engineer. Follow the style guide. ", 4_000),
      messages: turns,
      tools: [{ name: "read_file" }, { name: "run_tests" }],
      max_tokens: 16_000,
    },
  };
}

let sink = 0;
/** Guards against clocks that do not advance (Workers) or absurdly fast calls. */
const MAX_CALLS_PER_ROUND = 2_000_000;

/**
 * Microseconds per classify() call: the best of `rounds` timed rounds, each a
 * loop of at least `minMs / rounds` milliseconds after a warm-up. Taking the
 * best round keeps the figure stable on a shared, noisy machine.
 */
export function timeClassify(request: MessagesRequestLike, minMs = 200, warmup = 200, rounds = 7): number {
  for (let i = 0; i < warmup; i++) sink += classify(request).score;
  const roundMs = Math.max(1, minMs / rounds);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    let calls = 0;
    let batch = 8;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < roundMs && calls < MAX_CALLS_PER_ROUND) {
      for (let i = 0; i < batch; i++) sink += classify(request).score;
      calls += batch;
      elapsed = performance.now() - start;
      if (batch < 1024) batch *= 2;
    }
    best = Math.min(best, (elapsed * 1000) / calls);
  }
  return best;
}

export function measureClassifierCost(minMs = 350): ClassifierCost {
  const reqs = sampleRequests();
  const out: ClassifierCost = {
    chars100: timeClassify(reqs.chars100, minMs),
    chars10k: timeClassify(reqs.chars10k, minMs),
    chars200k: timeClassify(reqs.chars200k, minMs),
  };
  if (sink === Number.POSITIVE_INFINITY) console.log(sink); // keep the work observable
  return out;
}
