import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import {
  AnthropicScript,
  anthropicMessage,
} from '../../../../../test/factories/anthropic-message.factory';
import { responsesContext } from '../../../../../test/factories/responses.factory';
import { LOCAL_SHELL_TOOL, toAnthropicRequest } from './request';
import { ResponsesContext, responsesUsage, toResponse } from './response';

type Json = Record<string, unknown>;

const context = responsesContext;

function convert(script: AnthropicScript, ctx: ResponsesContext = context()): any {
  return JSON.parse(
    toResponse(Buffer.from(JSON.stringify(anthropicMessage(script))), ctx).toString(),
  );
}

const searchScript: AnthropicScript = {
  content: [
    {
      type: 'server_tool_use',
      id: 'srvtoolu_1',
      name: 'web_search',
      input: { query: 'Zürich weather' },
    },
    {
      type: 'web_search_tool_result',
      tool_use_id: 'srvtoolu_1',
      content: [
        {
          type: 'web_search_result',
          url: 'https://a.example/zh',
          title: 'A',
          encrypted_content: 'e1',
        },
        {
          type: 'web_search_result',
          url: 'https://b.example/zh',
          title: 'B',
          encrypted_content: 'e2',
        },
      ],
    },
    { type: 'text', text: 'In Zürich 🌤 ' },
    {
      type: 'text',
      text: 'it is 21°C',
      citations: [
        {
          type: 'web_search_result_location',
          url: 'https://a.example/zh',
          title: 'A',
          cited_text: '21°C',
          encrypted_index: 'x',
        },
      ],
    },
    { type: 'text', text: ' today.' },
  ],
};

