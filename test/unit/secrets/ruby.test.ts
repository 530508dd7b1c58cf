/**
 * The Ruby behaviours the adapters copy, as tables of exact strings: the json gem's (2.19)
 * parse errors and dump, String#split, shellescape, inspect, Kamal's escape_shell_value as a
 * program receives it, and the `sh -c` line the default runner renders.
 */
import { describe, expect, it } from 'vitest';
import { renderVendorCall, rubyJsonDump, rubyJsonParse } from '../../../src/secrets/adapters/index.js';
import { escapedShellValue, isBlank, rubyInspect, rubySplit, shellescape } from '../../../src/secrets/adapters/ruby.js';

const parseError = (text: string): string => {
  try {
    rubyJsonParse(text);
  } catch (e) {
    return (e as Error).message;
  }
  return 'parsed';
};

describe('JSON.parse errors (json 2.19)', () => {
  it.each([
    ['', 'unexpected end of input at line 1 column 1'],
    ['   ', 'unexpected end of input at line 1 column 4'],
    ['Error:\n0: Received error message from server', "unexpected character: 'Error:' at line 1 column 1"],
    ['not logged in', "unexpected token 'not' at line 1 column 1"],
    ['{"a":1} x', "unexpected token at end of stream 'x' at line 1 column 9"],
    ['{"a":1,}', "expected object key, got: '}' at line 1 column 8"],
    ['{"a" 1}', "expected ':' after object key at line 1 column 6"],
    ['[1 2]', "expected ',' or ']' after array value at line 1 column 4"],
    ['{"a":1 "b"}', `expected ',' or '}' after object value, got: '"b"}' at line 1 column 8`],
    ['{a:1}', "expected object key, got 'a:1}' at line 1 column 2"],
    ['"abc', 'unexpected end of input, expected closing " at line 1 column 5'],
    ['01', "invalid number: '01' at line 1 column 1"],
    ['-', "invalid number: '-' at line 1 column 1"],
    ['NaN', "unexpected token 'NaN' at line 1 column 1"],
    ['"\\x"', `invalid escape character in string: '\\x"' at line 1 column 2`],
    // the gem's line count leaves out the newline that ends the column count
    ['[\n  1,\n  oops\n]', "unexpected character: 'oops' at line 2 column 3"],
    ['/* c */ {"a":1}', 'parsed'],
  ])('%j', (text, message) => {
    expect(parseError(text)).toBe(message);
  });

  it('keeps key order, floats and big integers for JSON.dump', () => {
    const v = rubyJsonParse('{"2":1,"1":1.0,"b":12345678901234567890,"s":"é\\u0001/","n":null,"t":[true,false,2.5e-7]}');
    expect(rubyJsonDump(v)).toBe('{"2":1,"1":1.0,"b":12345678901234567890,"s":"é\\u0001/","n":null,"t":[true,false,2.5e-07]}');
  });

  it('a duplicate key keeps its first place and its last value, as a Ruby Hash', () => {
    expect(rubyJsonDump(rubyJsonParse('{"a":1,"b":2,"a":3}'))).toBe('{"a":3,"b":2}');
  });
});

describe('Ruby string behaviours', () => {
  it.each([
    ['a/b/c', '/', ['a', 'b', 'c']],
    ['a/b/', '/', ['a', 'b']],
    ['/a', '/', ['', 'a']],
    ['a//b', '/', ['a', '', 'b']],
    ['', '/', []],
    ['X/all', '/all', ['X']],
    ['/all', '/all', []],
  ] as const)('split(%j, %j)', (s, sep, parts) => {
    expect(rubySplit(s, sep)).toEqual(parts);
  });

  it('split with a limit keeps trailing empty fields', () => {
    expect(rubySplit('default', '|', 2)).toEqual(['default']);
    expect(rubySplit('a|b,c|d', '|', 2)).toEqual(['a', 'b,c|d']);
    expect(rubySplit('a|', '|', 2)).toEqual(['a', '']);
  });

  it.each([
    ['abc-1.2_x,y:z+w/v@u', 'abc-1.2_x,y:z+w/v@u'],
    ['', "''"],
    ['a b', 'a\\ b'],
    ['$(x)', '\\$\\(x\\)'],
    ['a\nb', "a'\n'b"],
    ['é', '\\é'],
  ])('shellescape(%j)', (s, out) => {
    expect(shellescape(s)).toBe(out);
  });

  it('inspect', () => {
    expect(rubyInspect('abc\\ def-123')).toBe('"abc\\\\ def-123"');
    expect(rubyInspect('a"b#{c}#d\n\u0001é')).toBe('"a\\"b\\#{c}#d\\n\\x01é"');
  });

  it('blank?', () => {
    expect([undefined, '', '  ', '\t\n', 'a'].map((s) => isBlank(s))).toEqual([true, true, true, true, false]);
  });

  it('escape_shell_value as the program receives it through sh', () => {
    expect(escapedShellValue('myvault')).toBe('myvault');
    expect(escapedShellValue('a "b" $c `d` \\e')).toBe('a "b" $c `d` \\e');
    expect(escapedShellValue('tok\n')).toBe('tok\\n');
    expect(escapedShellValue('x#{y}')).toBe('x\\#{y}');
  });
});

describe("the default runner's sh -c line", () => {
  it('quotes every word; env and 2> /dev/null as Kamal writes them', () => {
    expect(renderVendorCall({ argv: ['op', '--version'], quiet: true })).toBe('op --version 2> /dev/null');
    expect(renderVendorCall({ argv: ['bw', 'status'], env: { BW_SESSION: 'abc==' } })).toBe('BW_SESSION=abc== bw status');
    expect(renderVendorCall({ argv: ['bw', 'get', 'item', "it's $(x); `y`"], env: { BW_SESSION: 'a b' } })).toBe(
      "BW_SESSION='a b' bw get item 'it'\\''s $(x); `y`'",
    );
  });
});
