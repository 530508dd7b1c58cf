// ERB in config/deploy*.yml as Kamal renders it (ERB.new(text, trim_mode: "-").result): the forms
// evaluated without Ruby, checked against Ruby's own ERB; everything else handed whole to `ruby`,
// and without Ruby an error naming the file, the line and the tag.
//
// Ruby must be on the PATH for these tests (.ci/run installs Debian's ruby and ruby-dotenv).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderErb, renderErbWithLineMap, type ErbEnv } from '../../../src/config/erb.js';
import { findRuby, renderWithRuby } from '../../../src/config/ruby-erb.js';
import { parseConfigText } from '../../../src/config/load.js';
import { configError } from './helpers.js';

const RUBY = findRuby({ PATH: process.env.PATH });
if (!RUBY) throw new Error('these tests need ruby on the PATH (apt-get install ruby ruby-dotenv)');
const PATH = process.env.PATH!;

const ENV = { X: 'ex', EMPTY: '', ONE: '1', SP: '  pad \n', MULTI: 'l1\nl2', QUOTE: 'say "hi"' };
const NEEDS_RUBY =
  "needs Ruby: Kamal evaluates ERB with Ruby, and ruby is not on the PATH. Install Ruby (GitHub's Ubuntu runners have it) or keep to the forms evaluated without it: ENV[...], ENV.fetch, %x(...), backticks, .strip/.chomp, ||, ==, if/unless/else";

/** Renders with the built-in evaluator only (no Ruby to fall back on). */
function builtin(template: string, env: ErbEnv = ENV, file?: string) {
  const r = renderErbWithLineMap(template, env, { file, ruby: null });
  expect(r.engine).toBe('builtin');
  return r.text;
}

/** Renders with Ruby's ERB directly. */
function ruby(template: string, env: ErbEnv = ENV) {
  return renderWithRuby(template, { ruby: RUBY!, file: 'config/deploy.yml', cwd: process.cwd(), env: { PATH, ...env }, trimMode: '-' });
}

/** The message of the NameError this Ruby raises for `code`. */
function rubySays(code: string): string {
  // the first line: error_highlight adds the source of an -e script below it
  return execFileSync(RUBY!, ['-e', `begin; ${code}; rescue NameError => e; print e.message; end`])
    .toString()
    .split('\n')[0]!;
}

/** A `ruby` that behaves as one without the library `lib` (its require raises LoadError). */
function hidingRuby(lib: string): string {
  const dir = tmp();
  writeFileSync(
    join(dir, 'hide.rb'),
    `module Kernel\n  alias_method :kamal_test_require, :require\n  def require(name)\n    raise LoadError, "cannot load such file -- #{name}" if name == ${JSON.stringify(lib)} || name.start_with?(${JSON.stringify(lib + '/')})\n    kamal_test_require(name)\n  end\n  private :require\nend\n`,
  );
  writeFileSync(join(dir, 'ruby'), `#!/bin/sh\nexec ${RUBY} -r${join(dir, 'hide.rb')} "$@"\n`);
  chmodSync(join(dir, 'ruby'), 0o755);
  return join(dir, 'ruby');
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'kamal-erb-'));
}

