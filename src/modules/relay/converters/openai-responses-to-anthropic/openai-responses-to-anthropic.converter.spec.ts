import OpenAI, { APIError, BadRequestError } from 'openai';
import {
  AnthropicScript,
  anthropicStreamEvents,
  sseBytes,
} from '../../../../../test/factories/anthropic-message.factory';
import {
  codexTools,
  thinkingToolCalls,
  webSearchAnswer,
} from '../../../../../test/factories/responses.factory';
import { ScriptedUpstream, openAISdkRelay } from '../../../../../test/support/openai-sdk-relay';
import { OpenAIResponsesToAnthropicConverter } from './openai-responses-to-anthropic.converter';
import { DEFAULT_MAX_OUTPUT_TOKENS, LOCAL_SHELL_TOOL } from './request';

type Json = Record<string, unknown>;

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

function relay(upstream: ScriptedUpstream): { client: OpenAI; sent: Json[] } {
  return openAISdkRelay(new OpenAIResponsesToAnthropicConverter(() => NOW), upstream);
}

const weatherTool = {
  type: 'function' as const,
  name: 'weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
  strict: false,
};

const toolScript = thinkingToolCalls;

const params = {
  model: 'gpt-5',
  input: 'Weather in Paris and Zürich?',
  tools: [weatherTool],
  reasoning: { effort: 'medium' as const, summary: 'auto' as const },
  include: ['reasoning.encrypted_content' as const],
  store: false,
};

