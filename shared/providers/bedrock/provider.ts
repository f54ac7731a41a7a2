import { anthropicErrorResponse } from "../anthropic-errors.js";
import { streamedAnswer, wholeAnswer } from "../answer-model.js";
import { toBase64, utf8 } from "../../text/bytes.js";
import { jsonObject } from "../json.js";
import { type ModelOverrides, answerModelId, providerModelId } from "../../models/catalog.js";
import type { Provider, ProviderRequest } from "../types.js";
import { bedrockErrorResponse } from "./errors.js";
import { type AwsCredentials, SigV4Signer } from "./sigv4.js";
import { bedrockStreamToSse } from "./transcode.js";

/** Cross-region inference profiles: the model id gains the prefix and Bedrock routes within that geography (or anywhere, for `global`). */
export const INFERENCE_PROFILES = ["us", "eu", "apac", "jp", "global"] as const;
export type InferenceProfile = (typeof INFERENCE_PROFILES)[number];

export interface BedrockConfig {
  /** AWS region of the bedrock-runtime endpoint, e.g. "eu-central-1". */
  region: string;
  credentials: AwsCredentials;
  /** null (default): the model runs in `region`; else the geography's inference profile. */
  inferenceProfile?: InferenceProfile | null;
  /** Default `https://bedrock-runtime.<region>.amazonaws.com`; the simulator's URL in tests. */
  baseUrl?: string;
  /** Changes to the model map for this endpoint (a Bedrock id, or null for a model it does not serve). */
  models?: ModelOverrides;
}

const BEDROCK_VERSION = "bedrock-2023-05-31";
const EVENT_STREAM = "application/vnd.amazon.eventstream";
/** CountTokens needs a complete InvokeModel body; max_tokens does not change the count. */
const COUNT_TOKENS_MAX_TOKENS = 1;

/** The Messages body as Bedrock takes it: no model or stream, its API version and betas inside. */
function invokeBody(request: ProviderRequest): Record<string, unknown> {
  const { stream: _stream, model: _model, ...fields } = request.body;
  const body: Record<string, unknown> = { anthropic_version: BEDROCK_VERSION, ...fields };
  if (request.betas.length > 0) body.anthropic_beta = request.betas;
  return body;
}

function numberField(json: string, field: string): number | null {
  const value = jsonObject(json)?.[field];
  return typeof value === "number" ? value : null;
}

function requestIdHeaders(response: Response): Record<string, string> {
  const requestId = response.headers.get("x-amzn-requestid");
  return requestId ? { "request-id": requestId } : {};
}

/** Claude on Amazon Bedrock (InvokeModel API), answering in Anthropic's format. */
export function bedrockProvider(config: BedrockConfig): Provider {
  const baseUrl = (config.baseUrl ?? `https://bedrock-runtime.${config.region}.amazonaws.com`).replace(/\/+$/, "");
  const profile = config.inferenceProfile ?? null;
  const overrides = config.models ?? {};
  const signer = new SigV4Signer(config.credentials, config.region, "bedrock");
  const id = profile === null ? `bedrock:${config.region}` : `bedrock:${config.region}/${profile}`;

  const baseModelId = (model: string): string | null => providerModelId(model, "bedrock", overrides);
  const modelId = (model: string): string | null => {
    const base = baseModelId(model);
    return base === null || profile === null || Object.hasOwn(overrides, model) ? base : `${profile}.${base}`;
  };
  const notServed = (model: string): Response =>
    anthropicErrorResponse("not_found_error", `model: ${model} is not available on ${id}`);

  async function post(path: string, accept: string, body: Record<string, unknown>, signal: AbortSignal): Promise<Response> {
    const url = new URL(`${baseUrl}${path}`);
    const bytes = utf8.encode(JSON.stringify(body));
    const headers = await signer.sign({ method: "POST", url, headers: { accept, "content-type": "application/json" }, body: bytes });
    return fetch(url, { method: "POST", headers, body: bytes, signal });
  }

  return {
    kind: "bedrock",
    id,
    modelId,

    async send(request) {
      const bedrockModel = modelId(request.model);
      if (bedrockModel === null) return notServed(request.model);
      const action = request.stream ? "invoke-with-response-stream" : "invoke";
      const accept = request.stream ? EVENT_STREAM : "application/json";
      const response = await post(`/model/${encodeURIComponent(bedrockModel)}/${action}`, accept, invokeBody(request), request.signal);
      if (!response.ok) return bedrockErrorResponse(response);

      const answerModel = answerModelId(request.model);
      if (!request.stream) return wholeAnswer(response, answerModel, requestIdHeaders(response));
      if (response.body === null || !response.headers.get("content-type")?.includes(EVENT_STREAM)) {
        await response.body?.cancel();
        return anthropicErrorResponse("api_error", "Amazon Bedrock answered a stream request without an event stream.", {
          status: 502,
        });
      }
      return streamedAnswer(bedrockStreamToSse(response.body, answerModel), requestIdHeaders(response));
    },

    async countTokens(request) {
      // CountTokens takes the base model id: inference profiles are refused there.
      const bedrockModel = baseModelId(request.model);
      if (bedrockModel === null) return notServed(request.model);
      const invoke = { max_tokens: COUNT_TOKENS_MAX_TOKENS, ...invokeBody(request) };
      const body = { input: { invokeModel: { body: toBase64(utf8.encode(JSON.stringify(invoke))) } } };
      const response = await post(`/model/${encodeURIComponent(bedrockModel)}/count-tokens`, "application/json", body, request.signal);
      if (!response.ok) return bedrockErrorResponse(response);
      const inputTokens = numberField(await response.text(), "inputTokens");
      if (inputTokens === null) {
        return anthropicErrorResponse("api_error", "Amazon Bedrock's token count had no inputTokens.", { status: 502 });
      }
      return new Response(JSON.stringify({ input_tokens: inputTokens }), {
        status: 200,
        headers: { "content-type": "application/json", ...requestIdHeaders(response) },
      });
    },
  };
}
