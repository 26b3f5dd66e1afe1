import OpenAI, { RateLimitError } from 'openai';
import type { ConversionInput } from 'src/modules/relay/converters/converter';
import { ConverterRegistry } from 'src/modules/relay/converters/converter.registry';
import {
  geminiResponse,
  geminiSse,
  splitEvery,
} from '../../../../../test/factories/gemini-chunks.factory';
import { OpenAIChatToGeminiConverter } from './openai-chat-to-gemini.converter';

type Json = Record<string, unknown>;

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

type Upstream = { chunks: Json[] } | { httpStatus: number; body: string };

/**
 * A relay in a fetch function: the official openai client sends its request, the converter turns
 * it into a Gemini request (kept for inspection), the scripted Gemini answer (its chunks merged
 * for a non-stream request, as generateContent would answer) is converted back, and the client
 * parses it exactly as it would from api.openai.com.
 */
function relay(upstream: Upstream): { client: OpenAI; sent: Json[] } {
  const converter = new OpenAIChatToGeminiConverter(() => NOW);
  const sent: Json[] = [];
  const fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = JSON.parse(init?.body as string) as Json;
    const input: ConversionInput = {
      body,
      upstreamModel: 'gemini-2.5-flash',
      requestedModel: String(body.model),
      stream: body.stream === true,
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
      const last = upstream.chunks.at(-1) as any;
      const parts = upstream.chunks.flatMap((c: any) => c.candidates[0].content.parts);
      const whole = geminiResponse(parts, {
        finishReason: last.candidates[0].finishReason,
        usage: last.usageMetadata,
      });
      return new Response(conversion.response(Buffer.from(JSON.stringify(whole))), {
        headers: { 'content-type': 'application/json' },
      });
    }
    const transform = conversion.stream();
    const out = splitEvery(geminiSse(upstream.chunks), 5).map((piece) => transform.push(piece));
    out.push(transform.end());
    return new Response(Buffer.concat(out), { headers: { 'content-type': 'text/event-stream' } });
  };
  return {
    client: new OpenAI({ apiKey: 'sk-sy-test', baseURL: 'http://relay/v1', maxRetries: 0, fetch }),
    sent,
  };
}

const usage = {
  promptTokenCount: 300,
  cachedContentTokenCount: 100,
  candidatesTokenCount: 40,
  thoughtsTokenCount: 25,
  totalTokenCount: 365,
};

const toolAnswer: Upstream = {
  chunks: [
    geminiResponse([{ text: 'Checking ' }]),
    geminiResponse([{ text: 'both…' }]),
    geminiResponse([
      { functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-A' },
      { functionCall: { name: 'weather', args: { city: 'Zürich' } } },
    ]),
    geminiResponse([], { finishReason: 'STOP', usage }),
  ],
};

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

describe(OpenAIChatToGeminiConverter.name, () => {
  describe('convert', () => {
    it('should be the registered converter from openai-chat to gemini', () => {
      const registry = new ConverterRegistry();
      expect(registry.between('openai-chat', 'gemini')).toBeInstanceOf(OpenAIChatToGeminiConverter);
      expect(registry.plan('openai-chat', ['gemini']).converter).toBeInstanceOf(
        OpenAIChatToGeminiConverter,
      );
    });

    it('should send the converted request and give the openai client the completion', async () => {
      const { client, sent } = relay(toolAnswer);
      const completion = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'user', content: 'Weather in Paris and Zürich?' },
        ],
        tools: [weatherTool],
        tool_choice: 'required',
      });
      expect(sent[0]).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'Weather in Paris and Zürich?' }] }],
        systemInstruction: { parts: [{ text: 'Be terse.' }] },
        tools: [
          {
            functionDeclarations: [
              {
                name: 'weather',
                parametersJsonSchema: {
                  type: 'object',
                  properties: { city: { type: 'string' } },
                },
              },
            ],
          },
        ],
        toolConfig: { functionCallingConfig: { mode: 'ANY' } },
      });
      expect(completion.id).toBe('chatcmpl-req-42');
      expect(completion.created).toBe(NOW / 1000);
      expect(completion.choices[0].message.content).toBe('Checking both…');
      expect(completion.choices[0].message.tool_calls?.map((c: any) => c.function)).toEqual([
        { name: 'weather', arguments: '{"city":"Paris"}' },
        { name: 'weather', arguments: '{"city":"Zürich"}' },
      ]);
      expect(completion.usage?.completion_tokens).toBe(65);
    });

    it('should stream what the non-stream answer holds, through the openai client', async () => {
      const { client } = relay(toolAnswer);
      const whole = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [weatherTool],
      });
      const { client: streaming } = relay(toolAnswer);
      const stream = streaming.chat.completions.stream({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [weatherTool],
        stream_options: { include_usage: true },
      });
      const streamed = await stream.finalChatCompletion();
      expect(streamed.choices[0].message.content).toBe(whole.choices[0].message.content);
      expect(streamed.choices[0].finish_reason).toBe('tool_calls');
      expect(
        streamed.choices[0].message.tool_calls?.map((call: any) => [call.id, call.function]),
      ).toEqual(whole.choices[0].message.tool_calls?.map((call: any) => [call.id, call.function]));
      expect(streamed.usage).toEqual(whole.usage);
    });

    it('should give the thought signature back on the next turn as Gemini sent it', async () => {
      const { client, sent } = relay(toolAnswer);
      const first = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [weatherTool],
      });
      const message = first.choices[0].message;
      const { client: next, sent: nextSent } = relay({
        chunks: [geminiResponse([{ text: 'Sunny.' }], { finishReason: 'STOP' })],
      });
      await next.chat.completions.create({
        model: 'gpt-4o',
        tools: [weatherTool],
        messages: [
          { role: 'user', content: 'Weather?' },
          message,
          ...(message.tool_calls ?? []).map((call) => ({
            role: 'tool' as const,
            tool_call_id: call.id,
            content: '{"sky":"clear"}',
          })),
        ],
      });
      expect(sent).toHaveLength(1);
      expect((nextSent[0].contents as any[])[1]).toEqual({
        role: 'model',
        parts: [
          { text: 'Checking both…' },
          { functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-A' },
          { functionCall: { name: 'weather', args: { city: 'Zürich' } } },
        ],
      });
      expect((nextSent[0].contents as any[])[2].parts).toEqual([
        { functionResponse: { name: 'weather', response: { sky: 'clear' } } },
        { functionResponse: { name: 'weather', response: { sky: 'clear' } } },
      ]);
    });

    it('should give the openai client a RateLimitError for a Gemini 429', async () => {
      const { client } = relay({
        httpStatus: 429,
        body: JSON.stringify({
          error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' },
        }),
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
