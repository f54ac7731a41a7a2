import { describe, expect, it } from "vitest";
import {
  BIAS,
  DEFAULT_THRESHOLDS,
  FEATURE_IDS,
  WEIGHTS,
  classify,
  explain,
  tierFor,
  type MessagesRequestLike,
} from "../../shared/classify/index.js";
import { computeFeatures } from "../../shared/classify/features.js";
import { extract } from "../../shared/classify/extract.js";
import { emptyStats, scanText } from "../../shared/classify/text-scan.js";
import { Cat, hashString } from "../../shared/classify/lexicon.js";
import { MODEL } from "../../shared/classify/model-data.js";
import { COMMON_WORDS } from "../../shared/classify/common-words-data.js";
import { GRAM_BITS, GRAM_WEIGHTS, decodeKeySet, isCommonWord } from "../../shared/classify/vocabulary.js";
import { fromBase64 } from "../../shared/text/bytes.js";
import {
  accuracy,
  apgr,
  apgrDiscrete,
  cpt,
  randomApgr,
  rocAuc,
  routerCurve,
} from "../eval/metrics.js";
import { DEEP, MIDDLE, OPEN_ENDED, SIMPLE, SUPPORT, WORKED, longSourceFile } from "./fixtures/classify/prompts.js";
import { TRAINING_CONFIG, chooseThresholds } from "../eval/training/router-training.js";

const user = (content: MessagesRequestLike["messages"][number]["content"]): MessagesRequestLike => ({
  messages: [{ role: "user", content }],
});

describe("classify: simple support and chat traffic", () => {
  const results = SIMPLE.map((f) => ({ f, r: classify(user(f.prompt)) }));

  it("sends simple support / chat prompts to light (at most two to standard, none to deep)", () => {
    const notLight = results
      .filter(({ r }) => r.tier !== "light")
      .map(({ f, r }) => `${f.name}: ${r.tier} ${r.score.toFixed(2)}`);
    expect(notLight.length, notLight.join("; ")).toBeLessThanOrEqual(2);
    expect(results.filter(({ r }) => r.tier === "deep")).toEqual([]);
  });

  it("sends longer customer-support messages mostly to light, rarely to deep", () => {
    const tiers = SUPPORT.map((f) => ({ f, r: classify(user(f.prompt)) }));
    const deep = tiers.filter(({ r }) => r.tier === "deep").map(({ f, r }) => `${f.name} ${r.score.toFixed(2)}`);
    // A detailed technical troubleshooting report may go deep; account, billing
    // and delivery messages must not.
    expect(deep.length, deep.join("; ")).toBeLessThanOrEqual(1);
    expect(tiers.filter(({ r }) => r.tier === "light").length).toBeGreaterThanOrEqual(SUPPORT.length / 2);
  });

  it("sends the obvious ones to light", () => {
    for (const p of ["hi", "thanks!", "What are your opening hours?", "ok great, bye", "Hello!"]) {
      expect(classify(user(p)).tier, p).toBe("light");
    }
  });

  it("explains light decisions with simplicity signals", () => {
    expect(classify(user("hi")).reasons[0]).toBe("greeting");
    expect(classify(user("What are your opening hours?")).reasons).toContain("support-chat");
  });
});

describe("classify: deep asks", () => {
  for (const f of DEEP) {
    it(`${f.name} -> deep, with reason ${f.reason}`, () => {
      const r = classify(user(f.prompt));
      expect(r.tier, `${r.score.toFixed(3)} ${r.reasons.join(",")}`).toBe("deep");
      expect(r.reasons).toContain(f.reason);
      expect(r.reasons.length).toBeGreaterThan(0);
      expect(r.reasons.length).toBeLessThanOrEqual(4);
    });
  }

  it("detects the mathematics of a proof", () => {
    const proof = DEEP.find((f) => f.name === "analysis proof");
    expect(explain(user(proof?.prompt ?? "")).features.math).toBeGreaterThan(0.5);
  });

  it("lists code first for a long pasted refactor", () => {
    const refactor = DEEP.find((f) => f.name === "long code refactor");
    expect(refactor).toBeDefined();
    expect(longSourceFile().split("\n").length).toBeGreaterThanOrEqual(280);
    const r = classify(user(refactor?.prompt ?? ""));
    expect(r.reasons[0]).toBe("code");
  });
});