// Each row: name, template, what both the built-in evaluator and Ruby's ERB render.
const BUILTIN_FORMS: [string, string, string][] = [
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
  ['a block supersedes the default argument', 'a: <%= ENV.fetch("NOPE", "arg") { "blk" } %>', 'a: blk'],
  ['ENV.key? and friends', 'a: <%= ENV.key?("X") %> <%= ENV.key? "NOPE" %> <%= ENV.has_key?("X") %> <%= ENV.include?("EMPTY") %>', 'a: true false true true'],
  ['ENV || default, unset', 'a: <%= ENV["NOPE"] || "or" %>', 'a: or'],
  ['ENV || default, empty counts as set', 'a: "<%= ENV["EMPTY"] || "or" %>"', 'a: ""'],
  ['|| with nil and false', 'a: <%= nil || false %>|<%= false || nil %>|<%= false || "f" %>', 'a: false||f'],
  ['&& and !', 'a: <%= ENV["X"] && ENV["NOPE"] %>|<%= ENV["X"] && "y" %>|<%= !ENV["X"] %>|<%= !!ENV["X"] %>', 'a: |y|false|true'],
  [
    '== and != with literals',
    'a: <%= ENV["X"] == "ex" %> <%= ENV["X"] != "ex" %> <%= ENV["NOPE"] == nil %> <%= ENV["ONE"] == 1 %>',
    'a: true false true false',
  ],
  ['! binds tighter than ==', 'a: <%= !ENV["X"] == false %> <%= !(ENV["X"] == "ex") %> <%= !ENV["NOPE"] && ENV["X"] %>', 'a: true false ex'],
  ['!= without spaces', 'a: <%= ENV["X"]!="ex" %>', 'a: false'],
  ['parenthesised ||', 'a: <%= (ENV["NOPE"] || ENV["X"]) %>', 'a: ex'],
  ['a string literal', 'a: <%= "my-user" %>', 'a: my-user'],
  ['a single-quoted literal', "a: <%= 'lit' %>", 'a: lit'],
  ['a double-quoted escape', 'a: "<%= "a\\tb" %>"', 'a: "a\tb"'],
  ['an integer literal', 'a: <%= 42 %>', 'a: 42'],
  ['an integer with underscores', 'a: <%= 1_000 %>', 'a: 1000'],
  ['nil, true and false', 'a: <%= nil %>|<%= true %>|<%= false %>', 'a: |true|false'],
  [
    '.strip .lstrip .rstrip .chomp',
    'a: "<%= ENV["SP"].strip %>|<%= ENV["SP"].lstrip %>|<%= ENV["SP"].rstrip %>|<%= ENV["SP"].chomp %>"',
    'a: "pad|pad \n|  pad|  pad "',
  ],
  ['.chomp removes one line ending', 'a: <%= "x\\r\\n\\n".chomp %>|<%= "x\\r\\n".chomp %>|<%= "x\\r".chomp() %>|', 'a: x\r\n|x|x|'],
  ['.to_s of nil', 'a: "<%= ENV["NOPE"].to_s %>"', 'a: ""'],
  [
    '.present? .blank? .presence',
    'a: <%= ENV["EMPTY"].present? %> <%= ENV["NOPE"].blank? %> <%= ENV["SP"].blank? %> <%= ENV["EMPTY"].presence || "p" %>',
    'a: false true false p',
  ],
  ['.nil? .empty?', 'a: <%= ENV["NOPE"].nil? %> <%= ENV["X"].nil? %> <%= ENV["EMPTY"].empty? %>', 'a: true false true'],
  ['a modifier if / unless', 'a: <%= "yes" if ENV["X"] %>|<%= "no" unless ENV["X"] %>|', 'a: yes||'],
  ['%x() keeps the trailing newline', 'a: <%= %x(echo hi) %>b', 'a: hi\nb'],
  ['%x{} nests braces', 'a: <%= %x{echo {nested}}.strip %>', 'a: {nested}'],
  ['%x[] and %x<> and %x||', 'a: <%= %x[echo [1]].strip %> <%= %x<echo 2>.strip %> <%= %x|echo 3|.chomp %>', 'a: [1] 2 3'],
  ['backticks', 'a: <%= `printf x` %>', 'a: x'],
  ['escaped backticks inside backticks', 'a: <%= `echo \\`echo hi\\``.strip %>', 'a: hi'],
  ['a command sees the environment', 'a: <%= %x(printf "%s" "$X") %>', 'a: ex'],
  ['a failing command gives its output and no error', 'a: <%= `echo out; false` %>|<%= %x(exit 3) %>|', 'a: out\n||'],
  ['.chomp on command output', 'a: <%= `printf "x\\n\\n"`.chomp %>|', 'a: x\n|'],
  ['if / elsif / else / end', '<% if ENV["ONE"] == "1" %>\na: 1\n<% elsif ENV["X"] %>\na: 2\n<% else %>\na: 3\n<% end %>\nb: 1', '\na: 1\n\nb: 1'],
  ['the elsif branch, trimmed', '<% if ENV["ONE"] != "1" -%>\na: 1\n<% elsif ENV["X"] -%>\na: 2\n<% else -%>\na: 3\n<% end -%>\nb: 1', 'a: 2\nb: 1'],
  ['the else branch, <%- -%>', 'k:\n  <%- if ENV["NOPE"] -%>\n  a: 1\n  <%- else -%>\n  a: 2\n  <%- end -%>\nb: 1', 'k:\n  a: 2\nb: 1'],
  ['unless / else', '<%- unless ENV["NOPE"] -%>\na: 1\n<%- else -%>\na: 2\n<%- end -%>\n', 'a: 1\n'],
  ['if with then', '<% if ENV["X"] then %>a: 1<% end %>', 'a: 1'],
  ['nested if', '<% if ENV["X"] %><% if ENV["NOPE"] %>x<% else %>y<% end %><% end %>', 'y'],
  ['a branch not taken is not evaluated', '<% if ENV["NOPE"] %>\na: <%= ENV.fetch("NOPE") %><%= %x(exit 1) %>\n<% end %>\nb: 1', '\nb: 1'],
  ['a condition on command output', '<% if `echo yes`.strip == "yes" %>a: 1<% end %>', 'a: 1'],
  ['a code tag evaluated for nothing', '<% ENV.fetch("X") %>a: 1', 'a: 1'],
  ['a comment tag', 'a: <%# a comment %>b', 'a: b'],
  ['a comment tag with Ruby in it', 'a: <%# File.read("x") %>b', 'a: b'],
  ['an empty code tag', '<% %>a: 1', 'a: 1'],
  ['<%% is a literal <%', 'a: "<%% x %>"', 'a: "<% x %>"'],
  ['-%> drops the newline after the tag', 'a: <%= ENV["X"] -%>\nb: 1', 'a: exb: 1'],
  ['-%> drops \\r\\n too', 'a: <%= ENV["X"] -%>\r\nb: 1', 'a: exb: 1'],
  ['<%- at the start of a line drops its indentation', 'a: 1\n  <%- -%>\nb: 2', 'a: 1\nb: 2'],
  ['<%- in the middle of a line keeps the text before it', 'a: x <%- -%>y', 'a: x y'],
  ['<%- right after a tag drops the spaces between them', 'a: <%= ENV["X"] %>  <%- -%>\nb: <% %> \t<%- %>1', 'a: exb: 1'],
  ['a plain %> keeps the newline', 'k:\n  <%- %>\n  v: 1', 'k:\n\n  v: 1'],
  ['ENV["constructor"] is nil, as in Ruby', 'a: "<%= ENV["constructor"] %>|<%= ENV["toString"] || "d" %>"', 'a: "|d"'],
  ['ENV.fetch("__proto__") uses the default', 'a: <%= ENV.fetch("__proto__", "d") %>', 'a: d'],
  ['KAMAL_DESTINATION is an ordinary variable', 'a: <%= ENV["KAMAL_DESTINATION"] %>', 'a: '],
  ['text without tags is unchanged', 'a: 1 % 2 %> %%> <', 'a: 1 % 2 %> %%> <'],
];

