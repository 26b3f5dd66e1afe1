import type { ChatUpstreamOptions, ConversionInput } from 'src/modules/relay/converters/converter';
import { RelayException } from 'src/modules/relay/relay.exception';
import { PERMISSIVE, THINKING_SIGNATURE, effortOf, toChatRequest } from './request';

type Json = Record<string, unknown>;

function input(
  body: Json,
  upstream: Partial<ChatUpstreamOptions> = {},
  stream = false,
): ConversionInput {
  return {
    body: { model: 'claude-sonnet-4-5', max_tokens: 1000, ...body },
    upstreamModel: 'deepseek-chat',
    requestedModel: 'claude-sonnet-4-5',
    stream,
    operation: 'generate',
    requestId: 'req_1',
    upstream: { ...PERMISSIVE, ...upstream },
  };
}

function refusal(run: () => unknown): RelayException {
  try {
    run();
  } catch (error) {
    if (error instanceof RelayException) return error;
    throw error;
  }
  throw new Error('expected a RelayException');
}

const PNG = 'iVBORw0KGgo=';

describe(toChatRequest.name, () => {
  it('should map the system prompt, text turns and sampling fields', () => {
    const body = toChatRequest(
      input({
        system: [
          { type: 'text', text: 'You are terse.' },
          { type: 'text', text: 'Answer in English.', cache_control: { type: 'ephemeral' } },
        ],
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: [{ type: 'text', text: 'Hello' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'a' },
              { type: 'text', text: 'b' },
            ],
          },
        ],
        temperature: 0.5,
        top_p: 0.9,
        top_k: 40,
        stop_sequences: ['END'],
        metadata: { user_id: 'user-7' },
      }),
    );
    expect(body).toEqual({
      model: 'deepseek-chat',
      messages: [
        { role: 'system', content: 'You are terse.\n\nAnswer in English.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'a\n\nb' },
      ],
      max_tokens: 1000,
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      stop: ['END'],
      user: 'user-7',
    });
  });

  it('should keep a system message among the turns where it is (Claude Code sends them)', () => {
    const body = toChatRequest(
      input({
        messages: [
          { role: 'user', content: 'x' },
          { role: 'system', content: [{ type: 'text', text: 'reminder' }] },
          { role: 'user', content: 'y' },
        ],
      }),
    );
    expect(body.messages).toEqual([
      { role: 'user', content: 'x' },
      { role: 'system', content: 'reminder' },
      { role: 'user', content: 'y' },
    ]);
  });

  it('should send a string system prompt as one system message', () => {
    const body = toChatRequest(
      input({ system: 'Be brief.', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect((body.messages as Json[])[0]).toEqual({ role: 'system', content: 'Be brief.' });
  });

  it('should turn images into image_url parts (base64 as a data URL, url as it is)', () => {
    const body = toChatRequest(
      input({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
              { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
              { type: 'text', text: 'What is this?' },
            ],
          },
        ],
      }),
    );
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          { type: 'text', text: 'What is this?' },
        ],
      },
    ]);
  });

  it('should refuse images when the server reads none', () => {
    const error = refusal(() =>
      toChatRequest(
        input(
          {
            messages: [
              {
                role: 'user',
                content: [
                  { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
                ],
              },
            ],
          },
          { images: false },
        ),
      ),
    );
    expect(error.message).toBe("messages.0.content.0: this model's server does not read images");
    expect(error.status).toBe(400);
  });

  it('should map a tool_use / tool_result round trip to tool_calls and tool messages', () => {
    const body = toChatRequest(
      input({
        tools: [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            input_schema: { type: 'object', properties: { city: { type: 'string' } } },
          },
        ],
        tool_choice: { type: 'auto', disable_parallel_tool_use: true },
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'Let me look.', signature: THINKING_SIGNATURE },
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'call_1',
                content: [{ type: 'text', text: '18C' }],
              },
              { type: 'text', text: 'And tomorrow?' },
            ],
          },
        ],
      }),
    );
    expect(body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ]);
    expect(body.tool_choice).toBe('auto');
    expect(body.parallel_tool_calls).toBe(false);
    expect(body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      { role: 'user', content: 'And tomorrow?' },
    ]);
  });

  it('should map tool_choice any, tool and none', () => {
    const tools = [{ name: 'f', input_schema: { type: 'object' } }];
    const messages = [{ role: 'user', content: 'x' }];
    expect(
      toChatRequest(input({ tools, messages, tool_choice: { type: 'any' } })).tool_choice,
    ).toBe('required');
    expect(
      toChatRequest(input({ tools, messages, tool_choice: { type: 'tool', name: 'f' } }))
        .tool_choice,
    ).toEqual({ type: 'function', function: { name: 'f' } });
    expect(
      toChatRequest(input({ tools, messages, tool_choice: { type: 'none' } })).tool_choice,
    ).toBe('none');
  });

  it('should put a tool result’s images in a user message after the tool messages', () => {
    const body = toChatRequest(
      input({
        messages: [
          { role: 'assistant', content: [{ type: 'tool_use', id: 'c1', name: 'shot', input: {} }] },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'c1',
                is_error: true,
                content: [
                  { type: 'text', text: 'partial' },
                  { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(body.messages).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'shot', arguments: '{}' } }],
      },
      {
        role: 'tool',
        tool_call_id: 'c1',
        content: 'Error: partial\n\n(the image of this result follows in the next message)',
      },
      {
        role: 'user',
        content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }],
      },
    ]);
  });

  it('should refuse a tool result image, and tools, when the server takes neither', () => {
    const result = {
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'c1',
              content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }],
            },
          ],
        },
      ],
    };
    expect(refusal(() => toChatRequest(input(result, { images: false }))).message).toContain(
      'messages.0.content.0.content.0',
    );
    const tools = { tools: [{ name: 'f' }], messages: [{ role: 'user', content: 'x' }] };
    expect(refusal(() => toChatRequest(input(tools, { tools: false }))).message).toBe(
      "tools: this model's server does not take tools",
    );
  });

  it('should refuse server tools and unknown fields', () => {
    const messages = [{ role: 'user', content: 'x' }];
    expect(
      refusal(() =>
        toChatRequest(
          input({ messages, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }),
        ),
      ).message,
    ).toContain('tools.0.type');
    expect(refusal(() => toChatRequest(input({ messages, bogus: 1 }))).message).toBe(
      'bogus: Extra inputs are not permitted',
    );
  });

  it('should lower max_tokens to the server’s most and use its field', () => {
    const messages = [{ role: 'user', content: 'x' }];
    expect(
      toChatRequest(input({ messages, max_tokens: 32000 }, { maxOutputTokens: 8192 })).max_tokens,
    ).toBe(8192);
    const body = toChatRequest(
      input(
        { messages, max_tokens: 100 },
        { maxOutputTokens: 8192, maxTokensField: 'max_completion_tokens' },
      ),
    );
    expect(body.max_completion_tokens).toBe(100);
    expect(body.max_tokens).toBeUndefined();
  });

  it('should ask for the stream usage only when the server takes stream_options', () => {
    const messages = [{ role: 'user', content: 'x' }];
    expect(toChatRequest(input({ messages }, {}, true))).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    const off = toChatRequest(input({ messages }, { streamOptions: false }, true));
    expect(off.stream).toBe(true);
    expect(off.stream_options).toBeUndefined();
  });

  it('should merge the extra body fields last', () => {
    const body = toChatRequest(
      input(
        { messages: [{ role: 'user', content: 'x' }], temperature: 1 },
        { extraBody: { temperature: 0.2, provider: { order: ['a'] } } },
      ),
    );
    expect(body.temperature).toBe(0.2);
    expect(body.provider).toEqual({ order: ['a'] });
  });

  it.each([
    ['none', {}],
    ['reasoning_effort', { reasoning_effort: 'medium' }],
    ['openrouter', { reasoning: { max_tokens: 4096 } }],
    ['thinking', { thinking: { type: 'enabled', budget_tokens: 4096 } }],
    ['enable_thinking', { enable_thinking: true, thinking_budget: 4096 }],
  ] as const)('should send thinking in the %s style', (style, expected) => {
    const body = toChatRequest(
      input(
        {
          messages: [{ role: 'user', content: 'x' }],
          max_tokens: 8000,
          thinking: { type: 'enabled', budget_tokens: 4096 },
        },
        { reasoning: style },
      ),
    );
    const { model: _m, messages: _s, max_tokens: _t, ...rest } = body;
    expect(rest).toEqual(expected);
  });

  it('should send disabled thinking in each style that has a switch', () => {
    const run = (style: ChatUpstreamOptions['reasoning']): Json => {
      const {
        model: _m,
        messages: _s,
        max_tokens: _t,
        ...rest
      } = toChatRequest(
        input(
          { messages: [{ role: 'user', content: 'x' }], thinking: { type: 'disabled' } },
          { reasoning: style },
        ),
      );
      return rest;
    };
    expect(run('reasoning_effort')).toEqual({});
    expect(run('openrouter')).toEqual({ reasoning: { enabled: false } });
    expect(run('thinking')).toEqual({ thinking: { type: 'disabled' } });
    expect(run('enable_thinking')).toEqual({ enable_thinking: false });
  });

  it('should refuse a thinking budget at or above max_tokens', () => {
    const error = refusal(() =>
      toChatRequest(
        input({
          messages: [{ role: 'user', content: 'x' }],
          max_tokens: 2000,
          thinking: { type: 'enabled', budget_tokens: 2000 },
        }),
      ),
    );
    expect(error.message).toBe('thinking.budget_tokens: must be less than max_tokens (2000)');
  });

  it('should map output_config.format json_schema to response_format', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const body = toChatRequest(
      input({
        messages: [{ role: 'user', content: 'x' }],
        output_config: { format: { type: 'json_schema', schema } },
      }),
    );
    expect(body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'output', schema, strict: true },
    });
  });

  it('should refuse count_tokens, and accounts that hand over no server options', () => {
    expect(
      refusal(() => toChatRequest({ ...input({ messages: [] }), operation: 'count_tokens' }))
        .message,
    ).toContain('token counting is not available');
    const { upstream: _u, ...bare } = input({ messages: [{ role: 'user', content: 'x' }] });
    expect(refusal(() => toChatRequest(bare)).message).toContain('openai-compatible accounts only');
  });
});

describe(effortOf.name, () => {
  it('should map budgets to efforts', () => {
    expect([effortOf(1024), effortOf(4096), effortOf(16384), effortOf(null)]).toEqual([
      'low',
      'medium',
      'high',
      'medium',
    ]);
  });
});