describe("classify: in-between requests", () => {
  for (const f of MIDDLE) {
    it(`${f.name} -> ${f.allowed.join(" or ")}`, () => {
      const r = classify(user(f.prompt));
      expect(f.allowed, `${r.tier} ${r.score.toFixed(3)} ${r.reasons.join(",")}`).toContain(r.tier);
    });
  }

  it("orders light < middle < deep on average", () => {
    const mean = (ps: string[]): number => ps.reduce((a, p) => a + classify(user(p)).score, 0) / ps.length;
    const s = mean(SIMPLE.map((f) => f.prompt));
    const m = mean(MIDDLE.map((f) => f.prompt));
    const d = mean(DEEP.map((f) => f.prompt));
    expect(s).toBeLessThan(m);
    expect(m).toBeLessThan(d);
  });
});

describe("classify: MT-Bench-style categories", () => {
  it("ranks worked problems and coding above creative writing and role play", () => {
    const worked = WORKED.map((f) => classify(user(f.prompt)).score);
    const open = OPEN_ENDED.map((f) => classify(user(f.prompt)).score);
    // ROC AUC over the 36 pairs; one pair in the wrong order is tolerated.
    expect(rocAuc([...worked, ...open], [...worked.map(() => 1), ...open.map(() => 0)])).toBeGreaterThanOrEqual(35 / 36);
  });

  it("keeps both off the light tier", () => {
    for (const f of [...WORKED, ...OPEN_ENDED]) expect(classify(user(f.prompt)).tier, f.name).not.toBe("light");
  });

  it("names the question form: puzzle for a worked problem, creative for a story or a role", () => {
    expect(classify(user(WORKED[2]!.prompt)).reasons).toContain("puzzle");
    const r = classify(user(OPEN_ENDED[2]!.prompt));
    expect(explain(user(OPEN_ENDED[2]!.prompt)).features.creative).toBeGreaterThan(0.5);
    expect(r.reasons.includes("creative") || r.score >= DEFAULT_THRESHOLDS.standard).toBe(true);
  });
});