describe('renderErb: forms evaluated without Ruby', () => {
  it.each(BUILTIN_FORMS)('%s', (_n, template, expected) => {
    expect(builtin(template)).toBe(expected);
  });

  it.each(BUILTIN_FORMS)('Ruby renders the same: %s', (_n, template, expected) => {
    expect(ruby(template).text).toBe(expected);
  });

  it('maps rendered lines back to template lines, as Ruby does', () => {
    for (const t of [
      'a: <%= ENV["MULTI"] %>\nb: 1\n<%# x %>\nc: 2',
      '<% if ENV["ONE"] == "1" %>\na: 1\n<% else %>\na: 3\n<% end %>\nb: 1\nc: <%= %x(printf "1\\n2") %>\nd: 1',
      '<%- unless ENV["NOPE"] -%>\n  a: 1\n<%- end -%>\nb: 1\n',
      'a: <%= ENV["MULTI"] %>\nb: 1\n<%# x\ny\nz %>\nc: 2\n<%# q -%>\nd: <%= 1 %>\n',
    ]) {
      expect(renderErbWithLineMap(t, ENV, { ruby: null }).lineMap).toEqual(ruby(t).lineMap);
    }
    const r = renderErbWithLineMap('a: <%= ENV["MULTI"] %>\nb: 1\n<%# x\ny %>\nc: 2', ENV, { ruby: null });
    expect(r.text).toBe('a: l1\nl2\nb: 1\n\nc: 2');
    // rendered line 4 is what remains of template lines 3-4 (the comment): it starts on 3
    expect(r.lineMap).toEqual([1, 1, 2, 3, 5]);
  });

  it('an if block keeps YAML error lines on the template line', () => {
    const t = 'a: 1\n<% if ENV["ONE"] == "1" %>\nb: 2\n<% end %>\nc: x: y\n';
    expect(configError(() => parseConfigText(t, { env: ENV })).message).toMatch(/^config\/deploy\.yml: invalid YAML at line 5,/);
  });

  it("renders Kamal's test/fixtures/deploy.erb.yml registry", () => {
    const config = parseConfigText('registry:\n  server: registry.digitalocean.com\n  username: <%= "my-user" %>\n  password: <%= "my-password" %>\n', {
      env: {},
    });
    expect(config.registry).toEqual({ server: 'registry.digitalocean.com', username: 'my-user', password: 'my-password' });
  });

  it('substitutes before YAML parsing, so a value can hold YAML', () => {
    expect(parseConfigText('a: <%= ENV["V"] %>\n', { env: { V: '[1, 2]' } })).toEqual({ a: [1, 2] });
  });

  it('reads the environment given, not process.env', () => {
    process.env.KAMAL_CONFIG_TEST_ONLY_IN_PROCESS = 'leak';
    try {
      expect(renderErb('a: <%= ENV["KAMAL_CONFIG_TEST_ONLY_IN_PROCESS"] %>', {})).toBe('a: ');
      expect(renderErb('a: <%= %x(printf "%s" "$KAMAL_CONFIG_TEST_ONLY_IN_PROCESS") %>', { PATH })).toBe('a: ');
    } finally {
      delete process.env.KAMAL_CONFIG_TEST_ONLY_IN_PROCESS;
    }
  });

  it('runs commands with sh in the working directory given', () => {
    const cwd = tmp();
    writeFileSync(join(cwd, 'VERSION'), '1.2.3\n');
    expect(renderErb('v: <%= `cat VERSION`.strip %>\nd: <%= %x(pwd) %>', { PATH }, { cwd })).toBe(`v: 1.2.3\nd: ${cwd}\n`);
  });

  it("runs the ECR login command of Kamal's registry docs, found on the PATH", () => {
    const bin = tmp();
    writeFileSync(join(bin, 'aws'), '#!/bin/sh\necho "token-for-$*"\n');
    chmodSync(join(bin, 'aws'), 0o755);
    const t = 'registry:\n  server: 1.dkr.ecr.us-east-1.amazonaws.com\n  username: AWS\n  password: <%= %x(aws ecr get-login-password) %>\n';
    expect(parseConfigText(t, { env: { PATH: `${bin}:${PATH}` } }).registry).toEqual({
      server: '1.dkr.ecr.us-east-1.amazonaws.com',
      username: 'AWS',
      password: 'token-for-ecr get-login-password',
    });
  });

  it('injects the command runner', () => {
    const seen: string[] = [];
    const text = renderErb('a: <%= `whoami` %>', { PATH: '/nowhere' }, { capture: (c) => (seen.push(c), 'me\n') });
    expect([text, seen]).toEqual(['a: me\n', ['whoami']]);
  });
});

