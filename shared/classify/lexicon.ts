/**
 * Small generic vocabularies used by the text scanner.
 *
 * Each category is a whitespace-separated list of lowercase words; an entry
 * ending in "*" is a prefix stem ("optimi*" matches optimise, optimizing,
 * optimization...). Multi-word entries (exactly two words) are phrases.
 *
 * The lists describe kinds of requests seen in ordinary assistant traffic
 * (analysis asks, constraints, code, support chat...) and generic domain
 * vocabulary; they are not derived from any benchmark's subjects or wording.
 *
 * Lookup is allocation-free: the scanner hashes each word while reading it
 * (FNV-1a over lowercased UTF-16 code units) and asks `lookupWord`, which
 * verifies a hash hit character by character.
 */

export const Cat = {
  /** Explicit analysis asks: prove, derive, compare, design, optimise, debug... */
  reason: 0,
  /** Softer explanation asks: explain, why, describe, discuss. */
  explain: 1,
  /** Sequencing words of multi-step instructions: first, then, finally, step. */
  sequence: 2,
  /** Requirement / format words: must, exactly, at least, json, bullet points. */
  constraint: 3,
  /** Negation, truth values and logical connectives: not, except, false, implies. */
  logic: 4,
  /** Relations between quantities: twice, half, more than, remaining, ratio. */
  quant: 5,
  /** Spelled-out numbers: three, dozen, hundred. */
  numword: 6,
  legal: 7,
  finance: 8,
  medical: 9,
  science: 10,
  /** Programming keywords and generic programming vocabulary. */
  code: 11,
  /** Failure vocabulary: error, exception, traceback, crash. */
  debug: 12,
  greeting: 13,
  /** Acknowledgements: thanks, ok, great, bye. */
  thanks: 14,
  /** Customer-support topics: order, refund, password, opening hours. */
  support: 15,
  /** Question openers: what, when, where, who, how, can, do. */
  wh: 16,
  /** Writing tasks: essay, story, poem, email, summarise, translate. */
  writing: 17,
  /** Mathematical vocabulary: equation, integral, matrix, theorem, solve. */
  math: 18,
  /** System / architecture vocabulary: distributed, latency, scalability. */
  systems: 19,
  /** First / second person: I, my, you, your, we (chat and support phrasing). */
  personal: 20,
  /** Subordinating words that open clauses: which, that, whereas, although. */
  clause: 21,
  /** Words that introduce a request: please, can, you, help, need, how. */
  ask: 22,
  /** Imperative analysis verbs (base forms), counted when in ask position. */
  reasonVerb: 23,
  /** Programming languages, databases and developer tools (python, sql, docker). */
  codeTech: 24,
  /** Proof asks: prove, derive, show that, demonstrate. */
  proveAsk: 25,
  /** Building asks: implement, design, architect, build, develop. */
  buildAsk: 26,
  /** Optimisation asks: optimise, speed up, tune, parallelise, minimise. */
  optimiseAsk: 27,
  /**
   * Relations that puzzles are built from: comparisons (taller, older),
   * kinship (father, sister), directions and positions (north, clockwise).
   */
  relation: 28,
  /** Creative and role-play asks: story, poem, slogan, speech; pretend, act as, in character. */
  creative: 29,
} as const;

export type CatId = (typeof Cat)[keyof typeof Cat];
/** Categories are bits of an int32 below PAIR_HEAD (bit 30): at most 30. */
export const CAT_COUNT = 30;

