import type { ConversionInput } from 'src/modules/relay/converters/converter';
import {
  JSON_OBJECT_INSTRUCTION,
  JSON_SCHEMA_TOOL,
} from 'src/modules/relay/converters/shared/anthropic-tools';
import { OpenAIRequestException } from 'src/modules/relay/dialects/openai/openai-error';
import { conversionInput } from '../../../../../test/factories/conversion-input.factory';
import { codexTools } from '../../../../../test/factories/responses.factory';
import {
  DEFAULT_MAX_OUTPUT_TOKENS,
  LOCAL_SHELL_TOOL,
  ResponsesRequestPlan,
  anthropicMaxTokens,
  encodeThinking,
  toAnthropicRequest,
} from './request';

type Json = Record<string, unknown>;

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAAAASUVORK5CYII=';
const PDF = Buffer.from('%PDF-1.4 tiny').toString('base64');

function input(body: Json, overrides: Partial<ConversionInput> = {}): ConversionInput {
  return conversionInput({ model: 'gpt-5', ...body }, overrides);
}

function plan(body: Json, overrides: Partial<ConversionInput> = {}): ResponsesRequestPlan {
  return toAnthropicRequest(input({ input: 'hi', ...body }, overrides));
}

function convert(body: Json, overrides: Partial<ConversionInput> = {}): Json {
  return plan(body, overrides).body;
}

function messages(items: unknown[], body: Json = {}): Json[] {
  return convert({ ...body, input: items }).messages as Json[];
}

