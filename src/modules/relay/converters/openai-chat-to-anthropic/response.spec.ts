import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import { anthropicMessage } from '../../../../../test/factories/anthropic-message.factory';
import {
  ChatResponseContext,
  applyAnthropicUsage,
  chatErrorBody,
  chatUsage,
  emptyAnthropicUsage,
  finishReason,
  toChatCompletion,
} from './response';

type Json = Record<string, unknown>;

const ctx: ChatResponseContext = {
  id: 'chatcmpl-req-1',
  model: 'gpt-4o',
  created: 1_700_000_000,
  jsonTool: 'switchyard_json_response',
};

function complete(message: Json, context: ChatResponseContext = ctx): any {
  return JSON.parse(toChatCompletion(Buffer.from(JSON.stringify(message)), context).toString());
}

describe(toChatCompletion.name, () => {
  it('should build a chat.completion with the request id, requested model and usage when Claude answers with text', () => {
    const out = complete(
      anthropicMessage({
        content: [
          { type: 'text', text: 'Hello ' },
          { type: 'text', text: 'there.' },
        ],
        usage: { input_tokens: 12, output_tokens: 3 },
      }),
    );
    expect(out).toEqual({
      id: 'chatcmpl-req-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-4o',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello there.', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 12,
        completion_tokens: 3,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      },
    });
  });

  it('should return tool calls with JSON arguments and null content when Claude only calls tools', () => {
    const out = complete(
      anthropicMessage({
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Rome' } },
        ],
        stopReason: 'tool_use',
      }),
    );
    expect(out.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [
          {
            id: 'toolu_1',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'toolu_2',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Rome"}' },
          },
        ],
      },
    });
  });

  it('should return thinking as reasoning_content and signed thinking_blocks when Claude thinks', () => {
    const out = complete(
      anthropicMessage({
        content: [
          { type: 'thinking', thinking: 'First, ', signature: 'sig-a' },
          { type: 'redacted_thinking', data: 'opaque' },
          { type: 'thinking', thinking: 'then.', signature: 'sig-b' },
          { type: 'text', text: '42' },
        ],
        usage: {
          input_tokens: 5,
          output_tokens: 40,
          output_tokens_details: { thinking_tokens: 30 },
        },
      }),
    );
    expect(out.choices[0].message).toEqual({
      role: 'assistant',
      content: '42',
      refusal: null,
      reasoning_content: 'First, then.',
      thinking_blocks: [
        { type: 'thinking', thinking: 'First, ', signature: 'sig-a' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'thinking', thinking: 'then.', signature: 'sig-b' },
      ],
    });
    expect(out.usage.completion_tokens_details).toEqual({ reasoning_tokens: 30 });
  });

  it('should make the json_schema tool call the content, finishing with stop', () => {
    const out = complete(
      anthropicMessage({
        content: [
          { type: 'tool_use', id: 'toolu_j', name: ctx.jsonTool!, input: { answer: 'yes' } },
        ],
        stopReason: 'tool_use',
      }),
    );
    expect(out.choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { content: '{"answer":"yes"}' },
    });
    expect(out.choices[0].message).not.toHaveProperty('tool_calls');
  });

  it('should keep client tool calls beside a json_schema answer and finish with tool_calls', () => {
    const out = complete(
      anthropicMessage({
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} },
          { type: 'tool_use', id: 'toolu_j', name: ctx.jsonTool!, input: { answer: 'maybe' } },
        ],
        stopReason: 'tool_use',
      }),
    );
    expect(out.choices[0].finish_reason).toBe('tool_calls');
    expect(out.choices[0].message.content).toBe('{"answer":"maybe"}');
    expect(out.choices[0].message.tool_calls).toHaveLength(1);
  });

  it('should not treat a client tool named like the schema tool specially when the request had no json_schema', () => {
    const out = complete(
      anthropicMessage({
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'switchyard_json_response', input: {} }],
        stopReason: 'tool_use',
      }),
      { ...ctx, jsonTool: null },
    );
    expect(out.choices[0].finish_reason).toBe('tool_calls');
  });

  it('should count cache reads and writes into prompt_tokens and report cached_tokens', () => {
    const out = complete(
      anthropicMessage({
        content: [{ type: 'text', text: 'ok' }],
        usage: {
          input_tokens: 10,
          cache_read_input_tokens: 1000,
          cache_creation_input_tokens: 200,
          output_tokens: 7,
        },
      }),
    );
    expect(out.usage).toEqual({
      prompt_tokens: 1210,
      completion_tokens: 7,
      total_tokens: 1217,
      prompt_tokens_details: { cached_tokens: 1000, cache_write_tokens: 200 },
    });
  });

  it('should give empty content, not null, when Claude said nothing and called no tool', () => {
    const out = complete(anthropicMessage({ content: [], stopReason: 'max_tokens' }));
    expect(out.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: '' } });
  });

  it.each([
    ['not JSON', Buffer.from('<html>')],
    ['JSON without content', Buffer.from('{"type":"message"}')],
  ])('should throw UPSTREAM_BAD_RESPONSE when the body is %s', (_what, body) => {
    expect(() => toChatCompletion(body, ctx)).toThrow(RelayException);
    try {
      toChatCompletion(body, ctx);
    } catch (error) {
      expect((error as RelayException).code).toBe(RelayExceptionCode.UPSTREAM_BAD_RESPONSE);
    }
  });
});

