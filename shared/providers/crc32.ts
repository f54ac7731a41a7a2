/**
 * CRC-32 (IEEE 802.3, the zlib / PNG polynomial), as the AWS event-stream framing uses.
 * Slicing-by-4: four bytes per step through four tables, about three times faster than a
 * byte at a time; every frame of a Bedrock stream is checked with it.
 */

const TABLES = Array.from({ length: 4 }, () => new Int32Array(256)) as [Int32Array, Int32Array, Int32Array, Int32Array];
for (let index = 0; index < 256; index += 1) {
  let value = index;
  for (let bit = 0; bit < 8; bit += 1) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
  TABLES[0][index] = value;
}
for (let index = 0; index < 256; index += 1) {
  for (let table = 1; table < 4; table += 1) {
    const previous = TABLES[table - 1]![index]!;
    TABLES[table]![index] = (previous >>> 8) ^ TABLES[0][previous & 0xff]!;
  }
}

/** The CRC-32 of `bytes[start, end)`, as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const [t0, t1, t2, t3] = TABLES;
  let crc = -1;
  let index = start;
  for (; index + 4 <= end; index += 4) {
    crc ^= bytes[index]! | (bytes[index + 1]! << 8) | (bytes[index + 2]! << 16) | (bytes[index + 3]! << 24);
    crc = t3[crc & 0xff]! ^ t2[(crc >>> 8) & 0xff]! ^ t1[(crc >>> 16) & 0xff]! ^ t0[crc >>> 24]!;
  }
  for (; index < end; index += 1) crc = t0[(crc ^ bytes[index]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
