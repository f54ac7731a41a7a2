import type { ReceiveCount } from "./count-tokens-handler.js";
import { ApiError } from "./errors.js";
import type { Exchange } from "./exchange.js";
import { parseJson, readBody } from "./http-io.js";
import type { LedgerRecord } from "./ledger.js";
import type { ReceiveMessages } from "./messages-handler.js";
import { type ModelSpec, findBedrockModel } from "./profiles.js";
import { type MessagesRequest, parseMessagesRequest } from "./request-schema.js";
import { verifySigV4 } from "./sigv4-verify.js";
import type { SimulatorState } from "./state.js";

/** `POST /model/{modelId}/invoke | invoke-with-response-stream | count-tokens` */
export const BEDROCK_PATH = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|count-tokens)$/;

const INFERENCE_PROFILE = /^(us|eu|apac|jp|global)\.(.+)$/;
/** Bedrock's own version string, or an API version date (the official SDK sends its `anthropic-version`). */
const ANTHROPIC_VERSION = /^(bedrock-2023-05-31|\d{4}-\d{2}-\d{2})$/;

function malformed(reason: string): ApiError {
  return new ApiError("invalid_request_error", `Malformed input request: #: ${reason}, please reformat your input and try again.`);
}

/** Resolves a model id, with or without an inference profile prefix, as Bedrock's catalogue names it. */
function bedrockModel(modelId: string): { model: ModelSpec; profiled: boolean } {
  const profile = INFERENCE_PROFILE.exec(modelId);
  const model = findBedrockModel(profile?.[2] ?? modelId);
  if (model === undefined) throw new ApiError("invalid_request_error", "The provided model identifier is invalid.");
  return { model, profiled: profile !== null };
}

/** The Anthropic body as Bedrock wants it: `anthropic_version` inside, no `model` or `stream`. */
function invokeRequest(body: unknown, model: ModelSpec): MessagesRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw malformed("subject must be an object");
  const fields = body as Record<string, unknown>;
  for (const extraneous of ["model", "stream"]) {
    if (extraneous in fields) throw malformed(`extraneous key [${extraneous}] is not permitted`);
  }
  if (!("anthropic_version" in fields)) throw malformed("required key [anthropic_version] not found");
  if (typeof fields.anthropic_version !== "string" || !ANTHROPIC_VERSION.test(fields.anthropic_version)) {
    throw new ApiError("invalid_request_error", "Invalid API version");
  }
  const betas = fields.anthropic_beta;
  if (betas !== undefined && (!Array.isArray(betas) || !betas.every((beta) => typeof beta === "string"))) {
    throw malformed("anthropic_beta: expected type: JSONArray of strings");
  }
  return parseMessagesRequest({ ...fields, model: model.id });
}

/** Reads the body, checks its signature and names the model in the path, filling the ledger record. */
async function signedRequest(exchange: Exchange, state: SimulatorState, record: LedgerRecord | null) {
  const body = await readBody(exchange.request);
  const identity = verifySigV4(exchange.request, body, state.credentials.aws, exchange.requestId);
  const modelId = decodeURIComponent(BEDROCK_PATH.exec(new URL(exchange.request.url ?? "/", "http://simulator").pathname)?.[1] ?? "");
  if (record !== null) {
    record.apiKey = identity.accessKeyId;
    record.region = identity.region;
    record.model = modelId;
  }
  return { body, modelId };
}

export function receiveBedrockMessages(stream: boolean): ReceiveMessages {
  return async (exchange, state, record) => {
    const { body, modelId } = await signedRequest(exchange, state, record);
    const { model } = bedrockModel(modelId);
    return { request: invokeRequest(parseJson(body), model), model, stream };
  };
}

/** CountTokens with `{"input": {"invokeModel": {"body": base64}}}`: the base model id only, as Bedrock refuses profiles there. */
export const receiveBedrockCount: ReceiveCount = async (exchange, state) => {
  const { body, modelId } = await signedRequest(exchange, state, null);
  const { model, profiled } = bedrockModel(modelId);
  if (profiled) throw new ApiError("invalid_request_error", "The provided model doesn't support counting tokens.");
  const input = (parseJson(body) as { input?: { invokeModel?: { body?: unknown }; converse?: unknown } } | null)?.input;
  if (typeof input?.invokeModel?.body !== "string") {
    throw new ApiError("invalid_request_error", "The simulator counts tokens of `input.invokeModel.body` (base64 of an InvokeModel body) only.");
  }
  const request = invokeRequest(parseJson(Buffer.from(input.invokeModel.body, "base64")), model);
  return { request, model, body: (inputTokens) => ({ inputTokens }) };
};
