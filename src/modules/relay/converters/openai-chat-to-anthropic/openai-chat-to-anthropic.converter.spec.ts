import OpenAI, { BadRequestError } from 'openai';
import {
  AnthropicScript,
  parallelToolCalls,
} from '../../../../../test/factories/anthropic-message.factory';
import { ScriptedUpstream, openAISdkRelay } from '../../../../../test/support/openai-sdk-relay';
import { OpenAIChatToAnthropicConverter } from './openai-chat-to-anthropic.converter';
import { JSON_SCHEMA_TOOL } from './request';

type Json = Record<string, unknown>;

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

function relay(script: ScriptedUpstream): { client: OpenAI; sent: Json[] } {
  return openAISdkRelay(new OpenAIChatToAnthropicConverter(() => NOW), script);
}

/** The parts of a message both forms must agree on (a tool-only stream starts content at ''). */
function essence(choice: any): Json {
  const message = choice.message;
  return {
    content: message.content === '' && message.tool_calls ? null : message.content,
    tool_calls: (message.tool_calls ?? []).map((call: any) => ({
      id: call.id,
      type: call.type,
      name: call.function.name,
      arguments: JSON.parse(call.function.arguments),
    })),
    finish_reason: choice.finish_reason,
  };
}

/** Accumulates raw chunks, reasoning_content and thinking_blocks included (the SDK keeps only the last). */
async function collect(
  stream: AsyncIterable<any>,
): Promise<{ chunks: any[]; reasoning: string; thinkingBlocks: any[] }> {
  const chunks: any[] = [];
  let reasoning = '';
  const thinkingBlocks: any[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    const delta = chunk.choices[0]?.delta;
    if (typeof delta?.reasoning_content === 'string') reasoning += delta.reasoning_content;
    if (Array.isArray(delta?.thinking_blocks)) thinkingBlocks.push(...delta.thinking_blocks);
  }
  return { chunks, reasoning, thinkingBlocks };
}

const toolScript = parallelToolCalls;

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

