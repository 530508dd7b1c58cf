import { describe, expect, it } from 'vitest';
import { ShellSplitError, shellSplit, splitShellWords } from '../../../src/shell.js';

// Expected words as Ruby's Shellwords.split gives them (Ruby 3.1), which Kamal uses for aliases.
describe('shellSplit', () => {
  it.each([
    ['deploy', ['deploy']],
    ['a;b', ['a;b']],
    ['a; b', ['a;', 'b']],
    ['a && b', ['a', '&&', 'b']],
    ['a|b', ['a|b']],
    ['app exec --reuse "bin/rails db:migrate"', ['app', 'exec', '--reuse', 'bin/rails db:migrate']],
    ["app exec -i 'bin/rails console'", ['app', 'exec', '-i', 'bin/rails console']],
    ['  leading and   trailing  ', ['leading', 'and', 'trailing']],
    ['', []],
    ['   ', []],
    ['a\tb\nc', ['a', 'b', 'c']],
    ['\'single "quoted" $x\'', ['single "quoted" $x']],
    ['"double \\"escaped\\" \\$x \\z"', ['double "escaped" $x \\z']],
    ['a\\ b', ['a b']],
    ['a\\\\b', ['a\\b']],
    ['a\\\nb', ['a\\\nb']],
    ['"a\\\nb"', ['a\nb']],
    ['a"b"c d\'\'e', ['abc', 'de']],
    ["''", ['']],
    ['""', ['']],
    ["x '' y", ['x', '', 'y']],
    ['$(date +%s)', ['$(date', '+%s)']],
    ['echo "$(date +%s)"', ['echo', '$(date +%s)']],
    ['--hosts=1.1.1.1,2.2.2.2 -d staging', ['--hosts=1.1.1.1,2.2.2.2', '-d', 'staging']],
    ['a\\', ['a\\']],
    ['ünïcödé wörds', ['ünïcödé', 'wörds']],
    ['a b', ['a b']],
    ["a\\'b", ["a'b"]],
    ["'a\\'", ['a\\']],
    ['a\\$HOME', ['a$HOME']],
    ['\\', ['\\']],
    ['a \\  b', ['a', ' ', 'b']],
  ])('%j', (line, words) => {
    expect(shellSplit(line)).toEqual(words);
  });

  it.each([
    ["it's", 'unmatched quote at 2'],
    ['"open', 'unmatched quote at 0'],
    ["a 'b", 'unmatched quote at 2'],
    ['a\u0000b', 'NUL character at 1'],
  ])('%j is refused: %s', (line, message) => {
    expect(() => shellSplit(line)).toThrow(new ShellSplitError(message));
  });

  it('keeps shell operators inside words, where the command tokenizer makes them words of their own', () => {
    expect(shellSplit('a;b && c | d')).toEqual(['a;b', '&&', 'c', '|', 'd']);
    expect(splitShellWords('a;b && c | d')).toEqual(['a', ';', 'b', '&&', 'c', '|', 'd']);
  });
});
