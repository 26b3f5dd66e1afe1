import { generatedCallId } from 'src/modules/relay/converters/shared/gemini-request';
import {
  GeminiUsage,
  applyGeminiUsage,
  candidateParts,
  emptyGeminiUsage,
  endKind,
  endReason,
  firstCandidate,
  geminiError,
  outputTokens,
  parseGeminiResponse,
} from 'src/modules/relay/converters/shared/gemini-response';
import {
  MessageContext,
  anthropicErrorBody,
  messageBody,
} from 'src/modules/relay/converters/shared/anthropic-message-writer';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import { TOOL_ID_PREFIX } from './request';

/**
 * Gemini GenerateContentResponses → Anthropic Messages responses, plus the pieces the stream
 * converter shares: content blocks, stop reasons, usage and errors.
 *
 * Parts become blocks in order: consecutive text parts one `text` block, consecutive thought
 * parts (`thought: true`) one `thinking` block, each functionCall a `tool_use` block (Gemini's
 * call id when it gives one, else `toolu_sy_<request id>_<n>`; `args` as `input`).
 *
 * Thought signatures: a thought part's `thoughtSignature` becomes its thinking block's
 * `signature` (and ends the block). A signature on any other part (Gemini puts them on function
 * calls, and on a text part or an empty last one) becomes a thinking block with no text and that
 * signature, just before the part's block. Claude Code sends the blocks back as they were, and
 * the request converter puts each signature back where it came from.
 */

type Json = Record<string, unknown>;

export type { MessageContext };

/** Whether a part is a function call. */
export function isFunctionCall(part: Json): boolean {
  return typeof part.functionCall === 'object' && part.functionCall !== null;
}

/** A functionCall part → a `tool_use` block (the `index`-th call of the answer). */
export function toolUseOf(part: Json, index: number, requestId: string): Json {
  const call = part.functionCall as Json;
  const id =
    typeof call.id === 'string' && call.id.length > 0
      ? call.id
      : generatedCallId(TOOL_ID_PREFIX, requestId, index);
  const args = call.args;
  return {
    type: 'tool_use',
    id,
    name: typeof call.name === 'string' ? call.name : '',
    input: typeof args === 'object' && args !== null && !Array.isArray(args) ? args : {},
  };
}

/** A part's thought signature, or undefined. */
export function signatureOf(part: Json): string | undefined {
  const signature = part.thoughtSignature;
  return typeof signature === 'string' && signature.length > 0 ? signature : undefined;
}

/**
 * Gemini's finishReason → Anthropic's `stop_reason`: `tool_use` when the answer calls functions,
 * `max_tokens` for MAX_TOKENS, `refusal` for safety and other filters (and a blocked prompt),
 * else `end_turn` (Gemini does not say whether a stop sequence ended the answer).
 */
export function stopReason(reason: string | undefined, toolUse: boolean): string {
  if (toolUse) return 'tool_use';
  switch (endKind(reason)) {
    case 'length':
      return 'max_tokens';
    case 'filtered':
      return 'refusal';
    case 'stop':
    case 'other':
      return 'end_turn';
  }
}

/**
 * Anthropic's `usage`: `input_tokens` without the cached tokens (Anthropic counts cache reads
 * apart, Gemini inside the prompt), `cache_read_input_tokens` the cached ones, `output_tokens`
 * with the thoughts (Gemini counts them apart, Anthropic inside).
 */
export function messageUsage(usage: GeminiUsage): Json {
  return {
    input_tokens: Math.max(0, usage.prompt - usage.cached),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: usage.cached,
    output_tokens: outputTokens(usage),
  };
}

/** Gemini parts → Anthropic content blocks, as the module comment describes. */
export function contentOf(parts: Json[], requestId: string): Json[] {
  const blocks: Json[] = [];
  let open: Json | null = null;
  let tools = 0;
  for (const part of parts) {
    const signature = signatureOf(part);
    if (part.thought === true) {
      if (open?.type !== 'thinking') {
        open = { type: 'thinking', thinking: '', signature: '' };
        blocks.push(open);
      }
      if (typeof part.text === 'string') open.thinking = `${String(open.thinking)}${part.text}`;
      if (signature !== undefined) {
        open.signature = signature;
        open = null;
      }
      continue;
    }
    if (signature !== undefined) {
      blocks.push({ type: 'thinking', thinking: '', signature });
      open = null;
    }
    if (isFunctionCall(part)) {
      blocks.push(toolUseOf(part, tools++, requestId));
      open = null;
    } else if (typeof part.text === 'string' && part.text.length > 0) {
      if (open?.type !== 'text') {
        open = { type: 'text', text: '' };
        blocks.push(open);
      }
      open.text = `${String(open.text)}${part.text}`;
    }
    // inlineData, executableCode and other parts answer requests this converter never sends.
  }
  return blocks;
}

/** A non-streamed GenerateContentResponse (JSON) → an Anthropic message (JSON). */
export function toMessage(providerBody: Buffer, ctx: MessageContext): Buffer {
  const response = parseGeminiResponse(providerBody);
  const candidate = firstCandidate(response);
  const content = contentOf(candidateParts(candidate), ctx.requestId);
  const usage = emptyGeminiUsage();
  applyGeminiUsage(usage, response.usageMetadata);
  return messageBody(
    ctx,
    content,
    stopReason(
      endReason(response, candidate),
      content.some((block) => block.type === 'tool_use'),
    ),
    messageUsage(usage),
  );
}

/** A countTokens response (`{totalTokens}`) → Anthropic's `{input_tokens}`. */
export function toTokenCount(providerBody: Buffer): Buffer {
  let json: unknown;
  try {
    json = JSON.parse(providerBody.toString('utf8'));
  } catch {
    json = undefined;
  }
  const total = typeof json === 'object' && json !== null ? (json as Json).totalTokens : undefined;
  if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0) {
    throw new RelayException(
      RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
      'the upstream answered with a body that is not a CountTokensResponse',
    );
  }
  return Buffer.from(JSON.stringify({ input_tokens: total }), 'utf8');
}

/** An upstream error body → Anthropic's error shape, status unchanged, message kept (redacted). */
export function messageErrorBody(status: number, providerBody: Buffer): Buffer {
  return anthropicErrorBody(status, geminiError(status, providerBody).message);
}
