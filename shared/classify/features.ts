/**
 * Turns scanner counts and request metadata into a fixed feature vector.
 *
 * Every feature but `vocabulary` is a number in [0, 1] (counts pass through a
 * saturating curve, sizes through a clamped log scale), so a weight in
 * score.ts reads as "log-odds added when this signal is fully present".
 */

import { Cat } from "./lexicon.js";
import type { Extracted } from "./extract.js";
import type { ScanStats } from "./text-scan.js";

export const FEATURE_IDS = [
  "length",
  "long-context",
  "code",
  "debugging",
  "math",
  "quantities",
  "multi-step",
  "reasoning",
  "constraints",
  "logic",
  "complex-syntax",
  "domain",
  "system-design",
  "conversation-depth",
  "tools",
  "output-size",
  "extended-thinking",
  "writing",
  "greeting",
  "support-chat",
  "short-question",
  "brevity",
  "rare-terms",
  "rare-share",
  "proof-ask",
  "build-ask",
  "optimise-ask",
  "puzzle",
  "creative",
  "vocabulary",
] as const;

/**
 * The one feature that is not in [0, 1]: the hashed n-gram weights summed over
 * the latest ask (normalised by the square root of the n-gram count). It is
 * already in log-odds, so its weight is 1.
 */
export const VOCABULARY_INDEX = FEATURE_IDS.indexOf("vocabulary");

/**
 * Features read from the request's structure, not its text (options the
 * client set, the conversation's shape). Their weights are priors: no
 * training row has them.
 */
export const REQUEST_FEATURES: readonly FeatureId[] = [
  "long-context",
  "conversation-depth",
  "tools",
  "output-size",
  "extended-thinking",
];

export type FeatureId = (typeof FEATURE_IDS)[number];
export type FeatureVector = Record<FeatureId, number>;

export interface Features {
  /** Feature values in FEATURE_IDS order. */
  values: number[];
  /** Display id for the domain feature, e.g. "domain-legal". */
  domainLabel: string;
}

/** x / (x + k): 0 at 0, 0.5 at k, approaches 1. */
export function sat(x: number, k: number): number {
  return x <= 0 ? 0 : x / (x + k);
}

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** 0 at or below `lo`, 1 at or above `hi`, log-linear in between. */
function logScale(x: number, lo: number, hi: number): number {
  if (x <= lo) return 0;
  return clamp01(Math.log(x / lo) / Math.log(hi / lo));
}

function cat(s: ScanStats, c: number): number {
  return s.cats[c] ?? 0;
}

function hasCat(bits: number, c: number): boolean {
  return bits > 0 && (bits & (1 << c)) !== 0;
}

/** Raw evidence of code in a stats block (weighted count). */
function codeEvidence(s: ScanStats): number {
  const syntax =
    s.fences * 4 +
    s.codeLineEnds +
    s.identifiers +
    s.calls +
    s.dotted * 0.5 +
    s.codeOps +
    s.braces * 0.5 +
    s.backticks * 0.25;
  // Indentation and code vocabulary only count once some syntax is present.
  // Technology names (python, sql, docker) are evidence on their own; a single
  // generic word ("class", "function") is not.
  const tech = cat(s, Cat.codeTech);
  const vocab = cat(s, Cat.code);
  const words = syntax > 0 || tech > 0 ? vocab * 0.5 : Math.max(0, vocab - 1) * 0.5;
  const layout = syntax > 0 ? s.indentedLines * 0.3 : 0;
  // A coding task without code yet: "Write a C++ program...", "implement a function...".
  const made = (s.askCats[Cat.writing] ?? 0) + (s.askCats[Cat.reasonVerb] ?? 0);
  const task = made > 0 && tech + vocab > 0 ? 2 : 0;
  return syntax + tech * 1.5 + words + layout + task;
}

/** Hits of a category counted fully when asked for, `mention` each otherwise. */
function asked(s: ScanStats, c: number, mention: number): number {
  const all = cat(s, c);
  const ask = s.askCats[c] ?? 0;
  return ask + (all - ask) * mention;
}

/**
 * Mathematical content. Plain arithmetic operators ("3 + 4", "x = 5") weigh
 * little; notation (LaTeX, ∫ ∑ √ ≤, Greek variables) and mathematical
 * vocabulary (integral, matrix, theorem), especially when asked for, weigh more.
 */
function mathEvidence(s: ScanStats): number {
  return s.exprOps * 0.3 + s.mathUnicode + s.latex * 1.5 + asked(s, Cat.math, 0.4);
}

/** Quantities and the relations between them (twice, more than, remaining...). */
function quantityEvidence(s: ScanStats): number {
  return cat(s, Cat.quant) + (s.numbers + cat(s, Cat.numword) + s.percents) * 0.2;
}

