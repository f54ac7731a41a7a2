/** A gateway's per-request log line (shared/observability/request-log.ts), parsed. */
export type RequestLogLine = Record<string, unknown> & { request_id: string; msg: string };

/** The request log line in `message` (what a Worker passed to console.log), or null for any other output. */
export function parseRequestLogLine(message: string): RequestLogLine | null {
  const start = message.indexOf('{"ts"');
  if (start === -1) return null;
  try {
    const parsed = JSON.parse(message.slice(start)) as Partial<RequestLogLine>;
    return typeof parsed.request_id === "string" && parsed.msg === "request" ? (parsed as RequestLogLine) : null;
  } catch {
    return null;
  }
}

/** The request log lines of one or more Workers, kept in arrival order, with a way to wait for one. */
export class RequestLogs {
  readonly lines: RequestLogLine[] = [];
  readonly #waiters = new Map<string, Array<(line: RequestLogLine) => void>>();

  /** `limit`: lines kept (the oldest go first); a long-running `npm start` keeps only the latest. */
  constructor(readonly limit = Number.POSITIVE_INFINITY) {}

  add(line: RequestLogLine): void {
    this.lines.push(line);
    if (this.lines.length > this.limit) this.lines.shift();
    const waiting = this.#waiters.get(line.request_id);
    this.#waiters.delete(line.request_id);
    for (const resolve of waiting ?? []) resolve(line);
  }

  /** The line of `requestId`, as soon as the Worker has written it (for streams: once the stream has ended). */
  waitFor(requestId: string, timeoutMs = 10_000): Promise<RequestLogLine> {
    const found = this.lines.find((line) => line.request_id === requestId);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.set(requestId, (this.#waiters.get(requestId) ?? []).filter((waiter) => waiter !== done));
        reject(new Error(`no log line for request ${requestId} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (line: RequestLogLine): void => {
        clearTimeout(timer);
        resolve(line);
      };
      this.#waiters.set(requestId, [...(this.#waiters.get(requestId) ?? []), done]);
    });
  }
}
