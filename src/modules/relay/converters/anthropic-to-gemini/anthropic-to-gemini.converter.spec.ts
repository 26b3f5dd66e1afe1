import Anthropic, { InternalServerError } from '@anthropic-ai/sdk';
import type { ConversionInput } from 'src/modules/relay/converters/converter';
import { ConverterRegistry } from 'src/modules/relay/converters/converter.registry';
import {
  geminiResponse,
  geminiSse,
  splitEvery,
} from '../../../../../test/factories/gemini-chunks.factory';
import { AnthropicToGeminiConverter } from './anthropic-to-gemini.converter';

type Json = Record<string, unknown>;

type Upstream = { chunks: Json[] } | { httpStatus: number; body: string } | { tokens: number };

/**
 * A relay in a fetch function: the official Anthropic client sends its request, the converter
 * turns it into a Gemini request (kept for inspection), the scripted Gemini answer (its chunks
 * merged for a non-stream request) is converted back, and the client parses it exactly as it
 * would from api.anthropic.com.
 */
function relay(upstream: Upstream): { client: Anthropic; sent: Json[] } {
  const converter = new AnthropicToGeminiConverter();
  const sent: Json[] = [];
  const fetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = JSON.parse(init?.body as string) as Json;
    const input: ConversionInput = {
      body,
      upstreamModel: 'gemini-2.5-pro',
      requestedModel: String(body.model),
      stream: body.stream === true,
      operation: (url instanceof Request ? url.url : url.toString()).includes('count_tokens')
        ? 'count_tokens'
        : 'generate',
      requestId: 'req-7',
    };
    const conversion = converter.convert(input);
    sent.push(JSON.parse(conversion.body.toString()) as Json);
    const json = { 'content-type': 'application/json' };
    if ('httpStatus' in upstream) {
      return new Response(conversion.error(upstream.httpStatus, Buffer.from(upstream.body)), {
        status: upstream.httpStatus,
        headers: json,
      });
    }
    if ('tokens' in upstream) {
      const answer = Buffer.from(JSON.stringify({ totalTokens: upstream.tokens }));
      return new Response(conversion.response(answer), { headers: json });
    }
    if (!input.stream) {
      const last = upstream.chunks.at(-1) as any;
      const parts = upstream.chunks.flatMap((c: any) => c.candidates[0].content.parts);
      const whole = geminiResponse(parts, {
        finishReason: last.candidates[0].finishReason,
        usage: last.usageMetadata,
      });
      return new Response(conversion.response(Buffer.from(JSON.stringify(whole))), {
        headers: json,
      });
    }
    const transform = conversion.stream();
    const out = splitEvery(geminiSse(upstream.chunks), 3).map((piece) => transform.push(piece));
    out.push(transform.end());
    return new Response(Buffer.concat(out), { headers: { 'content-type': 'text/event-stream' } });
  };
  return {
    client: new Anthropic({ apiKey: 'sk-sy-test', baseURL: 'http://relay', maxRetries: 0, fetch }),
    sent,
  };
}

const usage = {
  promptTokenCount: 500,
  cachedContentTokenCount: 200,
  candidatesTokenCount: 30,
  thoughtsTokenCount: 70,
  totalTokenCount: 600,
};

const answer: Upstream = {
  chunks: [
    geminiResponse([{ text: 'The user wants ', thought: true }], {
      usage: { promptTokenCount: 500, cachedContentTokenCount: 200 },
    }),
    geminiResponse([{ text: 'a file read.', thought: true }]),
    geminiResponse([{ text: 'Reading ' }, { text: 'the file.' }]),
    geminiResponse([
      { functionCall: { name: 'Read', args: { file_path: '/a.ts' } }, thoughtSignature: 'sig-R' },
    ]),
    geminiResponse([], { finishReason: 'STOP', usage }),
  ],
};

const readTool = {
  name: 'Read',
  description: 'Reads a file',
  input_schema: {
    type: 'object' as const,
    properties: { file_path: { type: 'string' } },
    required: ['file_path'],
  },
};

