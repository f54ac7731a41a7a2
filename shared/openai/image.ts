import type { AnthropicImageBlockParam, AnthropicImageMediaType } from "./anthropic-types.js";
import { ChatRequestError } from "./request-error.js";

const MEDIA_TYPES: ReadonlyMap<string, AnthropicImageMediaType> = new Map([
  ["image/jpeg", "image/jpeg"],
  ["image/jpg", "image/jpeg"],
  ["image/png", "image/png"],
  ["image/gif", "image/gif"],
  ["image/webp", "image/webp"],
]);

const URL_EXPECTED = "an https:// image URL or a base64 data URL such as data:image/png;base64,...";

/** A data URL's header: media type, then parameters such as ";base64", up to the comma. */
const DATA_URL_HEADER = /^data:([^;,]*)((?:;[^;,]*)*),/i;
/** The header is matched within this many characters, never across a megabyte payload. */
const MAX_HEADER_CHARS = 256;

/**
 * The image block for an OpenAI image_url: a data: URL becomes a base64 image, an
 * http(s) URL an image the upstream fetches. `path` names the URL in errors.
 */
export function imageBlock(url: string, path: string): AnthropicImageBlockParam {
  if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } };
  const header = DATA_URL_HEADER.exec(url.slice(0, MAX_HEADER_CHARS));
  if (!header) throw new ChatRequestError(path, `expected ${URL_EXPECTED}, got a URL starting ${JSON.stringify(url.slice(0, 16))}`);
  const mediaType = MEDIA_TYPES.get(header[1]!.toLowerCase());
  if (!mediaType) {
    const problem = `expected an image of type image/jpeg, image/png, image/gif or image/webp, got ${JSON.stringify(header[1])}`;
    throw new ChatRequestError(path, problem);
  }
  if (!/;base64$/i.test(header[2]!)) throw new ChatRequestError(path, `expected base64 data: data:${mediaType};base64,...`);
  const data = url.slice(header[0].length);
  if (data === "") throw new ChatRequestError(path, "the data URL holds no image data");
  return { type: "image", source: { type: "base64", media_type: mediaType, data } };
}