const LISTS: Record<CatId, string> = {
  [Cat.reason]: `prove proves proving proof proofs derive derives deriving derivation
    analy* compare compares comparing comparison comparisons contrast contrasting
    evaluat* assess* justify justifies justification critique critiquing critically
    tradeoff tradeoffs trade-off trade-offs design designing redesign architect architecting
    optimi* optimis* debug debugging refactor* algorithm* complexity rigorous rigorously
    formali* theorem lemma corollary troubleshoot* diagnose pros cons
    "trade off" "step by" "think through" "walk through" "root cause" "edge cases" "edge case"
    "time complexity" "big-o" "best approach" "in depth" "in-depth"`,
  [Cat.explain]: `explain explains explaining explanation why describe discuss elaborate
    clarify interpret summarise summarize outline`,
  [Cat.sequence]: `first firstly then next finally lastly afterwards subsequently secondly
    thirdly step steps stage stages phase phases additionally also furthermore moreover
    "after that" "and then" "followed by"`,
  [Cat.constraint]: `must should exactly precisely strictly ensure required require requires
    requirement requirements constraint constraints mandatory limit limits maximum minimum
    format formatted json yaml csv markdown table bullet bullets words characters sentences
    paragraphs tone style without avoid include includes including only never always
    "at least" "at most" "no more" "no less" "no longer" "make sure" "do not" "don't"
    "bullet points"`,
  [Cat.logic]: `not no never none neither nor cannot can't won't don't doesn't didn't isn't
    aren't wasn't weren't shouldn't couldn't wouldn't except unless without true false
    correct incorrect valid invalid wrong implies imply implied therefore thus hence
    necessarily sufficient necessary contradict* consequently otherwise whereas suppose
    assume assuming "only if" "if and"`,
  [Cat.quant]: `twice thrice half halves double doubled triple tripled times more less
    fewer than remaining remainder rest average ratio ratios fraction fractions percent
    percentage proportion proportional between difference exceeds increase increased
    decrease decreased "as many" "as much"`,
  [Cat.numword]: `zero one two three four five six seven eight nine ten eleven twelve
    thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty
    fifty sixty seventy eighty ninety hundred hundreds thousand thousands million millions
    billion dozen dozens quarter quarters third thirds`,
  [Cat.legal]: `law laws legal legally lawful unlawful contract* clause clauses liabilit*
    liable plaintiff* defendant* statut* jurisdiction* tort torts negligen* court courts
    lawsuit* litigat* breach breached indemn* complian* regulat* gdpr hipaa counsel
    attorney* lawyer* judge verdict testimony hearsay constitution* amendment* precedent*
    appeal appellate felony misdemeanor prosecut* convict* sue sued damages injunction
    arbitration licens* patent* copyright* trademark* tenant* landlord* lease leases
    easement deed heir* fiduciar* covenant* enforceab* voidable herein hereinafter
    pursuant thereof whereas notwithstanding warranty warranties termination
    "intellectual property"`,
  [Cat.finance]: `financ* portfolio* invest* equity equities bond bonds dividend* yield
    yields inflation valuation* revenue* earnings depreciat* amortiz* liquidity hedg*
    asset assets liabilities accounting gdp fiscal monetary npv irr roi ebitda tax taxes
    taxation stock stocks securities leverage volatility annuit* mortgage* loan
    loans debt credit* audit* income expense expenses budget* forecast* econom*
    macroeconomic* microeconomic* elasticity tariff* interest-rate "interest rate"
    "interest rates" "cash flow" "balance sheet" "net present" "capital gains"
    "working capital" "capital expenditure"`,
  [Cat.medical]: `medic* clinic* patient patients diagnos* symptom* treatment* therap*
    dosage dose doses syndrome* chronic acute prognosis patholog* disease* infect*
    lesion* tumor* tumour* cancer* carcinoma mg mmhg cardiac renal hepatic pulmonary
    neurolog* surger* surgical physician* hospital* prescri* pharmac* drug drugs vaccin*
    antibiot* insulin diabet* hypertension mutation* genetic* allerg* inflammat*
    fracture* anatomy anatomical biopsy etiology contraindicat*`,
  [Cat.science]: `scien* hypothes* experiment* molecul* protein* enzyme* quantum velocity
    acceleration momentum energy entropy equilibrium reaction reactions electron*
    proton* neutron* atom atoms atomic genome* genomic dna rna photosynthe* chemical*
    chemistr* physics biolog* statistic* regression variance distribution*
    probabilit* correlation* thermodynam* kinetic gravit* magnet* voltage wavelength
    frequency orbit* concentration acid acids oxid* catalys* isotope* radiation
    particle* nucleus evolution* species ecosystem* empirical stochastic bayes*
    "standard deviation" "null hypothesis"`,
  [Cat.code]: `codebase code coding programming compile compiler compiling compiled
    runtime recursion recursive iterator iterators callback callbacks mutex backend
    frontend endpoint endpoints deploy deployed deployment unittest nullptr println printf
    elif foreach boolean bool struct enum impl fn lambda async await const var tuple dict
    array arrays database databases query queries repository repo server servers
    serverless middleware library libraries refactoring linter function functions program
    programs script scripts algorithm algorithms "source code" "pull request"
    "unit test" "unit tests" "type error" "data structure" "data structures"`,
  [Cat.codeTech]: `python javascript typescript java rust golang kotlin scala haskell ruby php
    perl swiftui sql postgres postgresql mysql sqlite mongodb redis graphql html css react
    vue angular svelte nodejs deno docker* kubernetes k8s terraform nginx git github
    gitlab linux bash powershell npm pip pytest jest webpack vite regex api apis json yaml
    http https sdk cli django flask fastapi spring rails numpy pandas pytorch
    tensorflow aws gcp azure cuda gpu gpus opencl simd vulkan llvm wasm webassembly
    assembly verilog vhdl fpga`,
  [Cat.debug]: `error errors exception exceptions traceback stacktrace stack crash crashes
    crashed bug bugs buggy undefined null segfault panic panicked failing fails failed
    failure warning warnings broken doesn't isn't won't fix fixes fixing leak leaks
    deadlock timeout "stack trace" "not working" "does not" "null pointer"`,
  [Cat.greeting]: `hi hello hey heya hiya howdy greetings yo sup morning afternoon evening
    "good morning" "good afternoon" "good evening"`,
  [Cat.thanks]: `thanks thank thx ty cheers appreciate appreciated ok okay cool great
    awesome perfect nice bye goodbye cya lol`,
  [Cat.support]: `order orders ordered refund refunds refunded shipping shipped delivery
    deliver delivered track tracking password login logged account accounts purchase
    purchases purchased cancel cancelled canceled cancellation subscription invoice
    billing billed charged receipt return
    returns exchange store stores branch address location contact phone agent
    representative support customer coupon promo package parcel arrive arrived
    appointment booking reschedule unsubscribe username open opening
    closing closed hotline helpdesk plan plans upgrade downgrade discount discounts renew
    renewal renewed payment payments card app website settings voucher "opening hours" "business hours" "my order"
    "my account" "my password" "my package" "my subscription" "my card" "log in"
    "gift card" "promo code" "credit card" "my refund" "my booking"
    "sign in" "reset my" "what time" "customer service"`,
  [Cat.wh]: `what when where who whom whose which how is are can could do does did would
    will should`,
  [Cat.writing]: `write writing rewrite create build generate develop compose essay essays story stories poem poems poetry
    article articles blog draft letter email emails speech script novel chapter lyrics
    translate translation paraphrase proofread caption slogan tagline haiku limerick
    report narrative`,
  [Cat.math]: `equation* integral* derivative* matrix matrices polynomial* theorem lemma
    probability eigen* vector vectors logarithm* solve solving calculate calculating
    compute computing simplify factori* prime primes modulo inequalit* converge*
    divergen* series geometric triangle* angle angles radius diameter area volume
    perimeter hypotenuse algebra* calculus trigonometr* sine cosine tangent
    differentiat* integrat* limit infinite infinity finite subgroup* isomorph* topolog*
    combinator* permutation* combination* induction irrational rational integer*
    exponent* quadratic linear nonlinear sqrt log ln sin cos tan exp gcd lcm det`,
  [Cat.systems]: `architecture distributed microservice* scalab* scale scaling latency
    throughput consistency replication replica replicas sharding shard partition*
    fault-tolerant fault-tolerance availability cluster clusters pipeline pipelines
    infrastructure consensus raft paxos kafka queue queues cache caching load-balanc*
    failover idempotent idempotency concurrency concurrent "load balancer" "single point"
    "eventual consistency" "high availability" "system design"`,
  [Cat.personal]: `i i'm i've i'd me my mine myself you you're your yours we we're our us`,
  [Cat.reasonVerb]: `prove derive analyze analyse compare contrast evaluate assess justify
    critique design redesign architect optimize optimise debug refactor implement
    investigate troubleshoot diagnose formalize formalise deduce prioritize prioritise
    reconcile decompose`,
  [Cat.ask]: `please pls kindly can could would will you me us help i we and then also now
    lets let's need want how`,
  [Cat.proveAsk]: `prove proves proof proofs derive derivation demonstrate disprove
    "show that" "show why"`,
  [Cat.buildAsk]: `implement implementing design designing architect build develop engineer
    construct "set up" "come up"`,
  [Cat.optimiseAsk]: `optimise optimize optimising optimizing tune parallelise parallelize
    vectorise vectorize accelerate minimise minimize maximise maximize "speed up"`,
  [Cat.relation]: `taller shorter older younger heavier lighter faster slower richer poorer
    tallest shortest oldest youngest heaviest lightest fastest slowest
    father mother brother brothers sister sisters son sons daughter daughters uncle aunt
    nephew niece cousin cousins grandfather grandmother grandson granddaughter husband wife
    sibling siblings overtake* north south east west clockwise counterclockwise anticlockwise
    adjacent opposite facing knight knights knave knaves liar liars truthful riddle riddles
    puzzle puzzles "left of" "right of" "next to"`,
  [Cat.creative]: `story stories poem poems poetry haiku limerick sonnet verse lyrics song songs
    slogan tagline jingle blog toast speech monologue screenplay fable fairy anecdote
    diary postcard invitation pretend imagine roleplay role-play persona embody
    impersonate "act as" "in character" "play the"`,
  [Cat.clause]: `which that who whom whose whereas although though while because since unless
    if when whether`,
};

