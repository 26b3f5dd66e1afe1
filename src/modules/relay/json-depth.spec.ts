import { exceedsJsonDepth } from './json-depth';

const depthOf = (text: string, max: number): boolean => exceedsJsonDepth(Buffer.from(text), max);

describe('exceedsJsonDepth', () => {
  it('should accept nesting up to the limit and refuse one level more', () => {
    const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
    expect(depthOf(nested(128), 128)).toBe(false);
    expect(depthOf(nested(129), 128)).toBe(true);
    expect(depthOf(`{"a":${nested(127)}}`, 128)).toBe(false);
    expect(depthOf(`{"a":{"b":${nested(127)}}}`, 128)).toBe(true);
  });

  it('should count siblings as one level, not a sum', () => {
    const siblings = `[${Array.from({ length: 1000 }, () => '{"a":[1]}').join(',')}]`;
    expect(depthOf(siblings, 3)).toBe(false);
    expect(depthOf(siblings, 2)).toBe(true);
  });

  it('should ignore brackets inside strings, escaped quotes included', () => {
    const inString = JSON.stringify({ text: '[[[[[[{{{{ "quoted [[[" \\ [[[[' });
    expect(depthOf(inString, 1)).toBe(false);
    expect(depthOf(JSON.stringify({ a: 'ends with a backslash \\', b: [[1]] }), 2)).toBe(true);
    expect(depthOf(JSON.stringify({ a: 'ends with a backslash \\', b: [[1]] }), 3)).toBe(false);
  });

  it('should agree with the depth of real JSON documents', () => {
    const doc = {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: '{[' }] }],
    };
    // object > messages array > message object > content array > block object = 5
    expect(depthOf(JSON.stringify(doc), 5)).toBe(false);
    expect(depthOf(JSON.stringify(doc), 4)).toBe(true);
  });

  it('should leave malformed text to the parser', () => {
    expect(depthOf('{"unterminated: [[[[[[', 2)).toBe(false);
    expect(depthOf(']]]]', 2)).toBe(false);
  });

  it('should refuse a 10 MB body of nested arrays at the first level past the limit', () => {
    const body = Buffer.alloc(10 * 1024 * 1024, '[');
    expect(exceedsJsonDepth(body, 128)).toBe(true);
  });
});
