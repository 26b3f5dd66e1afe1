import OpenAI, { APIError, BadRequestError, RateLimitError } from 'openai';
import type { ConversionInput } from 'src/modules/relay/converters/converter';
import {
  ResponsesScript,
  responsesObject,
  responsesStream,
} from '../../../../../test/factories/openai-response.factory';
import { OpenAIChatToOpenAIResponsesConverter } from './openai-chat-to-openai-responses.converter';

type Json = Record<string, unknown>;

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

type Upstream = ResponsesScript | { httpStatus: number; body: string };

/**
 * A relay in a fetch function: the official openai client sends its request, the converter turns
 * it into a Responses request (kept for inspection), the scripted answer is converted back, and
 * the client parses it, streamed or not, exactly as it would from api.openai.com. With
 * `streamsOnly` the upstream answers every request with its event stream, as the Codex backend
 * does.
 */
function relay(
  upstream: Upstream,
  options: { streamsOnly?: boolean } = {},
): { client: OpenAI; sent: Json[] } {
  const converter = new OpenAIChatToOpenAIResponsesConverter(() => NOW);
  const sent: Json[] = [];
  const fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    // The openai client sends its JSON body as a string.
    const body = JSON.parse(init?.body as string) as Json;
    const input: ConversionInput = {
      body,
      upstreamModel: 'gpt-5-codex',
      requestedModel: String(body.model),
      stream: body.stream === true,
      upstreamStreamsOnly: options.streamsOnly,
      operation: 'generate',
      requestId: 'req-42',
    };
    const conversion = converter.convert(input);
    sent.push(JSON.parse(conversion.body.toString()) as Json);
    if ('httpStatus' in upstream) {
      return new Response(conversion.error(upstream.httpStatus, Buffer.from(upstream.body)), {
        status: upstream.httpStatus,
        headers: { 'content-type': 'application/json' },
      });
    }
    if (!input.stream) {
      const answer =
        options.streamsOnly === true
          ? responsesStream(upstream)
          : Buffer.from(JSON.stringify(responsesObject(upstream)));
      return new Response(conversion.response(answer), {
        headers: { 'content-type': 'application/json' },
      });
    }
    // Feed the upstream bytes in awkward 7-byte pieces, as a network would.
    const bytes = responsesStream(upstream);
    const transform = conversion.stream();
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) out.push(transform.push(bytes.subarray(i, i + 7)));
    out.push(transform.end());
    return new Response(Buffer.concat(out), { headers: { 'content-type': 'text/event-stream' } });
  };
  return {
    client: new OpenAI({ apiKey: 'sk-sy-test', baseURL: 'http://relay/v1', maxRetries: 0, fetch }),
    sent,
  };
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

/** Accumulates raw chunks, reasoning_content and reasoning_details included (the SDK keeps only the last). */
async function collect(
  stream: AsyncIterable<any>,
): Promise<{ chunks: any[]; reasoning: string; details: any[] }> {
  const chunks: any[] = [];
  let reasoning = '';
  const details: any[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    const delta = chunk.choices[0]?.delta;
    if (typeof delta?.reasoning_content === 'string') reasoning += delta.reasoning_content;
    if (Array.isArray(delta?.reasoning_details)) details.push(...delta.reasoning_details);
  }
  return { chunks, reasoning, details };
}

const toolScript: ResponsesScript = {
  output: [
    { type: 'message', text: 'Checking both cities…' },
    { type: 'function_call', callId: 'call_01A', name: 'weather', arguments: '{"city":"Paris"}' },
    {
      type: 'function_call',
      callId: 'call_01B',
      name: 'weather',
      arguments: '{"city":"Zürich","days":[1,2]}',
    },
  ],
  usage: { input_tokens: 440, cached_tokens: 400, output_tokens: 60, reasoning_tokens: 12 },
  deltaSize: 3,
};

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