describe("classify: output contract", () => {
  it("returns a score in [0, 1], a tier consistent with the thresholds and kebab-case reasons", () => {
    for (const f of [...SIMPLE, ...SUPPORT, ...MIDDLE, ...DEEP]) {
      const r = classify(user(f.prompt));
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(1);
      expect(r.tier).toBe(tierFor(r.score, DEFAULT_THRESHOLDS));
      for (const id of r.reasons) expect(id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(new Set(r.reasons).size).toBe(r.reasons.length);
    }
  });

  it("is deterministic", () => {
    for (const f of [...SIMPLE, ...MIDDLE, ...DEEP]) {
      const req = user(f.prompt);
      expect(classify(req)).toEqual(classify(structuredClone(req)));
    }
  });

  it("honours custom thresholds", () => {
    const req = user(MIDDLE[0]?.prompt ?? "");
    const { score } = classify(req);
    expect(classify(req, { standard: 0, deep: 0 }).tier).toBe("deep");
    expect(classify(req, { standard: 1.01, deep: 1.01 }).tier).toBe("light");
    expect(classify(req, { standard: score, deep: 1.01 }).tier).toBe("standard");
  });

  it("keeps the feature vector aligned with FEATURE_IDS and weights", () => {
    const f = computeFeatures(extract(user("Compare Raft and Paxos.")));
    expect(f.values).toHaveLength(FEATURE_IDS.length);
    expect(Object.keys(WEIGHTS).sort()).toEqual([...FEATURE_IDS].sort());
    const e = explain(user("Compare Raft and Paxos."));
    expect(Object.keys(e.features)).toEqual([...FEATURE_IDS]);
    for (const [id, v] of Object.entries(e.features)) {
      expect(Number.isFinite(v)).toBe(true);
      if (id === "vocabulary") continue; // already log-odds, not in [0, 1]
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });
});

describe("classify: malformed input never throws", () => {
  const junk: unknown[] = [
    undefined,
    null,
    42,
    "hello",
    [],
    {},
    { messages: null },
    { messages: "hi" },
    { messages: [null, 1, "x", { role: "user" }, { role: "user", content: null }] },
    { messages: [{ role: "user", content: [null, 3, { type: "text" }, { type: "text", text: 5 }] }] },
    { messages: [{ role: "user", content: [{ type: "tool_result", content: [{ text: null }, 7] }] }] },
    { messages: [{ role: "user", content: [{ type: "image", source: { data: "xxxx" } }] }] },
    { system: 12, messages: [], tools: "nope", max_tokens: "lots", thinking: "yes" },
    { system: [null, { text: 3 }, { type: "text", text: "be brief" }], messages: [{ role: 7, content: "hi" }] },
    { messages: [{ role: "user", content: "x" }], max_tokens: Number.NaN, thinking: { type: "enabled", budget_tokens: -5 } },
    { messages: [{ role: "user", content: "\u0000\uffff\ud800 ```` \\\\ {{{{ }}}} ^^^ === ||| " }] },
  ];
  it.each(junk.map((j, i) => [i, j] as const))("case %i", (_i, j) => {
    const r = classify(j as MessagesRequestLike);
    expect(Number.isFinite(r.score)).toBe(true);
    expect(["light", "standard", "deep"]).toContain(r.tier);
    expect(Array.isArray(r.reasons)).toBe(true);
  });

  it("handles huge and pathological strings", () => {
    const words = "word ".repeat(100_000);
    const oneToken = "x".repeat(300_000);
    const symbols = "(((((".repeat(20_000) + "=".repeat(50_000);
    for (const s of [words, oneToken, symbols]) {
      const r = classify(user(s));
      expect(Number.isFinite(r.score)).toBe(true);
    }
  });

  it("treats invalid thresholds as the defaults", () => {
    const req = user("hi");
    expect(classify(req, null as unknown as { standard: number; deep: number })).toEqual(classify(req));
  });
});

describe("classify: request-level signals", () => {
  const base = "Can you help me plan the migration of our billing service to the new database?";

  it("max_tokens raises the score", () => {
    const a = classify(user(base)).score;
    const b = classify({ ...user(base), max_tokens: 32_000 }).score;
    expect(b).toBeGreaterThan(a);
    expect(classify({ ...user(base), max_tokens: 64_000 }).reasons).toContain("output-size");
  });

  it("extended thinking raises the score and is listed", () => {
    const a = classify(user(base));
    const b = classify({ ...user(base), thinking: { type: "enabled", budget_tokens: 16_000 } });
    expect(b.score).toBeGreaterThan(a.score);
    expect(b.reasons).toContain("extended-thinking");
    // a disabled thinking block changes nothing
    expect(classify({ ...user(base), thinking: { type: "disabled" } }).score).toBe(a.score);
  });

  it("tools raise the score", () => {
    const tools = ["search", "read_file", "write_file", "run_tests", "deploy"].map((name) => ({
      name,
      input_schema: { type: "object" },
    }));
    const a = classify(user(base)).score;
    const b = classify({ ...user(base), tools });
    expect(b.score).toBeGreaterThan(a);
    expect(b.reasons).toContain("tools");
  });

  it("a long multi-turn conversation raises the score", () => {
    const single = classify(user("And what about the second option?")).score;
    const messages: MessagesRequestLike["messages"] = [];
    for (let t = 0; t < 12; t++) {
      messages.push({
        role: "user",
        content: `Step ${t + 1}: here is the next part of the schema migration. We must keep the ledger consistent, so compare the two approaches again.`,
      });
      messages.push({ role: "assistant", content: "Here is an analysis of both approaches ... ".repeat(40) });
    }
    messages.push({ role: "user", content: "And what about the second option?" });
    const multi = classify({ messages });
    expect(multi.score).toBeGreaterThan(single);
    expect(multi.reasons).toContain("conversation-depth");
  });

  it("code in earlier turns counts for a short follow-up", () => {
    const followUp = "Why does it fail?";
    const alone = classify(user(followUp)).score;
    const withCode = classify({
      messages: [
        { role: "user", content: "```ts\n" + longSourceFile() + "\n```" },
        { role: "assistant", content: "This module loads and saves JSON files." },
        { role: "user", content: followUp },
      ],
    }).score;
    expect(withCode).toBeGreaterThan(alone);
  });

  it("uses the last user text as the ask when the last message only carries tool results", () => {
    const ask = "Refactor the repository layer and fix the failing test.";
    const r = classify({
      messages: [
        { role: "user", content: ask },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "read_file", input: { path: "a.ts" } }] },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "t1", content: "```ts\n" + longSourceFile() + "\n```" }],
        },
      ],
      tools: [{ name: "read_file" }],
    });
    const ex = extract({
      messages: [
        { role: "user", content: ask },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "x" }] },
      ],
    });
    expect(ex.primaryChars).toBe(ask.length);
    expect(r.score).toBeGreaterThan(classify(user(ask)).score);
    expect(r.reasons).toContain("code");
  });

  it("attached images and documents count as context", () => {
    const text = "What does this show?";
    const withImage = classify({
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" } },
            { type: "text", text },
          ],
        },
      ],
    });
    expect(withImage.score).toBeGreaterThan(classify(user(text)).score);
  });

  it("a long system prompt alone does not make a greeting deep", () => {
    const system = "You are the support assistant of Acme. Always be polite. Never share internal data. ".repeat(60);
    expect(classify({ system, messages: [{ role: "user", content: "hi" }] }).tier).toBe("light");
  });

  it("a very long conversation is flagged as long-context", () => {
    const chunk = "Background notes on the incident timeline and the affected services. ".repeat(300);
    const messages: MessagesRequestLike["messages"] = [];
    for (let t = 0; t < 10; t++) {
      messages.push({ role: "user", content: chunk });
      messages.push({ role: "assistant", content: chunk });
    }
    messages.push({ role: "user", content: "Summarise where we are." });
    const r = classify({ messages });
    expect(r.reasons).toContain("long-context");
  });
});

