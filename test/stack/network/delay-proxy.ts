import { type AddressInfo, connect, createServer, type Socket } from "node:net";

export interface DelayedLinkOptions {
  /** The link's one-way delay in ms, read for every chunk (an end of the link may move). */
  oneWayMs: () => number;
  /** Round trips a new connection waits (its handshakes) before its first bytes leave. */
  handshakeRoundTrips: number;
  /** Where a connection goes, resolved when it opens (a Worker's port may be known only later). */
  target: () => { host: string; port: number };
}

/** What crossed a link (since it opened or was last reset), and how closely the proxy kept to the modelled delay. */
export interface LinkTraffic {
  /** Connections opened (each paid the link's handshakes). */
  connections: number;
  /** Chunks forwarded, both directions. */
  chunks: number;
  /** Release time minus due time of each chunk, in ms: the proxy's own timing error (negative: early). */
  lateness: { mean: number; max: number };
}

export interface DelayedLink {
  /** `127.0.0.1:<port>`: connect here to cross the link. */
  address: string;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  traffic(): LinkTraffic;
  resetTraffic(): void;
  close(): Promise<void>;
}

/** A chunk released this close before its due time goes now: timers have 1 ms granularity, so errors even out. */
const RELEASE_TOLERANCE_MS = 0.5;
/** Bytes queued in one direction beyond which the sender is paused until they drain. */
const HIGH_WATER_BYTES = 1024 * 1024;

type Item = { due: number; chunk: Buffer } | { due: number; end: "end" | "destroy" };

interface Counters {
  connections: number;
  chunks: number;
  lateSum: number;
  lateMax: number;
}

/**
 * One direction of a connection: every chunk leaves `delay()` ms after it arrived, in
 * arrival order (a chunk never overtakes an earlier one, even when the delay shrinks),
 * and not before `notBefore` (the connection's handshakes).
 */
class DelayedDirection {
  readonly #queue: Item[] = [];
  #lastDue = 0;
  #queuedBytes = 0;
  #cancelTimer: (() => void) | null = null;
  #stopped = false;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly delay: () => number,
    private readonly notBefore: number,
    private readonly counters: Counters,
  ) {
    from.on("data", (chunk: Buffer) => {
      this.#push({ due: this.#due(), chunk });
      this.#queuedBytes += chunk.length;
      if (this.#queuedBytes + to.writableLength > HIGH_WATER_BYTES) from.pause();
    });
    from.on("end", () => this.#push({ due: this.#due(), end: "end" }));
    // A reset (or an error) travels too: the other side learns of it a delay later.
    from.on("close", (hadError) => {
      if (hadError || !from.readableEnded) this.#push({ due: this.#due(), end: "destroy" });
    });
    to.on("drain", () => this.#resumeIfLow());
  }

  #due(): number {
    const due = Math.max(Math.max(performance.now(), this.notBefore) + this.delay(), this.#lastDue);
    this.#lastDue = due;
    return due;
  }

  #push(item: Item): void {
    if (this.#stopped) return;
    this.#queue.push(item);
    this.#schedule();
  }

  #schedule(): void {
    const next = this.#queue[0];
    if (!next || this.#cancelTimer) return;
    const wait = next.due - performance.now();
    if (wait <= RELEASE_TOLERANCE_MS) {
      const immediate = setImmediate(() => this.#release());
      this.#cancelTimer = () => clearImmediate(immediate);
    } else {
      const timeout = setTimeout(() => this.#release(), Math.round(wait));
      this.#cancelTimer = () => clearTimeout(timeout);
    }
  }

  #release(): void {
    this.#cancelTimer = null;
    const now = performance.now();
    while (this.#queue.length > 0 && this.#queue[0]!.due <= now + RELEASE_TOLERANCE_MS) {
      const item = this.#queue.shift()!;
      if ("chunk" in item) {
        const late = now - item.due;
        this.counters.chunks++;
        this.counters.lateSum += late;
        this.counters.lateMax = Math.max(this.counters.lateMax, late);
        this.#queuedBytes -= item.chunk.length;
        if (!this.to.destroyed) this.to.write(item.chunk);
      } else if (item.end === "end") {
        this.to.end();
      } else if (!this.to.writableEnded) {
        this.to.destroy();
      }
    }
    this.#resumeIfLow();
    this.#schedule();
  }

  #resumeIfLow(): void {
    if (this.from.isPaused() && this.#queuedBytes + this.to.writableLength <= HIGH_WATER_BYTES / 2) this.from.resume();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    this.#queue.length = 0;
  }
}

/**
 * A TCP proxy on loopback that delays every chunk by the link's one-way delay in each
 * direction, keeping each direction's order, and holds a new connection's first bytes
 * for its handshakes' round trips. It knows nothing of HTTP: whatever crosses it (a
 * Worker's fetch, a service binding, a client) pays the link's distance.
 */
export async function startDelayedLink(options: DelayedLinkOptions): Promise<DelayedLink> {
  const sockets = new Set<Socket>();
  const directions = new Set<DelayedDirection>();
  const counters: Counters = { connections: 0, chunks: 0, lateSum: 0, lateMax: Number.NEGATIVE_INFINITY };
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("error", () => {}); // the other side learns of it through "close"
    socket.once("close", () => sockets.delete(socket));
  };

  const server = createServer({ allowHalfOpen: true }, (client) => {
    counters.connections++;
    const openedAt = performance.now();
    const { host, port } = options.target();
    const server = connect({ host, port, allowHalfOpen: true });
    track(client);
    track(server);
    const handshakes = options.handshakeRoundTrips * 2 * options.oneWayMs();
    const out = new DelayedDirection(client, server, options.oneWayMs, openedAt + handshakes, counters);
    const back = new DelayedDirection(server, client, options.oneWayMs, 0, counters);
    directions.add(out).add(back);
    client.once("close", () => directions.delete(out));
    server.once("close", () => directions.delete(back));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    traffic: () => ({
      connections: counters.connections,
      chunks: counters.chunks,
      lateness: { mean: counters.chunks > 0 ? counters.lateSum / counters.chunks : Number.NaN, max: counters.chunks > 0 ? counters.lateMax : Number.NaN },
    }),
    resetTraffic: () => Object.assign(counters, { connections: 0, chunks: 0, lateSum: 0, lateMax: Number.NEGATIVE_INFINITY }),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const direction of directions) direction.stop();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
