import { EventStreamCodec } from '@smithy/eventstream-codec';
import type { MessageHeaders } from '@smithy/types';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { BedrockEventStreamDecoder } from './bedrock-event-stream';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function frame(headers: MessageHeaders, payload: unknown): Buffer {
  return Buffer.from(codec.encode({ headers, body: fromUtf8(JSON.stringify(payload)) }));
}

function chunk(event: Record<string, unknown>): Buffer {
  return frame(
    {
      ':event-type': { type: 'string', value: 'chunk' },
      ':message-type': { type: 'string', value: 'event' },
    },
    { bytes: Buffer.from(JSON.stringify(event)).toString('base64'), p: 'abc' },
  );
}

const START = { type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 3 } } };
const DELTA = {
  type: 'content_block_delta',
  index: 0,
  delta: { type: 'text_delta', text: 'Grüße 🌍' },
};
const STOP = { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 3 } };

function sse(event: Record<string, unknown>): string {
  return `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;
}

describe(BedrockEventStreamDecoder.name, () => {
  describe('push', () => {
    it('should turn chunk events into Anthropic SSE, the JSON exactly as the model sent it', () => {
      const decoder = new BedrockEventStreamDecoder();
      const out = decoder.push(Buffer.concat([chunk(START), chunk(DELTA), chunk(STOP)]));
      expect(out.toString('utf8')).toBe(sse(START) + sse(DELTA) + sse(STOP));
      expect(decoder.partial).toBe(false);
    });

    it('should give the same bytes when the frames arrive split at every byte', () => {
      const bytes = Buffer.concat([chunk(START), chunk(DELTA), chunk(STOP)]);
      const decoder = new BedrockEventStreamDecoder();
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length; i++) parts.push(decoder.push(bytes.subarray(i, i + 1)));
      expect(Buffer.concat(parts).toString('utf8')).toBe(sse(START) + sse(DELTA) + sse(STOP));
    });

    it('should hold a partial frame until its rest arrives', () => {
      const bytes = chunk(DELTA);
      const decoder = new BedrockEventStreamDecoder();
      expect(decoder.push(bytes.subarray(0, 20)).length).toBe(0);
      expect(decoder.partial).toBe(true);
      expect(decoder.push(bytes.subarray(20)).toString('utf8')).toBe(sse(DELTA));
    });

    it('should turn an exception message into an Anthropic error event of the matching type', () => {
      const decoder = new BedrockEventStreamDecoder();
      const exception = frame(
        {
          ':exception-type': { type: 'string', value: 'throttlingException' },
          ':message-type': { type: 'string', value: 'exception' },
        },
        { message: 'Too many tokens, please wait before trying again.' },
      );
      expect(decoder.push(exception).toString('utf8')).toBe(
        'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Too many tokens, please wait before trying again."}}\n\n',
      );
      const streamError = frame(
        {
          ':exception-type': { type: 'string', value: 'modelStreamErrorException' },
          ':message-type': { type: 'string', value: 'exception' },
        },
        { message: 'boom' },
      );
      expect(decoder.push(streamError).toString('utf8')).toContain('"type":"api_error"');
    });

    it('should refuse a frame whose checksum does not match', () => {
      const bytes = chunk(DELTA);
      bytes[bytes.length - 10] ^= 0xff;
      expect(() => new BedrockEventStreamDecoder().push(bytes)).toThrow();
    });

    it('should refuse a prelude that announces an impossible length', () => {
      const bytes = Buffer.alloc(12);
      bytes.writeUInt32BE(4, 0);
      expect(() => new BedrockEventStreamDecoder().push(bytes)).toThrow(/not valid/);
    });
  });
});