describe(finishReason.name, () => {
  it.each([
    ['end_turn', false, 'stop'],
    ['stop_sequence', false, 'stop'],
    ['pause_turn', false, 'stop'],
    ['max_tokens', false, 'length'],
    ['model_context_window_exceeded', false, 'length'],
    ['tool_use', true, 'tool_calls'],
    ['tool_use', false, 'stop'],
    ['refusal', false, 'content_filter'],
    [null, false, 'stop'],
  ])('should map stop_reason %s (client tool calls: %s) to %s', (stop, tools, expected) => {
    expect(finishReason(stop, tools)).toBe(expected);
  });
});

describe(applyAnthropicUsage.name, () => {
  it('should overwrite with cumulative counts, never add, when message_delta repeats them', () => {
    const usage = emptyAnthropicUsage();
    applyAnthropicUsage(usage, {
      input_tokens: 100,
      cache_read_input_tokens: 50,
      cache_creation_input_tokens: 5,
      output_tokens: 1,
    });
    applyAnthropicUsage(usage, { output_tokens: 20 });
    applyAnthropicUsage(usage, {
      input_tokens: 100,
      cache_read_input_tokens: 50,
      cache_creation_input_tokens: 5,
      output_tokens: 30,
      output_tokens_details: { thinking_tokens: 12 },
    });
    expect(usage).toEqual({
      inputTokens: 100,
      outputTokens: 30,
      cacheReadTokens: 50,
      cacheCreationTokens: 5,
      thinkingTokens: 12,
    });
  });

  it('should ignore nulls and nonsense counts', () => {
    const usage = emptyAnthropicUsage();
    applyAnthropicUsage(usage, { input_tokens: 9, output_tokens: 2 });
    applyAnthropicUsage(usage, {
      input_tokens: null,
      output_tokens: -1,
      cache_read_input_tokens: 'x',
    });
    expect(chatUsage(usage)).toMatchObject({ prompt_tokens: 9, completion_tokens: 2 });
  });
});

describe(chatErrorBody.name, () => {
  function error(status: number, body: string): any {
    return JSON.parse(chatErrorBody(status, Buffer.from(body)).toString());
  }

  it("should keep Anthropic's message in OpenAI's shape when the upstream refuses the request", () => {
    expect(
      error(
        400,
        '{"type":"error","error":{"type":"invalid_request_error","message":"messages.1.content: tool_use ids must be unique"},"request_id":"req_011"}',
      ),
    ).toEqual({
      error: {
        message: 'messages.1.content: tool_use ids must be unique',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
  });

  it.each([
    [401, 'authentication_error', 'invalid_request_error', 'invalid_api_key'],
    [429, 'rate_limit_error', 'requests', 'rate_limit_exceeded'],
    [413, 'request_too_large', 'invalid_request_error', null],
    [529, 'overloaded_error', 'server_error', null],
    [500, 'api_error', 'server_error', null],
  ])('should map a %i %s to type %s and code %s', (status, anthropicType, type, code) => {
    expect(
      error(
        status,
        JSON.stringify({ type: 'error', error: { type: anthropicType, message: 'm' } }),
      ),
    ).toEqual({ error: { message: 'm', type, param: null, code } });
  });

  it('should keep short plain text and replace HTML or empty bodies with a generic message', () => {
    expect(error(502, 'upstream connect error').error.message).toBe('upstream connect error');
    expect(error(502, '<html><body>Bad Gateway</body></html>').error.message).toBe(
      'upstream error (HTTP 502)',
    );
    expect(error(400, '').error.message).toBe('upstream error (HTTP 400)');
  });

  it('should never echo a credential when the upstream message contains one', () => {
    const body = chatErrorBody(
      401,
      Buffer.from(
        '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key: sk-ant-api03-SECRETSECRETSECRET"}}',
      ),
    ).toString();
    expect(body).not.toContain('SECRETSECRETSECRET');
  });
});
