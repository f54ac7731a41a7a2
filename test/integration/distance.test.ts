import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_LOCATIONS, cfBlobHeaders } from "../stack/geography.js";
import { startDelayedLink } from "../stack/network/delay-proxy.js";
import { oneWayDelayMs } from "../stack/network/distance-model.js";
import { regionPlace, upstreamPlace } from "../stack/network/places.js";
import { startStack, type Stack } from "../stack/stack.js";
import { ANTHROPIC_VERSION, MODEL } from "./helpers.js";

/** Node's timers fire up to about a millisecond late or (by the proxy's tolerance) half a millisecond early. */
const TIMER_SLACK_MS = 1;

describe("a delayed link", () => {
  let echo: Server;
  let port: number;

  beforeAll(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen({ host: "127.0.0.1", port: 0 }, resolve));
    port = (echo.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

  /** Opens a connection through `address`; `roundTrip(text)` resolves once the echo of `text` is back, with the time it took. */
  async function open(address: string): Promise<{ socket: Socket; roundTrip(text: string): Promise<number> }> {
    const [host, linkPort] = address.split(":");
    const socket = connect({ host, port: Number(linkPort) });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
    return {
      socket,
      roundTrip: (text) => {
        const started = performance.now();
        const expected = received.length + text.length;
        socket.write(text);
        return new Promise((resolve) => {
          const check = (): void => {
            if (received.length >= expected) {
              socket.off("data", check);
              resolve(performance.now() - started);
            }
          };
          socket.on("data", check);
        });
      },
    };
  }

  it("delays each direction by the one-way delay, and a new connection's first bytes by its handshakes too", async () => {
    const link = await startDelayedLink({ oneWayMs: () => 20, handshakeRoundTrips: 2, target: () => ({ host: "127.0.0.1", port }) });
    try {
      const { socket, roundTrip } = await open(link.address);
      // Two handshake round trips (80 ms), then there and back (40 ms).
      expect(await roundTrip("first")).toBeGreaterThanOrEqual(120 - TIMER_SLACK_MS);
      const second = await roundTrip("second");
      expect(second).toBeGreaterThanOrEqual(40 - TIMER_SLACK_MS);
      expect(second).toBeLessThan(120);
      socket.destroy();
      expect(link.traffic().connections).toBe(1);
      expect(link.traffic().chunks).toBeGreaterThanOrEqual(4);
    } finally {
      await link.close();
    }
  });

  it("keeps every byte in order while the delay changes under it", async () => {
    let delay = 30;
    const link = await startDelayedLink({ oneWayMs: () => delay, handshakeRoundTrips: 0, target: () => ({ host: "127.0.0.1", port }) });
    try {
      const { socket } = await open(link.address);
      let echoed = "";
      socket.on("data", (chunk: Buffer) => (echoed += chunk.toString()));
      const sent: string[] = [];
      for (let index = 0; index < 200; index++) {
        const piece = `<${index}>`;
        sent.push(piece);
        socket.write(piece);
        if (index % 20 === 0) delay = delay === 30 ? 2 : 30; // a shorter delay must not let later bytes overtake
        await new Promise((resolve) => setImmediate(resolve));
      }
      const whole = sent.join("");
      await expect.poll(() => echoed.length, { timeout: 5_000 }).toBe(whole.length);
      expect(echoed).toBe(whole);
      socket.destroy();
    } finally {
      await link.close();
    }
  });
});

describe("the regional stack with distance", () => {
  let stack: Stack;
  const sydney = CLIENT_LOCATIONS.find((location) => location.name === "Sydney")!;

  beforeAll(async () => {
    stack = await startStack({ topology: "regions", timeScale: 0.05, distance: true });
  });
  afterAll(() => stack?.stop());

  it("needs the regions topology and the simulators", async () => {
    await expect(startStack({ distance: true })).rejects.toThrow(/regions topology/);
  });

  it("sends every request across the links of its client's city: at least the modelled round trips, and through every link on its way", async () => {
    const network = stack.network!;
    network.placeClient(sydney);
    network.resetTraffic();
    const started = performance.now();
    const response = await fetch(`${stack.gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": stack.clientKey, "content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION, ...cfBlobHeaders(sydney) },
      body: JSON.stringify({ model: MODEL, max_tokens: 32, stream: true, messages: [{ role: "user", content: "sim:ttft=0 sim:tokens=2 how far?" }] }),
    });
    const reader = response.body!.getReader();
    await reader.read();
    const firstByteMs = performance.now() - started;
    while (!(await reader.read()).done);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-edgegate-region")).toBe("ap-southeast");

    const region = regionPlace("ap-southeast");
    const bedrock = upstreamPlace({ kind: "bedrock", region: "ap-southeast-1" });
    const pathRoundTrips = 2 * (oneWayDelayMs(sydney, sydney) + oneWayDelayMs(sydney, region) + oneWayDelayMs(region, bedrock));
    expect(pathRoundTrips).toBeGreaterThan(80); // Sydney - Singapore is about 6,300 km
    expect(firstByteMs).toBeGreaterThanOrEqual(pathRoundTrips - 3 * TIMER_SLACK_MS);

    // The front Worker looked the key's pin up on the primary; the region admitted on the primary (a key new to its replica) and called Bedrock.
    await stack.gateway.waitForLog(response.headers.get("x-request-id")!);
    const crossed = new Map(network.report().map((link) => [link.name, link]));
    for (const name of ["client -> front Worker", "front Worker -> primary database", "front Worker -> ap-southeast", "ap-southeast -> primary database", "ap-southeast -> bedrock:ap-southeast-1"]) {
      expect(crossed.get(name)?.chunks, name).toBeGreaterThan(0);
    }
    for (const name of ["front Worker -> us-east", "front Worker -> eu-west", "eu-west -> vertex:europe-west1"]) {
      expect(crossed.get(name)?.chunks ?? 0, name).toBe(0);
    }
    expect(crossed.get("front Worker -> ap-southeast")!.oneWayMs).toBeCloseTo(oneWayDelayMs(sydney, region), 6);
  });

  it("leaves each region's own URL undelayed for tests and the admin API", async () => {
    stack.network!.resetTraffic();
    const health = await fetch(`${stack.deployments.find((deployment) => deployment.region === "ap-southeast")!.gateway.url}/healthz`);
    await health.text();
    expect(health.status).toBe(200);
    expect(stack.network!.report().filter((link) => link.chunks > 0)).toEqual([]);
  });
});
