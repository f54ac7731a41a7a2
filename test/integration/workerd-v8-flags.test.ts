import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LocalWorker, startWorkerd } from "../stack/workers/workerd.js";
import { useWorkerdV8Flags, WORKERD_V8_FLAGS } from "../stack/workers/workerd-v8-flags.js";

/** A Worker that answers whether V8 exposes gc() (it does only with --expose-gc). */
const probe: LocalWorker = {
  options: { name: "probe", modules: true, script: "export default { fetch: () => new Response(typeof gc) };", compatibilityDate: "2025-01-01" },
  port: 0,
};

async function probeAnswer(flags: string[]): Promise<string> {
  process.env.EDGEGATE_WORKERD_V8_FLAGS = flags.join(" ");
  const workerd = await startWorkerd([probe], () => {});
  try {
    return await (await fetch(workerd.urls.get("probe")!)).text();
  } finally {
    await workerd.stop();
  }
}

describe("the local workerd's V8 flags", () => {
  beforeAll(() => useWorkerdV8Flags());
  afterEach(() => {
    process.env.EDGEGATE_WORKERD_V8_FLAGS = WORKERD_V8_FLAGS.join(" ");
  });

  it("reach V8 through Miniflare's config", async () => {
    expect(await probeAnswer(WORKERD_V8_FLAGS)).toBe("undefined");
    expect(await probeAnswer([...WORKERD_V8_FLAGS, "--expose-gc"])).toBe("function");
  });

  it("are checked by workerd: an unknown one stops it at startup", async () => {
    const output: string[] = [];
    process.env.EDGEGATE_WORKERD_V8_FLAGS = "--no-such-v8-flag";
    await expect(startWorkerd([probe], ({ message }) => void output.push(message))).rejects.toThrow(/runtime failed to start/);
    expect(output.join("\n")).toContain("unrecognized V8 flag; argv[1] = --no-such-v8-flag");
  });
});