describe('renderErb: errors of the built-in evaluator', () => {
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
    ['a missing key in an if condition', 'a: 1\n<% if ENV.fetch("NOPE") == "1" %>\nb: 1\n<% end %>', 'config/deploy.yml:2: key not found: "NOPE"'],
    ['a missing key in a taken branch', '<% if ENV["X"] %>\na: 1\nb: <%= ENV.fetch("NOPE") %>\n<% end %>', 'config/deploy.yml:3: key not found: "NOPE"'],
    ['an inspected key', 'a: <%= ENV.fetch("A\\"B") %>', 'config/deploy.yml:1: key not found: "A\\"B"'],
    ['.strip of nil', 'a: 1\nb: <%= ENV["NOPE"].strip %>', "config/deploy.yml:2: undefined method 'strip' for nil (NoMethodError)"],
    ['.empty? of false', 'a: <%= false.empty? %>', "config/deploy.yml:1: undefined method 'empty?' for false (NoMethodError)"],
    [
      'a command Ruby cannot find',
      'a: 1\nb: <%= %x(kamal-erb-no-such-program --version) %>',
      'config/deploy.yml:2: No such file or directory - kamal-erb-no-such-program (Errno::ENOENT)',
    ],
    ['an unterminated tag', 'a: 1\nb: <%= ENV["X"]', 'config/deploy.yml:2: unterminated ERB tag: <%= ENV["X"]'],
  ])('%s', (_n, template, message) => {
    expect(configError(() => renderErb(template, { PATH, ...ENV }, { ruby: null })).message).toBe(message);
  });

  it('Ruby says the same', () => {
    for (const t of ['a: 1\nb: <%= ENV.fetch("NOPE") %>', 'a: 1\nb: <%= %x(kamal-erb-no-such-program --version) %>']) {
      expect(configError(() => ruby(t)).message).toBe(configError(() => renderErb(t, { PATH, ...ENV }, { ruby: null })).message);
    }
  });

  it("a missing program behind shell syntax is sh's business: empty output, as in Ruby", () => {
    const t = 'a: "<%= %x(kamal-erb-no-such-program 2>/dev/null) %>"';
    expect(builtin(t, { PATH })).toBe('a: ""');
    expect(ruby(t).text).toBe('a: ""');
  });

  it('names the file it was given', () => {
    expect(configError(() => parseConfigText('a: <%= ENV.fetch("NOPE") %>', { file: 'config/other.yml', env: {} })).message).toBe(
      'config/other.yml:1: key not found: "NOPE"',
    );
  });
});

