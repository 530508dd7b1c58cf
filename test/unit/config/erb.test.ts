// The ERB subset of config/deploy.yml, rendered as Ruby's ERB with trim_mode "-"
// (Kamal::Configuration.load_config_file). Everything else is refused with the
// file and line of the tag.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderErb, renderErbWithLineMap } from '../../../src/config/erb.js';
import { parseConfigText } from '../../../src/config/load.js';
import { configError } from './helpers.js';

const ENV = { X: 'ex', EMPTY: '', REGISTRY_USER: 'my-user', MULTI: 'l1\nl2', QUOTE: 'say "hi"' };
const SUPPORTED = '(supported: ENV["X"], ENV.fetch("X"), ENV.fetch("X", "default"))';

describe('renderErb: supported forms', () => {
  it.each<[string, string, string]>([
    ['ENV with double quotes', 'a: <%= ENV["X"] %>', 'a: ex'],
    ['ENV with single quotes', "a: <%= ENV['X'] %>", 'a: ex'],
    ['ENV of an unset variable is empty', 'a: <%= ENV["NOPE"] %>', 'a: '],
    ['ENV of an empty variable', 'a: "<%= ENV["EMPTY"] %>"', 'a: ""'],
    ['ENV without spaces', 'a: <%=ENV["X"]%>', 'a: ex'],
    ['ENV.fetch of a set variable', 'a: <%= ENV.fetch("X") %>', 'a: ex'],
    ['ENV.fetch with single quotes', "a: <%= ENV.fetch('X') %>", 'a: ex'],
    ['ENV.fetch with a default, unset', 'a: <%= ENV.fetch("NOPE", "dflt") %>', 'a: dflt'],
    ['ENV.fetch with a default, set', 'a: <%= ENV.fetch("X", "dflt") %>', 'a: ex'],
    ['ENV.fetch with a default, set but empty', 'a: "<%= ENV.fetch("EMPTY", "dflt") %>"', 'a: ""'],
    ['ENV.fetch without parentheses', 'a: <%= ENV.fetch "NOPE", "d" %>', 'a: d'],
    ['ENV.fetch with a nil default', 'a: <%= ENV.fetch("NOPE", nil) %>', 'a: '],
    ['ENV.fetch with another fetch as default', 'a: <%= ENV.fetch("NOPE", ENV.fetch("X")) %>', 'a: ex'],
    ['ENV.fetch with a block', 'a: <%= ENV.fetch("NOPE") { "blk" } %>', 'a: blk'],
    ['a block supersedes the default argument (Ruby)', 'a: <%= ENV.fetch("NOPE", "arg") { "blk" } %>', 'a: blk'],
    ['ENV || default, unset', 'a: <%= ENV["NOPE"] || "or" %>', 'a: or'],
    ['ENV || default, empty counts as set', 'a: "<%= ENV["EMPTY"] || "or" %>"', 'a: ""'],
    ['parenthesised ||', 'a: <%= (ENV["NOPE"] || ENV["X"]) %>', 'a: ex'],
    ['a string literal', 'a: <%= "my-user" %>', 'a: my-user'],
    ['a single-quoted literal', "a: <%= 'lit' %>", 'a: lit'],
    ['a double-quoted escape', 'a: "<%= "a\\tb" %>"', 'a: "a\tb"'],
    ['an integer literal', 'a: <%= 42 %>', 'a: 42'],
    ['an integer with underscores', 'a: <%= 1_000 %>', 'a: 1000'],
    ['nil', 'a: <%= nil %>', 'a: '],
    ['a comment tag', 'a: <%# a comment %>b', 'a: b'],
    ['an empty code tag', '<% %>a: 1', 'a: 1'],
    ['<%% is a literal <%', 'a: "<%% x %>"', 'a: "<% x %>"'],
    ['-%> drops the newline after the tag', 'a: <%= ENV["X"] -%>\nb: 1', 'a: exb: 1'],
    ['<%- at the start of a line drops its indentation', 'a: 1\n  <%- -%>\nb: 2', 'a: 1\nb: 2'],
    ['<%- in the middle of a line keeps the text before it', 'a: x <%- -%>y', 'a: x y'],
    ['a plain %> keeps the newline', 'k:\n  <%- %>\n  v: 1', 'k:\n\n  v: 1'],
    ['ENV["constructor"] is nil, as in Ruby', 'a: "<%= ENV["constructor"] %>|<%= ENV["toString"] || "d" %>"', 'a: "|d"'],
    ['ENV.fetch("__proto__") uses the default', 'a: <%= ENV.fetch("__proto__", "d") %>', 'a: d'],
    ['KAMAL_DESTINATION is an ordinary variable', 'a: <%= ENV["KAMAL_DESTINATION"] %>', 'a: '],
    ['text without tags is unchanged', 'a: 1 % 2 %> <', 'a: 1 % 2 %> <'],
  ])('%s', (_n, template, expected) => {
    expect(renderErb(template, ENV)).toBe(expected);
  });

  it('renders Kamal\'s test/fixtures/deploy.erb.yml registry', () => {
    const config = parseConfigText('registry:\n  server: registry.digitalocean.com\n  username: <%= "my-user" %>\n  password: <%= "my-password" %>\n', { env: {} });
    expect(config.registry).toEqual({ server: 'registry.digitalocean.com', username: 'my-user', password: 'my-password' });
  });

  it('substitutes before YAML parsing, so a value can hold YAML', () => {
    expect(parseConfigText('a: <%= ENV["V"] %>\n', { env: { V: '[1, 2]' } })).toEqual({ a: [1, 2] });
  });

  it('reads the environment given, not process.env', () => {
    process.env.KAMAL_CONFIG_TEST_ONLY_IN_PROCESS = 'leak';
    try {
      expect(renderErb('a: <%= ENV["KAMAL_CONFIG_TEST_ONLY_IN_PROCESS"] %>', {})).toBe('a: ');
    } finally {
      delete process.env.KAMAL_CONFIG_TEST_ONLY_IN_PROCESS;
    }
  });

  it('maps rendered lines back to template lines', () => {
    const r = renderErbWithLineMap('a: <%= ENV["MULTI"] %>\nb: 1\n<%# x\ny %>\nc: 2', ENV);
    expect(r.text).toBe('a: l1\nl2\nb: 1\n\nc: 2');
    // rendered line 4 is what remains of template lines 3-4 (the comment): it starts on 3
    expect(r.lineMap).toEqual([1, 1, 2, 3, 5]);
  });
});

