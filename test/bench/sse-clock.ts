/** One server-sent event as the client saw it complete. */
export interface ArrivedEvent {
  /** The `event:` field ("" when the event had none). */
  type: string;
  /** performance.now() when the chunk that completed the event arrived. */
  at: number;
}

const EVENT_FIELD = /^event:\s?(.*)$/m;

/**
 * Splits a text/event-stream into events on the client side, stamping each with
 * the arrival time of the chunk that completed it. Events end at a blank line;
 * the Messages API (and the simulator) frame with LF only.
 */
export class SseClock {
  readonly events: ArrivedEvent[] = [];
  #buffer = "";

  feed(text: string, at: number): void {
    this.#buffer += text;
    let end = this.#buffer.indexOf("\n\n");
    while (end !== -1) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      if (block.trim() !== "") this.events.push({ type: EVENT_FIELD.exec(block)?.[1] ?? "", at });
      end = this.#buffer.indexOf("\n\n");
    }
  }
}