describe("text scanner", () => {
  const scan = (t: string) => {
    const s = emptyStats();
    scanText(s, t, 0, t.length);
    return s;
  };

  it("counts code structure", () => {
    const s = scan("```ts\nconst user_id = getUser(req.params.id);\nif (a === b && c) {\n  return x;\n}\n```");
    expect(s.fences).toBe(2);
    expect(s.identifiers).toBeGreaterThanOrEqual(2); // user_id, getUser
    expect(s.calls).toBeGreaterThanOrEqual(1);
    expect(s.codeOps).toBeGreaterThanOrEqual(2); // === &&
    expect(s.codeLineEnds).toBeGreaterThanOrEqual(3);
  });

  it("counts maths notation but not LaTeX braces as code", () => {
    const s = scan("Solve x^2 + 3x = 10, then show that $\\frac{1}{2} \\le \\sqrt{x}$ and ∫ f(x) dx ≥ 0.");
    expect(s.exprOps).toBeGreaterThanOrEqual(2);
    expect(s.latex).toBe(3);
    expect(s.mathUnicode).toBeGreaterThanOrEqual(2);
    expect(s.braces).toBe(0);
  });

  it("finds phrases, asks and stems", () => {
    const s = scan("Please compare at least two designs. The analysis should list trade-offs.");
    expect(s.askCats[Cat.reasonVerb]).toBe(1); // "compare" after "please"
    expect(s.cats[Cat.constraint]).toBeGreaterThanOrEqual(2); // "at least", "should"
    expect(s.cats[Cat.reason]).toBeGreaterThanOrEqual(3); // compare, analysis (stem), trade-offs
  });

  it("recognises medical / scientific word endings and C++ / C#", () => {
    expect(scan("Chronic gastritis or cardiomyopathy? Ask the cardiology team.").domainSuffix).toBe(3);
    expect(scan("Port this C# class to C++ please.").cats[Cat.codeTech]).toBe(2);
  });

  it("does not count blanks or brand names as identifiers", () => {
    expect(scan("The ______ is an iPhone from YouTube.").identifiers).toBe(0);
  });

  it("counts rare words: technical terms, not everyday words, contractions or compounds", () => {
    const expert = scan("Which chords in the Lydian mode emphasise the raised fourth? Use CUDA kernels.");
    expect(expert.rareWords).toBeGreaterThanOrEqual(2); // lydian, cuda (+ kernels)
    expect(expert.rareCapitalised).toBeGreaterThanOrEqual(2); // names count half in the features
    const everyday = scan("Where is my order? I haven't received the follow-up email about the delivery.");
    expect(everyday.rareWords).toBe(0);
    expect(everyday.contentWords).toBeGreaterThanOrEqual(5);
  });

  it("hashes word unigrams, bigrams within a sentence and long-word endings", () => {
    // 3 unigrams + 2 bigrams + 1 ending ("coalescing"), none across the full stop
    expect(scan("memory coalescing helps").grams).toBe(6);
    expect(scan("memory. coalescing").grams).toBe(3);
    expect(scan("").grams).toBe(0);
  });

  it("recognises proof, build and optimisation asks", () => {
    const f = (t: string) => explain(user(t)).features;
    expect(f("Prove that every PID is a UFD.")["proof-ask"]).toBeGreaterThan(0.4);
    expect(f("Implement a lock-free queue in C++.")["build-ask"]).toBeGreaterThan(0.4);
    expect(f("Optimise this CUDA kernel for memory bandwidth.")["optimise-ask"]).toBeGreaterThan(0.4);
    expect(f("What are your opening hours?")["proof-ask"]).toBe(0);
  });

  it("recognises puzzle relations and tells first-person from second-person words", () => {
    // taller, sister, "left of", facing, north
    expect(scan("Ana is taller than Ben, whose sister sits left of Cy, facing north.").cats[Cat.relation]).toBe(5);
    const s = scan("I think my order and your store, you know, are fine; we'll see.");
    expect(s.cats[Cat.personal]).toBe(4); // I, my, your, you ("we'll" is not in the list)
    expect(s.firstPerson).toBe(2); // I, my
  });

  it("scores a compact worked problem as a puzzle, not a support message or a long document", () => {
    const f = (t: string) => explain(user(t)).features.puzzle;
    expect(f("A train leaves at 9:40 and travels 210 km at 84 km/h. When does it arrive?")).toBeGreaterThan(0.3);
    expect(f("If Ann is older than Bo and Bo is older than Cy, who is youngest?")).toBeGreaterThan(0.3);
    const support = f("I was charged $49.99 twice on 3 March for order 5521, can you refund one of them?");
    expect(support).toBeLessThan(0.15);
    const report = "Revenue was 120 in 2021, 135 in 2022 and 150 in 2023. ".repeat(60) + "What was the trend?";
    expect(f(report)).toBe(0);
    expect(f("Tell me about the history of Rome.")).toBe(0);
  });

  it("scores creative and role-play asks, not a genre merely named or a coding ask", () => {
    const f = (t: string) => explain(user(t)).features.creative;
    expect(f("Write a poem about the sea.")).toBeGreaterThan(0.5);
    expect(f("Pretend you are a pirate captain.")).toBeGreaterThan(0.5);
    expect(f("How do modal interchange chords work? Give examples from pop songs.")).toBeLessThan(0.5);
    expect(f("Write a Python script that renames every poem file in a folder.")).toBe(0);
  });

  it("recognises stack-trace references and labelled parts", () => {
    expect(scan("at render (/srv/app/views.ts:42:18)").fileRefs).toBeGreaterThanOrEqual(1);
    expect(scan("Part 1: setup. Part 2: tests.").labeledParts).toBe(2);
  });
});