const FNV_OFFSET = 0x811c9dc5 | 0;
/** FNV-1a prime; text-scan.ts inlines the same step in its hot loop. */
export const FNV_PRIME = 16777619;

/** FNV-1a step over a lowercased UTF-16 code unit. */
export function hashStep(h: number, lowerCode: number): number {
  return Math.imul(h ^ lowerCode, FNV_PRIME);
}

export const HASH_START = FNV_OFFSET;

export function hashString(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) h = hashStep(h, s.charCodeAt(i));
  return h;
}

/** Combine two word hashes into a phrase key (order-sensitive). */
export function pairKey(a: number, b: number): number {
  return (Math.imul(a, 31) ^ b) | 0;
}

/**
 * Open-addressing int -> int table in typed arrays (one or two probes per
 * lookup, no allocation). Returns -1 for a missing key.
 */
class IntTable {
  private keys: Int32Array;
  private vals: Int32Array;
  private used: Uint8Array;
  private mask: number;

  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 4) size *= 2;
    this.keys = new Int32Array(size);
    this.vals = new Int32Array(size);
    this.used = new Uint8Array(size);
    this.mask = size - 1;
  }

  private slot(key: number): number {
    let i = (key ^ (key >>> 15)) & this.mask;
    while (this.used[i] === 1 && this.keys[i] !== key) i = (i + 1) & this.mask;
    return i;
  }

  get(key: number): number {
    const i = this.slot(key);
    return this.used[i] === 1 ? (this.vals[i] ?? -1) : -1;
  }

  set(key: number, value: number): void {
    const i = this.slot(key);
    this.keys[i] = key;
    this.vals[i] = value;
    this.used[i] = 1;
  }
}

