// Reads a workerd config (binary Cap'n Proto, as Miniflare writes it to workerd's stdin)
// from stdin and writes it to stdout with `Config.v8Flags` set to the flags given as
// arguments. Miniflare has no option for V8 flags; workerd-v8-flags.sh runs this
// between Miniflare and workerd. Plain JavaScript: it runs once per workerd start,
// before workerd, and must start fast.

/** Pointer slot of `v8Flags` in workerd.capnp's Config (services @0, sockets @1, v8Flags @2). */
const V8_FLAGS_POINTER = 2;

/**
 * `config` with its Config root's v8Flags set to `flags`: a new segment holds the list of
 * texts, reached from the root's empty v8Flags slot through a far pointer, so nothing else
 * in the message moves.
 * @param {Uint8Array} config a single message in Cap'n Proto's stream framing
 * @param {string[]} flags
 * @returns {Uint8Array}
 */
function withV8Flags(config, flags) {
  const view = new DataView(config.buffer, config.byteOffset, config.byteLength);
  const segmentCount = view.getUint32(0, true) + 1;
  const headerBytes = paddedToWord(4 * (1 + segmentCount));
  const segmentStarts = [];
  let start = headerBytes;
  for (let index = 0; index < segmentCount; index++) {
    segmentStarts.push(start);
    start += 8 * view.getUint32(4 + 4 * index, true);
  }
  if (start !== config.byteLength) throw new Error("workerd config: not one Cap'n Proto message");

  const word = (byte) => view.getBigUint64(byte, true);
  let rootAt = segmentStarts[0];
  let root = word(rootAt);
  if ((root & 3n) === 2n) {
    if (root & 4n) throw new Error("workerd config: a double-far root pointer is not supported");
    rootAt = segmentStarts[Number(root >> 32n)] + 8 * Number((root >> 3n) & 0x1fffffffn);
    root = word(rootAt);
  }
  if ((root & 3n) !== 0n) throw new Error("workerd config: the root is not a struct");
  const offsetWords = Number(BigInt.asIntN(30, (root >> 2n) & 0x3fffffffn));
  const dataWords = Number((root >> 32n) & 0xffffn);
  const pointerCount = Number(root >> 48n);
  if (pointerCount <= V8_FLAGS_POINTER) throw new Error("workerd config: Config has no v8Flags slot");
  const slotAt = rootAt + 8 + 8 * (offsetWords + dataWords + V8_FLAGS_POINTER);
  if (word(slotAt) !== 0n) throw new Error("workerd config: v8Flags is already set");

  // The new segment: a landing pad (list pointer), the list of text pointers, the texts.
  const texts = flags.map((flag) => new TextEncoder().encode(`${flag}\0`));
  const segmentWords = 1 + texts.length + texts.reduce((sum, text) => sum + paddedToWord(text.length) / 8, 0);
  const segment = new DataView(new ArrayBuffer(8 * segmentWords));
  segment.setBigUint64(0, listPointer(0, 6, texts.length), true);
  let textWord = 1 + texts.length;
  texts.forEach((text, index) => {
    const pointerWord = 1 + index;
    segment.setBigUint64(8 * pointerWord, listPointer(textWord - pointerWord - 1, 2, text.length), true);
    new Uint8Array(segment.buffer, 8 * textWord, text.length).set(text);
    textWord += paddedToWord(text.length) / 8;
  });

  const newHeaderBytes = paddedToWord(4 * (2 + segmentCount));
  const out = new Uint8Array(newHeaderBytes + (config.byteLength - headerBytes) + segment.byteLength);
  const outView = new DataView(out.buffer);
  outView.setUint32(0, segmentCount, true);
  for (let index = 0; index < segmentCount; index++) outView.setUint32(4 + 4 * index, view.getUint32(4 + 4 * index, true), true);
  outView.setUint32(4 + 4 * segmentCount, segmentWords, true);
  out.set(config.subarray(headerBytes), newHeaderBytes);
  out.set(new Uint8Array(segment.buffer), newHeaderBytes + config.byteLength - headerBytes);
  // A far pointer to the landing pad, word 0 of the new segment.
  const farPointer = 2n | (BigInt(segmentCount) << 32n);
  outView.setBigUint64(slotAt - headerBytes + newHeaderBytes, farPointer, true);
  return out;
}

/** A list pointer: `offsetWords` from the end of the pointer, element size code, element count. */
function listPointer(offsetWords, sizeCode, count) {
  return 1n | (BigInt.asUintN(30, BigInt(offsetWords)) << 2n) | (BigInt(sizeCode) << 32n) | (BigInt(count) << 35n);
}

function paddedToWord(bytes) {
  return Math.ceil(bytes / 8) * 8;
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
process.stdout.write(withV8Flags(new Uint8Array(Buffer.concat(chunks)), process.argv.slice(2)));