describe("fitted model data", () => {
  it("loads every fitted weight, the bias's thresholds and a unit weight for the n-gram sum", () => {
    for (const id of FEATURE_IDS) {
      if (id === "vocabulary") expect(WEIGHTS[id]).toBe(1);
      else expect(WEIGHTS[id], id).toBe(MODEL.weights[id]);
    }
    expect(DEFAULT_THRESHOLDS).toEqual(MODEL.thresholds);
    expect(DEFAULT_THRESHOLDS.standard).toBeLessThan(DEFAULT_THRESHOLDS.deep);
  });

  it("decodes the n-gram table: 2^gramBits weights on the square-root scale", () => {
    expect(GRAM_BITS).toBe(MODEL.gramBits);
    expect(GRAM_WEIGHTS.length).toBe(1 << GRAM_BITS);
    const bytes = fromBase64(MODEL.gramWeights);
    expect(bytes.length).toBe(GRAM_WEIGHTS.length);
    let max = 0;
    for (let k = 0; k < bytes.length; k++) {
      const q = ((bytes[k] ?? 0) << 24) >> 24; // int8
      const expected = Math.sign(q) * (q / 127) ** 2 * MODEL.gramMax;
      expect(GRAM_WEIGHTS[k]).toBeCloseTo(expected, 5);
      max = Math.max(max, Math.abs(GRAM_WEIGHTS[k] ?? 0));
    }
    expect(max).toBeCloseTo(MODEL.gramMax, 4);
  });

  it("decodes the common-word set with all its keys", () => {
    const set = decodeKeySet(COMMON_WORDS);
    let members = 0;
    for (const byte of set) for (let b = byte; b !== 0; b &= b - 1) members++;
    expect(members).toBe(COMMON_WORDS.count);
    expect(COMMON_WORDS.count).toBeGreaterThan(15_000);
    for (const w of ["order", "password", "delivery", "refund", "because", "tomorrow"]) {
      expect(isCommonWord(hashString(w)), w).toBe(true);
    }
  });

  it("scores by the fitted model: explain() and classify() agree, with z = bias + sum of contributions", () => {
    for (const f of [...SIMPLE, ...DEEP]) {
      const req = user(f.prompt);
      const e = explain(req);
      const z = Object.values(e.contributions).reduce((a, c) => a + c, BIAS);
      expect(e.score).toBeCloseTo(1 / (1 + Math.exp(-z)), 9);
      expect(classify(req).score).toBe(e.score);
    }
  });
});

