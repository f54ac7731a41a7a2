/**
 * The Node floor: a plain node:http proxy that forwards each request to the simulator
 * with the provider key and streams the answer back as it arrives. Run as its own
 * process by node-proxy.ts: `--upstream <url> --key <provider key>`; prints its URL.
 */
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { upstream: { type: "string" }, key: { type: "string" } } });
const upstream = values.upstream ?? "";
const key = values.key ?? "";
const RELAYED_HEADERS = ["content-type", "request-id"];
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

const server = createServer((incoming, outgoing) => {
  const length = incoming.headers["content-length"];
  const forwarded = request(
    new URL(incoming.url ?? "/", upstream),
    {
      method: incoming.method,
      agent,
      headers: {
        "x-api-key": key,
        "content-type": "application/json",
        "anthropic-version": String(incoming.headers["anthropic-version"] ?? ""),
        ...(length ? { "content-length": length } : {}),
      },
    },
    (answer) => {
      const headers: Record<string, string> = {};
      for (const name of RELAYED_HEADERS) {
        const value = answer.headers[name];
        if (typeof value === "string") headers[name] = value;
      }
      outgoing.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(outgoing);
    },
  );
  forwarded.on("error", () => outgoing.destroy());
  // The client left: abandon the upstream stream, as the gateway does.
  outgoing.on("close", () => {
    if (!outgoing.writableFinished) forwarded.destroy();
  });
  incoming.pipe(forwarded);
});
// Longer than the load generator's idle sockets live, so a kept-alive socket is never closed under it.
server.keepAliveTimeout = 120_000;
server.listen(0, "127.0.0.1", () => {
  console.log(`node proxy listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
