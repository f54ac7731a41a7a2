/**
 * Single bounded pass over a slice of text, accumulating counts.
 *
 * No regular expressions, no substring allocation: the loop reads UTF-16 code
 * units with charCodeAt, hashes words on the fly and consults the lexicon by
 * hash. Every look-ahead is bounded by a small constant, so a call costs
 * O(end - start). Callers decide how much of a message to scan (see
 * extract.ts); this module only counts.
 */

import {
  CAT_COUNT,
  Cat,
  HASH_TO,
  HASH_YOU,
  HASH_YOUR,
  HASH_YOURE,
  HASH_YOURS,
  DOMAIN_SUFFIXES,
  HASH_START as LEX_HASH_START,
  MAX_WORD_LEN as LEX_MAX_WORD_LEN,
  foldCode,
  pairKey,
  PAIR_HEAD as LEX_PAIR_HEAD,
  STEM_KEY as LEX_STEM_KEY,
  lookupPair,
  lookupWord,
} from "./lexicon.js";
import {
  GRAM_BIGRAM,
  GRAM_BITS,
  GRAM_SUFFIX,
  GRAM_UNIGRAM,
  GRAM_WEIGHTS,
  gramHash,
  isCommonWord,
} from "./vocabulary.js";

export interface ScanStats {
  /** Code units scanned. */
  chars: number;
  words: number;
  /** Words of 12+ letters. */
  longWords: number;
  numbers: number;
  decimals: number;
  percents: number;
  currency: number;
  /** Sentence ends (. ? ! followed by space or end). */
  sentences: number;
  questions: number;
  commas: number;
  semicolons: number;
  nonEmptyLines: number;
  /** Lines starting with a bullet or "1." / "2)" marker. */
  listItems: number;
  /** Lines indented by two or more columns. */
  indentedLines: number;
  /** Lines ending in ; { or }. */
  codeLineEnds: number;
  /** ``` fences. */
  fences: number;
  /** Single backticks (inline code). */
  backticks: number;
  braces: number;
  brackets: number;
  parens: number;
  pipes: number;
  /** Operators between numbers / single-letter variables: "3 + 4", "x^2", "f(x) = ". */
  exprOps: number;
  /** Mathematical Unicode (operators, arrows, superscripts, lone Greek letters). */
  mathUnicode: number;
  /** Backslash commands (LaTeX). */
  latex: number;
  /** snake_case / camelCase identifiers. */
  identifiers: number;
  /** name( without a space. */
  calls: number;
  /** name.member without spaces. */
  dotted: number;
  /** == != => -> && || :: </ tokens. */
  codeOps: number;
  /** letter:digit, as in "app.js:42" or "main.rs:10:5" (stack traces). */
  fileRefs: number;
  /** "Step 1:", "Part 2 |", "Question 3." style labelled parts. */
  labeledParts: number;
  /** Words with medical / scientific endings (-itis, -ology...). */
  domainSuffix: number;
  /** Lexicon hits per category (index = Cat value). */
  cats: number[];
  /**
   * Lexicon hits in "ask position": first word of a sentence or line, or
   * right after a request word ("please compare", "can you design",
   * "I want to refactor"). Separates asks from topic mentions.
   */
  askCats: number[];
  /** Category bitmask of the first word scanned (-1 before any word). */
  firstCats: number;
  /** Words of 4+ letters (letters only, no apostrophe or hyphen). */
  contentWords: number;
  /** Content words outside the common-English list (vocabulary.ts). */
  rareWords: number;
  /** Rare words capitalised inside a sentence (names, products, acronyms). */
  rareCapitalised: number;
  /** First-person words (I, my, we, our...): Cat.personal hits other than you / your. */
  firstPerson: number;
  /** Hashed n-grams seen (word unigrams, bigrams, word endings). */
  grams: number;
  /** Sum of their fitted weights. */
  gramSum: number;
  /** Training only: the mixed 32-bit hash of every n-gram seen. null at run time. */
  gramSink: number[] | null;
}

/** A packed array of CAT_COUNT zeros (cheaper to allocate than a typed array). */
function zeros(): number[] {
  const a: number[] = [];
  for (let k = 0; k < CAT_COUNT; k++) a.push(0);
  return a;
}

