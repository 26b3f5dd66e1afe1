import type { ConversionInput } from 'src/modules/relay/converters/converter';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import { conversionInput } from '../../../../../test/factories/conversion-input.factory';
import { toGeminiRequest } from './request';

type Json = Record<string, unknown>;

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PDF = Buffer.from('%PDF-1.4 tiny').toString('base64');

function input(body: Json, overrides: Partial<ConversionInput> = {}): ConversionInput {
  return conversionInput(
    { model: 'claude-sonnet-4-5', max_tokens: 1000, ...body },
    { upstreamModel: 'gemini-2.5-pro', ...overrides },
  );
}

const hi = [{ role: 'user', content: 'hi' }];

function convert(body: Json, overrides: Partial<ConversionInput> = {}): any {
  return toGeminiRequest(input({ messages: hi, ...body }, overrides));
}

function rejection(body: Json, overrides: Partial<ConversionInput> = {}): RelayException {
  try {
    toGeminiRequest(input({ messages: hi, ...body }, overrides));
  } catch (error) {
    if (error instanceof RelayException) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

const toolUse = { type: 'tool_use', id: 'toolu_01', name: 'read_file', input: { path: 'a.ts' } };

describe(toGeminiRequest.name, () => {
  describe('envelope', () => {
    it('should send the contents and max_tokens as maxOutputTokens', () => {
      expect(convert({})).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        generationConfig: { maxOutputTokens: 1000 },
      });
    });

    it('should wrap the request for countTokens, naming the model, without needing max_tokens', () => {
      expect(
        convert({ max_tokens: undefined, system: 'S' }, { operation: 'count_tokens' }),
      ).toEqual({
        generateContentRequest: {
          model: 'models/gemini-2.5-pro',
          contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
          systemInstruction: { parts: [{ text: 'S' }] },
        },
      });
    });

    it('should accept and ignore metadata, service_tier, context_management and cache_control', () => {
      const plain = convert({ system: [{ type: 'text', text: 'S' }] });
      expect(
        convert({
          metadata: { user_id: 'u-1' },
          service_tier: 'auto',
          context_management: { edits: [] },
          cache_control: { type: 'ephemeral' },
          system: [{ type: 'text', text: 'S', cache_control: { type: 'ephemeral' } }],
        }),
      ).toEqual(plain);
    });

    it('should refuse unknown fields and a missing max_tokens as a 400 naming them', () => {
      const unknown = rejection({ frobnicate: true });
      expect(unknown.code).toBe(RelayExceptionCode.INVALID_REQUEST);
      expect(unknown.status).toBe(400);
      expect(unknown.param).toBe('frobnicate');
      expect(rejection({ max_tokens: undefined }).param).toBe('max_tokens');
      expect(rejection({ max_tokens: -1 }).param).toBe('max_tokens');
    });
  });

  describe('system and messages', () => {
    it('should turn a system string or text blocks into systemInstruction', () => {
      expect(convert({ system: 'Be brief.' }).systemInstruction).toEqual({
        parts: [{ text: 'Be brief.' }],
      });
      expect(
        convert({
          system: [
            { type: 'text', text: 'A' },
            { type: 'text', text: 'B' },
          ],
        }).systemInstruction,
      ).toEqual({ parts: [{ text: 'A' }, { text: 'B' }] });
      expect(rejection({ system: [{ type: 'image' }] }).param).toBe('system.0.type');
    });

    it('should convert text, images and documents from base64, URLs and text', () => {
      const body = convert({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look', cache_control: { type: 'ephemeral' } },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
              { type: 'image', source: { type: 'url', url: 'https://x.test/a.webp' } },
              {
                type: 'document',
                source: { type: 'base64', media_type: 'application/pdf', data: PDF },
              },
              { type: 'document', source: { type: 'url', url: 'https://x.test/doc' } },
              {
                type: 'document',
                source: { type: 'text', media_type: 'text/plain', data: 'notes' },
              },
            ],
          },
        ],
      });
      expect(body.contents[0].parts).toEqual([
        { text: 'look' },
        { inlineData: { mimeType: 'image/png', data: PNG } },
        { fileData: { mimeType: 'image/webp', fileUri: 'https://x.test/a.webp' } },
        { inlineData: { mimeType: 'application/pdf', data: PDF } },
        { fileData: { mimeType: 'application/pdf', fileUri: 'https://x.test/doc' } },
        { text: 'notes' },
      ]);
    });

    it('should refuse images Gemini cannot be given', () => {
      const linked = rejection({
        messages: [
          {
            role: 'user',
            content: [{ type: 'image', source: { type: 'url', url: 'https://x/i' } }],
          },
        ],
      });
      expect(linked.param).toBe('messages.0.content.0.source.url');
      expect(
        rejection({
          messages: [
            { role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] },
          ],
        }).param,
      ).toBe('messages.0.content.0.source.type');
      expect(
        rejection({
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: '!!' } },
              ],
            },
          ],
        }).param,
      ).toBe('messages.0.content.0.source.data');
    });

    it('should turn tool_use into functionCall and tool_result into functionResponse named after it', () => {
      const body = convert({
        messages: [
          { role: 'user', content: 'read it' },
          { role: 'assistant', content: [{ type: 'text', text: 'Reading.' }, toolUse] },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_01', content: 'export {}' },
              { type: 'text', text: 'go on' },
            ],
          },
        ],
      });
      expect(body.contents.slice(1)).toEqual([
        {
          role: 'model',
          parts: [
            { text: 'Reading.' },
            { functionCall: { name: 'read_file', args: { path: 'a.ts' }, id: 'toolu_01' } },
          ],
        },
        {
          role: 'user',
          parts: [
            {
              functionResponse: {
                name: 'read_file',
                response: { content: 'export {}' },
                id: 'toolu_01',
              },
            },
            { text: 'go on' },
          ],
        },
      ]);
    });

    it('should send JSON object results as they are, errors as {error} and images after the result', () => {
      const body = convert({
        messages: [
          { role: 'assistant', content: [toolUse, { ...toolUse, id: 'toolu_sy_req1_1' }] },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_01',
                content: [
                  { type: 'text', text: '{"lines":3}' },
                  { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
                ],
              },
              {
                type: 'tool_result',
                tool_use_id: 'toolu_sy_req1_1',
                content: 'ENOENT',
                is_error: true,
              },
            ],
          },
        ],
      });
      expect(body.contents[0].parts[1]).toEqual({
        functionCall: { name: 'read_file', args: { path: 'a.ts' } },
      });
      expect(body.contents[1].parts).toEqual([
        { functionResponse: { name: 'read_file', response: { lines: 3 }, id: 'toolu_01' } },
        { inlineData: { mimeType: 'image/png', data: PNG } },
        // A made-up id is not Gemini's: not sent back.
        { functionResponse: { name: 'read_file', response: { error: 'ENOENT' } } },
      ]);
    });

    it('should refuse a tool_result without a matching tool_use', () => {
      const error = rejection({
        messages: [
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'r' }],
          },
        ],
      });
      expect(error.param).toBe('messages.0.content.0.tool_use_id');
      expect(error.message).toContain("function's name");
    });

    it('should give thought signatures back where Gemini put them and drop redacted thinking', () => {
      const body = convert({
        messages: [
          { role: 'user', content: 'hi' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'Plan.', signature: 'sig-thought' },
              { type: 'thinking', thinking: 'Unsigned.', signature: '' },
              { type: 'redacted_thinking', data: 'claude-secret' },
              { type: 'thinking', thinking: '', signature: 'sig-call' },
              toolUse,
              { type: 'text', text: 'Done.' },
              { type: 'thinking', thinking: '', signature: 'sig-last' },
            ],
          },
        ],
      });
      expect(body.contents[1].parts).toEqual([
        { text: 'Plan.', thought: true, thoughtSignature: 'sig-thought' },
        { text: 'Unsigned.', thought: true },
        {
          functionCall: { name: 'read_file', args: { path: 'a.ts' }, id: 'toolu_01' },
          thoughtSignature: 'sig-call',
        },
        { text: 'Done.' },
        { text: '', thoughtSignature: 'sig-last' },
      ]);
    });

    it('should refuse server tool blocks and unknown roles', () => {
      expect(
        rejection({
          messages: [
            {
              role: 'assistant',
              content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }],
            },
          ],
        }).param,
      ).toBe('messages.0.content.0.type');
      expect(rejection({ messages: [{ role: 'system', content: 'x' }] }).param).toBe(
        'messages.0.role',
      );
    });
  });

  describe('tools', () => {
    const tool = {
      name: 'read_file',
      description: 'Reads a file',
      cache_control: { type: 'ephemeral' },
      input_schema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: { path: { type: 'string' } },
        required: ['path'],
        additionalProperties: false,
      },
    };

    it('should declare custom tools with input_schema as parametersJsonSchema', () => {
      expect(convert({ tools: [tool, { type: 'custom', name: 'now' }] }).tools).toEqual([
        {
          functionDeclarations: [
            {
              name: 'read_file',
              description: 'Reads a file',
              parametersJsonSchema: {
                type: 'object',
                properties: { path: { type: 'string' } },
                required: ['path'],
                additionalProperties: false,
              },
            },
            { name: 'now' },
          ],
        },
      ]);
    });

    it('should refuse server tools', () => {
      const error = rejection({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] });
      expect(error.param).toBe('tools.0.type');
    });

    it.each([
      [{ type: 'auto' }, { mode: 'AUTO' }],
      [{ type: 'any' }, { mode: 'ANY' }],
      [{ type: 'none' }, { mode: 'NONE' }],
      [
        { type: 'tool', name: 'read_file' },
        { mode: 'ANY', allowedFunctionNames: ['read_file'] },
      ],
    ])('should map tool_choice %j to the function calling config', (choice, config) => {
      expect(convert({ tools: [tool], tool_choice: choice }).toolConfig).toEqual({
        functionCallingConfig: config,
      });
    });

    it('should refuse a tool choice Gemini cannot honour', () => {
      expect(rejection({ tools: [tool], tool_choice: { type: 'tool', name: 'x' } }).param).toBe(
        'tool_choice.name',
      );
      expect(
        rejection({ tools: [tool], tool_choice: { type: 'auto', disable_parallel_tool_use: true } })
          .param,
      ).toBe('tool_choice.disable_parallel_tool_use');
    });
  });

  describe('generation config', () => {
    it('should carry temperature, top_p, top_k and stop sequences', () => {
      expect(
        convert({ temperature: 0.3, top_p: 0.8, top_k: 40, stop_sequences: ['###'] })
          .generationConfig,
      ).toEqual({
        maxOutputTokens: 1000,
        temperature: 0.3,
        topP: 0.8,
        topK: 40,
        stopSequences: ['###'],
      });
      expect(rejection({ top_k: 1.5 }).param).toBe('top_k');
      expect(rejection({ stop_sequences: 'x' }).param).toBe('stop_sequences');
    });

    it('should turn thinking into a thinking config with thoughts included', () => {
      expect(
        convert({ max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 2048 } })
          .generationConfig,
      ).toEqual({
        maxOutputTokens: 8000,
        thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
      });
      expect(convert({ thinking: { type: 'disabled' } }).generationConfig.thinkingConfig).toEqual({
        thinkingBudget: 0,
      });
      expect(
        convert({ thinking: { type: 'adaptive', display: 'omitted' } }).generationConfig
          .thinkingConfig,
      ).toEqual({ thinkingBudget: -1, includeThoughts: false });
    });

    it('should refuse thinking budgets Anthropic would refuse', () => {
      expect(rejection({ thinking: { type: 'enabled', budget_tokens: 500 } }).param).toBe(
        'thinking.budget_tokens',
      );
      expect(rejection({ thinking: { type: 'enabled', budget_tokens: 2000 } }).message).toContain(
        'less than max_tokens',
      );
      expect(rejection({ thinking: { type: 'sometimes' } }).param).toBe('thinking.type');
    });

    it('should ask for JSON with the schema of output_config.format or output_format', () => {
      const schema = { type: 'object', properties: { a: { type: 'string' } } };
      const expected = {
        maxOutputTokens: 1000,
        responseMimeType: 'application/json',
        responseJsonSchema: schema,
      };
      expect(
        convert({ output_config: { format: { type: 'json_schema', schema }, effort: 'high' } })
          .generationConfig,
      ).toEqual(expected);
      expect(convert({ output_format: { type: 'json_schema', schema } }).generationConfig).toEqual(
        expected,
      );
      expect(rejection({ output_config: { task_budget: 1 } }).param).toBe(
        'output_config.task_budget',
      );
    });
  });
});