function rejection(body: Json, overrides: Partial<ConversionInput> = {}): OpenAIRequestException {
  try {
    toAnthropicRequest(input({ input: 'hi', ...body }, overrides));
  } catch (error) {
    if (error instanceof OpenAIRequestException) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

const user = (text: string): Json => ({ role: 'user', content: text });
const weather = {
  type: 'function',
  name: 'weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
  strict: true,
};

describe(toAnthropicRequest.name, () => {
  describe('envelope', () => {
    it('should send the upstream model, the Responses default max_tokens and the input when given a string input', () => {
      expect(convert({})).toEqual({
        model: 'claude-sonnet-4-5',
        max_tokens: DEFAULT_MAX_OUTPUT_TOKENS,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      });
    });

    it('should ask for a stream when the request streams', () => {
      expect(convert({ stream: true }, { stream: true }).stream).toBe(true);
      expect(convert({})).not.toHaveProperty('stream');
    });

    it('should put instructions first in system when given them', () => {
      const body = convert({
        instructions: 'You are Codex.',
        input: [{ role: 'developer', content: 'Sandbox: read-only.' }, user('hi')],
      });
      expect(body.system).toEqual([
        { type: 'text', text: 'You are Codex.' },
        { type: 'text', text: 'Sandbox: read-only.' },
      ]);
    });

    it('should cap max_tokens at max_output_tokens when given it', () => {
      expect(convert({ max_output_tokens: 300 }).max_tokens).toBe(300);
    });

    it('should refuse a max_output_tokens that is not a positive integer', () => {
      expect(rejection({ max_output_tokens: 0 })).toMatchObject({ param: 'max_output_tokens' });
      expect(rejection({ max_output_tokens: 1.5 })).toMatchObject({ param: 'max_output_tokens' });
    });

    it('should carry temperature and top_p over, leaving top_p 1 out', () => {
      expect(convert({ temperature: 0.3, top_p: 0.9 })).toMatchObject({
        temperature: 0.3,
        top_p: 0.9,
      });
      expect(convert({ top_p: 1 })).not.toHaveProperty('top_p');
    });

    it('should refuse a temperature above 1 rather than clamp it', () => {
      expect(rejection({ temperature: 1.5 })).toMatchObject({
        param: 'temperature',
        openAICode: 'decimal_above_max_value',
      });
    });

    it('should put safety_identifier, else user, into metadata.user_id', () => {
      expect(convert({ user: 'u-1' }).metadata).toEqual({ user_id: 'u-1' });
      expect(convert({ user: 'u-1', safety_identifier: 's-1' }).metadata).toEqual({
        user_id: 's-1',
      });
    });

    it('should accept the ignored fields Codex and the SDKs send and leave no trace of them', () => {
      const body = convert({
        store: true,
        metadata: { run: '7' },
        service_tier: 'priority',
        prompt_cache_key: 'conversation-1',
        prompt_cache_retention: '24h',
        client_metadata: { 'x-codex-installation-id': 'abc' },
        background: false,
        truncation: 'disabled',
        top_logprobs: 0,
        context_management: [],
      });
      expect(body).toEqual(convert({}));
    });

    it('should refuse a parameter the Responses API does not define', () => {
      expect(rejection({ frequency_penalty: 0 })).toMatchObject({
        param: 'frequency_penalty',
        openAICode: 'unknown_parameter',
      });
    });

    it.each([
      ['previous_response_id', 'resp_1'],
      ['conversation', 'conv_1'],
      ['background', true],
      ['background_options', { completion_window: 'soonest' }],
      ['prompt', { id: 'pmpt_1' }],
      ['moderation', { model: 'omni-moderation-latest' }],
      ['context_management', [{ type: 'compaction' }]],
      ['image', { context_compression: 'auto' }],
      ['access_programs', { cyber: 'standard' }],
      ['top_logprobs', 3],
      ['truncation', 'auto'],
    ])('should refuse %s when it cannot be honoured', (param, value) => {
      expect(rejection({ [param]: value })).toMatchObject({ param });
    });

    it('should refuse stream_options when the request does not stream', () => {
      expect(rejection({ stream_options: { include_obfuscation: false } })).toMatchObject({
        param: 'stream_options',
      });
      expect(
        convert({ stream: true, stream_options: { include_obfuscation: false } }, { stream: true }),
      ).not.toHaveProperty('stream_options');
    });

    it('should refuse the token-counting operation', () => {
      expect(rejection({}, { operation: 'count_tokens' })).toMatchObject({ param: null });
    });

    it('should refuse a parallel_tool_calls that is not a boolean', () => {
      expect(rejection({ parallel_tool_calls: 'yes' })).toMatchObject({
        param: 'parallel_tool_calls',
      });
    });

    it('should accept include values it honours or that cannot apply, and refuse the rest', () => {
      expect(() =>
        convert({
          include: [
            'reasoning.encrypted_content',
            'web_search_call.action.sources',
            'message.input_image.image_url',
          ],
        }),
      ).not.toThrow();
      expect(rejection({ include: ['message.output_text.logprobs'] })).toMatchObject({
        param: 'include[0]',
        openAICode: 'unsupported_value',
      });
      expect(rejection({ include: ['everything'] })).toMatchObject({ param: 'include[0]' });
      expect(rejection({ include: 'reasoning.encrypted_content' })).toMatchObject({
        param: 'include',
      });
    });

    it('should report whether include asks for web search sources', () => {
      expect(plan({ include: ['web_search_call.action.sources'] }).searchSources).toBe(true);
      expect(plan({}).searchSources).toBe(false);
    });

    it('should accept text.verbosity without effect and refuse values OpenAI does not define', () => {
      expect(convert({ text: { verbosity: 'low' } })).toEqual(convert({}));
      expect(rejection({ text: { verbosity: 'terse' } })).toMatchObject({
        param: 'text.verbosity',
      });
    });
  });

  describe('input', () => {
    it('should refuse input that is neither a string nor an array', () => {
      expect(rejection({ input: { role: 'user' } })).toMatchObject({ param: 'input' });
    });

    it('should refuse an input without a user or assistant message', () => {
      expect(rejection({ input: [] })).toMatchObject({ param: 'input' });
      expect(rejection({ input: [{ role: 'system', content: 'Be brief.' }] })).toMatchObject({
        param: 'input',
      });
    });

    it('should merge consecutive messages of one role into one turn', () => {
      expect(messages([user('a'), { type: 'message', role: 'user', content: 'b' }])).toEqual([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ]);
    });

    it('should convert user input_text, input_image and input_file parts to blocks', () => {
      const [turn] = messages([
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'Look:' },
            { type: 'input_image', image_url: `data:image/png;base64,${PNG}`, detail: 'high' },
            { type: 'input_image', image_url: 'https://example.com/cat.jpg', detail: 'auto' },
            {
              type: 'input_file',
              file_data: `data:application/pdf;base64,${PDF}`,
              filename: 'a.pdf',
            },
            { type: 'input_file', file_data: PDF },
            {
              type: 'input_file',
              file_data: `data:text/plain;base64,${Buffer.from('notes').toString('base64')}`,
            },
            { type: 'input_file', file_url: 'https://example.com/paper.pdf' },
          ],
        },
      ]);
      expect(turn.content).toEqual([
        { type: 'text', text: 'Look:' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        {
          type: 'document',
          source: { type: 'base64', media_type: 'application/pdf', data: PDF },
          title: 'a.pdf',
        },
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF } },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } },
        { type: 'document', source: { type: 'url', url: 'https://example.com/paper.pdf' } },
      ]);
    });

    it('should turn a 30m prompt cache breakpoint into cache_control and refuse 12h', () => {
      const [turn] = messages([
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'long', prompt_cache_breakpoint: { mode: 'explicit' } },
          ],
        },
      ]);
      expect(turn.content).toEqual([
        { type: 'text', text: 'long', cache_control: { type: 'ephemeral', ttl: '1h' } },
      ]);
      expect(
        rejection({
          input: [
            {
              role: 'user',
              content: [
                {
                  type: 'input_text',
                  text: 'x',
                  prompt_cache_breakpoint: { mode: 'explicit', ttl: '12h' },
                },
              ],
            },
          ],
        }),
      ).toMatchObject({ param: 'input[0].content[0].prompt_cache_breakpoint.ttl' });
    });

    it.each([
      [{ type: 'input_image', file_id: 'file-1' }, 'input[0].content[0].file_id'],
      [{ type: 'input_image', image_url: 'ftp://x/y.png' }, 'input[0].content[0].image_url'],
      [
        { type: 'input_image', image_url: `data:image/tiff;base64,${PNG}` },
        'input[0].content[0].image_url',
      ],
      [{ type: 'input_file', file_id: 'file-1' }, 'input[0].content[0].file_id'],
      [{ type: 'input_file', filename: 'a.pdf' }, 'input[0].content[0]'],
      [
        { type: 'input_file', file_data: 'data:application/zip;base64,UEsDBA==' },
        'input[0].content[0].file_data',
      ],
      [
        { type: 'input_audio', input_audio: { data: '', format: 'wav' } },
        'input[0].content[0].type',
      ],
      [{ type: 'output_text', text: 'hi' }, 'input[0].content[0].type'],
    ])('should refuse the user part %j', (part, param) => {
      expect(rejection({ input: [{ role: 'user', content: [part] }] })).toMatchObject({ param });
    });

    it('should convert assistant messages, dropping annotations, phase and status', () => {
      expect(
        messages([
          user('hi'),
          {
            type: 'message',
            id: 'msg_1',
            role: 'assistant',
            status: 'completed',
            phase: 'final_answer',
            content: [
              { type: 'output_text', text: 'Hello', annotations: [{ type: 'url_citation' }] },
              { type: 'refusal', refusal: 'but not that' },
            ],
          },
          { role: 'assistant', content: 'again' },
        ])[1],
      ).toEqual({
        role: 'assistant',
        content: [
          { type: 'text', text: 'Hello' },
          { type: 'text', text: 'but not that' },
          { type: 'text', text: 'again' },
        ],
      });
    });

    it('should refuse images in assistant messages and unknown roles', () => {
      expect(
        rejection({
          input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: 'x' }] }],
        }),
      ).toMatchObject({ param: 'input[0].content[0].type' });
      expect(rejection({ input: [{ role: 'tool', content: 'x' }] })).toMatchObject({
        param: 'input[0].role',
      });
    });

    it('should refuse non-text parts in system and developer messages', () => {
      expect(
        rejection({
          input: [
            { role: 'developer', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] },
            user('hi'),
          ],
        }),
      ).toMatchObject({ param: 'input[0].content[0].type' });
    });

    it('should refuse item references, with or without their type', () => {
      expect(rejection({ input: [{ type: 'item_reference', id: 'msg_1' }] })).toMatchObject({
        param: 'input[0]',
      });
      expect(rejection({ input: [{ id: 'msg_1' }] })).toMatchObject({ param: 'input[0]' });
    });

    it.each([
      'file_search_call',
      'computer_call',
      'computer_call_output',
      'image_generation_call',
      'code_interpreter_call',
      'shell_call',
      'apply_patch_call',
      'mcp_call',
      'compaction',
      'tool_search_call',
    ])('should refuse %s items', (type) => {
      expect(rejection({ input: [user('hi'), { type, id: 'x' }] })).toMatchObject({
        param: 'input[1].type',
        openAICode: 'unsupported_value',
      });
    });
  });

  describe('tool calls in input', () => {
    it('should turn parallel function calls and their outputs into tool_use and tool_result turns', () => {
      expect(
        messages([
          user('Weather in Paris and Zürich?'),
          {
            type: 'function_call',
            id: 'fc_1',
            call_id: 'call_A',
            name: 'weather',
            arguments: '{"city":"Paris"}',
            status: 'completed',
          },
          { type: 'function_call', call_id: 'call.B', name: 'weather', arguments: '' },
          { type: 'function_call_output', call_id: 'call_A', output: '21C' },
          {
            type: 'function_call_output',
            call_id: 'call.B',
            output: [
              { type: 'input_text', text: 'see chart' },
              { type: 'input_image', image_url: `data:image/png;base64,${PNG}` },
            ],
          },
          user('Thanks'),
        ]).slice(1),
      ).toEqual([
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_A', name: 'weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'call_B', name: 'weather', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_A', content: '21C' },
            {
              type: 'tool_result',
              tool_use_id: 'call_B',
              content: [
                { type: 'text', text: 'see chart' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
              ],
            },
            { type: 'text', text: 'Thanks' },
          ],
        },
      ]);
    });

    it('should leave out the content of an empty function output', () => {
      expect(
        messages([
          user('go'),
          { type: 'function_call', call_id: 'c1', name: 'noop', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c1', output: '' },
        ])[2],
      ).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c1' }] });
    });

    it.each([
      [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{' }, 'input[1].arguments'],
      [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '[1]' }, 'input[1].arguments'],
      [{ type: 'function_call', name: 'f', arguments: '{}' }, 'input[1].call_id'],
      [{ type: 'function_call_output', output: 'x' }, 'input[1].call_id'],
      [{ type: 'function_call_output', call_id: '', output: 'x' }, 'input[1].call_id'],
      [
        {
          type: 'function_call_output',
          call_id: 'c',
          output: [{ type: 'output_text', text: 'x' }],
        },
        'input[1].output[0].type',
      ],
      [
        {
          type: 'function_call_output',
          call_id: 'c',
          output: [{ type: 'encrypted_content', encrypted_content: 'x' }],
        },
        'input[1].output[0].type',
      ],
    ])('should refuse the tool item %j', (item, param) => {
      expect(rejection({ input: [user('go'), item] })).toMatchObject({ param });
    });

    it('should turn custom tool calls into tool_use with the text as input', () => {
      expect(
        messages([
          user('patch it'),
          {
            type: 'custom_tool_call',
            id: 'ctc_1',
            call_id: 'call_P',
            name: 'apply_patch',
            input: '*** Begin Patch\n*** End Patch',
          },
          { type: 'custom_tool_call_output', call_id: 'call_P', output: 'Done!' },
        ]).slice(1),
      ).toEqual([
        {
          role: 'assistant',
          content: [
            {
              type: 'tool_use',
              id: 'call_P',
              name: 'apply_patch',
              input: { input: '*** Begin Patch\n*** End Patch' },
            },
          ],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'call_P', content: 'Done!' }],
        },
      ]);
    });

    it('should turn local shell calls into local_shell tool_use and match outputs by item or call id', () => {
      const call = {
        type: 'local_shell_call',
        id: 'lsh_1',
        call_id: 'call_S',
        status: 'completed',
        action: {
          type: 'exec',
          command: ['ls', '-la'],
          env: {},
          timeout_ms: 1000,
          working_directory: null,
          user: null,
        },
      };
      const expected = [
        {
          role: 'assistant',
          content: [
            {
              type: 'tool_use',
              id: 'call_S',
              name: LOCAL_SHELL_TOOL,
              input: { command: ['ls', '-la'], env: {}, timeout_ms: 1000 },
            },
          ],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'call_S', content: 'a\nb' }],
        },
      ];
      for (const id of ['lsh_1', 'call_S']) {
        expect(
          messages([
            user('list'),
            call,
            { type: 'local_shell_call_output', id, output: 'a\nb' },
          ]).slice(1),
        ).toEqual(expected);
      }
    });

    it('should refuse a local shell action other than exec', () => {
      expect(
        rejection({
          input: [
            user('go'),
            { type: 'local_shell_call', call_id: 'c', status: 'completed', action: { type: 'x' } },
          ],
        }),
      ).toMatchObject({ param: 'input[1].action.type' });
    });
  });

  describe('reasoning in input', () => {
    const thinking = { type: 'thinking', thinking: 'Paris first.', signature: 'SIG' };
    const redacted = { type: 'redacted_thinking', data: 'REDACTED' };

    it('should give Claude its signed thinking back from encrypted_content, first in the turn', () => {
      expect(
        messages([
          user('weather?'),
          {
            type: 'reasoning',
            id: 'rs_1',
            summary: [{ type: 'summary_text', text: 'Paris first.' }],
            encrypted_content: encodeThinking([thinking, redacted]),
          },
          { type: 'function_call', call_id: 'c1', name: 'weather', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c1', output: 'sunny' },
        ])[1],
      ).toEqual({
        role: 'assistant',
        content: [thinking, redacted, { type: 'tool_use', id: 'c1', name: 'weather', input: {} }],
      });
    });

    it("should drop reasoning items Claude cannot read: OpenAI's encrypted reasoning or none", () => {
      expect(
        messages([
          user('hi'),
          { type: 'reasoning', summary: [], encrypted_content: 'gAAAAABo-openai' },
          { type: 'reasoning', summary: [{ type: 'summary_text', text: 'hm' }] },
          { role: 'assistant', content: 'Hello' },
        ]),
      ).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Hello' }] },
      ]);
    });

    it('should refuse encrypted_content that is Switchyard’s but damaged', () => {
      expect(
        rejection({
          input: [
            user('hi'),
            { type: 'reasoning', summary: [], encrypted_content: 'switchyard.thinking.v1:%%%' },
          ],
        }),
      ).toMatchObject({ param: 'input[1].encrypted_content' });
      expect(
        rejection({
          input: [
            user('hi'),
            {
              type: 'reasoning',
              summary: [],
              encrypted_content: encodeThinking([{ type: 'thinking', thinking: 'x' }]),
            },
          ],
        }),
      ).toMatchObject({ param: 'input[1].encrypted_content[0].signature' });
    });

    it('should drop web search calls, whose results live on in the answer after them', () => {
      expect(
        messages([
          user('news?'),
          {
            type: 'web_search_call',
            id: 'ws_1',
            status: 'completed',
            action: { type: 'search', query: 'news' },
          },
          { role: 'assistant', content: 'Here is the news.' },
        ]),
      ).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'news?' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Here is the news.' }] },
      ]);
    });
  });

  describe('tools', () => {
    it('should convert function tools and report their kind', () => {
      const result = plan({
        tools: [weather, { type: 'function', name: 'noop', parameters: null }],
      });
      expect(result.body.tools).toEqual([
        {
          name: 'weather',
          description: 'Weather for a city',
          input_schema: { type: 'object', properties: { city: { type: 'string' } } },
          strict: true,
        },
        { name: 'noop', input_schema: { type: 'object', properties: {} } },
      ]);
      expect([...result.tools]).toEqual([
        ['weather', 'function'],
        ['noop', 'function'],
      ]);
    });

    it('should refuse a function whose schema root is not an object, or without a name', () => {
      expect(
        rejection({ tools: [{ type: 'function', name: 'f', parameters: { type: 'array' } }] }),
      ).toMatchObject({ param: 'tools[0].parameters.type' });
      expect(rejection({ tools: [{ type: 'function', name: '' }] })).toMatchObject({
        param: 'tools[0].name',
      });
      expect(
        rejection({ tools: [{ type: 'function', name: 'f', defer_loading: true }] }),
      ).toMatchObject({ param: 'tools[0].defer_loading' });
    });

    it('should turn a custom tool into a tool taking one string input, its grammar in the description', () => {
      const result = plan({
        tools: [
          codexTools[1],
          { type: 'custom', name: 'note' },
          {
            type: 'custom',
            name: 'digits',
            format: { type: 'grammar', syntax: 'regex', definition: '\\d+' },
          },
        ],
      });
      const [patch, note, digits] = result.body.tools as Json[];
      expect(patch).toEqual({
        name: 'apply_patch',
        description: expect.stringContaining('Use the `apply_patch` tool to edit files.'),
        input_schema: {
          type: 'object',
          properties: { input: { type: 'string', description: 'The free-form text.' } },
          required: ['input'],
          additionalProperties: false,
        },
      });
      expect(patch.description).toContain(
        'The text must match this Lark grammar:\nstart: begin_patch hunk+ end_patch',
      );
      expect(note.description).toContain('"input"');
      expect(digits.description).toContain('regular expression:\n\\d+');
      expect(result.tools.get('apply_patch')).toBe('custom');
    });

    it('should refuse custom tool formats it does not know', () => {
      expect(
        rejection({
          tools: [
            {
              type: 'custom',
              name: 'x',
              format: { type: 'grammar', syntax: 'ebnf', definition: '' },
            },
          ],
        }),
      ).toMatchObject({ param: 'tools[0].format.syntax' });
      expect(
        rejection({ tools: [{ type: 'custom', name: 'x', format: { type: 'json' } }] }),
      ).toMatchObject({ param: 'tools[0].format.type' });
    });

    it('should turn local_shell into a tool taking the exec action', () => {
      const result = plan({ tools: [{ type: 'local_shell' }] });
      expect(result.body.tools).toEqual([
        expect.objectContaining({
          name: LOCAL_SHELL_TOOL,
          input_schema: expect.objectContaining({ required: ['command'] }),
        }),
      ]);
      expect(result.tools.get(LOCAL_SHELL_TOOL)).toBe('local_shell');
    });

    it('should turn live web search into Anthropic’s web search tool with its options', () => {
      expect(
        convert({
          max_tool_calls: 3,
          tools: [
            {
              type: 'web_search',
              external_web_access: true,
              filters: { allowed_domains: ['example.com'] },
              user_location: { type: 'approximate', city: 'Zürich', country: 'CH', region: null },
              search_context_size: 'high',
            },
          ],
        }).tools,
      ).toEqual([
        {
          type: 'web_search_20250305',
          name: 'web_search',
          allowed_domains: ['example.com'],
          user_location: { type: 'approximate', city: 'Zürich', country: 'CH' },
          max_uses: 3,
        },
      ]);
      expect(convert({ tools: [{ type: 'web_search_preview' }] }).tools).toEqual([
        { type: 'web_search_20250305', name: 'web_search' },
      ]);
    });

    it('should leave cached web search out rather than search the live web', () => {
      const body = convert({ tools: [{ type: 'web_search', external_web_access: false }] });
      expect(body).not.toHaveProperty('tools');
      expect(body).not.toHaveProperty('tool_choice');
    });

    it.each([
      'file_search',
      'computer_use_preview',
      'mcp',
      'code_interpreter',
      'image_generation',
      'shell',
      'apply_patch',
      'tool_search',
    ])('should refuse %s tools', (type) => {
      expect(rejection({ tools: [{ type }] })).toMatchObject({
        param: 'tools[0].type',
        openAICode: 'unsupported_value',
      });
    });

    it('should refuse two tools of one name', () => {
      expect(rejection({ tools: [weather, { type: 'custom', name: 'weather' }] })).toMatchObject({
        param: 'tools[1].name',
      });
    });

    it('should convert each tool_choice and parallel_tool_calls', () => {
      const tools = [weather, { type: 'custom', name: 'apply_patch' }];
      expect(convert({ tools, tool_choice: 'auto' }).tool_choice).toEqual({ type: 'auto' });
      expect(convert({ tools, tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
      expect(convert({ tools, tool_choice: 'required' }).tool_choice).toEqual({ type: 'any' });
      expect(
        convert({ tools, tool_choice: { type: 'function', name: 'weather' } }).tool_choice,
      ).toEqual({ type: 'tool', name: 'weather' });
      expect(
        convert({ tools, tool_choice: { type: 'custom', name: 'apply_patch' } }).tool_choice,
      ).toEqual({ type: 'tool', name: 'apply_patch' });
      expect(convert({ tools, parallel_tool_calls: false }).tool_choice).toEqual({
        type: 'auto',
        disable_parallel_tool_use: true,
      });
      expect(convert({ tools, parallel_tool_calls: true })).not.toHaveProperty('tool_choice');
    });

    it('should refuse tool choices that name no such tool, the wrong kind, or hosted tools', () => {
      expect(
        rejection({ tools: [weather], tool_choice: { type: 'function', name: 'other' } }),
      ).toMatchObject({ param: 'tool_choice.name' });
      expect(
        rejection({ tools: [weather], tool_choice: { type: 'custom', name: 'weather' } }),
      ).toMatchObject({ param: 'tool_choice.name' });
      expect(
        rejection({
          tools: [{ type: 'web_search' }],
          tool_choice: { type: 'function', name: 'web_search' },
        }),
      ).toMatchObject({ param: 'tool_choice.name' });
      expect(rejection({ tool_choice: 'required' })).toMatchObject({ param: 'tool_choice' });
      expect(
        rejection({
          tools: [weather],
          tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [] },
        }),
      ).toMatchObject({ param: 'tool_choice', openAICode: 'unsupported_value' });
      expect(
        rejection({ tools: [weather], tool_choice: { type: 'web_search_preview' } }),
      ).toMatchObject({ param: 'tool_choice' });
    });
  });

  describe('reasoning', () => {
    it('should turn reasoning.effort into a thinking budget inside the default max_tokens', () => {
      expect(convert({ reasoning: { effort: 'medium' } })).toMatchObject({
        max_tokens: DEFAULT_MAX_OUTPUT_TOKENS,
        thinking: { type: 'enabled', budget_tokens: 8192 },
      });
      expect(convert({ reasoning: { effort: 'max' } }).thinking).toEqual({
        type: 'enabled',
        budget_tokens: 27648,
      });
      expect(convert({ reasoning: { effort: 'none' } }).thinking).toEqual({ type: 'disabled' });
      expect(convert({ reasoning: { summary: 'auto' } })).not.toHaveProperty('thinking');
    });

    it('should keep max_output_tokens as the cap and halve a budget that does not fit', () => {
      expect(convert({ reasoning: { effort: 'high' }, max_output_tokens: 6000 })).toMatchObject({
        max_tokens: 6000,
        thinking: { type: 'enabled', budget_tokens: 3000 },
      });
      expect(rejection({ reasoning: { effort: 'low' }, max_output_tokens: 1000 })).toMatchObject({
        param: 'max_output_tokens',
        openAICode: 'integer_below_min_value',
      });
    });

    it('should refuse efforts, summaries and modes Claude cannot honour', () => {
      expect(rejection({ reasoning: { effort: 'extreme' } })).toMatchObject({
        param: 'reasoning.effort',
      });
      expect(rejection({ reasoning: { summary: 'verbose' } })).toMatchObject({
        param: 'reasoning.summary',
      });
      expect(rejection({ reasoning: { mode: 'pro' } })).toMatchObject({ param: 'reasoning.mode' });
      expect(rejection({ reasoning: { context: 'everything' } })).toMatchObject({
        param: 'reasoning.context',
      });
      expect(rejection({ reasoning: 'high' })).toMatchObject({ param: 'reasoning' });
    });

    it('should ask for summaries when reasoning.summary (or generate_summary) names one', () => {
      expect(plan({ reasoning: { effort: 'low', summary: 'auto' } }).summaries).toBe(true);
      expect(plan({ reasoning: { effort: 'low', generate_summary: 'concise' } }).summaries).toBe(
        true,
      );
      expect(plan({ reasoning: { effort: 'low', summary: 'none' } }).summaries).toBe(false);
      expect(plan({ reasoning: { effort: 'low', summary: null } }).summaries).toBe(false);
      expect(plan({}).summaries).toBe(false);
    });

    it('should refuse what Claude cannot do while thinking', () => {
      const reasoning = { effort: 'low' };
      expect(rejection({ reasoning, temperature: 0.2 })).toMatchObject({ param: 'temperature' });
      expect(rejection({ reasoning, top_p: 0.5 })).toMatchObject({ param: 'top_p' });
      expect(rejection({ reasoning, tools: [weather], tool_choice: 'required' })).toMatchObject({
        param: 'tool_choice',
      });
      expect(
        rejection({
          reasoning,
          text: { format: { type: 'json_schema', name: 'x', schema: { type: 'object' } } },
        }),
      ).toMatchObject({ param: 'text.format', openAICode: 'unsupported_value' });
    });
  });

  describe('text.format', () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };

    it('should answer a json_schema format through a forced tool', () => {
      const result = plan({
        text: {
          format: {
            type: 'json_schema',
            name: 'verdict',
            description: 'a verdict',
            schema,
            strict: true,
          },
        },
      });
      expect(result).toMatchObject({
        jsonTool: JSON_SCHEMA_TOOL,
        body: {
          tools: [{ name: JSON_SCHEMA_TOOL, input_schema: schema, strict: true }],
          tool_choice: { type: 'tool', name: JSON_SCHEMA_TOOL },
        },
      });
      // The schema's name and description tell Claude what the answer is.
      expect((result.body.tools as Json[])[0].description).toContain(
        '"verdict" schema (a verdict)',
      );
    });

    it('should let Claude choose among client tools and the json_schema tool', () => {
      expect(
        convert({ tools: [weather], text: { format: { type: 'json_schema', name: 'v', schema } } })
          .tool_choice,
      ).toEqual({ type: 'any' });
    });

    it('should instruct Claude to answer in JSON for json_object and do nothing for text', () => {
      expect(convert({ text: { format: { type: 'json_object' } } }).system).toEqual([
        { type: 'text', text: JSON_OBJECT_INSTRUCTION },
      ]);
      expect(convert({ text: { format: { type: 'text' } } })).toEqual(convert({}));
    });

    it('should refuse unknown formats and a json_schema without a name', () => {
      expect(rejection({ text: { format: { type: 'xml' } } })).toMatchObject({
        param: 'text.format.type',
      });
      expect(rejection({ text: { format: { type: 'json_schema', schema } } })).toMatchObject({
        param: 'text.format.name',
      });
    });
  });
});

describe(anthropicMaxTokens.name, () => {
  it('should give the max_tokens the converted request carries', () => {
    expect(anthropicMaxTokens({})).toBe(DEFAULT_MAX_OUTPUT_TOKENS);
    expect(anthropicMaxTokens({ max_output_tokens: 900 })).toBe(900);
    expect(anthropicMaxTokens({ max_output_tokens: 9000, reasoning: { effort: 'high' } })).toBe(
      9000,
    );
  });
});