describe(AnthropicToGeminiConverter.name, () => {
  describe('convert', () => {
    it('should be the registered converter from anthropic-messages to gemini', () => {
      expect(new ConverterRegistry().between('anthropic-messages', 'gemini')).toBeInstanceOf(
        AnthropicToGeminiConverter,
      );
    });

    it('should give the Anthropic client a message with thinking, text and tool_use', async () => {
      const { client, sent } = relay(answer);
      const message = await client.messages.create({
        model: 'gemini-2.5-pro',
        max_tokens: 4096,
        thinking: { type: 'enabled', budget_tokens: 2048 },
        tools: [readTool],
        messages: [{ role: 'user', content: 'Read /a.ts' }],
      });
      expect(sent[0].generationConfig).toEqual({
        maxOutputTokens: 4096,
        thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
      });
      expect(message.id).toBe('msg_req-7');
      expect(message.content).toEqual([
        { type: 'thinking', thinking: 'The user wants a file read.', signature: '' },
        { type: 'text', text: 'Reading the file.' },
        { type: 'thinking', thinking: '', signature: 'sig-R' },
        { type: 'tool_use', id: 'toolu_sy_req-7_0', name: 'Read', input: { file_path: '/a.ts' } },
      ]);
      expect(message.stop_reason).toBe('tool_use');
      expect(message.usage).toEqual({
        input_tokens: 300,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 200,
        output_tokens: 100,
      });
    });

    it('should stream, through the Anthropic client, the message the non-stream answer is', async () => {
      const { client } = relay(answer);
      const whole = await client.messages.create({
        model: 'gemini-2.5-pro',
        max_tokens: 4096,
        tools: [readTool],
        messages: [{ role: 'user', content: 'Read /a.ts' }],
      });
      const { client: streaming } = relay(answer);
      const streamed = await streaming.messages
        .stream({
          model: 'gemini-2.5-pro',
          max_tokens: 4096,
          tools: [readTool],
          messages: [{ role: 'user', content: 'Read /a.ts' }],
        })
        .finalMessage();
      expect(streamed.content).toEqual(whole.content);
      expect(streamed.stop_reason).toBe(whole.stop_reason);
      expect(streamed.usage).toEqual(whole.usage);
      expect(streamed.id).toBe(whole.id);
    });

    it('should give the signatures back where Gemini put them on the next turn', async () => {
      const { client } = relay(answer);
      const first = await client.messages.create({
        model: 'gemini-2.5-pro',
        max_tokens: 4096,
        tools: [readTool],
        messages: [{ role: 'user', content: 'Read /a.ts' }],
      });
      const { client: next, sent } = relay({
        chunks: [geminiResponse([{ text: 'It exports nothing.' }], { finishReason: 'STOP' })],
      });
      const reply = await next.messages.create({
        model: 'gemini-2.5-pro',
        max_tokens: 4096,
        tools: [readTool],
        messages: [
          { role: 'user', content: 'Read /a.ts' },
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_sy_req-7_0', content: 'export {}' },
            ],
          },
        ],
      });
      expect(reply.content).toEqual([{ type: 'text', text: 'It exports nothing.' }]);
      expect((sent[0].contents as Json[]).slice(1)).toEqual([
        {
          role: 'model',
          parts: [
            { text: 'The user wants a file read.', thought: true },
            { text: 'Reading the file.' },
            {
              functionCall: { name: 'Read', args: { file_path: '/a.ts' } },
              thoughtSignature: 'sig-R',
            },
          ],
        },
        {
          role: 'user',
          parts: [{ functionResponse: { name: 'Read', response: { content: 'export {}' } } }],
        },
      ]);
    });

    it('should count tokens through countTokens', async () => {
      const { client, sent } = relay({ tokens: 42 });
      const count = await client.messages.countTokens({
        model: 'gemini-2.5-pro',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(count.input_tokens).toBe(42);
      expect(sent[0]).toEqual({
        generateContentRequest: {
          model: 'models/gemini-2.5-pro',
          contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        },
      });
    });

    it('should give the Anthropic client an error it raises for a Gemini 500', async () => {
      const { client } = relay({
        httpStatus: 500,
        body: JSON.stringify({ error: { code: 500, message: 'Internal', status: 'INTERNAL' } }),
      });
      await expect(
        client.messages.create({
          model: 'gemini-2.5-pro',
          max_tokens: 10,
          messages: [{ role: 'user', content: 'x' }],
        }),
      ).rejects.toBeInstanceOf(InternalServerError);
    });
  });
});
