/**
 * Writes shared/classify/common-words-data.ts (first step of
 * `npm run train:router`; deterministic).
 */

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { COMMON_WORD_COUNT, buildCommonWordSet, commonWordsModule } from "./training/common-words.js";

const target = fileURLToPath(new URL("../../shared/classify/common-words-data.ts", import.meta.url));
const set = buildCommonWordSet();
writeFileSync(target, commonWordsModule(set, COMMON_WORD_COUNT));
console.log(`common words: ${set.count} keys of ${set.bits} bits, ${set.data.length} base64 chars -> ${target}`);