describe(OpenAIChatToOpenAIResponsesConverter.name, () => {
  describe('convert', () => {
    it('should convert from openai-chat to openai-responses', () => {
      const converter = new OpenAIChatToOpenAIResponsesConverter();
      expect([converter.from, converter.to]).toEqual(['openai-chat', 'openai-responses']);
    });

    it('should send the converted Responses request when the openai client calls with tools', async () => {
      const { client, sent } = relay(toolScript);
      await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'Weather in Paris and Zürich?' },
        ],
        tools: [weatherTool],
        tool_choice: 'auto',
        parallel_tool_calls: true,
        temperature: 0.2,
        max_completion_tokens: 500,
        user: 'end-user-7',
      });
      expect(sent[0]).toEqual({
        model: 'gpt-5-codex',
        instructions: 'You are terse.',
        input: [
          {
            type: 'message',
            role: 'user',
            content: [{ type: 'input_text', text: 'Weather in Paris and Zürich?' }],
          },
        ],
        tools: [
          {
            type: 'function',
            name: 'weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
            strict: false,
          },
        ],
        tool_choice: 'auto',
        parallel_tool_calls: true,
        store: false,
        max_output_tokens: 500,
        temperature: 0.2,
        user: 'end-user-7',
      });
    });
  });

  describe('response', () => {
    it('should give the client a chat.completion with the request id, requested model and created time', async () => {
      const { client } = relay({ output: [{ type: 'message', text: 'Bonjour' }] });
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

    it('should ask a stream-only upstream for a stream and still give a non-stream client one completion', async () => {
      const params = {
        model: 'gpt-4o',
        messages: [{ role: 'user' as const, content: 'Weather?' }],
        tools: [weatherTool],
      };
      const streamsOnly = relay(toolScript, { streamsOnly: true });
      const assembled = await streamsOnly.client.chat.completions.create(params);
      expect(streamsOnly.sent[0].stream).toBe(true);
      const plain = await relay(toolScript).client.chat.completions.create(params);
      expect(assembled).toEqual(plain);
    });
  });

  describe('stream', () => {
    it('should accumulate into the same message as the non-stream response when the model calls tools in parallel', async () => {
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
          { id: 'call_01A', type: 'function', name: 'weather', arguments: { city: 'Paris' } },
          {
            id: 'call_01B',
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
        prompt_tokens_details: { cached_tokens: 400 },
        completion_tokens_details: { reasoning_tokens: 12 },
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

    it('should make the SDK raise when the upstream response fails mid-stream', async () => {
      const { client } = relay({
        output: [{ type: 'message', text: 'Partial answer' }],
        status: 'failed',
        error: { code: 'server_error', message: 'The model crashed.' },
      });
      const stream = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      await expect(collect(stream)).rejects.toBeInstanceOf(APIError);
      await expect(
        collect(
          await relay({
            output: [],
            status: 'failed',
            error: { code: 'server_error', message: 'The model crashed.' },
          }).client.chat.completions.create({
            model: 'gpt-4o',
            messages: [{ role: 'user', content: 'hi' }],
            stream: true,
          }),
        ),
      ).rejects.toThrow(/The model crashed/);
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
    const answer: ResponsesScript = {
      output: [{ type: 'message', text: '{"city":"Rome","warm":true}' }],
      deltaSize: 4,
    };

    it('should send the schema as text.format and hand the client parsed JSON, streamed or not', async () => {
      const plainRelay = relay(answer);
      const plain = await plainRelay.client.chat.completions.parse(params);
      expect(plainRelay.sent[0].text).toEqual({
        format: { type: 'json_schema', name: 'verdict', schema, strict: true },
      });
      expect(plain.choices[0].message.parsed).toEqual({ city: 'Rome', warm: true });
      const streamed = await relay(answer)
        .client.chat.completions.stream(params)
        .finalChatCompletion();
      expect(streamed.choices[0].message.parsed).toEqual({ city: 'Rome', warm: true });
    });
  });

  describe('reasoning round trip', () => {
    const reasoningScript: ResponsesScript = {
      output: [
        {
          type: 'reasoning',
          id: 'rs_7',
          summary: ['The user wants Paris weather; call the tool.'],
          encrypted: 'gAAAAB-opaque',
        },
        {
          type: 'function_call',
          callId: 'call_T1',
          name: 'weather',
          arguments: '{"city":"Paris"}',
        },
      ],
      usage: { input_tokens: 30, output_tokens: 80, reasoning_tokens: 50 },
      deltaSize: 8,
    };

    it('should return reasoning and encrypted details that go back upstream on the next turn', async () => {
      const first = relay(reasoningScript);
      const params = {
        model: 'gpt-4o',
        messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
        tools: [weatherTool],
        reasoning_effort: 'medium' as const,
      };
      const plain = await first.client.chat.completions.create(params);
      expect(first.sent[0]).toMatchObject({
        reasoning: { effort: 'medium', summary: 'auto' },
        include: ['reasoning.encrypted_content'],
      });
      const message = plain.choices[0].message as any;
      expect(message.reasoning_content).toBe('The user wants Paris weather; call the tool.');
      expect(message.reasoning_details).toHaveLength(2);
      expect(plain.usage?.completion_tokens_details).toEqual({ reasoning_tokens: 50 });

      const streamed = await collect(
        await relay(reasoningScript).client.chat.completions.create({ ...params, stream: true }),
      );
      expect(streamed.reasoning).toBe(message.reasoning_content);
      expect(streamed.details).toEqual(message.reasoning_details);

      // The client sends the assistant message back as received, plus the tool result.
      const second = relay({ output: [{ type: 'message', text: 'Sunny.' }] });
      await second.client.chat.completions.create({
        ...params,
        messages: [
          ...params.messages,
          message,
          { role: 'tool', tool_call_id: message.tool_calls[0].id, content: '21C, sunny' },
        ],
      });
      expect((second.sent[0].input as Json[]).slice(1)).toEqual([
        {
          type: 'reasoning',
          id: 'rs_7',
          summary: [{ type: 'summary_text', text: 'The user wants Paris weather; call the tool.' }],
          encrypted_content: 'gAAAAB-opaque',
        },
        {
          type: 'function_call',
          call_id: 'call_T1',
          name: 'weather',
          arguments: '{"city":"Paris"}',
        },
        { type: 'function_call_output', call_id: 'call_T1', output: '21C, sunny' },
      ]);
    });
  });

  describe('error', () => {
    it("should surface the upstream's error to the openai client as the matching error class", async () => {
      const { client } = relay({
        httpStatus: 400,
        body: '{"error":{"message":"Invalid schema for function \'weather\'.","type":"invalid_request_error","param":"tools[0].parameters","code":"invalid_function_parameters"}}',
      });
      const call = client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
        tools: [weatherTool],
      });
      await expect(call).rejects.toBeInstanceOf(BadRequestError);
      await expect(call).rejects.toMatchObject({
        status: 400,
        type: 'invalid_request_error',
        param: 'tools[0].parameters',
        code: 'invalid_function_parameters',
      });
    });

    it("should name the client's field when the Codex backend refuses the one it became", async () => {
      const { client } = relay({
        httpStatus: 400,
        body: '{"detail":"Unsupported parameter: max_output_tokens"}',
      });
      const call = client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
        max_tokens: 100,
      });
      await expect(call).rejects.toMatchObject({
        status: 400,
        param: 'max_completion_tokens',
        message: '400 Unsupported parameter: max_output_tokens (sent as max_completion_tokens)',
      });
    });

    it('should surface a ChatGPT usage limit as a rate limit', async () => {
      const { client } = relay({
        httpStatus: 429,
        body: '{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_in_seconds":60}}',
      });
      await expect(
        client.chat.completions.create({
          model: 'gpt-4o',
          messages: [{ role: 'user', content: 'x' }],
        }),
      ).rejects.toBeInstanceOf(RateLimitError);
    });
  });
});