describe(OpenAIResponsesToAnthropicConverter.name, () => {
  describe('convert', () => {
    it('should convert from openai-responses to anthropic-messages', () => {
      const converter = new OpenAIResponsesToAnthropicConverter();
      expect([converter.from, converter.to]).toEqual(['openai-responses', 'anthropic-messages']);
    });

    it('should send Claude what Codex CLI asks for: its instructions, tools and reasoning', async () => {
      const { client, sent } = relay({ content: [{ type: 'text', text: 'ok' }] });
      // The body Codex CLI sends (codex-rs/codex-api/src/common.rs ResponsesApiRequest).
      await client.responses.create({
        model: 'gpt-5-codex',
        instructions: 'You are Codex, a coding agent.',
        input: [
          {
            type: 'message',
            role: 'developer',
            content: [{ type: 'input_text', text: '<permissions/>' }],
          },
          {
            type: 'message',
            role: 'user',
            content: [{ type: 'input_text', text: 'List the files.' }],
          },
        ],
        tools: codexTools as any,
        tool_choice: 'auto',
        parallel_tool_calls: true,
        reasoning: { effort: 'high', summary: 'auto' },
        store: false,
        stream: false,
        include: ['reasoning.encrypted_content'],
        prompt_cache_key: '0199-conversation',
        text: { verbosity: 'low' },
        client_metadata: { 'x-codex-installation-id': 'install-1' },
      } as any);
      expect(sent[0]).toMatchObject({
        model: 'claude-sonnet-4-5',
        max_tokens: DEFAULT_MAX_OUTPUT_TOKENS,
        system: [
          { type: 'text', text: 'You are Codex, a coding agent.' },
          { type: 'text', text: '<permissions/>' },
        ],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'List the files.' }] }],
        tool_choice: { type: 'auto' },
        thinking: { type: 'enabled', budget_tokens: 16384 },
      });
      expect((sent[0].tools as Json[]).map((tool) => tool.name)).toEqual([
        'shell',
        'apply_patch',
        LOCAL_SHELL_TOOL,
      ]);
    });
  });

  describe('response', () => {
    it('should give the client a Response with the request id, requested model and output_text', async () => {
      const { client } = relay({ content: [{ type: 'text', text: 'Bonjour' }] });
      const response = await client.responses.create({ model: 'my-alias', input: 'hi' });
      expect(response).toMatchObject({
        id: 'resp_req-42',
        object: 'response',
        created_at: Math.floor(NOW / 1000),
        model: 'my-alias',
        status: 'completed',
        output_text: 'Bonjour',
      });
    });

    it('should surface Anthropic’s error to the openai client as the matching error class', async () => {
      const { client } = relay({
        status: 400,
        body: '{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}',
      });
      const call = client.responses.create({ model: 'gpt-5', input: 'x' });
      await expect(call).rejects.toBeInstanceOf(BadRequestError);
      await expect(call).rejects.toMatchObject({
        status: 400,
        type: 'invalid_request_error',
        message: '400 prompt is too long: 210000 tokens > 200000 maximum',
      });
    });
  });

  describe('stream', () => {
    it('should accumulate into the same Response as the non-stream answer when Claude thinks and calls tools in parallel', async () => {
      const plain = await relay(toolScript).client.responses.parse(params);
      const streamed = await relay(toolScript).client.responses.stream(params).finalResponse();
      expect(streamed).toEqual(plain);
      expect(plain.output.map((item) => item.type)).toEqual([
        'reasoning',
        'message',
        'function_call',
        'function_call',
      ]);
      expect(plain.output[0]).toMatchObject({
        summary: [
          { type: 'summary_text', text: 'The user wants two cities; call the tool twice.' },
        ],
      });
      expect(plain.output.slice(2)).toMatchObject([
        {
          call_id: 'toolu_01A',
          name: 'weather',
          arguments: '{"city":"Paris"}',
          status: 'completed',
        },
        {
          call_id: 'toolu_01B',
          name: 'weather',
          arguments: '{"city":"Zürich","days":[1,2]}',
          status: 'completed',
        },
      ]);
      expect(plain.usage).toEqual({
        input_tokens: 440,
        input_tokens_details: { cached_tokens: 400, cache_write_tokens: 0 },
        output_tokens: 60,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 500,
      });
    });

    it('should give responses.create({stream: true}) numbered events ending in response.completed', async () => {
      const stream = await relay(toolScript).client.responses.create({ ...params, stream: true });
      const events: any[] = [];
      for await (const event of stream) events.push(event);
      expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, i) => i));
      expect(events[0].type).toBe('response.created');
      expect(events.at(-1)).toMatchObject({
        type: 'response.completed',
        response: { id: 'resp_req-42', status: 'completed' },
      });
    });

    it('should let the SDK accumulate a web search with citations and a cut-off answer', async () => {
      const script: AnthropicScript = { ...webSearchAnswer, stopReason: 'max_tokens' };
      const request = {
        model: 'gpt-5',
        input: 'news?',
        tools: [{ type: 'web_search' as const }],
        include: ['web_search_call.action.sources' as const],
      };
      const plain = await relay(script).client.responses.parse(request);
      const streamed = await relay(script).client.responses.stream(request).finalResponse();
      expect(streamed).toEqual(plain);
      expect(plain).toMatchObject({
        status: 'incomplete',
        incomplete_details: { reason: 'max_output_tokens' },
        output_text: 'Big news today',
        output: [
          {
            type: 'web_search_call',
            status: 'completed',
            action: {
              type: 'search',
              query: 'news',
              sources: [{ type: 'url', url: 'https://n.example' }],
            },
          },
          {
            type: 'message',
            status: 'incomplete',
            content: [
              {
                annotations: [
                  {
                    type: 'url_citation',
                    start_index: 0,
                    end_index: 14,
                    url: 'https://n.example',
                    title: 'N',
                  },
                ],
              },
            ],
          },
        ],
      });
    });

    it('should raise an upstream error mid-stream as an APIError in the openai client', async () => {
      const upstream = anthropicStreamEvents({ content: [{ type: 'text', text: 'Partial' }] });
      const bytes = sseBytes([
        ...upstream.slice(0, 3),
        ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
      ]);
      const stream = relay({ stream: bytes }).client.responses.stream({
        model: 'gpt-5',
        input: 'hi',
      });
      await expect(stream.finalResponse()).rejects.toBeInstanceOf(APIError);
      await expect(stream.finalResponse()).rejects.toMatchObject({ message: 'Overloaded' });
    });
  });

  describe('json_schema round trip', () => {
    it('should force the schema tool upstream and hand the client parsed JSON, streamed or not', async () => {
      const schema = {
        type: 'object',
        properties: { city: { type: 'string' }, warm: { type: 'boolean' } },
        required: ['city', 'warm'],
        additionalProperties: false,
      };
      const request = {
        model: 'gpt-5',
        input: 'Is Rome warm?',
        text: { format: { type: 'json_schema' as const, name: 'verdict', schema, strict: true } },
      };
      const answer: AnthropicScript = {
        content: [
          {
            type: 'tool_use',
            id: 'toolu_J',
            name: 'switchyard_json_response',
            input: { city: 'Rome', warm: true },
          },
        ],
        stopReason: 'tool_use',
        deltaSize: 2,
      };
      const plainRelay = relay(answer);
      const plain = await plainRelay.client.responses.parse(request);
      expect(plainRelay.sent[0]).toMatchObject({
        tool_choice: { type: 'tool', name: 'switchyard_json_response' },
      });
      expect(plain.output_parsed).toEqual({ city: 'Rome', warm: true });
      const streamed = await relay(answer).client.responses.stream(request).finalResponse();
      expect(streamed.output_parsed).toEqual({ city: 'Rome', warm: true });
      expect(streamed).toEqual(plain);
    });
  });

  describe('thinking round trip', () => {
    it('should continue tool use with thinking when the client sends the output items back, as Codex does', async () => {
      const first = await relay(toolScript).client.responses.stream(params).finalResponse();
      const second = relay({ content: [{ type: 'text', text: 'Sunny in both.' }] });
      await second.client.responses.create({
        ...params,
        input: [
          { role: 'user', content: 'Weather in Paris and Zürich?' },
          ...(first.output as any[]),
          { type: 'function_call_output', call_id: 'toolu_01A', output: '21C' },
          { type: 'function_call_output', call_id: 'toolu_01B', output: '17C' },
        ],
      });
      expect((second.sent[0].messages as Json[]).slice(1)).toEqual([
        {
          role: 'assistant',
          content: toolScript.content,
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_01A', content: '21C' },
            { type: 'tool_result', tool_use_id: 'toolu_01B', content: '17C' },
          ],
        },
      ]);
    });
  });
});