// Templates the built-in evaluator hands to Ruby: what Ruby renders, and the error without Ruby.
const RUBY_FORMS: [string, string, string, number, string][] = [
  ['File.read', 'a: 1\nb: <%= File.read("/etc/hostname").length > 0 %>', 'a: 1\nb: true', 2, '<%= File.read("/etc/hostname").length > 0 %>'],
  ['system', 'a: 1\nb: 2\nc: <%= system("true") %>', 'a: 1\nb: 2\nc: true', 3, '<%= system("true") %>'],
  ['a method the evaluator does not know', 'a: <%= ENV["X"].upcase %>', 'a: EX', 1, '<%= ENV["X"].upcase %>'],
  ['arithmetic', 'a: <%= 1 + 1 %>', 'a: 2', 1, '<%= 1 + 1 %>'],
  ['an octal integer', 'a: <%= 010 %>', 'a: 8', 1, '<%= 010 %>'],
  ['a float', 'a: <%= 1.5 %>', 'a: 1.5', 1, '<%= 1.5 %>'],
  ['a symbol', 'a: <%= :sym %>', 'a: sym', 1, '<%= :sym %>'],
  ['string interpolation', 'a: <%= "#{ENV["X"]}-#{1 + 1}" %>', 'a: ex-2', 1, '<%= "#{ENV["X"]}-#{1 + 1}" %>'],
  ['a block with a parameter', 'a: <%= ENV.fetch("NOPE") { |k| k } %>', 'a: NOPE', 1, '<%= ENV.fetch("NOPE") { |k| k } %>'],
  ['a do block', 'a: <%= ENV.fetch("NOPE") do "x" end %>', 'a: x', 1, '<%= ENV.fetch("NOPE") do "x" end %>'],
  ['adjacent strings', "a: <%= 'it''s' %>", 'a: its', 1, "<%= 'it''s' %>"],
  ['a hex escape', 'a: <%= "\\x41" %>', 'a: A', 1, '<%= "\\x41" %>'],
  ['a local variable', '<% host = ENV["X"] %>\nh: <%= host %>', '\nh: ex', 1, '<% host = ENV["X"] %>'],
  ['two statements in a tag', '<% a = 1; b = 2 %>c: <%= a + b %>', 'c: 3', 1, '<% a = 1; b = 2 %>'],
  ['ERB in a YAML comment (Kamal renders comments too)', 'a: 1\n# <%= ENV["X"].reverse %>\n', 'a: 1\n# xe\n', 2, '<%= ENV["X"].reverse %>'],
  ['a loop', '<% %w[a b].each do |h| %>\n- <%= h %>\n<% end %>', '\n- a\n\n- b\n', 1, '<% %w[a b].each do |h| %>'],
  ['a ternary', 'a: <%= ENV["X"] ? "set" : "unset" %>', 'a: set', 1, '<%= ENV["X"] ? "set" : "unset" %>'],
  ['ActiveSupport, which Kamal loads', 'a: <%= "x".inquiry.x? %>', 'a: true', 1, '<%= "x".inquiry.x? %>'],
  ['Time and Date', 'a: <%= Time.now.year > 2000 && Date.today.is_a?(Date) %>', 'a: true', 1, '<%= Time.now.year > 2000 && Date.today.is_a?(Date) %>'],
  ['the if of a block the evaluator refuses', '<% if ENV["X"] %>\na: <%= ENV["X"] * 2 %>\n<% end %>', '\na: exex\n', 2, '<%= ENV["X"] * 2 %>'],
];

