import { RelayException } from 'src/modules/relay/relay.exception';
import {
  ResponsesScript,
  responsesObject,
  responsesStream,
} from '../../../../../test/factories/openai-response.factory';
import { REASONING_DETAILS_FORMAT } from './request';
import { ChatResponseContext, chatErrorBody, chatUsage, toChatCompletion } from './response';

type Json = Record<string, unknown>;

const ctx: ChatResponseContext = { id: 'chatcmpl-req-1', model: 'gpt-4o', created: 1_700_000_000 };

function completion(script: ResponsesScript): any {
  const body = Buffer.from(JSON.stringify(responsesObject(script)), 'utf8');
  return JSON.parse(toChatCompletion(body, ctx).toString('utf8'));
}

function error(status: number, body: string): Json {
  return JSON.parse(chatErrorBody(status, Buffer.from(body)).toString('utf8')).error;
}

const toolScript: ResponsesScript = {
  output: [
    {
      type: 'reasoning',
      summary: ['Two cities.', 'Call twice.'],
      encrypted: 'gAAAA-enc',
      id: 'rs_1',
    },
    { type: 'message', text: 'Checking both…' },
    { type: 'function_call', callId: 'call_P', name: 'weather', arguments: '{"city":"Paris"}' },
    { type: 'function_call', callId: 'call_Z', name: 'weather', arguments: '{"city":"Zürich"}' },
  ],
  usage: { input_tokens: 1200, cached_tokens: 1000, output_tokens: 300, reasoning_tokens: 200 },
};

