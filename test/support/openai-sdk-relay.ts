import OpenAI from 'openai';
import type { Converter } from 'src/modules/relay/converters/converter';
import {
  AnthropicScript,
  anthropicMessage,
  anthropicStream,
} from '../factories/anthropic-message.factory';
import { conversionInput } from '../factories/conversion-input.factory';

type Json = Record<string, unknown>;

/** What Claude answers: a scripted message, an error status and body, or raw stream bytes. */
export type ScriptedUpstream =
  AnthropicScript | { status: number; body: string } | { stream: Buffer };

/**
 * A relay in a fetch function, for converter specs: the official openai client sends its request,
 * the converter turns it into a Messages request (kept in `sent` for inspection), Claude's
 * scripted answer is converted back, and the client parses it, streamed or not, exactly as it
 * would from api.openai.com. Stream bytes reach the converter in awkward 7-byte pieces, as a
 * network would deliver them.
 */
export function openAISdkRelay(
  converter: Converter,
  upstream: ScriptedUpstream,
): { client: OpenAI; sent: Json[] } {
  const sent: Json[] = [];
  const fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    // The openai client sends its JSON body as a string.
    const body = JSON.parse(init?.body as string) as Json;
    const input = conversionInput(body, {
      requestedModel: String(body.model),
      stream: body.stream === true,
      requestId: 'req-42',
    });
    const conversion = converter.convert(input);
    sent.push(JSON.parse(conversion.body.toString()) as Json);
    if ('status' in upstream) {
      return new Response(conversion.error(upstream.status, Buffer.from(upstream.body)), {
        status: upstream.status,
        headers: { 'content-type': 'application/json' },
      });
    }
    if (!input.stream) {
      if ('stream' in upstream) throw new Error('this upstream only streams');
      const answer = Buffer.from(JSON.stringify(anthropicMessage(upstream)));
      return new Response(conversion.response(answer), {
        headers: { 'content-type': 'application/json' },
      });
    }
    const bytes = 'stream' in upstream ? upstream.stream : anthropicStream(upstream);
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
