import { WireError } from "./dialect.js";
import type { ReceiveCount } from "./count-tokens-handler.js";
import { ApiError } from "./errors.js";
import type { Exchange } from "./exchange.js";
import { readJsonBody } from "./http-io.js";
import type { ReceiveMessages } from "./messages-handler.js";
import { type ModelSpec, findVertexModel } from "./profiles.js";
import { parseMessagesRequest, parsePromptRequest } from "./request-schema.js";
import type { SimulatorState } from "./state.js";
import type { TokenHolder } from "./google-oauth.js";
import { googleError } from "./vertex-dialect.js";

/** `POST /v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict | :streamRawPredict` */
export const VERTEX_PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)$/;

const ANTHROPIC_VERSION = /^(vertex-2023-10-16|\d{4}-\d{2}-\d{2})$/;

interface VertexTarget {
  project: string;
  location: string;
  model: string;
}

function target(exchange: Exchange): VertexTarget {
  const match = VERTEX_PATH.exec(new URL(exchange.request.url ?? "/", "http://simulator").pathname);
  const [, project = "", location = "", model = ""] = (match ?? []).map((segment) => decodeURIComponent(segment ?? ""));
  return { project, location, model };
}

/** The caller's token must be valid and its service account's project the one in the path. */
function authorize(exchange: Exchange, state: SimulatorState, { project, location, model }: VertexTarget): TokenHolder {
  const holder = state.accessTokens.holderOf(exchange.request);
  if (holder.projectId !== project) {
    throw new WireError(
      googleError(
        403,
        "PERMISSION_DENIED",
        `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${project}/locations/${location}/publishers/anthropic/models/${model}' (or it may not exist).`,
      ),
    );
  }
  return holder;
}

function vertexModel(modelId: string, { project, location }: VertexTarget): ModelSpec {
  const model = findVertexModel(modelId);
  if (model === undefined) {
    throw new ApiError(
      "not_found_error",
      `Publisher Model \`projects/${project}/locations/${location}/publishers/anthropic/models/${modelId}\` was not found or your project does not have access to it.`,
    );
  }
  return model;
}

/** The body's fields, with `anthropic_version` checked as the model server checks it. */
async function vertexBody(exchange: Exchange): Promise<Record<string, unknown>> {
  const body = await readJsonBody(exchange.request);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiError("invalid_request_error", "body: Input should be an object");
  const fields = body as Record<string, unknown>;
  if (fields.anthropic_version === undefined) throw new ApiError("invalid_request_error", "anthropic_version: Field required");
  if (typeof fields.anthropic_version !== "string" || !ANTHROPIC_VERSION.test(fields.anthropic_version)) {
    throw new ApiError("invalid_request_error", `anthropic_version: unsupported version ${JSON.stringify(fields.anthropic_version)}`);
  }
  return fields;
}

/** rawPredict and streamRawPredict: the body's `stream` decides, as on the model server behind them. */
export const receiveVertexMessages: ReceiveMessages = async (exchange, state, record) => {
  const where = target(exchange);
  record.region = where.location;
  record.model = where.model;
  record.apiKey = authorize(exchange, state, where).email;
  const model = vertexModel(where.model, where);
  const request = parseMessagesRequest({ ...(await vertexBody(exchange)), model: model.id });
  return { request, model, stream: request.stream === true };
};

/** `.../models/count-tokens:rawPredict`, the model named in the body. */
export const receiveVertexCount: ReceiveCount = async (exchange, state) => {
  const where = target(exchange);
  authorize(exchange, state, where);
  const fields = await vertexBody(exchange);
  const model = vertexModel(typeof fields.model === "string" ? fields.model : "", where);
  const request = parsePromptRequest({ ...fields, model: model.id });
  return { request, model, body: (inputTokens) => ({ input_tokens: inputTokens }) };
};