export function emptyStats(): ScanStats {
  return {
    chars: 0,
    words: 0,
    longWords: 0,
    numbers: 0,
    decimals: 0,
    percents: 0,
    currency: 0,
    sentences: 0,
    questions: 0,
    commas: 0,
    semicolons: 0,
    nonEmptyLines: 0,
    listItems: 0,
    indentedLines: 0,
    codeLineEnds: 0,
    fences: 0,
    backticks: 0,
    braces: 0,
    brackets: 0,
    parens: 0,
    pipes: 0,
    exprOps: 0,
    mathUnicode: 0,
    latex: 0,
    identifiers: 0,
    calls: 0,
    dotted: 0,
    codeOps: 0,
    fileRefs: 0,
    labeledParts: 0,
    domainSuffix: 0,
    cats: zeros(),
    askCats: zeros(),
    firstCats: -1,
    contentWords: 0,
    rareWords: 0,
    rareCapitalised: 0,
    firstPerson: 0,
    grams: 0,
    gramSum: 0,
    gramSink: null,
  };
}

/** Shortest word whose 4-letter ending is an n-gram. */
const SUFFIX_MIN_LEN = 7;

const GRAM_SHIFT = 32 - GRAM_BITS;

function addGram(s: ScanStats, hash: number, kind: number): void {
  const mixed = gramHash(hash, kind);
  s.grams++;
  s.gramSum += GRAM_WEIGHTS[mixed >>> GRAM_SHIFT] ?? 0;
  if (s.gramSink !== null) s.gramSink.push(mixed);
}

/** FNV-1a hash of the last four code units of a word, lowercased. */
function suffixHash(text: string, end: number): number {
  let h = HASH_START;
  for (let k = end - 4; k < end; k++) h = Math.imul(h ^ foldCode(text.charCodeAt(k)), FNV_PRIME);
  return h;
}

const TOK_NONE = 0;
const TOK_WORD = 1;
/** A one-letter word other than a / I: a likely variable. */
const TOK_VAR = 2;
const TOK_NUM = 3;
const TOK_CLOSE = 4;

const ASK_BIT = 1 << Cat.ask;
/** Same FNV-1a prime as lexicon.ts (a local constant keeps the hot loop fast). */
const FNV_PRIME = 16777619;
// Module-local copies of imported constants: plain constants are cheaper than
// live import bindings in the per-character loop.
const HASH_START = LEX_HASH_START;
const MAX_WORD_LEN = LEX_MAX_WORD_LEN;
const PAIR_HEAD = LEX_PAIR_HEAD;
const STEM_KEY = LEX_STEM_KEY;
const MATH_BIT = 1 << Cat.math;
const PERSONAL_BIT = 1 << Cat.personal;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAsciiLetter(c: number): boolean {
  const l = c | 32;
  return l >= 97 && l <= 122;
}

/** Letters of any script; excludes symbol / punctuation blocks and surrogates. */
function isLetter(c: number): boolean {
  if (c < 0x80) return isAsciiLetter(c);
  if (c < 0xc0 || c === 0xd7 || c === 0xf7) return false;
  if (c >= 0x2000 && c < 0x2e80) return false;
  if (c >= 0xd800 && c <= 0xdfff) return false;
  if (c >= 0xfe00) return false;
  return true;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function isGreek(c: number): boolean {
  return c >= 0x0391 && c <= 0x03c9;
}

function isMathSymbol(c: number): boolean {
  return (
    (c >= 0x2200 && c <= 0x22ff) || // mathematical operators
    (c >= 0x2190 && c <= 0x21ff) || // arrows
    (c >= 0x2100 && c <= 0x214f) || // letterlike: ℝ ℕ ℤ ℚ ℂ
    (c >= 0x2070 && c <= 0x209f) || // super/subscripts
    c === 0xb1 || // ±
    c === 0xd7 || // ×
    c === 0xf7 || // ÷
    c === 0xb2 || // ²
    c === 0xb3 || // ³
    c === 0xb9 // ¹
  );
}

/** Index of the next non-space (not newline) code unit within `limit` units, or -1. */
function nextNonSpace(text: string, i: number, end: number, limit: number): number {
  const stop = Math.min(end, i + limit + 1);
  for (let k = i; k < stop; k++) {
    const c = text.charCodeAt(k);
    if (c !== 32 && c !== 9) return k;
  }
  return -1;
}

/** Does the word text[end-len, end) end with a domain suffix? (all end in s, a, y or l) */
function hasDomainSuffix(text: string, end: number, len: number): boolean {
  const last = text.charCodeAt(end - 1) | 32;
  if (last !== 115 && last !== 97 && last !== 121 && last !== 108) return false;
  for (const suf of DOMAIN_SUFFIXES) {
    if (endsWithFolded(text, end, len, suf)) return true;
  }
  return false;
}

function endsWithFolded(text: string, end: number, len: number, suffix: string): boolean {
  const n = suffix.length;
  if (n >= len) return false;
  for (let k = 0; k < n; k++) {
    if (foldCode(text.charCodeAt(end - n + k)) !== suffix.charCodeAt(k)) return false;
  }
  return true;
}

function addCats(counts: number[], cats: number): void {
  let bits = cats;
  while (bits !== 0) {
    const low = bits & -bits;
    const b = 31 - Math.clz32(low);
    counts[b] = (counts[b] ?? 0) + 1;
    bits ^= low;
  }
}

/** Lowercase letters at the start of text[start, end). */
function leadingLowers(text: string, start: number, end: number): number {
  let k = start;
  while (k < end) {
    const d = text.charCodeAt(k);
    if (d < 97 || d > 122) break;
    k++;
  }
  return k - start;
}

/** ASCII lowercase letters in text[start, end). */
function countLowers(text: string, start: number, end: number): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const d = text.charCodeAt(k);
    if (d >= 97 && d <= 122) n++;
  }
  return n;
}

