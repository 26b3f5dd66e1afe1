import type { StreamConversion } from 'src/modules/relay/converters/converter';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import type { StreamFraming } from 'src/modules/relay/relay.types';
import { SseParser } from 'src/modules/relay/sse/sse-parser';

/**
 * Code Assist wraps the Gemini API's bodies (Gemini CLI's code_assist/converter.ts): a generate
 * request is `{model, project, user_prompt_id?, request: GenerateContentRequest}`, its answer
 * `{response: GenerateContentResponse, traceId?}` (each stream event too); countTokens is
 * `{request: {model: "models/{model}", contents}}` → `{totalTokens}` (as the Gemini API).
 * Errors are google.rpc.Status on both: `{"error":{"code","message","status"}}`.
 */
export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseObject(bytes: Buffer): JsonObject | null {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return isJsonObject(value) ? value : null;
  } catch {
    return null;
  }
}

function invalid(message: string, param: string): RelayException {
  return new RelayException(RelayExceptionCode.INVALID_REQUEST, message, null, param);
}

/** A Gemini API GenerateContentRequest → Code Assist's (the provider adds the project). */
export function wrapGenerateRequest(body: JsonObject, model: string): JsonObject {
  // The Gemini API names the model in the path; a `model` in the body is not part of `request`.
  const { model: _model, ...request } = body;
  if (!Array.isArray(request.contents)) throw invalid('contents: must be an array', 'contents');
  return { model, request };
}

/** A Gemini API countTokens body (`contents`, or a whole `generateContentRequest`) → Code Assist's. */
export function wrapCountRequest(body: JsonObject, model: string): JsonObject {
  const nested = isJsonObject(body.generateContentRequest) ? body.generateContentRequest : null;
  const contents = nested?.contents ?? body.contents;
  if (!Array.isArray(contents)) throw invalid('contents: must be an array', 'contents');
  return { request: { model: `models/${model}`, contents } };
}

/** Code Assist's `{response, traceId}` → the GenerateContentResponse (traceId as responseId). */
export function unwrapResponse(envelope: JsonObject): JsonObject {
  const inner = isJsonObject(envelope.response) ? envelope.response : { candidates: [] };
  if (typeof envelope.traceId === 'string' && inner.responseId === undefined) {
    return { ...inner, responseId: envelope.traceId };
  }
  return inner;
}

/** A GenerateContentResponse → Code Assist's envelope (its responseId as traceId). */
export function wrapResponse(response: JsonObject): JsonObject {
  return typeof response.responseId === 'string'
    ? { response, traceId: response.responseId }
    : { response };
}

/** Code Assist's generate request → the Gemini API's (its `request`, without Code Assist's own fields). */
export function unwrapGenerateRequest(body: JsonObject): JsonObject {
  if (!isJsonObject(body.request)) throw invalid('request: must be an object', 'request');
  const { session_id: _session, ...request } = body.request;
  return request;
}

/** Code Assist's countTokens request → the Gemini API's (`{contents}`). */
export function unwrapCountRequest(body: JsonObject): JsonObject {
  if (!isJsonObject(body.request)) throw invalid('request: must be an object', 'request');
  return { contents: body.request.contents };
}

/**
 * A stream transform that rewrites each SSE event's JSON data with `map` and writes it framed as
 * the client asked: `data: <json>\r\n\r\n` (the Gemini API's and Code Assist's events), or as
 * the elements of Google's streamed JSON array (`[{…}\r\n,\r\n{…}\r\n]`, what
 * `streamGenerateContent` answers without `alt=sse`). Error events and data that is not a JSON
 * object pass unchanged. Chunks may split anywhere (the parser joins lines on raw bytes, so a
 * UTF-8 character split across chunks survives).
 */
export class SseJsonMap implements StreamConversion {
  private readonly parser = new SseParser();
  private elements = 0;
  readonly contentType: string | undefined;

  constructor(
    private readonly map: (event: JsonObject) => JsonObject,
    private readonly framing: StreamFraming = 'sse',
  ) {
    this.contentType = framing === 'json-array' ? 'application/json; charset=UTF-8' : undefined;
  }

  push(chunk: Buffer): Buffer {
    return this.render(this.parser.push(chunk));
  }

  end(): Buffer {
    const rest = this.render(this.parser.end());
    if (this.framing === 'sse') return rest;
    return Buffer.concat([rest, Buffer.from(this.elements === 0 ? '[]' : '\r\n]', 'utf8')]);
  }

  private render(events: { data: string }[]): Buffer {
    if (events.length === 0) return Buffer.alloc(0);
    let out = '';
    for (const { data } of events) {
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        json = undefined;
      }
      const mapped =
        isJsonObject(json) && !isJsonObject(json.error) ? JSON.stringify(this.map(json)) : data;
      if (this.framing === 'sse') out += `data: ${mapped}\r\n\r\n`;
      else out += `${this.elements === 0 ? '[' : '\r\n,\r\n'}${mapped}`;
      this.elements += 1;
    }
    return Buffer.from(out, 'utf8');
  }
}
