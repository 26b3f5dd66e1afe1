import type { ConversionInput } from 'src/modules/relay/converters/converter';
import { OpenAIRequestException } from 'src/modules/relay/dialects/openai/openai-error';
import { DEFAULT_INSTRUCTIONS, REASONING_DETAILS_FORMAT, toResponsesRequest } from './request';

type Json = Record<string, unknown>;

const PNG_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PDF = Buffer.from('%PDF-1.4 tiny').toString('base64');

function input(body: Json, overrides: Partial<ConversionInput> = {}): ConversionInput {
  return {
    body: { model: 'gpt-4o', ...body },
    upstreamModel: 'gpt-5-codex',
    requestedModel: 'gpt-4o',
    stream: false,
    operation: 'generate',
    requestId: 'req-1',
    ...overrides,
  };
}

const hi = [{ role: 'user', content: 'hi' }];
const hiItem = { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] };

function convert(body: Json, overrides: Partial<ConversionInput> = {}): Json {
  return toResponsesRequest(input({ messages: hi, ...body }, overrides)).body;
}

function rejection(body: Json, overrides: Partial<ConversionInput> = {}): OpenAIRequestException {
  try {
    toResponsesRequest(input({ messages: hi, ...body }, overrides));
  } catch (error) {
    if (error instanceof OpenAIRequestException) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

const weather = {
  type: 'function',
  function: {
    name: 'weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

describe(toResponsesRequest.name, () => {
  describe('envelope', () => {
    it('should send the upstream model, the default instructions, the input and store false when given a minimal request', () => {
      expect(convert({})).toEqual({
        model: 'gpt-5-codex',
        instructions: DEFAULT_INSTRUCTIONS,
        input: [hiItem],
        store: false,
      });
    });

    it('should ask for a stream when the request streams', () => {
      expect(convert({ stream: true }, { stream: true }).stream).toBe(true);
      expect(convert({ stream: false })).not.toHaveProperty('stream');
    });

    it('should ask for a stream when the upstream only streams, even for a non-stream request', () => {
      expect(convert({}, { upstreamStreamsOnly: true }).stream).toBe(true);
    });

    it('should report include_usage and keep stream_options out of the upstream request', () => {
      const plan = toResponsesRequest(
        input(
          { messages: hi, stream: true, stream_options: { include_usage: true } },
          { stream: true },
        ),
      );
      expect(plan.includeUsage).toBe(true);
      expect(plan.body).not.toHaveProperty('stream_options');
      expect(toResponsesRequest(input({ messages: hi })).includeUsage).toBe(false);
    });

    it('should refuse stream_options when the request does not stream', () => {
      expect(rejection({ stream_options: { include_usage: true } })).toMatchObject({
        param: 'stream_options',
      });
    });

    it('should pass user, safety_identifier and the prompt cache fields through', () => {
      expect(
        convert({
          user: 'u-1',
          safety_identifier: 'hash-7',
          prompt_cache_key: 'thread-9',
          prompt_cache_retention: '24h',
          prompt_cache_options: { ttl: '30m' },
        }),
      ).toMatchObject({
        user: 'u-1',
        safety_identifier: 'hash-7',
        prompt_cache_key: 'thread-9',
        prompt_cache_retention: '24h',
        prompt_cache_options: { ttl: '30m' },
      });
      expect(rejection({ prompt_cache_retention: 'forever' })).toMatchObject({
        param: 'prompt_cache_retention',
      });
    });

    it('should refuse the count_tokens operation, which Chat Completions does not have', () => {
      expect(() => convert({}, { operation: 'count_tokens' })).toThrow(OpenAIRequestException);
    });
  });

  describe('system and developer messages', () => {
    it('should join system and developer texts into instructions in order when they appear anywhere', () => {
      const body = convert({
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'hi' },
          {
            role: 'developer',
            content: [
              { type: 'text', text: 'Answer in French.' },
              { type: 'text', text: '' },
              { type: 'text', text: 'No emoji.' },
            ],
          },
        ],
      });
      expect(body.instructions).toBe('You are terse.\n\nAnswer in French.\n\nNo emoji.');
      expect(body.input).toEqual([hiItem]);
    });

    it('should refuse non-text parts when a system message carries them', () => {
      expect(
        rejection({
          messages: [{ role: 'system', content: [{ type: 'image_url', image_url: PNG_URL }] }],
        }),
      ).toMatchObject({ param: 'messages[0].content[0].type' });
    });
  });

  describe('user content', () => {
    it('should convert text, data-URL and http images (with detail) and a cache breakpoint', () => {
      const body = convert({
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'text',
                text: 'Compare:',
                prompt_cache_breakpoint: { mode: 'explicit', ttl: '30m' },
              },
              { type: 'image_url', image_url: { url: PNG_URL, detail: 'low' } },
              { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
              { type: 'image_url', image_url: 'https://example.com/b.jpg' },
            ],
          },
        ],
      });
      expect(body.input).toEqual([
        {
          type: 'message',
          role: 'user',
          content: [
            {
              type: 'input_text',
              text: 'Compare:',
              prompt_cache_breakpoint: { mode: 'explicit', ttl: '30m' },
            },
            { type: 'input_image', image_url: PNG_URL, detail: 'low' },
            { type: 'input_image', image_url: 'https://example.com/a.jpg', detail: 'auto' },
            { type: 'input_image', image_url: 'https://example.com/b.jpg', detail: 'auto' },
          ],
        },
      ]);
    });

    it('should refuse an image URL the upstream cannot fetch and an unknown detail', () => {
      expect(
        rejection({
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///x' } }] },
          ],
        }),
      ).toMatchObject({ param: 'messages[0].content[0].image_url.url' });
      expect(
        rejection({
          messages: [
            {
              role: 'user',
              content: [{ type: 'image_url', image_url: { url: PNG_URL, detail: 'max' } }],
            },
          ],
        }),
      ).toMatchObject({ param: 'messages[0].content[0].image_url.detail' });
    });

    it('should turn file parts into input_file parts, naming a PDF sent as bare base64', () => {
      const body = convert({
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'file',
                file: { file_data: `data:application/pdf;base64,${PDF}`, filename: 'spec.pdf' },
              },
              { type: 'file', file: { file_data: PDF } },
            ],
          },
        ],
      });
      expect((body.input as Json[])[0].content).toEqual([
        {
          type: 'input_file',
          file_data: `data:application/pdf;base64,${PDF}`,
          filename: 'spec.pdf',
        },
        {
          type: 'input_file',
          file_data: `data:application/pdf;base64,${PDF}`,
          filename: 'file.pdf',
        },
      ]);
    });

    it('should refuse uploaded file ids, non-base64 file data and audio input', () => {
      const part = (p: Json): Json => ({ messages: [{ role: 'user', content: [p] }] });
      expect(rejection(part({ type: 'file', file: { file_id: 'file-abc' } }))).toMatchObject({
        param: 'messages[0].content[0].file.file_id',
        openAICode: 'unsupported_parameter',
      });
      expect(rejection(part({ type: 'file', file: { file_data: 'hello' } }))).toMatchObject({
        param: 'messages[0].content[0].file.file_data',
      });
      expect(
        rejection(part({ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } })),
      ).toMatchObject({ param: 'messages[0].content[0].type' });
      expect(rejection(part({ type: 'video' }))).toMatchObject({
        param: 'messages[0].content[0].type',
      });
    });
  });

  describe('assistant messages and tool results', () => {
    it('should turn assistant text and tool calls into a message and function_call items, and tool messages into outputs', () => {
      const body = convert({
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'weather', arguments: '{"city":"Paris"}' },
              },
              { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '21C' },
          { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '25C' }] },
        ],
      });
      expect((body.input as Json[]).slice(1)).toEqual([
        {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Checking.' }],
        },
        {
          type: 'function_call',
          call_id: 'call_1',
          name: 'weather',
          arguments: '{"city":"Paris"}',
        },
        { type: 'function_call', call_id: 'call_2', name: 'weather', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: '21C' },
        { type: 'function_call_output', call_id: 'call_2', output: '25C' },
      ]);
    });

    it('should send a tool result with several parts or an image as a list of parts', () => {
      const body = convert({
        messages: [
          {
            role: 'tool',
            tool_call_id: 'call_1',
            content: [
              { type: 'text', text: 'See:' },
              { type: 'image_url', image_url: { url: PNG_URL } },
            ],
          },
        ],
      });
      expect(body.input).toEqual([
        {
          type: 'function_call_output',
          call_id: 'call_1',
          output: [
            { type: 'input_text', text: 'See:' },
            { type: 'input_image', image_url: PNG_URL, detail: 'auto' },
          ],
        },
      ]);
    });

    it('should send only function calls when an assistant message has no content', () => {
      const body = convert({
        messages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
        ],
      });
      expect(body.input).toEqual([
        { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
      ]);
    });

    it('should keep refusals and text parts when an assistant message has them', () => {
      const body = convert({
        messages: [
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Part one.' },
              { type: 'refusal', refusal: 'Not that.' },
            ],
            refusal: 'Nor this.',
          },
        ],
      });
      expect(body.input).toEqual([
        {
          type: 'message',
          role: 'assistant',
          content: [
            { type: 'output_text', text: 'Part one.' },
            { type: 'refusal', refusal: 'Not that.' },
            { type: 'refusal', refusal: 'Nor this.' },
          ],
        },
      ]);
    });

    it('should send encrypted reasoning_details back first as reasoning items with their summary', () => {
      const body = convert({
        messages: [
          {
            role: 'assistant',
            content: null,
            reasoning_content: 'Need the weather.',
            reasoning_details: [
              {
                type: 'reasoning.summary',
                summary: 'Need the weather.',
                id: 'rs_1',
                format: REASONING_DETAILS_FORMAT,
                index: 0,
              },
              {
                type: 'reasoning.encrypted',
                data: 'gAAAA-secret',
                id: 'rs_1',
                format: REASONING_DETAILS_FORMAT,
                index: 1,
              },
              // Another provider's reasoning cannot be replayed here.
              { type: 'reasoning.encrypted', data: 'other', format: 'anthropic-claude-v1' },
              { type: 'reasoning.text', text: 'x', format: 'unknown' },
            ],
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
        ],
      });
      expect(body.input).toEqual([
        {
          type: 'reasoning',
          id: 'rs_1',
          summary: [{ type: 'summary_text', text: 'Need the weather.' }],
          encrypted_content: 'gAAAA-secret',
        },
        { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
      ]);
    });

    it('should refuse an encrypted reasoning entry without its data', () => {
      expect(
        rejection({
          messages: [
            {
              role: 'assistant',
              content: 'x',
              reasoning_details: [
                { type: 'reasoning.encrypted', format: REASONING_DETAILS_FORMAT },
              ],
            },
          ],
        }),
      ).toMatchObject({ param: 'messages[0].reasoning_details[0].data' });
    });

    it('should refuse custom tool calls, the functions API and audio in history', () => {
      expect(
        rejection({
          messages: [
            {
              role: 'assistant',
              tool_calls: [{ id: 'c', type: 'custom', custom: { name: 'x', input: 'y' } }],
            },
          ],
        }),
      ).toMatchObject({ param: 'messages[0].tool_calls[0].type' });
      expect(
        rejection({
          messages: [{ role: 'assistant', function_call: { name: 'f', arguments: '{}' } }],
        }),
      ).toMatchObject({ param: 'messages[0].function_call' });
      expect(
        rejection({ messages: [{ role: 'function', name: 'f', content: 'x' }] }),
      ).toMatchObject({ param: 'messages[0].role' });
      expect(
        rejection({ messages: [{ role: 'assistant', audio: { id: 'audio_1' } }] }),
      ).toMatchObject({ param: 'messages[0].audio' });
    });

    it('should refuse a tool message without its call id, and an empty or missing messages array', () => {
      expect(rejection({ messages: [{ role: 'tool', content: 'x' }] })).toMatchObject({
        param: 'messages[0].tool_call_id',
      });
      expect(rejection({ messages: [] })).toMatchObject({ param: 'messages' });
      expect(rejection({ messages: [{ role: 'robot', content: 'x' }] })).toMatchObject({
        param: 'messages[0].role',
      });
    });
  });

  describe('tools and tool_choice', () => {
    it('should flatten function tools and always say whether they are strict', () => {
      const body = convert({
        tools: [weather, { type: 'function', function: { name: 'now', strict: true } }],
        parallel_tool_calls: false,
      });
      expect(body.tools).toEqual([
        {
          type: 'function',
          name: 'weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
          strict: false,
        },
        {
          type: 'function',
          name: 'now',
          parameters: { type: 'object', properties: {} },
          strict: true,
        },
      ]);
      expect(body.parallel_tool_calls).toBe(false);
    });

    it('should refuse tools other than functions and malformed ones', () => {
      expect(rejection({ tools: [{ type: 'custom', custom: { name: 'x' } }] })).toMatchObject({
        param: 'tools[0].type',
        openAICode: 'unsupported_value',
      });
      expect(
        rejection({ tools: [{ type: 'function', function: { name: 'x', parameters: 'no' } }] }),
      ).toMatchObject({ param: 'tools[0].function.parameters' });
      expect(rejection({ tools: [{ type: 'function', function: { name: '' } }] })).toMatchObject({
        param: 'tools[0].function.name',
      });
    });

    it('should carry none, auto, required, a named function and allowed_tools', () => {
      const tools = [weather];
      expect(convert({ tools, tool_choice: 'none' }).tool_choice).toBe('none');
      expect(convert({ tools, tool_choice: 'auto' }).tool_choice).toBe('auto');
      expect(convert({ tools, tool_choice: 'required' }).tool_choice).toBe('required');
      expect(
        convert({ tools, tool_choice: { type: 'function', function: { name: 'weather' } } })
          .tool_choice,
      ).toEqual({ type: 'function', name: 'weather' });
      expect(
        convert({
          tools,
          tool_choice: {
            type: 'allowed_tools',
            allowed_tools: {
              mode: 'required',
              tools: [{ type: 'function', function: { name: 'weather' } }],
            },
          },
        }).tool_choice,
      ).toEqual({
        type: 'allowed_tools',
        mode: 'required',
        tools: [{ type: 'function', name: 'weather' }],
      });
    });

    it('should leave tool_choice out when there are no tools and it is none or auto', () => {
      expect(convert({ tool_choice: 'none' })).not.toHaveProperty('tool_choice');
      expect(convert({ tools: [], tool_choice: 'auto' })).not.toHaveProperty('tool_choice');
    });

    it('should refuse required without tools, an unknown function and a custom choice', () => {
      expect(rejection({ tool_choice: 'required' })).toMatchObject({ param: 'tool_choice' });
      expect(
        rejection({
          tools: [weather],
          tool_choice: { type: 'function', function: { name: 'nope' } },
        }),
      ).toMatchObject({ param: 'tool_choice.function.name' });
      expect(
        rejection({ tools: [weather], tool_choice: { type: 'custom', custom: { name: 'x' } } }),
      ).toMatchObject({ param: 'tool_choice', openAICode: 'unsupported_value' });
    });
  });

  describe('sampling and limits', () => {
    it('should carry temperature and top_p within their ranges', () => {
      expect(convert({ temperature: 1.5, top_p: 0.9 })).toMatchObject({
        temperature: 1.5,
        top_p: 0.9,
      });
      expect(rejection({ temperature: 2.5 })).toMatchObject({ param: 'temperature' });
      expect(rejection({ top_p: 'high' })).toMatchObject({ param: 'top_p' });
    });

    it('should send max_completion_tokens, else max_tokens, as max_output_tokens', () => {
      expect(convert({ max_completion_tokens: 900, max_tokens: 100 }).max_output_tokens).toBe(900);
      expect(convert({ max_tokens: 100 }).max_output_tokens).toBe(100);
      expect(convert({})).not.toHaveProperty('max_output_tokens');
      expect(rejection({ max_completion_tokens: 0 })).toMatchObject({
        param: 'max_completion_tokens',
      });
    });

    it('should refuse stop sequences, which the Responses API does not have, unless empty', () => {
      expect(rejection({ stop: ['\n\n'] })).toMatchObject({
        param: 'stop',
        openAICode: 'unsupported_parameter',
      });
      expect(convert({ stop: [] })).not.toHaveProperty('stop');
      expect(convert({ stop: null })).not.toHaveProperty('stop');
    });

    it('should refuse what the upstream cannot return, naming it, and accept the neutral values', () => {
      expect(rejection({ n: 2 })).toMatchObject({
        param: 'n',
        message: 'n: Responses API models return one choice; only n = 1 is supported (got 2)',
      });
      for (const [param, value] of [
        ['logprobs', true],
        ['top_logprobs', 3],
        ['presence_penalty', 0.5],
        ['frequency_penalty', 0.5],
        ['logit_bias', { '50256': -100 }],
        ['audio', { voice: 'alloy', format: 'wav' }],
        ['modalities', ['text', 'audio']],
        ['prediction', { type: 'content', content: 'x' }],
        ['web_search_options', {}],
        ['moderation', { model: 'omni-moderation-latest' }],
        ['functions', [{ name: 'f' }]],
        ['function_call', 'auto'],
      ] as const) {
        expect(rejection({ [param]: value })).toMatchObject({ param });
      }
      expect(() =>
        convert({
          n: 1,
          logprobs: false,
          top_logprobs: 0,
          presence_penalty: 0,
          frequency_penalty: 0,
          logit_bias: {},
          modalities: ['text'],
        }),
      ).not.toThrow();
    });

    it('should accept and not forward the fields with no effect upstream', () => {
      const body = convert(
        {
          store: true,
          metadata: { a: 'b' },
          service_tier: 'flex',
          seed: 7,
          stream: true,
          stream_options: { include_usage: false, include_obfuscation: true },
          messages: [{ role: 'user', content: 'hi', name: 'alice' }],
        },
        { stream: true },
      );
      expect(body).toEqual({
        model: 'gpt-5-codex',
        instructions: DEFAULT_INSTRUCTIONS,
        input: [hiItem],
        store: false,
        stream: true,
      });
    });

    it('should refuse a parameter OpenAI does not define, as OpenAI does', () => {
      expect(rejection({ top_k: 5 })).toMatchObject({
        param: 'top_k',
        openAICode: 'unknown_parameter',
      });
    });
  });

  describe('reasoning', () => {
    it('should ask for the effort, a summary and the encrypted reasoning when reasoning_effort is set', () => {
      expect(convert({ reasoning_effort: 'high' })).toMatchObject({
        reasoning: { effort: 'high', summary: 'auto' },
        include: ['reasoning.encrypted_content'],
      });
    });

    it('should send effort none alone when reasoning is turned off', () => {
      const body = convert({ reasoning_effort: 'none' });
      expect(body.reasoning).toEqual({ effort: 'none' });
      expect(body).not.toHaveProperty('include');
    });

    it('should refuse an unknown reasoning_effort', () => {
      expect(rejection({ reasoning_effort: 'extreme' })).toMatchObject({
        param: 'reasoning_effort',
      });
    });
  });

  describe('response_format and verbosity', () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };

    it('should flatten a json_schema format into text.format', () => {
      expect(
        convert({
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'verdict', description: 'A verdict', schema, strict: true },
          },
        }).text,
      ).toEqual({
        format: {
          type: 'json_schema',
          name: 'verdict',
          description: 'A verdict',
          schema,
          strict: true,
        },
      });
    });

    it('should carry text and json_object formats and verbosity', () => {
      expect(convert({ response_format: { type: 'json_object' }, verbosity: 'low' }).text).toEqual({
        format: { type: 'json_object' },
        verbosity: 'low',
      });
      expect(convert({ response_format: { type: 'text' } }).text).toEqual({
        format: { type: 'text' },
      });
    });

    it('should refuse a json_schema without a schema, an unknown format and an unknown verbosity', () => {
      expect(
        rejection({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }),
      ).toMatchObject({ param: 'response_format.json_schema.schema' });
      expect(rejection({ response_format: { type: 'grammar' } })).toMatchObject({
        param: 'response_format.type',
      });
      expect(rejection({ verbosity: 'chatty' })).toMatchObject({ param: 'verbosity' });
    });
  });
});
