import { RelayException } from 'src/modules/relay/relay.exception';
import { geminiResponse } from '../../../../../test/factories/gemini-chunks.factory';
import {
  MessageContext,
  contentOf,
  messageErrorBody,
  stopReason,
  toMessage,
  toTokenCount,
} from './response';

const ctx: MessageContext = { id: 'msg_req1', model: 'claude-sonnet-4-5', requestId: 'req1' };

function message(response: unknown): any {
  return JSON.parse(toMessage(Buffer.from(JSON.stringify(response)), ctx).toString('utf8'));
}

describe(toMessage.name, () => {
  it('should return an Anthropic message with text, the requested model and usage', () => {
    expect(
      message(
        geminiResponse([{ text: 'Hello ' }, { text: 'world' }], {
          finishReason: 'STOP',
          usage: {
            promptTokenCount: 100,
            cachedContentTokenCount: 40,
            candidatesTokenCount: 20,
            thoughtsTokenCount: 30,
            totalTokenCount: 150,
          },
        }),
      ),
    ).toEqual({
      id: 'msg_req1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Hello world' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        // Anthropic counts cache reads apart from input, and thinking inside output.
        input_tokens: 60,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 40,
        output_tokens: 50,
      },
    });
  });

  it('should return thinking with its signature and tool_use blocks, stopping for tool_use', () => {
    const out = message(
      geminiResponse(
        [
          { text: 'Let me ', thought: true },
          { text: 'look.', thought: true, thoughtSignature: 'sig-T' },
          {
            functionCall: { name: 'read_file', args: { path: 'a.ts' } },
            thoughtSignature: 'sig-C',
          },
          { functionCall: { id: 'gem-1', name: 'ls', args: {} } },
        ],
        { finishReason: 'STOP' },
      ),
    );
    expect(out.stop_reason).toBe('tool_use');
    expect(out.content).toEqual([
      { type: 'thinking', thinking: 'Let me look.', signature: 'sig-T' },
      { type: 'thinking', thinking: '', signature: 'sig-C' },
      { type: 'tool_use', id: 'toolu_sy_req1_0', name: 'read_file', input: { path: 'a.ts' } },
      { type: 'tool_use', id: 'gem-1', name: 'ls', input: {} },
    ]);
  });

  it('should refuse a body that is not a GenerateContentResponse', () => {
    expect(() => toMessage(Buffer.from('[]'), ctx)).toThrow(RelayException);
  });
});

describe(contentOf.name, () => {
  it('should keep an unsigned thinking block apart from a signature on the text after it', () => {
    expect(
      contentOf(
        [
          { text: 'Hmm.', thought: true },
          { text: 'Answer', thoughtSignature: 'sig-X' },
          { text: '!' },
          { text: '', thoughtSignature: 'sig-end' },
        ],
        'r',
      ),
    ).toEqual([
      { type: 'thinking', thinking: 'Hmm.', signature: '' },
      { type: 'thinking', thinking: '', signature: 'sig-X' },
      { type: 'text', text: 'Answer!' },
      { type: 'thinking', thinking: '', signature: 'sig-end' },
    ]);
  });
});

describe(stopReason.name, () => {
  it.each([
    ['STOP', false, 'end_turn'],
    ['STOP', true, 'tool_use'],
    ['MAX_TOKENS', false, 'max_tokens'],
    ['SAFETY', false, 'refusal'],
    ['BLOCKED:PROHIBITED_CONTENT', false, 'refusal'],
    ['OTHER', false, 'end_turn'],
  ])('should map %s (tool use: %s) to %s', (reason, tools, expected) => {
    expect(stopReason(reason, tools)).toBe(expected);
  });
});

describe(toTokenCount.name, () => {
  it('should turn totalTokens into input_tokens', () => {
    expect(JSON.parse(toTokenCount(Buffer.from('{"totalTokens":31}')).toString())).toEqual({
      input_tokens: 31,
    });
    expect(() => toTokenCount(Buffer.from('{}'))).toThrow(RelayException);
  });
});

describe(messageErrorBody.name, () => {
  it.each([
    [400, 'INVALID_ARGUMENT', 'invalid_request_error'],
    [429, 'RESOURCE_EXHAUSTED', 'rate_limit_error'],
    [503, 'UNAVAILABLE', 'overloaded_error'],
    [500, 'INTERNAL', 'api_error'],
  ])('should give a Gemini %s its message in Anthropic shape', (status, name, type) => {
    const body = JSON.parse(
      messageErrorBody(
        status,
        Buffer.from(JSON.stringify({ error: { code: status, message: 'boom', status: name } })),
      ).toString('utf8'),
    );
    expect(body).toEqual({ type: 'error', error: { type, message: 'boom' } });
  });
});