/** Letters (any script) in text[start, end). */
function countLetters(text: string, start: number, end: number): number {
  let n = 0;
  for (let k = start; k < end; k++) if (isLetter(text.charCodeAt(k))) n++;
  return n;
}

/** Start of a list item at a line's first non-space character? */
function isListMarker(text: string, i: number, end: number): boolean {
  const c = text.charCodeAt(i);
  if (c === 45 || c === 42 || c === 43 || c === 0x2022) {
    return i + 1 < end && text.charCodeAt(i + 1) === 32;
  }
  if (!isDigit(c)) return false;
  let k = i + 1;
  while (k < end && k < i + 3 && isDigit(text.charCodeAt(k))) k++;
  if (k + 1 >= end) return false;
  const m = text.charCodeAt(k);
  return (m === 46 || m === 41) && text.charCodeAt(k + 1) === 32;
}

/** Close a non-empty line ending at `nl` (exclusive). */
function closeLine(s: ScanStats, text: string, nl: number, lineStart: number, indent: number, mathBrace: number): void {
  s.nonEmptyLines++;
  if (indent >= 2) s.indentedLines++;
  let k = nl - 1;
  while (k > lineStart && isSpace(text.charCodeAt(k))) k--;
  const last = text.charCodeAt(k);
  if (last === 59 || ((last === 123 || last === 125) && k !== mathBrace)) s.codeLineEnds++;
}

/**
 * Is the operator at i (width units) between two operands? The previous token
 * must be a number, a one-letter variable or a closing bracket ending at most
 * two units before, and a number, variable, "(" or Greek letter must follow.
 */
function isExprOperator(text: string, i: number, width: number, end: number, prevTok: number, prevEnd: number): boolean {
  if (prevTok !== TOK_NUM && prevTok !== TOK_VAR && prevTok !== TOK_CLOSE) return false;
  if (i - prevEnd > 2) return false;
  const k = nextNonSpace(text, i + width, end, 2);
  if (k < 0) return false;
  const d = text.charCodeAt(k);
  if (isDigit(d) || d === 40 || isGreek(d)) return true;
  if (isAsciiLetter(d)) {
    const e = k + 1 < end ? text.charCodeAt(k + 1) : 32;
    return !isLetter(e);
  }
  return false;
}

/**
 * Scan text[start, end) and add the counts to `s`. Safe for any indices:
 * they are clamped to the string.
 */