describe("default thresholds", () => {
  const scores = (lo: number, n: number): number[] => Array.from({ length: n }, (_, k) => lo + ((1 - lo) * k) / n);

  it("puts standard at the 1% quantile of the hard examples' scores, never above the ceiling", () => {
    const t = chooseThresholds(scores(0.2, 200));
    expect(t.standard).toBe(0.2);
    expect(chooseThresholds(scores(0.7, 200)).standard).toBe(TRAINING_CONFIG.standardCeiling);
  });

  it("puts deep where the configured share of hard examples reach it", () => {
    const hard = scores(0.5, 200);
    const t = chooseThresholds(hard);
    const share = hard.filter((s) => s >= t.deep).length / hard.length;
    expect(share).toBeGreaterThanOrEqual(TRAINING_CONFIG.hardDeepShare);
    expect(share).toBeLessThan(TRAINING_CONFIG.hardDeepShare + 0.02);
  });
});

describe("classify: hard prompts never land on the light tier", () => {
  // The first three are the examples issue 18 reports as scored "simple";
  // the others are written for this test.
  const HARD = [
    "Proof that Q(sqrt(-11)) is a principal ideal domain",
    "Write me a CUDA kernel for matrix multiplication",
    "Can you come up with a 12 bar chord progression in C that works in the lydian mode?",
    "Derive the posterior of a Beta-Binomial model.",
    "Implement a lock-free queue in C++ with hazard pointers.",
    "Is a verbal agreement to sell a house enforceable? Discuss the statute of frauds.",
    "What is the differential diagnosis of episodic vertigo with hearing loss?",
    "Explain the Diels-Alder reaction's stereochemistry.",
    "Optimise this SQL: SELECT * FROM orders o JOIN items i ON i.order_id = o.id WHERE o.created_at > now() - interval '1 day';",
    "Show that a group of order 35 is cyclic.",
  ];

  it("keeps confidently hard asks off the light tier and sends clearly deep ones to deep", () => {
    const light = HARD.map((p) => ({ p, r: classify(user(p)) }))
      .filter(({ r }) => r.tier === "light")
      .map(({ p, r }) => `${r.score.toFixed(3)} ${p}`);
    expect(light, light.join("; ")).toEqual([]);
    for (const f of DEEP) expect(classify(user(f.prompt)).tier, f.name).toBe("deep");
  });

  it("names difficulty signals for deep decisions and simplicity signals for light ones", () => {
    const positive = new Set(FEATURE_IDS.filter((id) => WEIGHTS[id] > 0) as string[]);
    for (const f of DEEP) {
      const r = classify(user(f.prompt));
      expect(r.reasons.length).toBeGreaterThan(0);
      for (const id of r.reasons) expect(positive.has(id.startsWith("domain") ? "domain" : id), `${f.name}: ${id}`).toBe(true);
    }
    for (const p of ["hi", "thanks!", "What are your opening hours?"]) {
      const r = classify(user(p));
      expect(r.reasons.length).toBeGreaterThan(0);
      for (const id of r.reasons) expect(WEIGHTS[id as keyof typeof WEIGHTS], `${p}: ${id}`).toBeLessThan(0);
    }
  });
});

