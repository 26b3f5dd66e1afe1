import type { UsageTap } from 'src/modules/relay/relay.types';
import { SseParser, type SseEvent } from 'src/modules/relay/sse/sse-parser';
import { emptyUsage, type TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { isJsonObject, readGeminiResponse } from './gemini-usage';

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The GenerateContentResponse inside a Code Assist object (`{response, traceId}`), or the object
 * itself when `unwrapped` (the Gemini API's own shape).
 */
function responseOf(json: unknown, unwrapped: boolean): unknown {
  if (unwrapped || !isJsonObject(json)) return json;
  return json.response;
}

/**
 * Watches a Code Assist stream (`:streamGenerateContent?alt=sse`: `data: {"response": {…},
 * "traceId": …}` events) on its way to the client. Every event's `usageMetadata` is cumulative,
 * so the last one wins; the stream is complete once a candidate reports a `finishReason`. With
 * `unwrapped`, the same over the Gemini API's stream (the response objects themselves).
 */
export class CodeAssistTap implements UsageTap {
  private readonly parser = new SseParser();
  private reported: TokenUsage | null = null;
  private events = 0;
  private finished = false;
  private failed = false;

  constructor(private readonly unwrapped = false) {}

  get usage(): TokenUsage {
    if (this.reported !== null) return { ...this.reported };
    return { ...emptyUsage(), outputTokens: this.events };
  }

  get complete(): boolean {
    return this.finished;
  }

  get sawError(): boolean {
    return this.failed;
  }

  push(chunk: Buffer): void {
    for (const event of this.parser.push(chunk)) this.onEvent(event);
  }

  end(): void {
    for (const event of this.parser.end()) this.onEvent(event);
  }

  private onEvent(event: SseEvent): void {
    const json = parse(event.data);
    if (!isJsonObject(json)) return;
    if (isJsonObject(json.error)) {
      this.failed = true;
      return;
    }
    this.events += 1;
    const { usage, finished } = readGeminiResponse(responseOf(json, this.unwrapped));
    if (usage !== null) this.reported = usage;
    if (finished) this.finished = true;
  }
}

/** The usage of a non-stream Code Assist body (or a Gemini API body when `unwrapped`). */
export function codeAssistUsageFromBody(body: Buffer, unwrapped = false): TokenUsage {
  const json = parse(body.toString('utf8'));
  return readGeminiResponse(responseOf(json, unwrapped)).usage ?? emptyUsage();
}
