import { OpenAIRequestException } from 'src/modules/relay/dialects/openai/openai-error';
import {
  chatRefusal,
  chatTokenCap,
  checkChatFields,
  commonChatRefusals,
  includeUsage,
} from './chat-request-checks';

const KNOWN = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'n',
  'parallel_tool_calls',
]);

function refusal(run: () => unknown): OpenAIRequestException {
  try {
    run();
  } catch (error) {
    if (error instanceof OpenAIRequestException) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe(checkChatFields.name, () => {
  const refusals = [...commonChatRefusals('Test models'), chatRefusal('stop', 'no stops here')];

  it('should refuse a parameter outside the known set as unknown', () => {
    expect(refusal(() => checkChatFields({ top_k: 1 }, false, KNOWN, refusals))).toMatchObject({
      param: 'top_k',
      openAICode: 'unknown_parameter',
      message: "top_k: unknown parameter 'top_k'",
    });
  });

  it("should refuse a refused parameter away from its neutral value, in the target's words", () => {
    const known = new Set([...KNOWN, 'stop']);
    expect(refusal(() => checkChatFields({ n: 3 }, false, known, refusals))).toMatchObject({
      param: 'n',
      openAICode: 'unsupported_value',
      message: 'n: Test models return one choice; only n = 1 is supported (got 3)',
    });
    expect(refusal(() => checkChatFields({ stop: 'x' }, false, known, refusals))).toMatchObject({
      param: 'stop',
      openAICode: 'unsupported_parameter',
    });
    expect(() => checkChatFields({ n: 1, stop: null }, false, known, refusals)).not.toThrow();
  });

  it('should refuse stream_options without a stream and a non-boolean parallel_tool_calls', () => {
    expect(
      refusal(() => checkChatFields({ stream_options: {} }, false, KNOWN, refusals)),
    ).toMatchObject({ param: 'stream_options' });
    expect(
      refusal(() =>
        checkChatFields({ stream_options: { include_usage: 'yes' } }, true, KNOWN, refusals),
      ),
    ).toMatchObject({ param: 'stream_options.include_usage' });
    expect(
      refusal(() => checkChatFields({ parallel_tool_calls: 'no' }, false, KNOWN, refusals)),
    ).toMatchObject({ param: 'parallel_tool_calls' });
  });
});

describe(chatTokenCap.name, () => {
  it('should prefer max_completion_tokens to max_tokens and refuse a non-positive cap', () => {
    expect(chatTokenCap({ max_completion_tokens: 10, max_tokens: 5 })).toEqual({
      param: 'max_completion_tokens',
      value: 10,
    });
    expect(chatTokenCap({ max_tokens: 5 })).toEqual({ param: 'max_tokens', value: 5 });
    expect(chatTokenCap({ max_tokens: null })).toBeNull();
    expect(refusal(() => chatTokenCap({ max_tokens: 1.5 }))).toMatchObject({
      param: 'max_tokens',
    });
  });
});

describe(includeUsage.name, () => {
  it('should be true only when stream_options.include_usage is true', () => {
    expect(includeUsage({ stream_options: { include_usage: true } })).toBe(true);
    expect(includeUsage({ stream_options: { include_usage: false } })).toBe(false);
    expect(includeUsage({})).toBe(false);
  });
});
