import type { ConversionInput } from 'src/modules/relay/converters/converter';
import { OpenAIRequestException } from 'src/modules/relay/dialects/openai/openai-error';
import { conversionInput } from '../../../../../test/factories/conversion-input.factory';
import {
  ADAPTIVE_THINKING_MAX_TOKENS,
  DEFAULT_MAX_TOKENS,
  JSON_OBJECT_INSTRUCTION,
  JSON_SCHEMA_TOOL,
  THINKING_BUDGETS,
  anthropicMaxTokens,
  toAnthropicRequest,
} from './request';

type Json = Record<string, unknown>;

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PDF = Buffer.from('%PDF-1.4 tiny').toString('base64');

function input(body: Json, overrides: Partial<ConversionInput> = {}): ConversionInput {
  return conversionInput({ model: 'gpt-4o', ...body }, overrides);
}

const hi = [{ role: 'user', content: 'hi' }];

function convert(body: Json, overrides: Partial<ConversionInput> = {}): Json {
  return toAnthropicRequest(input({ messages: hi, ...body }, overrides)).body;
}

function rejection(body: Json, overrides: Partial<ConversionInput> = {}): OpenAIRequestException {
  try {
    toAnthropicRequest(input({ messages: hi, ...body }, overrides));
  } catch (error) {
    if (error instanceof OpenAIRequestException) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

describe(toAnthropicRequest.name, () => {
  describe('envelope', () => {
    it('should send the upstream model, the default max_tokens and the messages when given a minimal request', () => {
      expect(convert({})).toEqual({
        model: 'claude-sonnet-4-5',
        max_tokens: DEFAULT_MAX_TOKENS,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      });
    });

    it('should ask for a stream when the request streams', () => {
      expect(convert({ stream: true }, { stream: true }).stream).toBe(true);
    });

    it('should report include_usage when stream_options asks for it', () => {
      const plan = toAnthropicRequest(
        input(
          { messages: hi, stream: true, stream_options: { include_usage: true } },
          { stream: true },
        ),
      );
      expect(plan.includeUsage).toBe(true);
      expect(plan.body).not.toHaveProperty('stream_options');
      expect(toAnthropicRequest(input({ messages: hi })).includeUsage).toBe(false);
    });

    it('should refuse stream_options when the request does not stream', () => {
      expect(rejection({ stream_options: { include_usage: true } })).toMatchObject({
        param: 'stream_options',
      });
    });

    it('should put user (and safety_identifier first) into metadata.user_id when given', () => {
      expect(convert({ user: 'u-1' }).metadata).toEqual({ user_id: 'u-1' });
      expect(convert({ user: 'u-1', safety_identifier: 'hash-9' }).metadata).toEqual({
        user_id: 'hash-9',
      });
      expect(convert({ user: '' })).not.toHaveProperty('metadata');
      expect(rejection({ user: 42 })).toMatchObject({ param: 'user', openAICode: 'invalid_type' });
    });

    it('should refuse the count_tokens operation, which Chat Completions does not have', () => {
      expect(rejection({}, { operation: 'count_tokens' })).toBeInstanceOf(OpenAIRequestException);
    });
  });

  describe('system and developer messages', () => {
    it('should hoist system and developer messages into system blocks in order when they appear anywhere', () => {
      const body = convert({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'salut' },
          { role: 'system', content: 'Later rule.' },
          { role: 'user', content: 'again' },
        ],
      });
      expect(body.system).toEqual([
        { type: 'text', text: 'Be brief.' },
        { type: 'text', text: 'Use French.' },
        { type: 'text', text: 'Later rule.' },
      ]);
      expect(body.messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'salut' }] },
        { role: 'user', content: [{ type: 'text', text: 'again' }] },
      ]);
    });

    it('should refuse non-text parts when a system message carries them', () => {
      const error = rejection({
        messages: [
          {
            role: 'system',
            content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }],
          },
          ...hi,
        ],
      });
      expect(error.param).toBe('messages[0].content[0].type');
    });
  });

  describe('user content', () => {
    it('should convert text, base64 images and URL images when given content parts', () => {
      const body = convert({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              {
                type: 'image_url',
                image_url: { url: `data:image/png;base64,${PNG}`, detail: 'high' },
              },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
              { type: 'image_url', image_url: `data:image/jpg;base64,${PNG}` },
            ],
          },
        ],
      });
      expect(body.messages).toEqual([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG } },
          ],
        },
      ]);
    });

    it.each([
      ['a data URL that is not base64', 'data:image/png,rawbytes'],
      ['a data URL with broken base64', 'data:image/png;base64,@@@@'],
      ['an empty data URL', 'data:image/png;base64,'],
      ['an unsupported image type', `data:image/bmp;base64,${PNG}`],
      ['a non-http URL', 'ftp://example.com/cat.png'],
      ['a data URL without a comma', 'data:image/png;base64'],
    ])('should refuse %s naming the part', (_what, url) => {
      const error = rejection({
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }],
      });
      expect(error.status).toBe(400);
      expect(error.param).toBe('messages[0].content[0].image_url.url');
    });

    it('should turn a base64 PDF file part into a document block with its filename as title', () => {
      const body = convert({
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'file',
                file: { filename: 'report.pdf', file_data: `data:application/pdf;base64,${PDF}` },
              },
              { type: 'file', file: { file_data: PDF } },
            ],
          },
        ],
      });
      expect(body.messages).toEqual([
        {
          role: 'user',
          content: [
            {
              type: 'document',
              source: { type: 'base64', media_type: 'application/pdf', data: PDF },
              title: 'report.pdf',
            },
            {
              type: 'document',
              source: { type: 'base64', media_type: 'application/pdf', data: PDF },
            },
          ],
        },
      ]);
    });

    it('should turn a plain-text file part into a text document', () => {
      const data = Buffer.from('héllo', 'utf8').toString('base64');
      const body = convert({
        messages: [
          {
            role: 'user',
            content: [{ type: 'file', file: { file_data: `data:text/plain;base64,${data}` } }],
          },
        ],
      });
      expect((body.messages as Json[])[0].content).toEqual([
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'héllo' } },
      ]);
    });

    it.each([
      ['an uploaded file id', { file_id: 'file-abc' }, 'messages[0].content[0].file.file_id'],
      [
        'a file type Claude cannot read',
        { file_data: `data:image/png;base64,${PNG}` },
        'messages[0].content[0].file.file_data',
      ],
      [
        'bare base64 that is not a PDF',
        { file_data: PNG },
        'messages[0].content[0].file.file_data',
      ],
    ])('should refuse %s', (_what, file, param) => {
      expect(
        rejection({ messages: [{ role: 'user', content: [{ type: 'file', file }] }] }).param,
      ).toBe(param);
    });

    it('should refuse audio input when a part carries it', () => {
      const error = rejection({
        messages: [
          {
            role: 'user',
            content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }],
          },
        ],
      });
      expect(error).toMatchObject({
        param: 'messages[0].content[0].type',
        openAICode: 'unsupported_value',
      });
    });

    it('should drop empty text and merge consecutive user messages when given them', () => {
      const body = convert({
        messages: [
          { role: 'user', content: 'one' },
          { role: 'user', content: '' },
          { role: 'user', content: [{ type: 'text', text: 'two' }] },
        ],
      });
      expect(body.messages).toEqual([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'one' },
            { type: 'text', text: 'two' },
          ],
        },
      ]);
    });

    it('should map prompt_cache_breakpoint to a 1h cache_control when a part sets one', () => {
      const body = convert({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'long prefix', prompt_cache_breakpoint: { mode: 'explicit' } },
            ],
          },
        ],
      });
      expect((body.messages as Json[])[0].content).toEqual([
        { type: 'text', text: 'long prefix', cache_control: { type: 'ephemeral', ttl: '1h' } },
      ]);
      const error = rejection({
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'text',
                text: 'x',
                prompt_cache_breakpoint: { mode: 'explicit', ttl: '12h' },
              },
            ],
          },
        ],
      });
      expect(error.param).toBe('messages[0].content[0].prompt_cache_breakpoint.ttl');
    });
  });

  describe('assistant messages and tool results', () => {
    const toolTurns = [
      { role: 'user', content: 'weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'call_2',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Rome"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
      { role: 'user', content: 'Which is warmer?' },
    ];

    it('should turn tool calls into tool_use blocks and parallel results into one user turn', () => {
      expect(convert({ messages: toolTurns }).messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'weather in Paris and Rome?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
            {
              type: 'tool_result',
              tool_use_id: 'call_2',
              content: [{ type: 'text', text: '24C' }],
            },
            { type: 'text', text: 'Which is warmer?' },
          ],
        },
      ]);
    });

    it('should put tool results first in the user turn when user text comes before them', () => {
      const body = convert({
        messages: [
          toolTurns[0],
          { role: 'assistant', content: null, tool_calls: [toolTurns[1].tool_calls![0]] },
          { role: 'user', content: 'also' },
          { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        ],
      });
      expect((body.messages as Json[])[2]).toEqual({
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
          { type: 'text', text: 'also' },
        ],
      });
    });

    it('should accept empty arguments and rewrite ids Anthropic would refuse, consistently', () => {
      const body = convert({
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            tool_calls: [
              { id: 'call:1/a', type: 'function', function: { name: 'now', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call:1/a', content: '' },
        ],
      });
      expect(body.messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'go' }] },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'call_1_a', name: 'now', input: {} }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1_a' }] },
      ]);
    });

    it('should refuse tool call arguments that are not JSON, naming the message', () => {
      const error = rejection({
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{bad' } }],
          },
        ],
      });
      expect(error).toMatchObject({
        param: 'messages[1].tool_calls[0].function.arguments',
        status: 400,
      });
      expect(error.message).toContain('messages[1]');
    });

    it('should refuse tool call arguments that are JSON but not an object', () => {
      const error = rejection({
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }],
          },
        ],
      });
      expect(error.param).toBe('messages[1].tool_calls[0].function.arguments');
    });

    it('should refuse custom tool calls when history carries one', () => {
      const error = rejection({
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            tool_calls: [{ id: 'c', type: 'custom', custom: { name: 'f', input: 'x' } }],
          },
        ],
      });
      expect(error.param).toBe('messages[1].tool_calls[0].type');
    });

    it('should keep a refusal and text parts as text when an assistant message has them', () => {
      const body = convert({
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'a' },
              { type: 'refusal', refusal: 'no' },
            ],
          },
          { role: 'assistant', content: null, refusal: 'I will not.' },
        ],
      });
      expect((body.messages as Json[])[1]).toEqual({
        role: 'assistant',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'no' },
          { type: 'text', text: 'I will not.' },
        ],
      });
    });

    it('should send thinking_blocks back first, signatures intact, when an assistant message carries them', () => {
      const body = convert({
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: 'Let me look.',
            reasoning_content: 'ignored: the signed blocks are what Claude takes back',
            thinking_blocks: [
              { type: 'thinking', thinking: 'I should call f.', signature: 'sig-1' },
              { type: 'redacted_thinking', data: 'opaque' },
            ],
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: 'done' },
        ],
      });
      expect((body.messages as Json[])[1].content).toEqual([
        { type: 'thinking', thinking: 'I should call f.', signature: 'sig-1' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
      ]);
    });

    it('should refuse a thinking block without its signature', () => {
      const error = rejection({
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: 'y',
            thinking_blocks: [{ type: 'thinking', thinking: 'hm' }],
          },
        ],
      });
      expect(error.param).toBe('messages[1].thinking_blocks[0].signature');
    });

    it.each([
      [
        'a function-role message',
        { role: 'function', name: 'f', content: 'x' },
        'messages[1].role',
      ],
      ['an unknown role', { role: 'robot', content: 'x' }, 'messages[1].role'],
      [
        'a tool message without tool_call_id',
        { role: 'tool', content: 'x' },
        'messages[1].tool_call_id',
      ],
      [
        'an assistant function_call',
        { role: 'assistant', function_call: { name: 'f', arguments: '{}' } },
        'messages[1].function_call',
      ],
      [
        'an assistant audio reference',
        { role: 'assistant', audio: { id: 'audio_1' } },
        'messages[1].audio',
      ],
    ])('should refuse %s', (_what, message, param) => {
      expect(rejection({ messages: [{ role: 'user', content: 'x' }, message] }).param).toBe(param);
    });

    it('should refuse an empty or missing messages array', () => {
      expect(rejection({ messages: [] }).param).toBe('messages');
      expect(rejection({ messages: undefined }).param).toBe('messages');
      expect(rejection({ messages: [{ role: 'system', content: 'only rules' }] }).param).toBe(
        'messages',
      );
      expect(rejection({ messages: [{ role: 'user', content: '' }] }).param).toBe('messages');
    });
  });

  describe('tools and tool_choice', () => {
    const weather = {
      type: 'function',
      function: {
        name: 'weather',
        description: 'Current weather',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
        },
        strict: true,
      },
    };

    it('should convert function tools to Anthropic tools when given them', () => {
      const body = convert({
        tools: [
          weather,
          { type: 'function', function: { name: 'now' } },
          { type: 'function', function: { name: 'p', parameters: { properties: {} } } },
        ],
      });
      expect(body.tools).toEqual([
        {
          name: 'weather',
          description: 'Current weather',
          input_schema: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
          },
          strict: true,
        },
        { name: 'now', input_schema: { type: 'object', properties: {} } },
        { name: 'p', input_schema: { type: 'object', properties: {} } },
      ]);
      expect(body).not.toHaveProperty('tool_choice');
    });

    it.each([
      ['a custom tool', [{ type: 'custom', custom: { name: 'x' } }], 'tools[0].type'],
      [
        'a schema whose root is not an object',
        [{ type: 'function', function: { name: 'x', parameters: { type: 'array' } } }],
        'tools[0].function.parameters.type',
      ],
      ['a tool without a name', [{ type: 'function', function: {} }], 'tools[0].function.name'],
    ])('should refuse %s', (_what, tools, param) => {
      expect(rejection({ tools }).param).toBe(param);
    });

    it.each([
      ['none', { type: 'none' }],
      ['auto', { type: 'auto' }],
      ['required', { type: 'any' }],
      [
        { type: 'function', function: { name: 'weather' } },
        { type: 'tool', name: 'weather' },
      ],
    ])('should map tool_choice %j to %j', (choice, expected) => {
      expect(convert({ tools: [weather], tool_choice: choice }).tool_choice).toEqual(expected);
    });

    it('should disable parallel tool use when parallel_tool_calls is false', () => {
      expect(convert({ tools: [weather], parallel_tool_calls: false }).tool_choice).toEqual({
        type: 'auto',
        disable_parallel_tool_use: true,
      });
      expect(
        convert({ tools: [weather], tool_choice: 'required', parallel_tool_calls: false })
          .tool_choice,
      ).toEqual({ type: 'any', disable_parallel_tool_use: true });
      expect(
        convert({ tools: [weather], tool_choice: 'none', parallel_tool_calls: false }).tool_choice,
      ).toEqual({ type: 'none' });
    });

    it('should omit tool_choice when there are no tools and the choice is none or auto', () => {
      expect(convert({ tool_choice: 'auto' })).not.toHaveProperty('tool_choice');
      expect(convert({ tool_choice: 'none', parallel_tool_calls: false })).not.toHaveProperty(
        'tool_choice',
      );
    });

    it.each([
      ['required without tools', { tool_choice: 'required' }],
      [
        'a function that is not in tools',
        { tools: [weather], tool_choice: { type: 'function', function: { name: 'other' } } },
      ],
      [
        'allowed_tools',
        {
          tools: [weather],
          tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } },
        },
      ],
      [
        'a custom tool choice',
        { tools: [weather], tool_choice: { type: 'custom', custom: { name: 'x' } } },
      ],
    ])('should refuse tool_choice %s', (_what, body) => {
      expect(rejection(body).param).toMatch(/^tool_choice/);
    });
  });

  describe('sampling and limits', () => {
    it('should carry temperature, top_p and stop sequences when given them', () => {
      const body = convert({ temperature: 0.3, top_p: 0.9, stop: ['END', '\n\nHuman'] });
      expect(body).toMatchObject({
        temperature: 0.3,
        top_p: 0.9,
        stop_sequences: ['END', '\n\nHuman'],
      });
      expect(convert({ stop: 'END' }).stop_sequences).toEqual(['END']);
      expect(convert({ stop: [] })).not.toHaveProperty('stop_sequences');
    });

    it('should omit top_p 1, the untruncated default', () => {
      expect(convert({ top_p: 1, temperature: 0.5 })).not.toHaveProperty('top_p');
    });

    it('should refuse a temperature above 1 rather than clamp it', () => {
      expect(rejection({ temperature: 1.5 })).toMatchObject({
        param: 'temperature',
        openAICode: 'decimal_above_max_value',
        status: 400,
      });
      expect(rejection({ temperature: -0.1 }).param).toBe('temperature');
      expect(rejection({ temperature: '0.5' }).param).toBe('temperature');
      expect(rejection({ top_p: 1.5 }).param).toBe('top_p');
    });

    it('should refuse a whitespace-only stop sequence, which Anthropic rejects', () => {
      expect(rejection({ stop: ['ok', '\n'] }).param).toBe('stop');
      expect(rejection({ stop: [1] }).param).toBe('stop[0]');
    });

    it('should prefer max_completion_tokens over max_tokens and default to 4096', () => {
      expect(convert({ max_completion_tokens: 100, max_tokens: 50 }).max_tokens).toBe(100);
      expect(convert({ max_tokens: 50 }).max_tokens).toBe(50);
      expect(convert({ max_tokens: null }).max_tokens).toBe(DEFAULT_MAX_TOKENS);
      expect(rejection({ max_completion_tokens: 0 }).param).toBe('max_completion_tokens');
      expect(rejection({ max_tokens: 1.5 }).param).toBe('max_tokens');
    });

    it.each([
      ['n', { n: 2 }],
      ['logprobs', { logprobs: true }],
      ['top_logprobs', { top_logprobs: 3 }],
      ['presence_penalty', { presence_penalty: 0.5 }],
      ['frequency_penalty', { frequency_penalty: -1 }],
      ['logit_bias', { logit_bias: { '50256': -100 } }],
      ['audio', { audio: { voice: 'alloy', format: 'wav' } }],
      ['modalities', { modalities: ['text', 'audio'] }],
      ['prediction', { prediction: { type: 'content', content: 'x' } }],
      ['web_search_options', { web_search_options: {} }],
      ['functions', { functions: [{ name: 'f' }] }],
      ['function_call', { function_call: 'auto' }],
      ['verbosity', { verbosity: 'high' }],
      ['moderation', { moderation: { model: 'omni-moderation-latest' } }],
    ])('should refuse %s with a 400 naming it', (param, body) => {
      const error = rejection(body);
      expect(error).toMatchObject({ param, status: 400 });
      expect(error.message.startsWith(`${param}:`)).toBe(true);
    });

    it('should accept the neutral values of refused parameters', () => {
      expect(() =>
        convert({
          n: 1,
          logprobs: false,
          top_logprobs: 0,
          presence_penalty: 0,
          frequency_penalty: 0,
          logit_bias: {},
          modalities: ['text'],
          verbosity: 'medium',
          audio: null,
          prediction: null,
        }),
      ).not.toThrow();
    });

    it('should accept and not forward the fields with no effect on Claude', () => {
      const body = convert({
        store: true,
        metadata: { app: 'x' },
        service_tier: 'flex',
        seed: 7,
        prompt_cache_key: 'k',
        prompt_cache_retention: '24h',
        prompt_cache_options: { mode: 'explicit' },
      });
      expect(Object.keys(body).sort()).toEqual(['max_tokens', 'messages', 'model']);
    });

    it('should refuse a parameter OpenAI does not define, as OpenAI does', () => {
      expect(rejection({ top_k: 5 })).toMatchObject({
        param: 'top_k',
        openAICode: 'unknown_parameter',
      });
    });
  });

  describe('reasoning', () => {
    it.each(Object.entries(THINKING_BUDGETS))(
      'should map reasoning_effort %s to a %i-token thinking budget with room to answer',
      (effort, budget) => {
        const body = convert({ reasoning_effort: effort });
        expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: budget });
        expect(body.max_tokens).toBe(budget + DEFAULT_MAX_TOKENS);
        expect(body.max_tokens).toBeLessThanOrEqual(32000);
      },
    );

    it('should disable thinking when reasoning_effort is none', () => {
      expect(convert({ reasoning_effort: 'none' })).toMatchObject({
        thinking: { type: 'disabled' },
        max_tokens: DEFAULT_MAX_TOKENS,
      });
    });

    it("should keep the client's cap and shrink the budget when the cap is not above it", () => {
      expect(convert({ reasoning_effort: 'low', max_completion_tokens: 50000 })).toMatchObject({
        max_tokens: 50000,
        thinking: { budget_tokens: THINKING_BUDGETS.low },
      });
      expect(convert({ reasoning_effort: 'high', max_completion_tokens: 6000 })).toMatchObject({
        max_tokens: 6000,
        thinking: { budget_tokens: 3000 },
      });
      expect(convert({ reasoning_effort: 'high', max_tokens: 1500 })).toMatchObject({
        max_tokens: 1500,
        thinking: { budget_tokens: 1024 },
      });
      expect(rejection({ reasoning_effort: 'low', max_completion_tokens: 1024 })).toMatchObject({
        param: 'max_completion_tokens',
        openAICode: 'integer_below_min_value',
      });
    });

    it.each([
      ['temperature other than 1', { temperature: 0.2 }, 'temperature'],
      ['top_p below 0.95', { top_p: 0.5 }, 'top_p'],
      [
        'a forced tool',
        { tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'required' },
        'tool_choice',
      ],
      [
        'json_schema',
        {
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'x', schema: { type: 'object' } },
          },
        },
        'response_format',
      ],
    ])('should refuse %s together with reasoning_effort', (_what, body, param) => {
      expect(rejection({ reasoning_effort: 'medium', ...body }).param).toBe(param);
    });

    it('should allow temperature 1 and top_p 0.95 with reasoning_effort', () => {
      expect(convert({ reasoning_effort: 'low', temperature: 1, top_p: 0.95 })).toMatchObject({
        temperature: 1,
        top_p: 0.95,
      });
    });

    it('should refuse an unknown reasoning_effort', () => {
      expect(rejection({ reasoning_effort: 'extreme' })).toMatchObject({
        param: 'reasoning_effort',
        openAICode: 'unsupported_value',
      });
    });

    it("should pass Anthropic's own thinking object through when a client sends it", () => {
      expect(convert({ thinking: { type: 'enabled', budget_tokens: 3000 } })).toMatchObject({
        thinking: { type: 'enabled', budget_tokens: 3000 },
        max_tokens: 3000 + DEFAULT_MAX_TOKENS,
      });
      expect(convert({ thinking: { type: 'adaptive', display: 'omitted' } })).toMatchObject({
        thinking: { type: 'adaptive', display: 'omitted' },
        max_tokens: ADAPTIVE_THINKING_MAX_TOKENS,
      });
      expect(convert({ thinking: { type: 'disabled' }, temperature: 0.2 }).thinking).toEqual({
        type: 'disabled',
      });
    });

    it.each([
      [
        'both reasoning_effort and thinking',
        { reasoning_effort: 'low', thinking: { type: 'disabled' } },
        'thinking',
      ],
      [
        'a budget below 1024',
        { thinking: { type: 'enabled', budget_tokens: 100 } },
        'thinking.budget_tokens',
      ],
      [
        'a budget not below the cap',
        { thinking: { type: 'enabled', budget_tokens: 2000 }, max_tokens: 2000 },
        'thinking.budget_tokens',
      ],
      ['an unknown thinking type', { thinking: { type: 'deep' } }, 'thinking.type'],
    ])('should refuse %s', (_what, body, param) => {
      expect(rejection(body).param).toBe(param);
    });
  });

  describe('response_format', () => {
    const schema = {
      type: 'object',
      properties: { answer: { type: 'string' } },
      required: ['answer'],
      additionalProperties: false,
    };
    const jsonSchema = {
      type: 'json_schema',
      json_schema: { name: 'reply', description: 'A reply', schema, strict: true },
    };

    it('should force a schema tool when json_schema is asked for', () => {
      const plan = toAnthropicRequest(input({ messages: hi, response_format: jsonSchema }));
      expect(plan.jsonTool).toBe(JSON_SCHEMA_TOOL);
      expect(plan.body.tools).toEqual([
        {
          name: JSON_SCHEMA_TOOL,
          description: expect.stringContaining('"reply" schema (A reply)'),
          input_schema: schema,
          strict: true,
        },
      ]);
      expect(plan.body.tool_choice).toEqual({ type: 'tool', name: JSON_SCHEMA_TOOL });
    });

    it("should pick another name when a client's tool already has the schema tool's name", () => {
      const plan = toAnthropicRequest(
        input({
          messages: hi,
          response_format: jsonSchema,
          tools: [{ type: 'function', function: { name: JSON_SCHEMA_TOOL } }],
          tool_choice: 'none',
        }),
      );
      expect(plan.jsonTool).toBe(`${JSON_SCHEMA_TOOL}_2`);
      expect(plan.body.tool_choice).toEqual({ type: 'tool', name: `${JSON_SCHEMA_TOOL}_2` });
    });

    it('should leave client tools callable (tool_choice any) when tools come with json_schema', () => {
      const tools = [{ type: 'function', function: { name: 'lookup' } }];
      expect(convert({ response_format: jsonSchema, tools }).tool_choice).toEqual({ type: 'any' });
      expect(
        convert({ response_format: jsonSchema, tools, parallel_tool_calls: false }).tool_choice,
      ).toEqual({ type: 'any', disable_parallel_tool_use: true });
      expect(
        convert({
          response_format: jsonSchema,
          tools,
          tool_choice: { type: 'function', function: { name: 'lookup' } },
        }).tool_choice,
      ).toEqual({ type: 'tool', name: 'lookup' });
    });

    it('should refuse a json_schema whose root is not an object, or that is missing', () => {
      expect(
        rejection({
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'x', schema: { type: 'array' } },
          },
        }).param,
      ).toBe('response_format.json_schema.schema.type');
      expect(rejection({ response_format: { type: 'json_schema' } }).param).toBe(
        'response_format.json_schema',
      );
    });

    it('should add a JSON instruction to the system prompt when json_object is asked for', () => {
      const body = convert({
        messages: [{ role: 'system', content: 'Be terse.' }, ...hi],
        response_format: { type: 'json_object' },
      });
      expect(body.system).toEqual([
        { type: 'text', text: 'Be terse.' },
        { type: 'text', text: JSON_OBJECT_INSTRUCTION },
      ]);
    });

    it('should change nothing for text and refuse unknown formats', () => {
      expect(convert({ response_format: { type: 'text' } })).toEqual(convert({}));
      expect(rejection({ response_format: { type: 'grammar', grammar: 'x' } }).param).toBe(
        'response_format.type',
      );
    });
  });
});

describe(anthropicMaxTokens.name, () => {
  it('should agree with the converted request when the dialect reserves a budget', () => {
    for (const body of [
      {},
      { max_tokens: 77 },
      { reasoning_effort: 'high' },
      { reasoning_effort: 'high', max_completion_tokens: 6000 },
      { thinking: { type: 'adaptive' } },
    ]) {
      expect(anthropicMaxTokens(body)).toBe(convert(body).max_tokens);
    }
  });
});