describe(toChatCompletion.name, () => {
  it('should give a chat.completion with the request id, requested model and created time', () => {
    expect(completion({ output: [{ type: 'message', text: 'Bonjour' }] })).toEqual({
      id: 'chatcmpl-req-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-4o',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Bonjour', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
  });

  it('should carry text, tool calls, reasoning and usage when the model calls functions', () => {
    const out = completion(toolScript);
    expect(out.choices[0]).toEqual({
      index: 0,
      logprobs: null,
      finish_reason: 'tool_calls',
      message: {
        role: 'assistant',
        content: 'Checking both…',
        refusal: null,
        tool_calls: [
          {
            id: 'call_P',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'call_Z',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Zürich"}' },
          },
        ],
        reasoning_content: 'Two cities.\n\nCall twice.',
        reasoning_details: [
          {
            type: 'reasoning.summary',
            summary: 'Two cities.\n\nCall twice.',
            id: 'rs_1',
            format: REASONING_DETAILS_FORMAT,
            index: 0,
          },
          {
            type: 'reasoning.encrypted',
            data: 'gAAAA-enc',
            id: 'rs_1',
            format: REASONING_DETAILS_FORMAT,
            index: 1,
          },
        ],
      },
    });
    expect(out.usage).toEqual({
      prompt_tokens: 1200,
      completion_tokens: 300,
      total_tokens: 1500,
      prompt_tokens_details: { cached_tokens: 1000 },
      completion_tokens_details: { reasoning_tokens: 200 },
    });
  });

  it('should give the same completion from the whole event stream of a stream-only upstream', () => {
    const streamed = JSON.parse(toChatCompletion(responsesStream(toolScript), ctx).toString());
    expect(streamed).toEqual(completion(toolScript));
    const empty = { ...toolScript, emptyTerminalOutput: true };
    expect(JSON.parse(toChatCompletion(responsesStream(empty), ctx).toString())).toEqual(
      completion(toolScript),
    );
  });

  it('should give content null when the answer is only tool calls', () => {
    const out = completion({
      output: [{ type: 'function_call', callId: 'c', name: 'f', arguments: '{}' }],
    });
    expect(out.choices[0].message).toEqual({
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
    });
  });

  it('should join the texts of several message items with a blank line', () => {
    const out = completion({
      output: [
        { type: 'message', text: 'First.' },
        { type: 'message', text: 'Second.' },
      ],
    });
    expect(out.choices[0].message.content).toBe('First.\n\nSecond.');
  });

  it('should put a refusal in refusal, with content null', () => {
    const out = completion({ output: [{ type: 'refusal', refusal: "I can't help with that." }] });
    expect(out.choices[0].message).toMatchObject({
      content: null,
      refusal: "I can't help with that.",
    });
  });

  it('should finish with length for a response cut by its token limit, even mid-call, and content_filter when filtered', () => {
    const cut = completion({
      output: [{ type: 'function_call', callId: 'c', name: 'f', arguments: '{"a":' }],
      status: 'incomplete',
      incompleteReason: 'max_output_tokens',
    });
    expect(cut.choices[0].finish_reason).toBe('length');
    const filtered = completion({
      output: [{ type: 'message', text: 'Well' }],
      status: 'incomplete',
      incompleteReason: 'content_filter',
    });
    expect(filtered.choices[0].finish_reason).toBe('content_filter');
  });

  it('should report zero usage when the upstream reports none', () => {
    expect(completion({ output: [], usage: null }).usage).toMatchObject({
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
    });
  });

  it("should throw the upstream's failure when the Response failed", () => {
    const failed = Buffer.from(
      JSON.stringify(
        responsesObject({
          output: [],
          status: 'failed',
          error: { code: 'server_error', message: 'The model crashed.' },
        }),
      ),
    );
    expect(() => toChatCompletion(failed, ctx)).toThrow(RelayException);
    expect(() => toChatCompletion(failed, ctx)).toThrow(/The model crashed/);
  });

  it('should throw when the body is not a Response', () => {
    for (const text of ['{"object":"chat.completion"}', '<html></html>', '']) {
      expect(() => toChatCompletion(Buffer.from(text), ctx)).toThrow(RelayException);
    }
  });
});

describe(chatUsage.name, () => {
  it('should keep cache writes when the Responses usage reports them', () => {
    expect(
      chatUsage({
        input_tokens: 100,
        input_tokens_details: { cached_tokens: 20, cache_write_tokens: 60 },
        output_tokens: 5,
        total_tokens: 105,
      }),
    ).toEqual({
      prompt_tokens: 100,
      completion_tokens: 5,
      total_tokens: 105,
      prompt_tokens_details: { cached_tokens: 20, cache_write_tokens: 60 },
    });
  });
});

describe(chatErrorBody.name, () => {
  it("should keep an OpenAI-shaped error's message, type, param and code", () => {
    expect(
      error(
        400,
        '{"error":{"message":"Invalid value for temperature.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}',
      ),
    ).toEqual({
      message: 'Invalid value for temperature.',
      type: 'invalid_request_error',
      param: 'temperature',
      code: 'invalid_value',
    });
  });

  it('should name the Chat Completions field when the upstream names its Responses field', () => {
    expect(
      error(
        400,
        '{"error":{"message":"max_output_tokens is too small.","type":"invalid_request_error","param":"max_output_tokens","code":null}}',
      ),
    ).toEqual({
      message: 'max_output_tokens is too small. (sent as max_completion_tokens)',
      type: 'invalid_request_error',
      param: 'max_completion_tokens',
      code: null,
    });
    expect(
      error(
        400,
        '{"error":{"message":"bad","type":"invalid_request_error","param":"input[2].content","code":null}}',
      ).param,
    ).toBe('messages');
  });

  it("should read the Codex backend's detail form and name an unsupported parameter", () => {
    expect(error(400, '{"detail":"Unsupported parameter: max_output_tokens"}')).toEqual({
      message: 'Unsupported parameter: max_output_tokens (sent as max_completion_tokens)',
      type: 'invalid_request_error',
      param: 'max_completion_tokens',
      code: null,
    });
  });

  it("should keep the type of a ChatGPT plan's usage limit", () => {
    expect(
      error(
        429,
        '{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_in_seconds":3600}}',
      ),
    ).toEqual({
      message: 'The usage limit has been reached',
      type: 'usage_limit_reached',
      param: null,
      code: 'rate_limit_exceeded',
    });
  });

  it('should replace HTML with a generic message and redact credentials from any message', () => {
    expect(error(502, '<html><body>Bad gateway</body></html>').message).toBe(
      'upstream error (HTTP 502)',
    );
    expect(
      error(
        401,
        '{"error":{"message":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl rejected","type":"invalid_request_error"}}',
      ).message,
    ).not.toContain('eyJhbGciOiJIUzI1NiJ9');
  });
});
