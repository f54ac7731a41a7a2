import { dirname, relative, resolve } from "node:path";

/** Bytes of a bundle attributed to the npm package (or project folder) they came from. */
export interface BundleShare {
  origin: string;
  bytes: number;
}

/** Where the map's relative `sources` start from, and the project they are reported relative to. */
export interface SourcePaths {
  mapDir: string;
  projectRoot: string;
}

interface SourceMap {
  sources: string[];
  mappings: string;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_VALUE = new Map([...BASE64].map((char, index) => [char, index]));

/** The Base64 VLQ fields of one source-map segment. */
function decodeSegment(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64_VALUE.get(char) ?? 0;
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

/** "node_modules/@scope/pkg/..." -> "@scope/pkg"; project files -> their folder, e.g. "shared/limits/". */
function originOf(source: string, paths: SourcePaths): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (inPackage?.[1]) return inPackage[1];
  const fromRoot = relative(paths.projectRoot, resolve(paths.mapDir, source));
  return fromRoot.startsWith("..") ? source : `${dirname(fromRoot)}/`;
}

/**
 * Splits a bundle's generated code by where it came from, using its source map:
 * every generated character belongs to the mapping segment it follows, and
 * unmapped stretches (comments, blank lines) to the source mapped before them.
 * Columns are counted as bytes: close enough for a ranking.
 */
export function bundleComposition(code: string, map: SourceMap, paths: SourcePaths): BundleShare[] {
  const totals = new Map<string, number>();
  const add = (origin: string, bytes: number): void => {
    totals.set(origin, (totals.get(origin) ?? 0) + Math.max(0, bytes));
  };
  const lines = code.split("\n");
  let sourceIndex = 0;
  let current = "(bundler)";
  map.mappings.split(";").forEach((mappingLine, lineIndex) => {
    const lineLength = (lines[lineIndex] ?? "").length + 1;
    let column = 0;
    let from = 0;
    for (const segment of mappingLine === "" ? [] : mappingLine.split(",")) {
      const fields = decodeSegment(segment);
      column += fields[0] ?? 0;
      add(current, column - from);
      from = column;
      if (fields.length >= 4) {
        sourceIndex += fields[1] ?? 0;
        current = originOf(map.sources[sourceIndex] ?? "", paths);
      } else {
        current = "(bundler)";
      }
    }
    add(current, lineLength - from);
  });
  return [...totals].map(([origin, bytes]) => ({ origin, bytes })).sort((a, b) => b.bytes - a.bytes);
}