describe('renderErb: errors', () => {
  it.each<[string, string, string]>([
    ['ENV.fetch of an unset variable', 'a: <%= ENV.fetch("NOPE") %>', 'config/deploy.yml:1: key not found: "NOPE"'],
    ['ENV.fetch with single quotes', "a: 1\nb: <%= ENV.fetch('NOPE') %>", 'config/deploy.yml:2: key not found: "NOPE"'],
    [
      'a default argument is evaluated even when the key is set (Ruby)',
      'a: <%= ENV.fetch("X", ENV.fetch("MISSING")) %>',
      'config/deploy.yml:1: key not found: "MISSING"',
    ],
    ['a missing key after a multi-line comment', 'a: 1\n<%# multi\nline %>\nb: <%= ENV.fetch("NOPE") %>', 'config/deploy.yml:4: key not found: "NOPE"'],
    ['a missing key after a multi-line value', 'a: <%= ENV["MULTI"] %>\nb: <%= ENV.fetch("NOPE") %>', 'config/deploy.yml:2: key not found: "NOPE"'],
    ['an inspected key', 'a: <%= ENV.fetch("A\\"B") %>', 'config/deploy.yml:1: key not found: "A\\"B"'],
    ['an unterminated tag', 'a: 1\nb: <%= ENV["X"]', 'config/deploy.yml:2: unterminated ERB tag: <%= ENV["X"]'],
  ])('%s', (_n, template, message) => {
    expect(configError(() => renderErb(template, ENV)).message).toBe(message);
  });

  it.each<[string, string, number, string]>([
    ['backticks', 'a: <%= `whoami` %>', 1, '<%= `whoami` %>'],
    ['File.read', 'a: 1\nb: <%= File.read("/etc/passwd") %>', 2, '<%= File.read("/etc/passwd") %>'],
    ['system', 'a: 1\nb: 2\nc: <%= system("ls") %>', 3, '<%= system("ls") %>'],
    ['an if block', 'x: 1\n<%- if true -%>\ny: 2\n<%- end -%>', 2, '<%- if true -%>'],
    ['a code tag', 'a: 1\n\n<% require "x" %>', 3, '<% require "x" %>'],
    ['a method on ENV', 'a: <%= ENV["X"].upcase %>', 1, '<%= ENV["X"].upcase %>'],
    ['a modifier if', 'a: <%= ENV["X"] if true %>', 1, '<%= ENV["X"] if true %>'],
    ['arithmetic', 'a: <%= 1 + 1 %>', 1, '<%= 1 + 1 %>'],
    ['a float', 'a: <%= 1.5 %>', 1, '<%= 1.5 %>'],
    ['a symbol', 'a: <%= :sym %>', 1, '<%= :sym %>'],
    ['string interpolation', 'a: <%= "#{1}" %>', 1, '<%= "#{1}" %>'],
    ['a block with a parameter', 'a: <%= ENV.fetch("NOPE") { |k| k } %>', 1, '<%= ENV.fetch("NOPE") { |k| k } %>'],
    ['a do block', 'a: <%= ENV.fetch("NOPE") do "x" end %>', 1, '<%= ENV.fetch("NOPE") do "x" end %>'],
    ['ENV.[] on a non-string', 'a: <%= ENV[1] %>', 1, '<%= ENV[1] %>'],
    ['ENV.to_h', 'a: <%= ENV.to_h %>', 1, '<%= ENV.to_h %>'],
    ['a bare identifier', 'a: <%= foo %>', 1, '<%= foo %>'],
    ['adjacent strings', "a: <%= 'it''s' %>", 1, "<%= 'it''s' %>"],
    ['a hex escape', 'a: <%= "\\x41" %>', 1, '<%= "\\x41" %>'],
  ])('refuses %s', (_n, template, line, tag) => {
    expect(configError(() => renderErb(template, ENV, 'config/deploy.staging.yml')).message).toBe(
      `config/deploy.staging.yml:${line}: unsupported ERB: ${tag} ${SUPPORTED}`,
    );
  });

  it('names the file it was given', () => {
    expect(configError(() => parseConfigText('a: <%= ENV.fetch("NOPE") %>', { file: 'config/other.yml', env: {} })).message).toBe(
      'config/other.yml:1: key not found: "NOPE"',
    );
  });

  it('never runs what it refuses', () => {
    const marker = `/tmp/kamal-erb-${process.pid}-${Date.now()}`;
    configError(() => renderErb(`a: <%= \`touch ${marker}\` %>`, {}));
    configError(() => renderErb(`a: <% system("touch ${marker}") %>`, {}));
    expect(existsSync(marker)).toBe(false);
  });
});