describe('renderErb: templates evaluated by Ruby', () => {
  it.each(RUBY_FORMS)('%s', (_n, template, expected) => {
    const r = renderErbWithLineMap(template, { PATH, ...ENV });
    expect([r.engine, r.text]).toEqual(['ruby', expected]);
  });

  it.each(RUBY_FORMS)('without Ruby: %s', (_n, template, _expected, line, tag) => {
    expect(configError(() => renderErb(template, { PATH, ...ENV }, { file: 'config/deploy.staging.yml', ruby: null })).message).toBe(
      `config/deploy.staging.yml:${line}: ${tag} ${NEEDS_RUBY}`,
    );
  });

  it('without PATH there is no Ruby to find', () => {
    expect(configError(() => renderErb('a: <%= 1 + 1 %>', {})).message).toBe(`config/deploy.yml:1: <%= 1 + 1 %> ${NEEDS_RUBY}`);
  });

  it('hands the whole template to Ruby before running any command of it', () => {
    const dir = tmp();
    const t = 'a: <%= %x(echo run >> count) %>\nb: <%= File.basename(Dir.pwd) %>\n';
    expect(renderErb(t, { PATH }, { cwd: dir })).toBe(`a: \nb: ${dir.split('/').pop()}\n`);
    expect(readFileSync(join(dir, 'count'), 'utf8')).toBe('run\n');
  });

  it('never runs what it cannot evaluate without Ruby', () => {
    const marker = join(tmp(), 'marker');
    configError(() => renderErb(`a: <%= %x(touch ${marker}) %>\nb: <% system("touch ${marker}") %>`, { PATH }, { ruby: null }));
    expect(existsSync(marker)).toBe(false);
  });

  it("runs Ruby in the load's working directory with its environment", () => {
    const cwd = tmp();
    writeFileSync(join(cwd, '.ruby-version'), '3.4.1\n');
    const t = 'ruby: <%= File.read(".ruby-version").strip %>\ndest: <%= ENV["KAMAL_DESTINATION"] %>\n';
    expect(renderErb(t, { PATH, KAMAL_DESTINATION: 'staging' }, { cwd })).toBe('ruby: 3.4.1\ndest: staging\n');
  });

  it('maps rendered lines to template lines', () => {
    const r = renderErbWithLineMap('<% n = 2 %>\na: <%= "x\\n" * n %>b: 1\n<% if n > 1 %>\nc: 1\n<% end %>\nd: 1', { PATH });
    expect(r.text).toBe('\na: x\nx\nb: 1\n\nc: 1\n\nd: 1');
    expect(r.lineMap).toEqual([1, 2, 2, 2, 3, 4, 5, 6]);
    expect(configError(() => parseConfigText('<% n = 2 %>\na: 1\n<% if n > 1 %>\nb: 2\n<% end %>\nc: x: y\n', { env: { PATH } })).message).toMatch(
      /^config\/deploy\.yml: invalid YAML at line 6,/,
    );
  });

  it('what the template prints does not end up in the rendered text', () => {
    expect(renderErb('<% puts "noise" %>a: 1', { PATH })).toBe('a: 1');
  });

  it("does not see the variables of the script that runs it (only ERB's own buffer)", () => {
    expect(renderErb('a: <%= local_variables.inspect %>', { PATH })).toBe('a: [:_erbout]');
  });

  it.each<[string, string, string]>([
    ['an unknown name', 'a: 1\nb: <%= nope %>', `config/deploy.yml:2: ${rubySays('nope')} (NameError)`],
    ['a missing ENV.fetch key', 'a: <%= ENV.fetch("NOPE") + "x" %>', 'config/deploy.yml:1: key not found: "NOPE"'],
    ['a raise', 'a: 1\n\n<% raise "boom" %>', 'config/deploy.yml:3: boom (RuntimeError)'],
    ['a raise after a multi-line comment', 'a: 1\n<%# one\ntwo\n%>\n<% raise "boom" %>', 'config/deploy.yml:5: boom (RuntimeError)'],
    ['abort', '<% abort "stop here" if true %>', 'config/deploy.yml:1: stop here (SystemExit)'],
    [
      'a missing file',
      'a: 1\nb: <%= File.read("kamal-erb-missing") %>',
      'config/deploy.yml:2: No such file or directory @ rb_sysopen - kamal-erb-missing (Errno::ENOENT)',
    ],
    ['ERB in a YAML comment', '# image: <%= ENV.fetch("OLD_IMAGE").upcase %>\na: 1', 'config/deploy.yml:1: key not found: "OLD_IMAGE"'],
  ])('Ruby errors name the file and line: %s', (_n, template, message) => {
    expect(configError(() => renderErb(template, { PATH })).message).toBe(message);
  });

  it.each<[string, string]>([
    ['a missing end', '<% if true %>\na: 1'],
    ['an end too many', 'a: 1\n<% end %>'],
  ])('Ruby syntax errors name the file and line: %s', (_n, template) => {
    // Ruby's wording differs between versions; the line and the mention of `end` do not
    expect(configError(() => renderErb(template, { PATH })).message).toMatch(/^config\/deploy\.yml:2: [^\n]*end[^\n]* \(SyntaxError\)$/);
  });

  it('a Ruby without ActiveSupport: a method it would add is named as missing, and why', () => {
    const r = hidingRuby('active_support');
    expect(configError(() => renderErb('a: 1\nb: <%= "x".inquiry.x? %>', { PATH }, { ruby: r })).message).toBe(
      `config/deploy.yml:2: undefined method 'inquiry' for an instance of String (NoMethodError); Kamal's own process has ActiveSupport loaded, this Ruby (${r}) lacks the activesupport gem: install it (gem install activesupport)`,
    );
    // the built-in evaluator has blank?/present? of its own
    expect(renderErb('a: <%= ENV["NOPE"].blank? %>', { PATH }, { ruby: r })).toBe('a: true');
  });

  it("never shows a value's content in a NoMethodError (it may be a secret)", () => {
    const env = { PATH, KAMAL_REGISTRY_PASSWORD: 'hunter2-registry' };
    expect(configError(() => renderErb('a: <%= ENV["KAMAL_REGISTRY_PASSWORD"].decrypt %>', env)).message).toBe(
      "config/deploy.yml:1: undefined method 'decrypt' for an instance of String (NoMethodError)",
    );
    expect(configError(() => renderErb('a: <%= ENV.fetch("NOPE").size %>\nb: <%= nil.x %>', env)).message).toBe('config/deploy.yml:1: key not found: "NOPE"');
    expect(configError(() => renderErb('b: <%= nil.x(1) %>', env)).message).toBe("config/deploy.yml:1: undefined method 'x' for nil (NoMethodError)");
  });

  it('a gem Kamal has and this Ruby lacks is named', () => {
    expect(configError(() => renderErb('<% require "sshkit/not-a-file" %>', { PATH })).message).toBe(
      `config/deploy.yml:1: cannot load such file -- sshkit/not-a-file (LoadError); Kamal's own process has the sshkit gem, this Ruby (${RUBY}) does not: install it (gem install sshkit, or the distribution's ruby-sshkit package)`,
    );
  });

  it('a Ruby that cannot start is an error naming the file', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'ruby'), '#!/bin/sh\nexit 7\n');
    chmodSync(join(dir, 'ruby'), 0o755);
    expect(configError(() => renderErb('a: <%= 1 + 1 %>', { PATH: `${dir}:${PATH}` })).message).toBe(
      `config/deploy.yml: Ruby could not render the ERB (${dir}/ruby: exit code 7)`,
    );
  });
});