const DOMAIN_NAMES = ["legal", "financial", "medical", "scientific"] as const;

function domainCounts(s: ScanStats): [number, number, number, number] {
  return [
    cat(s, Cat.legal),
    cat(s, Cat.finance),
    cat(s, Cat.medical) + s.domainSuffix * 0.5,
    cat(s, Cat.science),
  ];
}

export function computeFeatures(ex: Extracted): Features {
  const p = ex.primary;
  const c = ex.context;
  const len = ex.primaryChars;

  const sys = ex.system;
  // Earlier turns count half, the system prompt (instructions, often long and
  // generic) a quarter.
  const code = Math.max(codeEvidence(p), codeEvidence(c) * 0.5, codeEvidence(sys) * 0.25);
  const codeF = sat(code, 6);
  const debugRaw = cat(p, Cat.debug) + p.fileRefs * 2 + c.fileRefs;
  const debugF = code >= 2 || p.fileRefs + c.fileRefs > 0 ? sat(debugRaw, 3) : 0;

  // Operators, negations, commas and list markers inside pasted code are part
  // of the code, not separate maths / logic / structure signals: damp the
  // prose features by how code-like the ask itself is.
  const prose = 1 - 0.6 * sat(codeEvidence(p), 6);

  const mathF = prose * sat(Math.max(mathEvidence(p), mathEvidence(c) * 0.5), 4);
  const quantF = prose * sat(quantityEvidence(p), 4);

  const steps =
    p.listItems + p.labeledParts + cat(p, Cat.sequence) * 0.5 + Math.max(0, p.questions - 1);
  const multiStepF = prose * sat(steps, 3);
  // Asked-for analysis ("Compare ...", "can you design ...") counts fully;
  // the same vocabulary as a topic ("the design of ...", "a comparison")
  // counts a tenth; "explain" / "why" asks count a little.
  const reasonF = sat(
    (p.askCats[Cat.reasonVerb] ?? 0) + cat(p, Cat.reason) * 0.1 + asked(p, Cat.explain, 0) * 0.3,
    1.2,
  );
  const constraintF = prose * sat(cat(p, Cat.constraint), 4);
  const logicF = prose * sat(cat(p, Cat.logic), 3);
  const syntaxF = prose * sat(p.commas + p.semicolons + cat(p, Cat.clause), 10);

  let domainTotal = 0;
  let domainLabel = "domain";
  let best = 0;
  const counts = domainCounts(p);
  const sysCounts = domainCounts(sys);
  for (let k = 0; k < counts.length; k++) {
    const n = (counts[k] ?? 0) + (sysCounts[k] ?? 0) * 0.25;
    domainTotal += n;
    if (n > best) {
      best = n;
      domainLabel = DOMAIN_NAMES[k] ?? "domain";
    }
  }
  const domainF = sat(domainTotal, 4);
  const systemsF = sat(cat(p, Cat.systems) + cat(c, Cat.systems) * 0.3, 3);

  const depthF = sat(Math.max(0, ex.userTurns - 1), 4);
  const toolsF = clamp01(sat(ex.toolsDefined, 4) * 0.6 + sat(ex.toolBlocks, 6) * 0.6);
  const outputF = logScale(ex.maxTokens, 2048, 32768);
  const thinkingF = ex.thinking ? 0.6 + 0.4 * sat(ex.thinkingBudget, 8000) : 0;
  const writingF = sat(asked(p, Cat.writing, 0.2), 1.5);

  // ---- simplicity signals (negative weights) ---------------------------
  const heavy = codeF + mathF + reasonF + multiStepF + domainF + systemsF;
  // Support messages run from one line to a short paragraph or two.
  const chatSized = 1 - clamp01((len - 300) / 900); // 1 up to 300 chars, 0 from 1200
  const first = p.firstCats;
  const greetingWords = cat(p, Cat.greeting) + cat(p, Cat.thanks);
  const greetingF =
    p.words > 0 && p.words <= 12 && greetingWords > 0 && (hasCat(first, Cat.greeting) || hasCat(first, Cat.thanks))
      ? clamp01(1 - (p.words - 1) / 12) * clamp01(1 - heavy)
      : 0;
  // Support chat is phrased in first / second person ("where is my order",
  // "are you open"); narrative word problems that mention prices or stores
  // are not, and carry many quantities.
  const personal = cat(p, Cat.personal) > 0 || hasCat(first, Cat.wh);
  const supportF = personal
    ? sat(cat(p, Cat.support), 1) * chatSized * clamp01(1 - heavy) * clamp01(1.5 - quantF * 2)
    : 0;
  // A chat turn of a few ordinary words ("yes please", "good night"): no
  // heavy signal and no rare word (a short expert ask names its jargon).
  const brevityF =
    p.words > 0 && p.rareWords === 0 ? clamp01(1 - (p.words - 2) / 10) * clamp01(1 - heavy * 2) : 0;
  const questionLike = p.questions > 0 || hasCat(first, Cat.wh);

  // ---- question form -----------------------------------------------------
  // A self-contained problem to work out: a question, or a find / solve /
  // compute ask, over numbers, variables, relations (taller, sister, north)
  // or logical structure. Puzzles state their data in a few lines: a long
  // document with numbers in it is context, not a problem. A message in the
  // first person is more often the writer's own situation (two accounts, an
  // order number, an amount charged) than a puzzle: it counts a third, and
  // less with support vocabulary.
  const problemAsk = questionLike || (p.askCats[Cat.math] ?? 0) > 0;
  const puzzleEvidence =
    p.numbers * 0.5 +
    cat(p, Cat.numword) * 0.25 +
    p.exprOps +
    cat(p, Cat.relation) +
    (cat(p, Cat.quant) + cat(p, Cat.logic)) * 0.5;
  const supportPhrased = personal ? sat(cat(p, Cat.support), 1) : 0;
  const puzzleF = problemAsk
    ? prose * sat(puzzleEvidence, 3) * clamp01((2000 - len) / 1500) * (p.firstPerson > 0 ? 0.3 * (1 - 0.7 * supportPhrased) : 1)
    : 0;

  // A short question about quantities or with logical structure is a puzzle,
  // not a lookup ("How many integers below 500 are divisible by 3 or 7 but
  // not both?").
  const puzzle = quantF + logicF + puzzleF;
  const shortQuestionF =
    questionLike && len < 160 ? clamp01(1 - len / 160) * clamp01(1 - (heavy + puzzle) * 1.5) : 0;

  // ---- vocabulary --------------------------------------------------------
  // Rare words (outside the common-English list): technical terms and jargon;
  // names and products capitalised mid-sentence count half.
  const rare = p.rareWords - p.rareCapitalised * 0.5 + (c.rareWords - c.rareCapitalised * 0.5) * 0.25;
  const rareTermsF = sat(rare, 2);
  const rareShareF = p.contentWords > 0 ? clamp01(p.rareWords / (p.contentWords + 2)) : 0;
  const proofF = sat(asked(p, Cat.proveAsk, 0.3), 1);
  const buildF = sat(asked(p, Cat.buildAsk, 0.2), 1);
  const optimiseF = sat(asked(p, Cat.optimiseAsk, 0.3), 1);
  const vocabulary = p.grams > 0 ? p.gramSum / Math.sqrt(p.grams) : 0;

  // Creative writing and role play ("write a story", "pretend you are..."):
  // open-ended text a small model writes well, unless the ask also wants
  // code, mathematics, a proof or a worked problem. A genre named outside a
  // writing ask ("examples from pop songs") counts a little.
  const writingAsk = (p.askCats[Cat.writing] ?? 0) > 0;
  const creativeF =
    sat(asked(p, Cat.creative, writingAsk ? 1 : 0.3), 0.5) * clamp01(1 - (codeF + mathF + puzzleF + proofF) * 2.5);

  // In FEATURE_IDS order (checked by the unit tests).
  const values: number[] = [
    logScale(len, 30, 12_000), // length
    // Images and documents (PDFs) are context the model must read.
    Math.max(logScale(ex.totalChars, 8_000, 200_000), sat(ex.attachments, 2) * 0.6), // long-context
    codeF, // code
    debugF, // debugging
    mathF, // math
    quantF, // quantities
    multiStepF, // multi-step
    reasonF, // reasoning
    constraintF, // constraints
    logicF, // logic
    syntaxF, // complex-syntax
    domainF, // domain
    systemsF, // system-design
    depthF, // conversation-depth
    toolsF, // tools
    outputF, // output-size
    thinkingF, // extended-thinking
    writingF, // writing
    greetingF, // greeting
    supportF, // support-chat
    shortQuestionF, // short-question
    brevityF, // brevity
    rareTermsF, // rare-terms
    rareShareF, // rare-share
    proofF, // proof-ask
    buildF, // build-ask
    optimiseF, // optimise-ask
    puzzleF, // puzzle
    creativeF, // creative
    vocabulary, // vocabulary
  ];
  return { values, domainLabel: domainTotal > 0 ? `domain-${domainLabel}` : "domain" };
}

/** Feature values keyed by id (for tools and tests). */
export function featureRecord(values: readonly number[]): FeatureVector {
  const out = {} as FeatureVector;
  FEATURE_IDS.forEach((id, k) => {
    out[id] = values[k] ?? 0;
  });
  return out;
}
