export type LogValue = string | number | boolean | null;

/**
 * The one structured log line written per request. Fields are filled in as the
 * request progresses; streams defer the line until the stream has ended. It must
 * never hold prompt text or keys: only identifiers, counts and timings.
 */
export class RequestLog {
  private readonly fields: Record<string, LogValue> = {};
  private emitted = false;
  deferred = false;

  constructor(
    readonly requestId: string,
    readonly startedAt: number,
  ) {}

  set(fields: Record<string, LogValue | undefined>): void {
    for (const [name, value] of Object.entries(fields)) {
      if (value !== undefined) this.fields[name] = value;
    }
  }

  emit(): void {
    if (this.emitted) return;
    this.emitted = true;
    console.log(
      JSON.stringify({
        ts: new Date().toISOString(),
        msg: "request",
        request_id: this.requestId,
        ...this.fields,
        total_ms: round(performance.now() - this.startedAt),
      }),
    );
  }
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
