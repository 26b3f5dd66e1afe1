/**
 * Gemini GenerateContentResponses for converter specs: one whole response, the SSE stream of
 * `streamGenerateContent?alt=sse` (each chunk a partial response, `\r\n\r\n` between events as
 * Google sends them), and byte splitting to check that chunk boundaries never matter.
 */

type Json = Record<string, unknown>;

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  totalTokenCount?: number;
}

/** A GenerateContentResponse with one candidate holding `parts`. */
export function geminiResponse(
  parts: Json[],
  options: { finishReason?: string; usage?: GeminiUsageMetadata } = {},
): Json {
  const candidate: Json = { content: { role: 'model', parts }, index: 0 };
  if (options.finishReason !== undefined) candidate.finishReason = options.finishReason;
  const response: Json = { candidates: [candidate], modelVersion: 'gemini-2.5-pro' };
  if (options.usage !== undefined) response.usageMetadata = options.usage;
  return response;
}

/** The SSE bytes of a stream of chunks. */
export function geminiSse(chunks: unknown[]): Buffer {
  return Buffer.from(
    chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`).join(''),
    'utf8',
  );
}

/** A stream whose chunks each carry one part; the last also the finish reason and usage. */
export function geminiStream(
  parts: Json[],
  options: { finishReason?: string; usage?: GeminiUsageMetadata } = {},
): Buffer {
  // Gemini repeats the prompt counts on every chunk; the output counts are final on the last.
  const usage = options.usage;
  const early =
    usage === undefined
      ? undefined
      : {
          promptTokenCount: usage.promptTokenCount,
          cachedContentTokenCount: usage.cachedContentTokenCount,
        };
  return geminiSse(
    parts.map((part, i) =>
      i === parts.length - 1
        ? geminiResponse([part], options)
        : geminiResponse([part], { usage: early }),
    ),
  );
}

/** `bytes` cut into pieces of `size` bytes (cutting SSE events and UTF-8 sequences anywhere). */
export function splitEvery(bytes: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return pieces;
}
