export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Incremental Server-Sent Events parser (the WHATWG framing rules): feed it text
 * as it arrives, in chunks split anywhere, and it returns the events completed so far.
 */
export class SseParser {
  private pending = "";
  private eventType = "";
  private dataLines: string[] = [];

  feed(chunk: string): SseEvent[] {
    const text = this.pending + chunk;
    const events: SseEvent[] = [];
    let lineStart = 0;
    for (;;) {
      const newline = findLineEnd(text, lineStart);
      if (newline === -1) break;
      const lineEnd = newline;
      let next = newline + 1;
      if (text.charCodeAt(newline) === 13 /* \r */) {
        if (newline + 1 === text.length) break; // a \r\n may be split across chunks
        if (text.charCodeAt(newline + 1) === 10) next = newline + 2;
      }
      this.acceptLine(text.slice(lineStart, lineEnd), events);
      lineStart = next;
    }
    this.pending = text.slice(lineStart);
    return events;
  }

  /** Dispatches an event left without its terminating blank line when the stream ended. */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.pending) this.acceptLine(this.pending, events);
    this.pending = "";
    this.acceptLine("", events);
    return events;
  }

  private acceptLine(line: string, events: SseEvent[]): void {
    if (line === "") {
      if (this.dataLines.length > 0) {
        events.push({ event: this.eventType || "message", data: this.dataLines.join("\n") });
      }
      this.eventType = "";
      this.dataLines = [];
      return;
    }
    if (line.charCodeAt(0) === 58 /* : comment */) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "event") this.eventType = value;
    else if (field === "data") this.dataLines.push(value);
  }
}

function findLineEnd(text: string, from: number): number {
  const lf = text.indexOf("\n", from);
  const cr = text.indexOf("\r", from);
  if (cr === -1) return lf;
  if (lf === -1) return cr;
  return Math.min(lf, cr);
}