describe('renderErb: dotenv, as Kamal 2 configs load .env', () => {
  it('Dotenv.load sets ENV for the rest of the template and reports what it set', () => {
    const cwd = tmp();
    writeFileSync(join(cwd, '.env'), 'DB_HOST=db.internal\nX=from-dotenv\n');
    const t = '<% require "dotenv"; Dotenv.load(".env") %>\ndb: <%= ENV["DB_HOST"] %>\nx: <%= ENV["X"] %>\n';
    const r = renderErbWithLineMap(t, { PATH, X: 'kept' }, { cwd });
    expect([r.engine, r.text, r.envChanges]).toEqual(['ruby', '\ndb: db.internal\nx: kept\n', { DB_HOST: 'db.internal' }]);
  });

  it('a Ruby without the dotenv gem: the error names the gem and how to install it', () => {
    const r = hidingRuby('dotenv');
    expect(configError(() => renderErb('a: 1\n<% require "dotenv"; Dotenv.load(".env") %>\n', { PATH }, { ruby: r })).message).toBe(
      `config/deploy.yml:2: cannot load such file -- dotenv (LoadError); Kamal's own process has the dotenv gem, this Ruby (${r}) does not: install it (gem install dotenv, or the distribution's ruby-dotenv package)`,
    );
  });

  it('without Ruby the error says so', () => {
    expect(configError(() => renderErb('<% require "dotenv"; Dotenv.load(".env") %>\n', { PATH }, { ruby: null })).message).toBe(
      `config/deploy.yml:1: <% require "dotenv"; Dotenv.load(".env") %> ${NEEDS_RUBY}`,
    );
  });
});

