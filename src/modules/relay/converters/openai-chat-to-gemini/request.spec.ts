import type { ConversionInput } from 'src/modules/relay/converters/converter';
import { OpenAIRequestException } from 'src/modules/relay/dialects/openai/openai-error';
import { conversionInput } from '../../../../../test/factories/conversion-input.factory';
import { IGNORED_FIELDS, THINKING_BUDGETS, toGeminiRequest } from './request';

type Json = Record<string, unknown>;

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PDF = Buffer.from('%PDF-1.4 tiny').toString('base64');

function input(body: Json, overrides: Partial<ConversionInput> = {}): ConversionInput {
  return conversionInput(
    { model: 'gpt-4o', ...body },
    { upstreamModel: 'gemini-2.5-pro', ...overrides },
  );
}

const hi = [{ role: 'user', content: 'hi' }];

function convert(body: Json, overrides: Partial<ConversionInput> = {}): any {
  return toGeminiRequest(input({ messages: hi, ...body }, overrides)).body;
}

function rejection(body: Json, overrides: Partial<ConversionInput> = {}): OpenAIRequestException {
  try {
    toGeminiRequest(input({ messages: hi, ...body }, overrides));
  } catch (error) {
    if (error instanceof OpenAIRequestException) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

const weatherCall = {
  id: 'call_abc',
  type: 'function',
  function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
};

describe(toGeminiRequest.name, () => {
  describe('envelope', () => {
    it('should send only the contents when given a minimal request', () => {
      expect(convert({})).toEqual({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    });

    it('should leave the model and the stream choice to the URL when the request streams', () => {
      const body = convert({ stream: true }, { stream: true });
      expect(body.model).toBeUndefined();
      expect(body.stream).toBeUndefined();
    });

    it('should report include_usage when stream_options asks for it', () => {
      const plan = toGeminiRequest(
        input(
          { messages: hi, stream: true, stream_options: { include_usage: true } },
          { stream: true },
        ),
      );
      expect(plan.includeUsage).toBe(true);
    });

    it('should refuse token counting', () => {
      expect(rejection({}, { operation: 'count_tokens' }).message).toContain('token-counting');
    });

    it('should accept and ignore the fields Gemini has no use for', () => {
      const body: Json = {};
      for (const field of IGNORED_FIELDS) body[field] = field === 'metadata' ? { a: 'b' } : 'x';
      expect(convert(body)).toEqual(convert({}));
    });

    it('should refuse an unknown parameter naming it', () => {
      const error = rejection({ frobnicate: 1 });
      expect(error.details).toEqual({ param: 'frobnicate', openAICode: 'unknown_parameter' });
    });
  });

  describe('messages', () => {
    it('should gather system and developer messages into systemInstruction in order', () => {
      const body = convert({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
          { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
        ],
      });
      expect(body.systemInstruction).toEqual({
        parts: [{ text: 'Be brief.' }, { text: 'Use French.' }],
      });
      expect(body.contents).toEqual([{ role: 'user', parts: [{ text: 'hi' }] }]);
    });

    it('should convert user text, data-URL images, linked images, audio and files to parts', () => {
      const body = convert({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              {
                type: 'image_url',
                image_url: { url: `data:image/png;base64,${PNG}`, detail: 'high' },
              },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.JPG?size=2' } },
              { type: 'input_audio', input_audio: { data: PNG, format: 'mp3' } },
              { type: 'file', file: { file_data: `data:application/pdf;base64,${PDF}` } },
              { type: 'file', file: { file_data: PDF, filename: 'a.pdf' } },
            ],
          },
        ],
      });
      expect(body.contents[0].parts).toEqual([
        { text: 'look' },
        { inlineData: { mimeType: 'image/png', data: PNG } },
        { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.JPG?size=2' } },
        { inlineData: { mimeType: 'audio/mp3', data: PNG } },
        { inlineData: { mimeType: 'application/pdf', data: PDF } },
        { inlineData: { mimeType: 'application/pdf', data: PDF } },
      ]);
    });

    it('should refuse a linked image whose type the URL does not tell', () => {
      const error = rejection({
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'https://x.test/img' } }],
          },
        ],
      });
      expect(error.details.param).toBe('messages[0].content[0].image_url.url');
      expect(error.message).toContain('send the file inline');
    });

    it('should refuse data URLs that are not base64 and uploaded files', () => {
      expect(
        rejection({
          messages: [
            {
              role: 'user',
              content: [{ type: 'image_url', image_url: { url: 'data:image/png,abc' } }],
            },
          ],
        }).message,
      ).toContain('base64');
      expect(
        rejection({
          messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }],
        }).details.param,
      ).toBe('messages[0].content[0].file.file_id');
    });

    it('should turn assistant text and tool calls into model parts, keeping Gemini ids and signatures', () => {
      const body = convert({
        messages: [
          { role: 'user', content: 'weather?' },
          {
            role: 'assistant',
            content: 'Checking.',
            reasoning_content: 'ignored',
            tool_calls: [
              { ...weatherCall, extra_content: { google: { thought_signature: 'sig-1' } } },
              {
                id: 'call_sy_req1_1',
                type: 'function',
                function: { name: 'get_time', arguments: '' },
              },
            ],
          },
        ],
      });
      expect(body.contents[1]).toEqual({
        role: 'model',
        parts: [
          { text: 'Checking.' },
          {
            functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: 'call_abc' },
            thoughtSignature: 'sig-1',
          },
          // An id Switchyard made up is not Gemini's: it is not sent back.
          { functionCall: { name: 'get_time', args: {} } },
        ],
      });
    });

    it('should refuse tool call arguments that are not a JSON object', () => {
      const error = rejection({
        messages: [
          {
            role: 'assistant',
            tool_calls: [{ ...weatherCall, function: { name: 'f', arguments: '[1]' } }],
          },
        ],
      });
      expect(error.details.param).toBe('messages[0].tool_calls[0].function.arguments');
    });

    it('should turn tool messages into functionResponse parts named after their call, in one user turn', () => {
      const body = convert({
        messages: [
          { role: 'user', content: 'weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              weatherCall,
              { ...weatherCall, id: 'call_def', function: { name: 'get_time', arguments: '{}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_abc', content: '{"temp":21}' },
          { role: 'tool', tool_call_id: 'call_def', content: [{ type: 'text', text: 'noon' }] },
          { role: 'user', content: 'thanks' },
        ],
      });
      expect(body.contents).toHaveLength(3);
      expect(body.contents[2]).toEqual({
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp: 21 }, id: 'call_abc' } },
          { functionResponse: { name: 'get_time', response: { content: 'noon' }, id: 'call_def' } },
          { text: 'thanks' },
        ],
      });
    });

    it('should wrap a JSON result that is not an object and keep images a tool returned', () => {
      const body = convert({
        messages: [
          { role: 'assistant', tool_calls: [weatherCall] },
          {
            role: 'tool',
            tool_call_id: 'call_abc',
            content: [
              { type: 'text', text: '[1,2]' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            ],
          },
        ],
      });
      expect(body.contents[1].parts).toEqual([
        {
          functionResponse: { name: 'get_weather', response: { content: '[1,2]' }, id: 'call_abc' },
        },
        { inlineData: { mimeType: 'image/png', data: PNG } },
      ]);
    });

    it('should refuse a tool message whose call is unknown', () => {
      const error = rejection({
        messages: [{ role: 'tool', tool_call_id: 'call_x', content: 'r' }],
      });
      expect(error.details.param).toBe('messages[0].tool_call_id');
      expect(error.message).toContain("function's name");
    });

    it('should merge consecutive messages of one role and skip empty ones', () => {
      const body = convert({
        messages: [
          { role: 'user', content: 'a' },
          { role: 'user', content: [{ type: 'text', text: 'b' }] },
          { role: 'assistant', content: '' },
        ],
      });
      expect(body.contents).toEqual([{ role: 'user', parts: [{ text: 'a' }, { text: 'b' }] }]);
    });

    it('should refuse function messages, unknown roles and conversations with only a system prompt', () => {
      expect(
        rejection({ messages: [{ role: 'function', name: 'f', content: 'x' }] }).details.param,
      ).toBe('messages[0].role');
      expect(rejection({ messages: [{ role: 'robot', content: 'x' }] }).details.param).toBe(
        'messages[0].role',
      );
      expect(rejection({ messages: [{ role: 'system', content: 'x' }] }).details.param).toBe(
        'messages',
      );
    });
  });

  describe('tools', () => {
    const tool = {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather now',
        strict: true,
        parameters: {
          $schema: 'http://json-schema.org/draft-07/schema#',
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
          additionalProperties: false,
        },
      },
    };

    it('should declare functions with their JSON Schema as parametersJsonSchema', () => {
      expect(
        convert({ tools: [tool, { type: 'function', function: { name: 'now' } }] }).tools,
      ).toEqual([
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Weather now',
              parametersJsonSchema: {
                type: 'object',
                properties: { city: { type: 'string' } },
                required: ['city'],
                additionalProperties: false,
              },
            },
            { name: 'now' },
          ],
        },
      ]);
    });

    it.each([
      ['none', { mode: 'NONE' }],
      ['auto', { mode: 'AUTO' }],
      ['required', { mode: 'ANY' }],
      [
        { type: 'function', function: { name: 'get_weather' } },
        { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
      ],
    ])('should map tool_choice %j to the function calling config', (choice, config) => {
      expect(convert({ tools: [tool], tool_choice: choice }).toolConfig).toEqual({
        functionCallingConfig: config,
      });
    });

    it('should refuse a forced function that is not among the tools, other tool types and allowed_tools', () => {
      expect(
        rejection({ tools: [tool], tool_choice: { type: 'function', function: { name: 'nope' } } })
          .details.param,
      ).toBe('tool_choice.function.name');
      expect(rejection({ tools: [{ type: 'custom', custom: { name: 'x' } }] }).details.param).toBe(
        'tools[0].type',
      );
      expect(
        rejection({ tools: [tool], tool_choice: { type: 'allowed_tools', allowed_tools: {} } })
          .details.param,
      ).toBe('tool_choice');
    });

    it('should accept parallel_tool_calls true and refuse false', () => {
      expect(convert({ parallel_tool_calls: true })).toEqual(convert({}));
      expect(rejection({ parallel_tool_calls: false }).details.param).toBe('parallel_tool_calls');
    });
  });

  describe('generation config', () => {
    it('should carry the output cap, sampling, stop sequences, seed and penalties', () => {
      expect(
        convert({
          max_completion_tokens: 500,
          max_tokens: 900,
          temperature: 1.5,
          top_p: 0.9,
          stop: ['END', ''],
          seed: 7,
          presence_penalty: 0.5,
          frequency_penalty: 0,
        }).generationConfig,
      ).toEqual({
        maxOutputTokens: 500,
        temperature: 1.5,
        topP: 0.9,
        stopSequences: ['END'],
        seed: 7,
        presencePenalty: 0.5,
      });
      expect(convert({ max_tokens: 900, stop: 'X' }).generationConfig).toEqual({
        maxOutputTokens: 900,
        stopSequences: ['X'],
      });
    });

    it('should refuse malformed values naming them', () => {
      expect(rejection({ max_tokens: 0 }).details.param).toBe('max_tokens');
      expect(rejection({ temperature: 'hot' }).details.param).toBe('temperature');
      expect(rejection({ seed: 1.5 }).details.param).toBe('seed');
      expect(rejection({ stop: 3 }).details.param).toBe('stop');
    });

    it('should ask for JSON, with the schema when one is given', () => {
      expect(convert({ response_format: { type: 'json_object' } }).generationConfig).toEqual({
        responseMimeType: 'application/json',
      });
      const schema = { type: 'object', properties: { a: { type: 'string' } } };
      expect(
        convert({
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'x', strict: true, schema },
          },
        }).generationConfig,
      ).toEqual({ responseMimeType: 'application/json', responseJsonSchema: schema });
      expect(convert({ response_format: { type: 'text' } }).generationConfig).toBeUndefined();
      expect(rejection({ response_format: { type: 'grammar' } }).details.param).toBe(
        'response_format.type',
      );
    });

    it('should turn reasoning_effort into a thinking budget with thoughts included', () => {
      expect(convert({ reasoning_effort: 'medium' }).generationConfig).toEqual({
        thinkingConfig: { thinkingBudget: THINKING_BUDGETS.medium, includeThoughts: true },
      });
      expect(convert({ reasoning_effort: 'none' }).generationConfig).toEqual({
        thinkingConfig: { thinkingBudget: 0 },
      });
    });

    it('should fit the budget under the output cap, which counts thoughts', () => {
      expect(
        convert({ reasoning_effort: 'high', max_completion_tokens: 4000 }).generationConfig,
      ).toEqual({
        maxOutputTokens: 4000,
        thinkingConfig: { thinkingBudget: 2000, includeThoughts: true },
      });
    });

    it('should refuse an unknown reasoning effort', () => {
      expect(rejection({ reasoning_effort: 'extreme' }).details).toEqual({
        param: 'reasoning_effort',
        openAICode: 'unsupported_value',
      });
    });
  });

  describe('refusals', () => {
    it.each([
      ['n', 2],
      ['logprobs', true],
      ['top_logprobs', 3],
      ['logit_bias', { 50256: -100 }],
      ['audio', { voice: 'alloy' }],
      ['modalities', ['text', 'audio']],
      ['prediction', { type: 'content', content: 'x' }],
      ['web_search_options', {}],
      ['functions', [{ name: 'f' }]],
      ['function_call', 'auto'],
      ['moderation', {}],
      ['verbosity', 'low'],
      ['thinking', { type: 'enabled', budget_tokens: 2000 }],
    ])('should refuse %s = %j naming it', (param, value) => {
      expect(rejection({ [param]: value }).details.param).toBe(param);
    });

    it('should accept the neutral values of refused parameters', () => {
      expect(
        convert({
          n: 1,
          logprobs: false,
          top_logprobs: 0,
          modalities: ['text'],
          verbosity: 'medium',
        }),
      ).toEqual(convert({}));
    });

    it('should refuse stream_options without a stream', () => {
      expect(rejection({ stream_options: { include_usage: true } }).details.param).toBe(
        'stream_options',
      );
    });
  });
});