describe(toResponse.name, () => {
  it('should answer with a Response carrying the request id, requested model and creation time', () => {
    expect(convert({ content: [{ type: 'text', text: 'Bonjour' }] })).toMatchObject({
      id: 'resp_req-1',
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      error: null,
      incomplete_details: null,
      model: 'gpt-5',
      output: [
        {
          id: 'msg_req-1_0',
          type: 'message',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Bonjour', annotations: [], logprobs: [] }],
        },
      ],
    });
  });

  it('should repeat the request settings as OpenAI does, and defaults for those not given', () => {
    const tools = [{ type: 'function', name: 'weather', parameters: null, strict: false }];
    const request = {
      instructions: 'Be brief.',
      max_output_tokens: 500,
      tools,
      tool_choice: 'required',
      parallel_tool_calls: false,
      temperature: 0.5,
      top_p: 0.9,
      reasoning: { effort: 'low', summary: 'auto' },
      text: { format: { type: 'json_object' }, verbosity: 'low' },
      metadata: { run: '1' },
      user: 'u-1',
      safety_identifier: 's-1',
      prompt_cache_key: 'k',
      store: true,
    };
    expect(
      convert({ content: [{ type: 'text', text: '{}' }] }, context({}, request)),
    ).toMatchObject({
      ...request,
      // Nothing is stored, whatever the request asked.
      store: false,
      previous_response_id: null,
      background: false,
      truncation: 'disabled',
    });
    expect(convert({ content: [{ type: 'text', text: 'x' }] })).toMatchObject({
      instructions: null,
      max_output_tokens: null,
      tools: [],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      temperature: 1,
      top_p: 1,
      reasoning: { effort: null, summary: null },
      text: { format: { type: 'text' }, verbosity: 'medium' },
      metadata: {},
      user: null,
    });
  });

  it('should count every prompt token as input and the cache reads as cached', () => {
    expect(
      convert({
        content: [{ type: 'text', text: 'x' }],
        usage: {
          input_tokens: 40,
          cache_read_input_tokens: 400,
          cache_creation_input_tokens: 100,
          output_tokens: 60,
          output_tokens_details: { thinking_tokens: 25 },
        },
      }).usage,
    ).toEqual({
      input_tokens: 540,
      input_tokens_details: { cached_tokens: 400, cache_write_tokens: 100 },
      output_tokens: 60,
      output_tokens_details: { reasoning_tokens: 25 },
      total_tokens: 600,
    });
  });

  it('should turn consecutive text blocks into one message, and text after a call into another', () => {
    const output = convert({
      content: [
        { type: 'text', text: 'One, ' },
        { type: 'text', text: 'two.' },
        { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
        { type: 'text', text: 'Three.' },
      ],
    }).output;
    expect(output.map((item: Json) => [item.type, item.id])).toEqual([
      ['message', 'msg_req-1_0'],
      ['function_call', 'fc_req-1_1'],
      ['message', 'msg_req-1_2'],
    ]);
    expect(output[0].content[0].text).toBe('One, two.');
  });

  it('should turn parallel tool_use blocks into function calls with Claude’s ids as call ids', () => {
    expect(
      convert({
        content: [
          { type: 'tool_use', id: 'toolu_A', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_B', name: 'weather', input: {} },
        ],
        stopReason: 'tool_use',
      }).output,
    ).toEqual([
      {
        id: 'fc_req-1_0',
        type: 'function_call',
        status: 'completed',
        arguments: '{"city":"Paris"}',
        call_id: 'toolu_A',
        name: 'weather',
      },
      {
        id: 'fc_req-1_1',
        type: 'function_call',
        status: 'completed',
        arguments: '{}',
        call_id: 'toolu_B',
        name: 'weather',
      },
    ]);
  });

  it('should turn calls of custom and local shell tools into their own item types', () => {
    expect(
      convert({
        content: [
          {
            type: 'tool_use',
            id: 'toolu_P',
            name: 'apply_patch',
            input: { input: '*** Begin Patch\n' },
          },
          {
            type: 'tool_use',
            id: 'toolu_S',
            name: LOCAL_SHELL_TOOL,
            input: { command: ['ls', '-la'], working_directory: '/tmp' },
          },
        ],
        stopReason: 'tool_use',
      }).output,
    ).toEqual([
      {
        id: 'ctc_req-1_0',
        type: 'custom_tool_call',
        call_id: 'toolu_P',
        name: 'apply_patch',
        input: '*** Begin Patch\n',
      },
      {
        id: 'lsh_req-1_1',
        type: 'local_shell_call',
        call_id: 'toolu_S',
        status: 'completed',
        action: {
          type: 'exec',
          command: ['ls', '-la'],
          env: {},
          timeout_ms: null,
          user: null,
          working_directory: '/tmp',
        },
      },
    ]);
  });

  it('should make the json_schema tool’s call the message text', () => {
    const response = convert({
      content: [
        { type: 'tool_use', id: 'toolu_J', name: 'switchyard_json_response', input: { ok: true } },
      ],
      stopReason: 'tool_use',
    });
    expect(response.status).toBe('completed');
    expect(response.output).toEqual([
      expect.objectContaining({
        type: 'message',
        content: [{ type: 'output_text', text: '{"ok":true}', annotations: [], logprobs: [] }],
      }),
    ]);
  });

  it('should turn thinking into a reasoning item whose encrypted_content gives it back to Claude', () => {
    const thinking = [
      { type: 'thinking' as const, thinking: 'First Paris.', signature: 'SIG-1' },
      { type: 'redacted_thinking' as const, data: 'REDACTED' },
      { type: 'thinking' as const, thinking: 'Then Zürich.', signature: 'SIG-2' },
    ];
    const response = convert({
      content: [...thinking, { type: 'tool_use', id: 'toolu_1', name: 'weather', input: {} }],
      stopReason: 'tool_use',
    });
    const [reasoning] = response.output;
    expect(reasoning).toEqual({
      id: 'rs_req-1_0',
      type: 'reasoning',
      summary: [
        { type: 'summary_text', text: 'First Paris.' },
        { type: 'summary_text', text: 'Then Zürich.' },
      ],
      encrypted_content: expect.stringMatching(/^switchyard\.thinking\.v1:/),
    });
    // The client sends the output back as input: Claude gets its blocks back as they were.
    const next = toAnthropicRequest({
      body: {
        model: 'gpt-5',
        input: [
          { role: 'user', content: 'weather?' },
          ...response.output,
          { type: 'function_call_output', call_id: 'toolu_1', output: 'sunny' },
        ],
      },
      upstreamModel: 'claude-sonnet-4-5',
      requestedModel: 'gpt-5',
      stream: false,
      operation: 'generate',
      requestId: 'req-2',
    });
    expect((next.body.messages as Json[])[1]).toEqual({
      role: 'assistant',
      content: [...thinking, { type: 'tool_use', id: 'toolu_1', name: 'weather', input: {} }],
    });
  });

  it('should leave the reasoning summary empty when the request asked for none', () => {
    const [reasoning] = convert(
      {
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 'S' },
          { type: 'text', text: 'x' },
        ],
      },
      context({ summaries: false }),
    ).output;
    expect(reasoning.summary).toEqual([]);
    expect(reasoning.encrypted_content).toMatch(/^switchyard\.thinking\.v1:/);
  });

  it('should turn a web search and its cited answer into a web_search_call and url_citation annotations', () => {
    const response = convert(searchScript, context({ searchSources: true }));
    expect(response.output).toEqual([
      {
        id: 'ws_req-1_0',
        type: 'web_search_call',
        status: 'completed',
        action: {
          type: 'search',
          query: 'Zürich weather',
          queries: ['Zürich weather'],
          sources: [
            { type: 'url', url: 'https://a.example/zh' },
            { type: 'url', url: 'https://b.example/zh' },
          ],
        },
      },
      {
        id: 'msg_req-1_1',
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [
          {
            type: 'output_text',
            text: 'In Zürich 🌤 it is 21°C today.',
            // Indices count code points: the emoji is one.
            annotations: [
              {
                type: 'url_citation',
                start_index: 12,
                end_index: 22,
                url: 'https://a.example/zh',
                title: 'A',
              },
            ],
            logprobs: [],
          },
        ],
      },
    ]);
    expect(
      convert(searchScript, context({ searchSources: false })).output[0].action,
    ).not.toHaveProperty('sources');
  });

  it('should mark a web search whose result is an error as failed', () => {
    const [search] = convert({
      content: [
        { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'x' } },
        {
          type: 'web_search_tool_result',
          tool_use_id: 'srvtoolu_1',
          content: { type: 'web_search_tool_result_error', error_code: 'max_uses_exceeded' },
        },
        { type: 'text', text: 'Could not search.' },
      ],
    }).output;
    expect(search).toMatchObject({ type: 'web_search_call', status: 'failed' });
  });

  it.each([
    ['max_tokens', 'incomplete', { reason: 'max_output_tokens' }],
    ['model_context_window_exceeded', 'incomplete', { reason: 'max_output_tokens' }],
    ['refusal', 'incomplete', { reason: 'content_filter' }],
    ['end_turn', 'completed', null],
    ['stop_sequence', 'completed', null],
    ['tool_use', 'completed', null],
    ['pause_turn', 'completed', null],
  ])('should answer stop reason %s with status %s', (stopReason, status, details) => {
    const response = convert({ content: [{ type: 'text', text: 'Once upon' }], stopReason });
    expect(response).toMatchObject({ status, incomplete_details: details });
    expect(response.output[0].status).toBe(status);
  });

  it('should refuse a body that is not a Messages response as the upstream’s fault', () => {
    expect(() => toResponse(Buffer.from('<html>'), context())).toThrow(
      expect.objectContaining({ code: RelayExceptionCode.UPSTREAM_BAD_RESPONSE }) as RelayException,
    );
  });
});

describe(responsesUsage.name, () => {
  it('should report no reasoning tokens when Anthropic does not count them', () => {
    expect(
      responsesUsage({
        inputTokens: 1,
        outputTokens: 2,
        cacheReadTokens: 0,
        cacheCreationTokens: 0,
        thinkingTokens: undefined,
      }).output_tokens_details,
    ).toEqual({ reasoning_tokens: 0 });
  });
});