describe('renderErb: accessory files (ERB.new(text), no trim mode)', () => {
  it('-%> and <%- are not trim markers there', () => {
    expect(renderErb('a: <%= ENV["X"] %>\n<% if true %>\nb\n<% end %>\n', ENV, { trimMode: null, ruby: null })).toBe('a: ex\n\nb\n\n');
    const t = 'a: <%= ENV["X"] -%>\nb';
    expect(configError(() => renderErb(t, ENV, { file: 'config/my.cnf.erb', trimMode: null, ruby: null })).message).toBe(
      `config/my.cnf.erb:1: <%= ENV["X"] -%> ${NEEDS_RUBY}`,
    );
    expect(configError(() => renderErb(t, { PATH, ...ENV }, { file: 'config/my.cnf.erb', trimMode: null })).message).toMatch(
      /^config\/my\.cnf\.erb:1: syntax error, unexpected '\)' \(SyntaxError\)$/,
    );
  });
});

describe('renderErb: a project on disk', () => {
  it('a sub-directory of the working directory', () => {
    const cwd = tmp();
    mkdirSync(join(cwd, 'config'));
    writeFileSync(join(cwd, 'config', 'image'), 'acme/app\n');
    expect(renderErb('image: <%= File.read("config/image").chomp %>', { PATH }, { cwd })).toBe('image: acme/app');
    expect(renderErb('image: <%= `cat config/image`.chomp %>', { PATH }, { cwd, ruby: null })).toBe('image: acme/app');
  });
});
