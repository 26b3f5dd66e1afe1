import { SseEvent, SseParser } from './sse-parser';

/** Feeds `parts` one push each, then end(); returns every event in order. */
function parseAll(parts: (string | Buffer)[], parser = new SseParser()): SseEvent[] {
  const events: SseEvent[] = [];
  for (const part of parts) {
    events.push(...parser.push(typeof part === 'string' ? Buffer.from(part, 'utf8') : part));
  }
  events.push(...parser.end());
  return events;
}

/** Splits `buf` at every offset in `cuts` (ascending). */
function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    parts.push(buf.subarray(start, cut));
    start = cut;
  }
  parts.push(buf.subarray(start));
  return parts;
}

describe(SseParser.name, () => {
  describe('push', () => {
    it('should emit an event with its type and data when a blank line ends it', () => {
      const parser = new SseParser();
      const events = parser.push(Buffer.from('event: ping\ndata: {"type":"ping"}\n\n'));
      expect(events).toEqual([{ event: 'ping', data: '{"type":"ping"}' }]);
    });

    it('should hold an event back until its blank line arrives when it spans chunks', () => {
      const parser = new SseParser();
      expect(parser.push(Buffer.from('event: ping\nda'))).toEqual([]);
      expect(parser.push(Buffer.from('ta: x\n'))).toEqual([]);
      expect(parser.push(Buffer.from('\n'))).toEqual([{ event: 'ping', data: 'x' }]);
    });

    it('should accept CRLF, LF and CR line ends when they are mixed in one stream', () => {
      const events = parseAll([
        'event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\revent: c\ndata: 3\n\n',
      ]);
      expect(events).toEqual([
        { event: 'a', data: '1' },
        { event: 'b', data: '2' },
        { event: 'c', data: '3' },
      ]);
    });

    it('should treat CR and LF as one line end when a chunk boundary falls between them', () => {
      // A CR at a chunk end followed by LF must not read as an extra blank line (early dispatch).
      const events = parseAll(['data: a\r', '\ndata: b\r', '\n\r', '\n']);
      expect(events).toEqual([{ event: undefined, data: 'a\nb' }]);
    });

    it('should dispatch on a lone CR blank line when the next chunk starts with something else', () => {
      const parser = new SseParser();
      expect(parser.push(Buffer.from('data: a\r\r'))).toEqual([{ event: undefined, data: 'a' }]);
      expect(parser.push(Buffer.from('data: b\r'))).toEqual([]);
      expect(parser.push(Buffer.from('\r'))).toEqual([{ event: undefined, data: 'b' }]);
    });

    it('should give the same events for every split point when the stream has CRLF ends', () => {
      const stream = Buffer.from('event: x\r\ndata: hello\r\n\r\nevent: y\r\ndata: world\r\n\r\n');
      const expected = [
        { event: 'x', data: 'hello' },
        { event: 'y', data: 'world' },
      ];
      for (let cut = 0; cut <= stream.length; cut++) {
        expect(parseAll(splitAt(stream, [cut]))).toEqual(expected);
      }
    });

    it('should keep a multi-byte character intact when a chunk boundary splits it anywhere', () => {
      // 😀 is 4 bytes, é 2 bytes, 中 3 bytes: try every single and every pair of split points.
      const text = 'data: {"t":"a😀é中"}\n\n';
      const stream = Buffer.from(text, 'utf8');
      const expected = [{ event: undefined, data: '{"t":"a😀é中"}' }];
      for (let a = 0; a <= stream.length; a++) {
        for (let b = a; b <= stream.length; b++) {
          expect(parseAll(splitAt(stream, [a, b]))).toEqual(expected);
        }
      }
    });

    it('should decode correctly when fed one byte at a time', () => {
      const stream = Buffer.from('event: 🚀\r\ndata: ✓ 😀\r\n\r\n', 'utf8');
      const parts = [...stream].map((byte) => Buffer.from([byte]));
      expect(parseAll(parts)).toEqual([{ event: '🚀', data: '✓ 😀' }]);
    });

    it('should ignore comment lines when they start with a colon', () => {
      const events = parseAll([': keep-alive\n\n:another\ndata: x\n: in the middle\n\n']);
      expect(events).toEqual([{ event: undefined, data: 'x' }]);
    });

    it('should join data lines with LF when an event has several', () => {
      const events = parseAll(['data: first\ndata:second\ndata\ndata:  indented\n\n']);
      expect(events).toEqual([{ event: undefined, data: 'first\nsecond\n\n indented' }]);
    });

    it('should drop only one leading space when a value has more', () => {
      expect(parseAll(['event:  spaced\ndata:   x\n\n'])).toEqual([
        { event: ' spaced', data: '  x' },
      ]);
    });

    it('should dispatch an empty data string when the data line has no value', () => {
      expect(parseAll(['data:\n\n'])).toEqual([{ event: undefined, data: '' }]);
    });

    it('should not dispatch when an event has no data line', () => {
      expect(parseAll(['event: ping\n\nid: 7\nretry: 10\n\n'])).toEqual([]);
    });

    it('should not carry an event type over when the event had no data', () => {
      expect(parseAll(['event: lost\n\ndata: x\n\n'])).toEqual([{ event: undefined, data: 'x' }]);
    });

    it('should report undefined as event type when the event field is empty', () => {
      expect(parseAll(['event:\ndata: x\n\n'])).toEqual([{ event: undefined, data: 'x' }]);
    });

    it('should ignore unknown fields and a field name without colon when they appear', () => {
      expect(parseAll(['foo: bar\nid: 1\nretry: 5\nbogus\ndata: x\n\n'])).toEqual([
        { event: undefined, data: 'x' },
      ]);
    });

    it('should strip a UTF-8 BOM when the stream starts with one split across chunks', () => {
      const bom = Buffer.from([0xef, 0xbb, 0xbf]);
      const body = Buffer.from('data: x\n\n');
      expect(parseAll([bom.subarray(0, 2), Buffer.concat([bom.subarray(2), body])])).toEqual([
        { event: undefined, data: 'x' },
      ]);
    });

    it('should not modify the chunk when it parses it', () => {
      const chunk = Buffer.from('event: a\r\ndata: 😀\r\n\r\ndata: tail', 'utf8');
      const copy = Buffer.from(chunk);
      new SseParser().push(chunk);
      expect(chunk.equals(copy)).toBe(true);
    });

    it('should not be affected when the caller reuses the chunk buffer after pushing it', () => {
      const parser = new SseParser();
      const chunk = Buffer.from('data: abc');
      parser.push(chunk);
      chunk.fill(0x7a); // the relay may recycle its buffer once written to the client
      expect(parser.push(Buffer.from('def\n\n'))).toEqual([{ event: undefined, data: 'abcdef' }]);
    });

    it('should drop an oversized line and keep parsing when a line exceeds the limit', () => {
      const parser = new SseParser({ maxEventBytes: 16 });
      const events = parseAll(
        ['data: ' + 'x'.repeat(10), 'y'.repeat(10) + '\n\ndata: ok\n\n'],
        parser,
      );
      expect(events).toEqual([{ event: undefined, data: 'ok' }]);
      expect(parser.oversized).toBe(1);
    });

    it('should drop an event when its joined data exceeds the limit', () => {
      const parser = new SseParser({ maxEventBytes: 16 });
      const events = parseAll(['data: 12345678\ndata: 12345678\n\ndata: ok\n\n'], parser);
      expect(events).toEqual([{ event: undefined, data: 'ok' }]);
      expect(parser.oversized).toBe(1);
    });

    it('should return nothing when the chunk is empty', () => {
      expect(new SseParser().push(Buffer.alloc(0))).toEqual([]);
    });
  });

  describe('end', () => {
    it('should flush the pending event when the stream ends without a blank line', () => {
      const parser = new SseParser();
      expect(
        parser.push(Buffer.from('event: message_stop\ndata: {"type":"message_stop"}\n')),
      ).toEqual([]);
      expect(parser.end()).toEqual([{ event: 'message_stop', data: '{"type":"message_stop"}' }]);
    });

    it('should process an unterminated last line when the stream ends mid-line', () => {
      const parser = new SseParser();
      parser.push(Buffer.from('event: x\ndata: no line end'));
      expect(parser.end()).toEqual([{ event: 'x', data: 'no line end' }]);
    });

    it('should return nothing when no event is pending', () => {
      const parser = new SseParser();
      parser.push(Buffer.from('data: x\n\n'));
      expect(parser.end()).toEqual([]);
    });

    it('should reset state so the parser can be reused when it is called', () => {
      const parser = new SseParser();
      parser.push(Buffer.from('event: a\ndata: partial'));
      parser.end();
      expect(parseAll(['data: fresh\n\n'], parser)).toEqual([{ event: undefined, data: 'fresh' }]);
    });
  });
});