/** Words and stems are verified against their text after a hash hit. */
const entryText: string[] = [];
const entryCats: number[] = [];
/** Next entry with the same table key, or -1. */
const entryNext: number[] = [];

/**
 * Marks words that start a two-word phrase, so the scanner only looks phrases
 * up after such a word. Not a category: callers mask it off.
 */
export const PAIR_HEAD = 1 << 30;

/** Stems are looked up by the hash of their first STEM_KEY letters. */
export const STEM_KEY = 4;
/** Longest word (in code units) that can match a whole-word entry. */
export const MAX_WORD_LEN = 24;
/** Hash of "to", for ask-position detection ("I want to compare..."). */
export const HASH_TO = hashString("to");
/** Hashes of the second-person words of Cat.personal (the rest are first person). */
export const HASH_YOU = hashString("you");
export const HASH_YOUR = hashString("your");
export const HASH_YOURE = hashString("you're");
export const HASH_YOURS = hashString("yours");

interface Parsed {
  words: Map<string, number>;
  stems: Map<string, number>;
  pairs: Map<number, number>;
}

function parseLists(): Parsed {
  const out: Parsed = { words: new Map(), stems: new Map(), pairs: new Map() };
  for (const [key, raw] of Object.entries(LISTS)) {
    const bit = 1 << Number(key);
    // Phrases are written in double quotes; everything else is one token.
    const re = /"([^"]+)"|(\S+)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(raw)) !== null) {
      const phrase = m[1];
      const tok = (phrase ?? m[2] ?? "").toLowerCase();
      const parts = tok.split(" ");
      if (parts.length === 2) {
        const head = parts[0] ?? "";
        const k = pairKey(hashString(head), hashString(parts[1] ?? ""));
        out.pairs.set(k, (out.pairs.get(k) ?? 0) | bit);
        out.words.set(head, (out.words.get(head) ?? 0) | PAIR_HEAD);
      } else if (parts.length === 1 && tok.endsWith("*") && phrase === undefined) {
        const stem = tok.slice(0, -1);
        if (stem.length < STEM_KEY) throw new Error(`lexicon stem too short: ${tok}`);
        out.stems.set(stem, (out.stems.get(stem) ?? 0) | bit);
      } else if (parts.length === 1 && tok.length > 0) {
        out.words.set(tok, (out.words.get(tok) ?? 0) | bit);
      }
    }
  }
  return out;
}

