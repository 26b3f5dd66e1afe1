import { RelayException } from 'src/modules/relay/relay.exception';
import { geminiResponse } from '../../../../../test/factories/gemini-chunks.factory';
import { ChatResponseContext, chatErrorBody, finishReason, toChatCompletion } from './response';

const ctx: ChatResponseContext = {
  id: 'chatcmpl-req-1',
  model: 'gpt-4o',
  created: 1_700_000_000,
  requestId: 'req-1',
};

function complete(response: unknown): any {
  return JSON.parse(toChatCompletion(Buffer.from(JSON.stringify(response)), ctx).toString('utf8'));
}

describe(toChatCompletion.name, () => {
  it('should return a chat.completion with the text, the requested model and usage', () => {
    const completion = complete(
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
    );
    expect(completion).toEqual({
      id: 'chatcmpl-req-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-4o',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello world', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 100,
        // Gemini counts thoughts apart from the candidates; OpenAI counts reasoning inside.
        completion_tokens: 50,
        total_tokens: 150,
        prompt_tokens_details: { cached_tokens: 40 },
        completion_tokens_details: { reasoning_tokens: 30 },
      },
    });
  });

  it('should return thoughts as reasoning_content and calls as tool_calls with ids and signatures', () => {
    const completion = complete(
      geminiResponse(
        [
          { text: 'Let me think.', thought: true },
          {
            functionCall: { name: 'get_weather', args: { city: 'Paris' } },
            thoughtSignature: 'sig-1',
          },
          { functionCall: { id: 'gem-7', name: 'get_time', args: {} } },
        ],
        { finishReason: 'STOP' },
      ),
    );
    const choice = completion.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message).toEqual({
      role: 'assistant',
      content: null,
      refusal: null,
      reasoning_content: 'Let me think.',
      tool_calls: [
        {
          id: 'call_sy_req-1_0',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          extra_content: { google: { thought_signature: 'sig-1' } },
        },
        {
          id: 'gem-7',
          type: 'function',
          function: { name: 'get_time', arguments: '{}' },
        },
      ],
    });
  });

  it('should answer content_filter with empty content when the prompt was blocked', () => {
    const completion = complete({
      promptFeedback: { blockReason: 'SAFETY' },
      usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 },
    });
    expect(completion.choices[0].message.content).toBe('');
    expect(completion.choices[0].finish_reason).toBe('content_filter');
    expect(completion.usage.prompt_tokens).toBe(5);
  });

  it('should refuse a body that is not a GenerateContentResponse', () => {
    expect(() => toChatCompletion(Buffer.from('{"foo":1}'), ctx)).toThrow(RelayException);
    expect(() => toChatCompletion(Buffer.from('<html>'), ctx)).toThrow(RelayException);
  });
});

describe(finishReason.name, () => {
  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', true, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['BLOCKED:OTHER', false, 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', false, 'stop'],
    [undefined, false, 'stop'],
  ])('should map %s (tool calls: %s) to %s', (reason, calls, expected) => {
    expect(finishReason(reason, calls)).toBe(expected);
  });
});

describe(chatErrorBody.name, () => {
  it('should keep the message of a Gemini error in OpenAI shape, with a code for its status', () => {
    const body = JSON.parse(
      chatErrorBody(
        429,
        Buffer.from(
          JSON.stringify({
            error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' },
          }),
        ),
      ).toString('utf8'),
    );
    expect(body).toEqual({
      error: {
        message: 'Quota exceeded',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
  });

  it('should redact keys and hide HTML bodies', () => {
    const key = `AIza${'x'.repeat(35)}`;
    const redacted = chatErrorBody(
      400,
      Buffer.from(JSON.stringify({ error: { code: 400, message: `API key ${key} not valid` } })),
    ).toString('utf8');
    expect(redacted).not.toContain(key);
    expect(
      JSON.parse(chatErrorBody(502, Buffer.from('<html>bad gateway</html>')).toString('utf8')).error
        .message,
    ).toBe('upstream error (HTTP 502)');
  });
});
