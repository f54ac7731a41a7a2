export {
  startUpstashBridge,
  normalizeFaults,
  type UpstashBridge,
  type UpstashBridgeOptions,
  type BridgeStats,
  type BridgeFaults,
} from "./server.js";
export { LuaCompat, stripUpstashShebangFlags, sha1Hex, UPSTASH_ONLY_SHEBANG_FLAGS } from "./lua-compat.js";
export { replyToJson, resultJson } from "./resp-json.js";