function buildTable(entries: Map<string, number>, keyOf: (text: string) => number): IntTable {
  const table = new IntTable(entries.size);
  for (const [text, cats] of entries) {
    const key = keyOf(text);
    const idx = entryText.length;
    entryText.push(text);
    entryCats.push(cats);
    entryNext.push(table.get(key));
    table.set(key, idx);
  }
  return table;
}

const parsed = parseLists();
const wordTable = buildTable(parsed.words, hashString);
const stemTable = buildTable(parsed.stems, (t) => hashString(t.slice(0, STEM_KEY)));
const pairTable = new IntTable(parsed.pairs.size);
for (const [k, cats] of parsed.pairs) pairTable.set(k, cats);

/** Lowercase ASCII letters and fold the typographic apostrophe to "'". */
export function foldCode(c: number): number {
  if (c >= 65 && c <= 90) return c + 32;
  return c === 0x2019 ? 39 : c;
}

function sameText(entry: string, text: string, start: number): boolean {
  for (let k = 0; k < entry.length; k++) {
    if (foldCode(text.charCodeAt(start + k)) !== entry.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Category bitmask of the word text[start, start+len), given the hash of the
 * whole word and of its first STEM_KEY units (ignored when len < STEM_KEY).
 */
export function lookupWord(text: string, start: number, len: number, hash: number, stemHash: number): number {
  let cats = 0;
  for (let e = wordTable.get(hash); e >= 0; e = entryNext[e] ?? -1) {
    const t = entryText[e] ?? "";
    if (t.length === len && sameText(t, text, start)) cats |= entryCats[e] ?? 0;
  }
  if (len >= STEM_KEY) {
    for (let e = stemTable.get(stemHash); e >= 0; e = entryNext[e] ?? -1) {
      const t = entryText[e] ?? "";
      if (t.length <= len && sameText(t, text, start)) cats |= entryCats[e] ?? 0;
    }
  }
  return cats;
}

/** Category bitmask of a two-word phrase, by the words' hashes (0 if none). */
export function lookupPair(prevHash: number, hash: number): number {
  const v = pairTable.get(pairKey(prevHash, hash));
  return v < 0 ? 0 : v;
}

/** Medical / scientific word endings (a generic domain-vocabulary signal). */
export const DOMAIN_SUFFIXES: readonly string[] = [
  "itis",
  "osis",
  "emia",
  "aemia",
  "ectomy",
  "opathy",
  "ology",
  "ological",
  "algia",
  "otomy",
  "plasty",
  "scopy",
];