describe("eval metrics", () => {
  const weak = [0, 0, 1, 1, 0, 1, 0, 1];
  const strong = [1, 1, 1, 1, 1, 0, 1, 1];

  it("scores a perfect, a constant and a reversed router", () => {
    const gain = strong.map((s, i) => s - (weak[i] ?? 0));
    const perfect = apgr(routerCurve(gain, weak, strong));
    const constant = apgr(routerCurve(gain.map(() => 1), weak, strong));
    const reversed = apgr(routerCurve(gain.map((g) => -g), weak, strong));
    expect(constant).toBeCloseTo(0.5, 10);
    expect(perfect).toBeGreaterThan(0.8);
    expect(reversed).toBeLessThan(0.3);
    expect(apgrDiscrete(routerCurve(gain.map(() => 1), weak, strong), 10)).toBeCloseTo(0.5, 10);
  });

  it("handles ties independently of input order", () => {
    const scores = [1, 1, 2, 2, 3, 3, 0, 0];
    const a = apgr(routerCurve(scores, weak, strong));
    const order = [7, 6, 5, 4, 3, 2, 1, 0];
    const b = apgr(
      routerCurve(
        order.map((i) => scores[i] ?? 0),
        order.map((i) => weak[i] ?? 0),
        order.map((i) => strong[i] ?? 0),
      ),
    );
    expect(a).toBeCloseTo(b, 12);
  });

  it("computes CPT on the interpolated curve", () => {
    const gain = strong.map((s, i) => s - (weak[i] ?? 0));
    const curve = routerCurve(gain, weak, strong);
    const c50 = cpt(curve, 0.5);
    expect(c50).toBeGreaterThan(0);
    expect(c50).toBeLessThanOrEqual(0.5);
    expect(cpt(curve, 0.8)).toBeGreaterThanOrEqual(c50);
  });

  it("random baseline is close to 0.5", () => {
    const w: number[] = [];
    const s: number[] = [];
    for (let i = 0; i < 400; i++) {
      w.push(i % 3 === 0 ? 1 : 0);
      s.push(i % 5 === 0 ? 0 : 1);
    }
    expect(Math.abs(randomApgr(w, s, 20, 1) - 0.5)).toBeLessThan(0.05);
  });

  it("computes ROC AUC with ties and accuracy", () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 10);
    expect(rocAuc([1, 1, 1, 1], [0, 1, 0, 1])).toBeCloseTo(0.5, 10);
    expect(accuracy([true, false, true], [1, 0, 0])).toBeCloseTo(2 / 3, 10);
  });
});
