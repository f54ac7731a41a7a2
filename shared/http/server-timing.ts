export interface TimingEntry {
  name: string;
  durationMs: number;
  description?: string;
}

/** Formats a `Server-Timing` header value, e.g. `gateway;dur=0.8, upstream;desc="first byte";dur=512`. */
export function serverTiming(entries: TimingEntry[]): string {
  return entries
    .map(({ name, durationMs, description }) => {
      const desc = description ? `;desc="${description}"` : "";
      return `${name}${desc};dur=${durationMs.toFixed(1)}`;
    })
    .join(", ");
}
