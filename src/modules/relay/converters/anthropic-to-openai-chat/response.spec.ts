import { THINKING_SIGNATURE } from './request';
import { messageErrorBody, messageUsage, toMessage } from './response';

const CTX = { id: 'msg_req1', model: 'claude-sonnet-4-5', requestId: 'req1' };

function completion(message: Record<string, unknown>, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 100,
        completion_tokens: 20,
        prompt_tokens_details: { cached_tokens: 60 },
      },
      ...extra,
    }),
  );
}

describe(toMessage.name, () => {
  it('should turn reasoning, text and tool calls into thinking, text and tool_use blocks', () => {
    const body = completion({
      reasoning_content: 'Think first.',
      content: 'Here you go.',
      tool_calls: [
        { id: 'call_9', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
      ],
    });
    expect(JSON.parse(toMessage(body, CTX).toString())).toEqual({
      id: 'msg_req1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [
        { type: 'thinking', thinking: 'Think first.', signature: THINKING_SIGNATURE },
        { type: 'text', text: 'Here you go.' },
        { type: 'tool_use', id: 'call_9', name: 'f', input: { a: 1 } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 40,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 60,
        output_tokens: 20,
      },
    });
  });

  it("should read OpenRouter's reasoning field and map length to max_tokens", () => {
    const body = Buffer.from(
      JSON.stringify({
        choices: [{ message: { content: 'cut', reasoning: 'hmm' }, finish_reason: 'length' }],
      }),
    );
    const message = JSON.parse(toMessage(body, CTX).toString()) as Record<string, unknown>;
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'hmm', signature: THINKING_SIGNATURE },
      { type: 'text', text: 'cut' },
    ]);
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage).toEqual({
      input_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 0,
    });
  });

  it('should refuse a body that is not a chat completion', () => {
    expect(() => toMessage(Buffer.from('{"nope":1}'), CTX)).toThrow('not a chat completion');
  });
});

describe(messageUsage.name, () => {
  it("should read DeepSeek's cache hits", () => {
    expect(
      messageUsage({ prompt_tokens: 50, completion_tokens: 5, prompt_cache_hit_tokens: 30 }),
    ).toEqual({
      input_tokens: 20,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 30,
      output_tokens: 5,
    });
  });
});

describe(messageErrorBody.name, () => {
  it("should give an upstream error in Anthropic's shape", () => {
    const body = messageErrorBody(
      400,
      Buffer.from('{"error":{"message":"bad tools","type":"invalid_request_error"}}'),
    );
    expect(JSON.parse(body.toString())).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'bad tools' },
    });
    expect(JSON.parse(messageErrorBody(503, Buffer.from('oops')).toString())).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'upstream error (503)' },
    });
  });
});