export function scanText(s: ScanStats, text: string, start: number, end: number): void {
  if (end > text.length) end = text.length;
  if (start < 0) start = 0;
  if (end <= start) return;
  s.chars += end - start;

  let prevTok = TOK_NONE;
  let prevEnd = -10;
  let prevHash = 0;
  let prevCap = false;
  /** Category bits of the previous word, and whether the one before was a request word. */
  let prevCats = 0;
  let prevPrevAsk = false;
  /** The previous word can start a two-word phrase. */
  let prevHead = false;
  /** LaTeX groups: end of the last \command word, open math braces, last "}" closed one. */
  let latexWordEnd = -1;
  let mathBraceDepth = 0;
  let lastCloseMath = -1;
  let sentenceStart = true;
  /** Hash of the previous word of the same sentence (0: none), for bigrams. */
  let prevGramHash = 0;

  let atLineStart = true;
  let lineStart = start;
  let indent = 0;
  let lineHasContent = false;

  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);

    if (c === 32 || c === 9 || c === 13) {
      if (atLineStart) indent += c === 9 ? 4 : c === 32 ? 1 : 0;
      i++;
      continue;
    }
    if (c === 10) {
      if (lineHasContent) closeLine(s, text, i, lineStart, indent, lastCloseMath);
      atLineStart = true;
      indent = 0;
      lineHasContent = false;
      lineStart = i + 1;
      sentenceStart = true;
      prevGramHash = 0;
      i++;
      continue;
    }
    if (atLineStart) {
      atLineStart = false;
      lineHasContent = true;
      if (isListMarker(text, i, end)) s.listItems++;
    }

    // ---- words / identifiers -------------------------------------------
    if (isLetter(c) || c === 95) {
      // Hot loop: lowercase ASCII letters take the first branch; everything
      // rarer (capitals, digits, "_", "-", "'", other scripts) the slow one.
      let j = i;
      let h = HASH_START;
      let len = 0;
      let stemHash = 0;
      let alphaOnly = true;
      let upperInner = false;
      let underscore = false;
      let hyphenAt = -1;
      let hyphenHash = 0;
      let joined = false;
      while (j < end) {
        let d = text.charCodeAt(j);
        if (d >= 97 && d <= 122) {
          // lowercase fast path
        } else if (d >= 65 && d <= 90) {
          if (len > 0) upperInner = true;
          d += 32;
        } else if (d === 95 || (d >= 48 && d <= 57)) {
          alphaOnly = false;
          if (d === 95) underscore = true;
        } else if (
          (d === 45 || d === 39 || d === 0x2019) &&
          len > 0 &&
          j + 1 < end &&
          isLetter(text.charCodeAt(j + 1))
        ) {
          if (d === 45 && hyphenAt < 0) {
            hyphenAt = len;
            hyphenHash = h;
          }
          if (d === 0x2019) d = 39;
          joined = true;
        } else if (d < 0x80 || !isLetter(d)) {
          break;
        }
        h = Math.imul(h ^ d, FNV_PRIME); // = hashStep(h, d), inlined
        len++;
        if (len === STEM_KEY) stemHash = h;
        j++;
      }

      // snake_case (with letters: "______" blanks are not identifiers), or
      // lowerCamelCase with two or more leading lowercase letters ("getUser",
      // not brand names like "iPhone" / "YouTube").
      if (underscore ? countLetters(text, i, j) >= 2 : upperInner && len > 2 && leadingLowers(text, i, j) >= 2) {
        s.identifiers++;
      }

      let cats = 0;
      if (alphaOnly && len <= MAX_WORD_LEN) {
        cats = lookupWord(text, i, len, h, stemHash);
        if (cats === 0 && hyphenAt > 0) cats = lookupWord(text, i, hyphenAt, hyphenHash, stemHash);
        const head = cats & PAIR_HEAD;
        cats &= ~PAIR_HEAD;
        if (prevHead && prevEnd === i - 1 && text.charCodeAt(i - 1) === 32) {
          cats |= lookupPair(prevHash, h);
        }
        prevHead = head !== 0;
        if (len >= 7 && hasDomainSuffix(text, j, len)) s.domainSuffix++;
      } else {
        prevHead = false;
      }
      if (j < end && len >= 2) {
        const n = text.charCodeAt(j);
        // name( with two or more lowercase letters: print(, getUser(; not KCl( or
        // Fe( (chemistry) nor sqrt( / log( (maths).
        if (n === 40 && (cats & MATH_BIT) === 0 && countLowers(text, i, j) >= 2) s.calls++;
        else if (n === 46 && j + 1 < end) {
          const n2 = text.charCodeAt(j + 1);
          if (isAsciiLetter(n2) || n2 === 95) s.dotted++;
        }
      }
      if (len === 1 && isGreek(c)) s.mathUnicode++;
      // "C++", "C#", "F#": language names the word tokenizer would otherwise miss.
      if (len === 1 && j + 1 < end && ((c | 32) === 99 || (c | 32) === 102)) {
        const n1 = text.charCodeAt(j);
        if (n1 === 35 || (n1 === 43 && text.charCodeAt(j + 1) === 43)) cats |= 1 << Cat.codeTech;
      }
      if (len >= 12) s.longWords++;
      if (len <= MAX_WORD_LEN) {
        addGram(s, h, GRAM_UNIGRAM);
        if (prevGramHash !== 0 && !sentenceStart) addGram(s, pairKey(prevGramHash, h), GRAM_BIGRAM);
        prevGramHash = h === 0 ? 1 : h;
        // Contractions and hyphenated compounds ("that's", "follow-up") are
        // not in the word list as written: only plain words are judged.
        if (alphaOnly && !joined && len >= 4) {
          s.contentWords++;
          if (!isCommonWord(h)) {
            s.rareWords++;
            if (c >= 65 && c <= 90 && !sentenceStart) s.rareCapitalised++;
          }
          if (len >= SUFFIX_MIN_LEN) addGram(s, suffixHash(text, j), GRAM_SUFFIX);
        }
      }
      if ((cats & PERSONAL_BIT) !== 0 && h !== HASH_YOU && h !== HASH_YOUR && h !== HASH_YOURE && h !== HASH_YOURS) {
        s.firstPerson++;
      }
      if (s.firstCats < 0) s.firstCats = cats;
      addCats(s.cats, cats);
      if (cats !== 0) {
        const afterAsk = (prevTok === TOK_WORD || prevTok === TOK_VAR) && (prevCats & ASK_BIT) !== 0;
        const afterAskTo = prevTok === TOK_WORD && prevHash === HASH_TO && prevPrevAsk;
        if (sentenceStart || afterAsk || afterAskTo) addCats(s.askCats, cats);
      }
      s.words++;
      prevPrevAsk = (prevCats & ASK_BIT) !== 0;
      prevCats = cats;
      sentenceStart = false;

      if (i > start && text.charCodeAt(i - 1) === 92) latexWordEnd = j;
      const single = len === 1 && c !== 97 && c !== 65 && c !== 73;
      prevTok = single ? TOK_VAR : TOK_WORD;
      prevHash = h;
      prevCap = c >= 65 && c <= 90;
      prevEnd = j;
      i = j;
      continue;
    }

    // ---- numbers ---------------------------------------------------------
    if (isDigit(c)) {
      let j = i + 1;
      let dec = false;
      while (j < end) {
        const d = text.charCodeAt(j);
        if (isDigit(d)) {
          j++;
        } else if ((d === 46 || d === 44) && j + 1 < end && isDigit(text.charCodeAt(j + 1))) {
          if (d === 46) dec = true;
          j += 2;
        } else {
          break;
        }
      }
      s.numbers++;
      if (dec) s.decimals++;
      prevGramHash = 0;
      // "Step 2:", "Part 3 |": capitalised word, one space, short number, separator.
      if (prevTok === TOK_WORD && prevCap && prevEnd === i - 1 && j - i <= 2) {
        const k = nextNonSpace(text, j, end, 1);
        if (k >= 0) {
          const d = text.charCodeAt(k);
          if (d === 58 || d === 124 || d === 41) s.labeledParts++;
          else if (d === 46 && (k + 1 >= end || isSpace(text.charCodeAt(k + 1)))) s.labeledParts++;
        }
      }
      prevTok = TOK_NUM;
      prevEnd = j;
      sentenceStart = false;
      i = j;
      continue;
    }

    // ---- punctuation and symbols ---------------------------------------
    const next = i + 1 < end ? text.charCodeAt(i + 1) : 0;
    let width = 1;
    let tok = TOK_NONE;
    switch (c) {
      case 44: // ,
        s.commas++;
        break;
      case 59: // ;
        s.semicolons++;
        break;
      case 58: // :
        if (next === 58) {
          s.codeOps++;
          width = 2;
        } else if (isDigit(next) && i > start && isAsciiLetter(text.charCodeAt(i - 1))) {
          s.fileRefs++;
        } else if (next === 0 || isSpace(next)) {
          sentenceStart = true; // "Task: design ..."
        }
        break;
      case 46: // .
        if (next === 46) {
          // ellipsis: skip the run
          while (i + width < end && text.charCodeAt(i + width) === 46) width++;
        } else if ((next === 0 || isSpace(next)) && i > start && !isSpace(text.charCodeAt(i - 1))) {
          s.sentences++;
          sentenceStart = true;
        }
        break;
      case 63: // ?
        s.questions++;
        s.sentences++;
        sentenceStart = true;
        break;
      case 33: // !
        if (next === 61) {
          s.codeOps++;
          width = 2;
        } else if (next === 0 || isSpace(next)) {
          s.sentences++;
          sentenceStart = true;
        }
        break;
      case 61: // =
        if (next === 61 || next === 62) {
          s.codeOps++;
          width = next === 61 && i + 2 < end && text.charCodeAt(i + 2) === 61 ? 3 : 2;
        } else if (isExprOperator(text, i, 1, end, prevTok, prevEnd)) {
          s.exprOps++;
        }
        break;
      case 45: // -
        if (next === 62) {
          s.codeOps++;
          width = 2;
        } else if (isExprOperator(text, i, 1, end, prevTok, prevEnd)) {
          s.exprOps++;
        }
        break;
      case 60: // <
      case 62: // >
        if (next === 61) {
          if (isExprOperator(text, i, 2, end, prevTok, prevEnd)) s.exprOps++;
          else s.codeOps++;
          width = 2;
        } else if (c === 60 && next === 47) {
          s.codeOps++;
          width = 2;
        } else if (isExprOperator(text, i, 1, end, prevTok, prevEnd)) {
          s.exprOps++;
        }
        break;
      case 43: // +
      case 42: // *
      case 94: // ^
        if (isExprOperator(text, i, 1, end, prevTok, prevEnd)) s.exprOps++;
        break;
      case 47: // /
        if (next === 62) {
          s.codeOps++;
          width = 2;
        } else if (isExprOperator(text, i, 1, end, prevTok, prevEnd)) {
          s.exprOps++;
        }
        break;
      case 38: // &
        if (next === 38) {
          s.codeOps++;
          width = 2;
        }
        break;
      case 124: // |
        if (next === 124) {
          s.codeOps++;
          width = 2;
        } else {
          s.pipes++;
        }
        break;
      case 123: {
        // {: after \frac, ^, _ or } it opens a LaTeX group, not a code block.
        const before = i > start ? text.charCodeAt(i - 1) : 0;
        if (i === latexWordEnd || before === 94 || before === 95 || (before === 125 && mathBraceDepth === 0 && lastCloseMath === i - 1)) {
          mathBraceDepth++;
          lastCloseMath = i; // a line ending in "{" of a LaTeX group is not code
        } else {
          s.braces++;
        }
        break;
      }
      case 125: // }
        if (mathBraceDepth > 0) {
          mathBraceDepth--;
          lastCloseMath = i;
        } else {
          s.braces++;
        }
        break;
      case 91: // [
        s.brackets++;
        break;
      case 93: // ]
        tok = TOK_CLOSE;
        break;
      case 40: // (
        s.parens++;
        break;
      case 41: // )
        tok = TOK_CLOSE;
        break;
      case 96: // `
        if (next === 96 && i + 2 < end && text.charCodeAt(i + 2) === 96) {
          s.fences++;
          width = 3;
        } else {
          s.backticks++;
        }
        break;
      case 36: // $
      case 0x20ac: // €
      case 0xa3: // £
      case 0xa5: // ¥
        s.currency++;
        break;
      case 37: // %
        s.percents++;
        break;
      case 92: // backslash
        if (isAsciiLetter(next)) s.latex++;
        break;
      default:
        if (isMathSymbol(c)) {
          s.mathUnicode++;
          // superscripts directly after an operand keep the expression going
          if (prevTok === TOK_NUM || prevTok === TOK_VAR || prevTok === TOK_CLOSE) tok = TOK_CLOSE;
        }
        break;
    }
    // Other punctuation leaves the operand context alone: exprOperator only
    // accepts an operand that ended at most two units before the operator.
    if (tok !== TOK_NONE) {
      prevTok = tok;
      prevEnd = i + width;
    }
    i += width;
  }
  if (lineHasContent) closeLine(s, text, end, lineStart, indent, lastCloseMath);
}
