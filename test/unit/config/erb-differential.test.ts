// The built-in ERB evaluator against Ruby's own ERB (trim_mode "-") on random templates made of
// the forms it evaluates: the same text, or an error of the same Ruby class. One Ruby process
// renders the whole batch; the seed is fixed, so every run checks the same templates.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderErbWithLineMap } from '../../../src/config/erb.js';
import { findRuby } from '../../../src/config/ruby-erb.js';
import { ConfigError } from '../../../src/errors.js';

const RUBY = findRuby({ PATH: process.env.PATH });
if (!RUBY) throw new Error('these tests need ruby on the PATH (apt-get install ruby ruby-activesupport)');

const ENV = { PATH: process.env.PATH!, X: 'ex', ONE: '1', EMPTY: '', SP: ' \tpad\n\n', NL: 'a\r\n' };

const atom = fc.constantFrom(
  'ENV["X"]',
  'ENV["NOPE"]',
  'ENV["EMPTY"]',
  'ENV["SP"]',
  'ENV["NL"]',
  "ENV['ONE']",
  'ENV.fetch("X", "d")',
  'ENV.fetch("NOPE", nil)',
  'ENV.fetch("NOPE") { "blk" }',
  'ENV.fetch "ONE"',
  'ENV.key?("EMPTY")',
  '"lit"',
  "'q'",
  '""',
  '42',
  'nil',
  'true',
  'false',
  '%x(printf a)',
  '`echo b`',
  '%x{printf " x "}',
);
const method = fc.constantFrom('.strip', '.chomp', '.to_s', '.present?', '.blank?', '.presence', '.nil?', '.lstrip', '.rstrip', '.empty?');
const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    fc.tuple(atom, fc.array(method, { maxLength: 2 })).map(([a, ms]) => a + ms.join('')),
    fc.tuple(tie('e'), fc.constantFrom(' || ', ' && ', ' == ', ' != '), tie('e')).map(([a, op, b]) => `(${a})${op}(${b})`),
    tie('e').map((e) => `!(${e})`),
    tie('e').map((e) => `(${e})${'.to_s'}`),
  ),
})).e;
const text = fc.constantFrom('a: ', 'b\n', '\n', '  ', 'x', '- ');
const close = fc.constantFrom(' %>', ' -%>', '%>');
const out = fc.tuple(fc.constantFrom('<%= ', '<%='), expr, fc.constantFrom('', ' if ENV["X"]', ' unless ENV["ONE"] == "1"'), close).map((p) => p.join(''));
const block: fc.Arbitrary<string> = fc.letrec<{ b: string }>((tie) => ({
  b: fc.oneof(
    { depthSize: 'small' },
    fc.array(fc.oneof(text, out), { maxLength: 4 }).map((a) => a.join('')),
    fc
      .tuple(
        fc.constantFrom('<% if ', '<%- if ', '<% unless '),
        expr,
        close,
        tie('b'),
        fc.option(fc.tuple(expr, tie('b'))),
        fc.option(tie('b')),
        fc.constantFrom('<% end %>', '<%- end -%>\n'),
      )
      .map(([open, cond, c, body, elsif, els, end]) => {
        const isUnless = open.includes('unless');
        let s = `${open}${cond}${c}${body}`;
        if (elsif && !isUnless) s += `<% elsif ${elsif[0]} %>${elsif[1]}`;
        if (els !== null) s += `<% else -%>\n${els}`;
        return s + end;
      }),
  ),
})).b;
const template = fc.array(fc.oneof(block, text), { minLength: 1, maxLength: 4 }).map((a) => a.join(''));

const BATCH = `
require "erb"; require "json"
begin
  require "active_support"; require "active_support/core_ext/object/blank"
rescue LoadError
end
def kamal_batch_render(t)
  { "text" => ERB.new(t, trim_mode: "-").result }
rescue Exception => e
  { "error" => e.class.name }
end
puts JSON.generate(JSON.parse($stdin.read).map { |t| kamal_batch_render(t) })
`;

type Outcome = { text: string } | { error: string };

function builtin(t: string): Outcome {
  try {
    const r = renderErbWithLineMap(t, ENV, { ruby: null });
    return { text: r.text };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (e.message.includes('needs Ruby')) return { error: `refused: ${e.message}` };
    if (e.message.includes('key not found')) return { error: 'KeyError' };
    return { error: /\((\w+)\)$/.exec(e.message)?.[1] ?? e.message };
  }
}

describe('built-in ERB evaluator against Ruby', () => {
  it('renders 400 random templates of its forms as Ruby does', () => {
    const templates = fc.sample(template, { numRuns: 400, seed: 20261206 });
    const ruby = JSON.parse(
      execFileSync(RUBY!, ['-W0', '-e', BATCH], { input: JSON.stringify(templates), env: ENV, maxBuffer: 64 << 20 }).toString(),
    ) as Outcome[];
    const all = templates.map((t, i) => ({ t, ours: builtin(t), ruby: ruby[i] }));
    // a template the evaluator refuses goes to Ruby whole: never a wrong render
    const evaluated = all.filter((d) => !('error' in d.ours && d.ours.error.startsWith('refused')));
    expect(evaluated.length).toBeGreaterThan(templates.length * 0.9);
    const differ = evaluated.filter((d) => JSON.stringify(d.ours) !== JSON.stringify(d.ruby));
    expect(differ.slice(0, 5)).toEqual([]);
    // the batch holds every kind of outcome
    expect(new Set(ruby.map((r) => ('error' in r ? r.error : 'text')))).toEqual(new Set(['text', 'NoMethodError']));
  }, 120_000);
});
