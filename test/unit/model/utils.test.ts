import { describe, expect, it } from 'vitest';
import { compareVersions, filterSpecificItems, kamalEscapeShellValue, olderVersion } from '../../../src/model/index.js';
import { splitShellWords } from '../../../src/shell.js';

describe('model utils', () => {
  it.each([
    ['2.12.0', '2.12.0', 0],
    ['2.12', '2.12.0', 0],
    ['2.9.1', '2.12.0', -1],
    ['10000.0.0', '2.12.0', 1],
    ['2.12.0.beta1', '2.12.0', -1],
    ['v0.9.2', 'v0.10.0', -1],
  ])('compareVersions(%s, %s) = %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });

  it('olderVersion strips a leading v', () => {
    expect(olderVersion('v0.8.7', 'v0.9.2')).toBe(true);
    expect(olderVersion('v0.9.2', 'v0.9.2')).toBe(false);
  });

  it('filterSpecificItems matches like File.fnmatch with extglob braces', () => {
    const hosts = ['1.1.1.1', '1.1.1.2', 'web-1.example.com', 'db.example.com'];
    expect(filterSpecificItems(['1.1.1.*'], hosts)).toEqual(['1.1.1.1', '1.1.1.2']);
    expect(filterSpecificItems('*.example.com', hosts)).toEqual(['web-1.example.com', 'db.example.com']);
    expect(filterSpecificItems(['{web-1,db}.example.com', '1.1.1.2'], hosts)).toEqual(['web-1.example.com', 'db.example.com', '1.1.1.2']);
    expect(filterSpecificItems(['nope'], hosts)).toEqual([]);
  });

  it("kamalEscapeShellValue reproduces Kamal's escaping", () => {
    expect(kamalEscapeShellValue('plain')).toBe('"plain"');
    expect(kamalEscapeShellValue('a"b$c`d${E}')).toBe('"a\\"b\\$c\\`d${E}"');
    expect(kamalEscapeShellValue('line\nbreak')).toBe('"line\\nbreak"');
    expect(splitShellWords(kamalEscapeShellValue('a"b$c`d'))).toEqual(['a"b$c`d']);
  });
});
