import { GeminiUsageTap, geminiUsageFromBody, geminiUsageToTokens } from './gemini-usage.tap';

const FINAL_USAGE = {
  promptTokenCount: 1400,
  cachedContentTokenCount: 400,
  candidatesTokenCount: 60,
  thoughtsTokenCount: 40,
  totalTokenCount: 1500,
};
const chunk = (text: string, extra: Record<string, unknown> = {}) => ({
  candidates: [{ content: { parts: [{ text }], role: 'model' }, index: 0 }],
  usageMetadata: { promptTokenCount: 1400, totalTokenCount: 1400 },
  ...extra,
});
const last = {
  candidates: [
    { content: { parts: [{ text: '' }], role: 'model' }, finishReason: 'STOP', index: 0 },
  ],
  usageMetadata: FINAL_USAGE,
};
const CHUNKS = [chunk('Grüße '), chunk('aus Zürich 🌍'), last];
const EXPECTED = {
  inputTokens: 1000,
  cacheReadTokens: 400,
  outputTokens: 100,
  cacheCreation5mTokens: 0,
  cacheCreation1hTokens: 0,
};

const sse = Buffer.from(CHUNKS.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(''));
const array = Buffer.from(
  `[${CHUNKS.map((c) => JSON.stringify(c, null, 2)).join('\r\n,\r\n')}\r\n]`,
);

/** Feeds the bytes in pieces of `size`, splitting events, JSON and UTF-8 sequences anywhere. */
function tapOf(bytes: Buffer, size: number): GeminiUsageTap {
  const tap = new GeminiUsageTap();
  for (let i = 0; i < bytes.length; i += size) tap.push(bytes.subarray(i, i + size));
  tap.end();
  return tap;
}

describe(GeminiUsageTap.name, () => {
  it.each([1, 3, 7, 64, 100_000])(
    'should read the totals of the last SSE chunk however the bytes are split (%i)',
    (size) => {
      const tap = tapOf(sse, size);
      expect(tap.usage).toEqual(EXPECTED);
      expect(tap.complete).toBe(true);
      expect(tap.sawError).toBe(false);
    },
  );

  it.each([1, 5, 13, 100_000])(
    'should read the totals of a streamed JSON array however the bytes are split (%i)',
    (size) => {
      const tap = tapOf(array, size);
      expect(tap.usage).toEqual(EXPECTED);
      expect(tap.complete).toBe(true);
    },
  );

  it('should not mistake braces and brackets inside strings for JSON structure', () => {
    const tricky = [chunk('a } ] [ { "quoted" \\ \\" }'), last];
    const bytes = Buffer.from(`[${tricky.map((c) => JSON.stringify(c)).join(',')}]`);
    expect(tapOf(bytes, 2).usage).toEqual(EXPECTED);
  });

  it('should count the chunks of a stream cut before any usage as output, and say it is incomplete', () => {
    const cut = Buffer.from(`data: ${JSON.stringify({ candidates: [{ index: 0 }] })}\r\n\r\n`);
    const tap = tapOf(Buffer.concat([cut, cut]), 10);
    expect(tap.usage.outputTokens).toBe(2);
    expect(tap.complete).toBe(false);
  });

  it('should keep the usage seen so far when the stream stops before its last chunk', () => {
    const tap = tapOf(sse.subarray(0, sse.indexOf('"finishReason"')), 50);
    expect(tap.usage.inputTokens).toBe(1400);
    expect(tap.complete).toBe(false);
  });

  it('should note an error the upstream sent mid-stream', () => {
    const error = { error: { code: 500, message: 'boom', status: 'INTERNAL' } };
    const tap = tapOf(Buffer.from(`data: ${JSON.stringify(error)}\r\n\r\n`), 4);
    expect(tap.sawError).toBe(true);
  });

  it('should call a blocked prompt complete', () => {
    const blocked = {
      promptFeedback: { blockReason: 'SAFETY' },
      usageMetadata: { promptTokenCount: 9 },
    };
    const tap = tapOf(Buffer.from(`data: ${JSON.stringify(blocked)}\r\n\r\n`), 8);
    expect(tap.complete).toBe(true);
    expect(tap.usage.inputTokens).toBe(9);
  });
});

describe(geminiUsageFromBody.name, () => {
  it('should read a generateContent body, a whole stream, and nothing from an error body', () => {
    expect(geminiUsageFromBody(Buffer.from(JSON.stringify(last)))).toEqual(EXPECTED);
    expect(geminiUsageFromBody(array)).toEqual(EXPECTED);
    expect(geminiUsageFromBody(sse)).toEqual(EXPECTED);
    expect(
      geminiUsageFromBody(
        Buffer.from('{"error":{"code":400,"message":"x","status":"INVALID_ARGUMENT"}}'),
      ),
    ).toMatchObject({ inputTokens: 0, outputTokens: 0 });
  });
});

describe(geminiUsageToTokens.name, () => {
  it('should count tool-use prompt tokens as input and never more cache than prompt', () => {
    expect(
      geminiUsageToTokens({
        promptTokenCount: 100,
        toolUsePromptTokenCount: 20,
        cachedContentTokenCount: 500,
        candidatesTokenCount: 5,
      }),
    ).toMatchObject({ inputTokens: 0, cacheReadTokens: 120, outputTokens: 5 });
  });
});
