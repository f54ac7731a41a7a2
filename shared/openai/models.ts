/** An entry of OpenAI's GET /v1/models list. */
export type ModelEntry = { id: string; object: "model"; created: number; owned_by: string };

export type ModelList = { object: "list"; data: ModelEntry[] };

/** The model list in OpenAI's format; "auto" is the gateway's router, not a model of Anthropic's. */
export function modelList(models: string[], created: number): ModelList {
  return {
    object: "list",
    data: models.map((id) => ({ id, object: "model", created, owned_by: id === "auto" ? "edgegate" : "anthropic" })),
  };
}
