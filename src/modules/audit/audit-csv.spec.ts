import { csvCell, csvRow, parseCsv } from './audit-csv';

describe('csvCell', () => {
  it('should quote commas, quotes and line breaks, doubling quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell(204)).toBe('204');
  });

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '=HYPERLINK("http://x")'])(
    'should defuse the formula %p with a leading quote',
    (value) => {
      expect(csvCell(value).replace(/^"/, '').startsWith(`'`)).toBe(true);
    },
  );
});

describe('parseCsv', () => {
  it('should read back what csvRow wrote', () => {
    const rows = [
      ['id', 'note'],
      ['1', 'a,"b"\r\nc'],
      ['2', ''],
    ];
    expect(parseCsv(rows.map((r) => csvRow(r)).join(''))).toEqual(rows);
  });
});
