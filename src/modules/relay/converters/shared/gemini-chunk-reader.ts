import { SseEvent, SseParser } from 'src/modules/relay/sse/sse-parser';
import {
  GeminiUsage,
  applyGeminiUsage,
  candidateParts,
  emptyGeminiUsage,
  endReason,
  firstCandidate,
  geminiError,
  statusOfGeminiStatus,
} from './gemini-response';

type Json = Record<string, unknown>;

/** What a stream converter does with what a Gemini stream says. */
export interface GeminiStreamHandler {
  /** One part of the first candidate's content, in order (text, thought, functionCall, …). */
  part(part: Json): void;
  /** The answer ended: its finishReason (or `BLOCKED:<reason>`); usage is as final as it gets. */
  finish(reason: string): void;
  /** The stream failed: an error object in the stream, or a chunk that is not JSON. */
  failed(message: string, status: number): void;
}

/**
 * Reads a Gemini `streamGenerateContent?alt=sse` stream (`data: <GenerateContentResponse>` events,
 * each a partial response: new parts of the first candidate, the finishReason on the last, the
 * usageMetadata so far) from bytes split anywhere (SseParser keeps partial lines and UTF-8
 * sequences) and dispatches it to a handler, keeping the usage. Nothing is dispatched after the
 * finish or a failure; usage in a chunk after the finish still counts.
 */
export class GeminiChunkReader {
  readonly usage: GeminiUsage = emptyGeminiUsage();
  private readonly parser = new SseParser();
  private sawFinish = false;
  private failed = false;

  constructor(private readonly handler: GeminiStreamHandler) {}

  /** The answer ended with a finish reason (a stream without one was cut short). */
  get finished(): boolean {
    return this.sawFinish;
  }

  push(chunk: Buffer): void {
    for (const event of this.parser.push(chunk)) this.dispatch(event);
  }

  /** The bytes ended: dispatches a last event that had no blank line after it. */
  end(): void {
    for (const event of this.parser.end()) this.dispatch(event);
  }

  private dispatch(event: SseEvent): void {
    if (this.failed) return;
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      json = undefined;
    }
    // Some Gemini front ends send each chunk as a one-element array.
    if (Array.isArray(json) && json.length === 1) json = json[0] as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      if (this.sawFinish) return;
      this.failed = true;
      this.handler.failed('upstream sent a malformed stream event', 502);
      return;
    }
    const response = json as Json;
    if (typeof response.error === 'object' && response.error !== null) {
      const error = response.error as Json;
      this.failed = true;
      this.handler.failed(
        geminiError(500, event.data).message,
        statusOfGeminiStatus(
          typeof error.status === 'string' ? error.status : undefined,
          error.code,
        ),
      );
      return;
    }
    applyGeminiUsage(this.usage, response.usageMetadata);
    if (this.sawFinish) return;
    const candidate = firstCandidate(response);
    for (const part of candidateParts(candidate)) this.handler.part(part);
    const reason = endReason(response, candidate);
    if (reason !== undefined) {
      this.sawFinish = true;
      this.handler.finish(reason);
    }
  }
}