describe(OpenAIChatToAnthropicConverter.name, () => {
  describe('convert', () => {
    it('should convert from openai-chat to anthropic-messages', () => {
      const converter = new OpenAIChatToAnthropicConverter();
      expect([converter.from, converter.to]).toEqual(['openai-chat', 'anthropic-messages']);
    });

    it('should send the converted Messages request when the openai client calls with tools', async () => {
      const { client, sent } = relay(toolScript);
      await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'Weather in Paris and Zürich?' },
        ],
        tools: [weatherTool],
        parallel_tool_calls: false,
        temperature: 0.2,
        max_completion_tokens: 500,
        user: 'end-user-7',
      });
      expect(sent[0]).toEqual({
        model: 'claude-sonnet-4-5',
        max_tokens: 500,
        system: [{ type: 'text', text: 'You are terse.' }],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Zürich?' }] },
        ],
        tools: [
          {
            name: 'weather',
            input_schema: { type: 'object', properties: { city: { type: 'string' } } },
          },
        ],
        tool_choice: { type: 'auto', disable_parallel_tool_use: true },
        temperature: 0.2,
        metadata: { user_id: 'end-user-7' },
      });
    });
  });

  describe('response', () => {
    it('should give the client a chat.completion with the request id, requested model and created time', async () => {
      const { client } = relay({ content: [{ type: 'text', text: 'Bonjour' }] });
      const completion = await client.chat.completions.create({
        model: 'my-alias',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(completion).toMatchObject({
        id: 'chatcmpl-req-42',
        object: 'chat.completion',
        model: 'my-alias',
        created: Math.floor(NOW / 1000),
        choices: [
          { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Bonjour' } },
        ],
      });
    });
  });

  describe('stream', () => {
    it('should accumulate into the same message as the non-stream response when Claude calls tools in parallel', async () => {
      const params = {
        model: 'gpt-4o',
        messages: [{ role: 'user' as const, content: 'Weather?' }],
        tools: [weatherTool],
      };
      const plain = await relay(toolScript).client.chat.completions.create(params);
      const streamed = await relay(toolScript)
        .client.chat.completions.stream({ ...params, stream_options: { include_usage: true } })
        .finalChatCompletion();
      expect(essence(streamed.choices[0])).toEqual(essence(plain.choices[0]));
      expect(essence(plain.choices[0])).toEqual({
        content: 'Checking both cities…',
        tool_calls: [
          { id: 'toolu_01A', type: 'function', name: 'weather', arguments: { city: 'Paris' } },
          {
            id: 'toolu_01B',
            type: 'function',
            name: 'weather',
            arguments: { city: 'Zürich', days: [1, 2] },
          },
        ],
        finish_reason: 'tool_calls',
      });
      expect(streamed.usage).toEqual(plain.usage);
      expect(plain.usage).toEqual({
        prompt_tokens: 440,
        completion_tokens: 60,
        total_tokens: 500,
        prompt_tokens_details: { cached_tokens: 400, cache_write_tokens: 0 },
      });
    });

    it('should end with a choices-less usage chunk with cached tokens when include_usage is set', async () => {
      const { client } = relay(toolScript);
      const stream = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [weatherTool],
        stream: true,
        stream_options: { include_usage: true },
      });
      const { chunks } = await collect(stream);
      expect(chunks.at(-1)).toMatchObject({
        choices: [],
        usage: { prompt_tokens: 440, prompt_tokens_details: { cached_tokens: 400 } },
      });
      expect(
        chunks.every((chunk) => chunk.id === 'chatcmpl-req-42' && chunk.model === 'gpt-4o'),
      ).toBe(true);
    });
  });

  describe('json_schema round trip', () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, warm: { type: 'boolean' } },
      required: ['city', 'warm'],
      additionalProperties: false,
    };
    const params = {
      model: 'gpt-4o',
      messages: [{ role: 'user' as const, content: 'Is Rome warm?' }],
      response_format: {
        type: 'json_schema' as const,
        json_schema: { name: 'verdict', schema, strict: true },
      },
    };
    const answer: AnthropicScript = {
      content: [
        {
          type: 'tool_use',
          id: 'toolu_J',
          name: JSON_SCHEMA_TOOL,
          input: { city: 'Rome', warm: true },
        },
      ],
      stopReason: 'tool_use',
      deltaSize: 2,
    };

    it('should force the schema tool upstream and hand the client parsed JSON content, streamed or not', async () => {
      const plainRelay = relay(answer);
      const plain = await plainRelay.client.chat.completions.parse(params);
      expect(plainRelay.sent[0]).toMatchObject({
        tools: [{ name: JSON_SCHEMA_TOOL, input_schema: schema, strict: true }],
        tool_choice: { type: 'tool', name: JSON_SCHEMA_TOOL },
      });
      expect(plain.choices[0].message.parsed).toEqual({ city: 'Rome', warm: true });
      expect(plain.choices[0].finish_reason).toBe('stop');

      const streamed = await relay(answer)
        .client.chat.completions.stream(params)
        .finalChatCompletion();
      expect(streamed.choices[0].message.parsed).toEqual({ city: 'Rome', warm: true });
      expect(essence(streamed.choices[0])).toEqual(essence(plain.choices[0]));
    });
  });

  describe('thinking round trip', () => {
    const thinkingScript: AnthropicScript = {
      content: [
        {
          type: 'thinking',
          thinking: 'The user wants Paris weather; call the tool.',
          signature: 'EqoBCkgIARABGAIiQL',
        },
        { type: 'tool_use', id: 'toolu_T1', name: 'weather', input: { city: 'Paris' } },
      ],
      stopReason: 'tool_use',
      usage: {
        input_tokens: 30,
        output_tokens: 80,
        output_tokens_details: { thinking_tokens: 50 },
      },
      deltaSize: 8,
    };

    it('should return reasoning and signed thinking blocks that go back upstream on the next turn', async () => {
      const first = relay(thinkingScript);
      const params = {
        model: 'gpt-4o',
        messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
        tools: [weatherTool],
        reasoning_effort: 'medium' as const,
      };
      const plain = await first.client.chat.completions.create(params);
      expect(first.sent[0]).toMatchObject({
        thinking: { type: 'enabled', budget_tokens: 8192 },
        max_tokens: 8192 + 4096,
      });
      const message = plain.choices[0].message as any;
      expect(message.reasoning_content).toBe('The user wants Paris weather; call the tool.');
      expect(message.thinking_blocks).toEqual([
        {
          type: 'thinking',
          thinking: 'The user wants Paris weather; call the tool.',
          signature: 'EqoBCkgIARABGAIiQL',
        },
      ]);
      expect(plain.usage?.completion_tokens_details).toEqual({ reasoning_tokens: 50 });

      const stream = await relay(thinkingScript).client.chat.completions.create({
        ...params,
        stream: true,
      });
      const streamed = await collect(stream);
      expect(streamed.reasoning).toBe(message.reasoning_content);
      expect(streamed.thinkingBlocks).toEqual(message.thinking_blocks);

      // The client sends the assistant message back as received, plus the tool result.
      const second = relay({ content: [{ type: 'text', text: 'Sunny.' }] });
      await second.client.chat.completions.create({
        ...params,
        messages: [
          ...params.messages,
          message,
          { role: 'tool', tool_call_id: message.tool_calls[0].id, content: '21C, sunny' },
        ],
      });
      expect((second.sent[0].messages as Json[]).slice(1)).toEqual([
        {
          role: 'assistant',
          content: [
            {
              type: 'thinking',
              thinking: 'The user wants Paris weather; call the tool.',
              signature: 'EqoBCkgIARABGAIiQL',
            },
            { type: 'tool_use', id: 'toolu_T1', name: 'weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_T1', content: '21C, sunny' }],
        },
      ]);
    });
  });

  describe('error', () => {
    it("should surface Anthropic's error to the openai client as the matching error class", async () => {
      const { client } = relay({
        status: 400,
        body: '{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}',
      });
      const call = client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
      });
      await expect(call).rejects.toBeInstanceOf(BadRequestError);
      await expect(call).rejects.toMatchObject({
        status: 400,
        type: 'invalid_request_error',
        message: '400 prompt is too long: 210000 tokens > 200000 maximum',
      });
    });
  });
});
