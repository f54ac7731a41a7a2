import { describe, expect, it, vi } from "vitest";
import { WriteCoalescer } from "../../shared/storage/write-coalescer.js";

interface Request {
  writes: string[];
  /** Answers every write of the request, failing those named. */
  answer: (failing?: string[]) => void;
}

/**
 * A store that pipelines like the Upstash client: the writes sent before the next
 * microtask go in one request, which is answered when the test says.
 */
function pipeliningStore() {
  const requests: Request[] = [];
  let open: Request | null = null;
  const results: Array<{ resolve: (value: string) => void; reject: (error: Error) => void }>[] = [];
  const send = (write: string): Promise<string> => {
    if (!open) {
      const index = requests.length;
      const request: Request = {
        writes: [],
        answer: (failing = []) =>
          results[index]!.forEach((result, i) => {
            const name = request.writes[i]!;
            if (failing.includes(name)) result.reject(new Error(`${name} failed`));
            else result.resolve(name);
          }),
      };
      requests.push(request);
      results.push([]);
      open = request;
      queueMicrotask(() => {
        open = null;
      });
    }
    open.writes.push(write);
    return new Promise((resolve, reject) => results[requests.indexOf(open!)]!.push({ resolve, reject }));
  };
  return { requests, send, batches: () => requests.map((request) => request.writes) };
}

/** Lets every pending microtask and timer of zero delay run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const outcome = (write: Promise<string>) => write.then((value) => `ok ${value}`, (error: Error) => `failed: ${error.message}`);

describe("write coalescer", () => {
  it("issues a write at once when none is in flight, and the next one after it ends at once too", async () => {
    const store = pipeliningStore();
    const writes = new WriteCoalescer({ maxBatch: 64, maxWaitMs: 1_000 });
    const first = writes.write(() => store.send("a"));
    expect(store.batches()).toEqual([["a"]]);
    store.requests[0]!.answer();
    expect(await first).toBe("a");
    const second = writes.write(() => store.send("b"));
    expect(store.batches()).toEqual([["a"], ["b"]]);
    store.requests[1]!.answer();
    expect(await second).toBe("b");
  });

  it("holds the writes that come while one is in flight and sends them in one request when it ends", async () => {
    const store = pipeliningStore();
    const writes = new WriteCoalescer({ maxBatch: 64, maxWaitMs: 1_000 });
    const pending = [writes.write(() => store.send("a"))];
    for (const name of ["b", "c", "d"]) {
      await settle(); // each in a tick of its own: without holding, each would be a request of its own
      pending.push(writes.write(() => store.send(name)));
    }
    expect(store.batches()).toEqual([["a"]]);
    store.requests[0]!.answer();
    await settle();
    expect(store.batches()).toEqual([["a"], ["b", "c", "d"]]);
    store.requests[1]!.answer();
    expect(await Promise.all(pending)).toEqual(["a", "b", "c", "d"]);
  });

  it("sends the held writes when the one in flight fails, and each write succeeds or fails on its own", async () => {
    const store = pipeliningStore();
    const writes = new WriteCoalescer({ maxBatch: 64, maxWaitMs: 1_000 });
    const a = outcome(writes.write(() => store.send("a")));
    await settle();
    const b = outcome(writes.write(() => store.send("b")));
    const c = outcome(writes.write(() => store.send("c")));
    store.requests[0]!.answer(["a"]);
    expect(await a).toBe("failed: a failed");
    await settle();
    expect(store.batches()).toEqual([["a"], ["b", "c"]]);
    store.requests[1]!.answer(["b"]);
    expect([await b, await c]).toEqual(["failed: b failed", "ok c"]);
  });

  it("sends a full batch at once, so no write waits behind more than one batch", async () => {
    const store = pipeliningStore();
    const writes = new WriteCoalescer({ maxBatch: 3, maxWaitMs: 1_000 });
    const pending: Promise<string>[] = [];
    for (const name of ["a", "b", "c", "d", "e"]) {
      pending.push(writes.write(() => store.send(name)));
      await settle();
    }
    // b and c were held; d filled their batch; e waits for the first batch to end.
    expect(store.batches()).toEqual([["a"], ["b", "c", "d"]]);
    store.requests[0]!.answer();
    await settle();
    expect(store.batches()).toEqual([["a"], ["b", "c", "d"], ["e"]]);
    store.requests[1]!.answer();
    store.requests[2]!.answer();
    expect(await Promise.all(pending)).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("does not hold writes longer than maxWaitMs behind a batch that never ends", async () => {
    const store = pipeliningStore();
    const writes = new WriteCoalescer({ maxBatch: 64, maxWaitMs: 40 });
    void writes.write(() => store.send("hangs"));
    await settle();
    const held = writes.write(() => store.send("held"));
    await settle();
    expect(store.batches()).toEqual([["hangs"]]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(store.batches()).toEqual([["hangs"], ["held"]]);
    store.requests[1]!.answer();
    expect(await held).toBe("held");
    // The batch that never ended no longer counts as in flight: the next write goes at once.
    void writes.write(() => store.send("next"));
    expect(store.batches()).toEqual([["hangs"], ["held"], ["next"]]);
  });

  it("fails a write issued by another writer whose batch never ends after maxWaitMs", async () => {
    const store = pipeliningStore();
    const writes = new WriteCoalescer({ maxBatch: 2, maxWaitMs: 40 });
    const a = writes.write(() => store.send("a"));
    await settle();
    const b = outcome(writes.write(() => store.send("b")));
    await settle();
    void writes.write(() => store.send("c")); // fills the batch: c issues b with it, and that request never answers
    expect(store.batches()).toEqual([["a"], ["b", "c"]]);
    expect(await b).toBe("failed: storage did not answer within 40 ms");
    store.requests[0]!.answer();
    expect(await a).toBe("a");
  });

  it("leaves no timer pending once every write has its outcome (a pending one would keep its request alive)", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const store = pipeliningStore();
      const writes = new WriteCoalescer({ maxBatch: 64, maxWaitMs: 1_000 });
      const flush = async () => {
        for (let i = 0; i < 10; i++) await Promise.resolve();
      };
      const a = writes.write(() => store.send("a"));
      await flush();
      const b = writes.write(() => store.send("b"));
      await flush();
      expect(vi.getTimerCount()).toBe(1); // b's watchdog, while it is held
      store.requests[0]!.answer();
      await flush();
      store.requests[1]!.answer();
      expect(await Promise.all([a, b])).toEqual(["a", "b"]);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("fails a write that throws before it is sent, alone", async () => {
    const store = pipeliningStore();
    const writes = new WriteCoalescer({ maxBatch: 64, maxWaitMs: 1_000 });
    const broken = () => {
      throw new Error("no such database");
    };
    expect(await outcome(writes.write(broken))).toBe("failed: no such database");
    const a = writes.write(() => store.send("a"));
    await settle();
    const heldBroken = outcome(writes.write(broken));
    const b = writes.write(() => store.send("b"));
    store.requests[0]!.answer();
    await settle();
    expect(store.batches()).toEqual([["a"], ["b"]]);
    store.requests[1]!.answer();
    expect([await a, await heldBroken, await b]).toEqual(["a", "failed: no such database", "b"]);
  });
});
