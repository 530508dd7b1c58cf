/**
 * `kamal-action config` prints what `kamal config` (Kamal 2.12) prints, byte for byte.
 *
 * Each folder of test/fixtures/kamal-config holds a project (config/, .kamal/), the arguments
 * (`args`) and `expected.yml`: the output of real Kamal 2.12 for those arguments in that folder.
 * The one deliberate difference (src/commands/DIFFERENCES.md): ssh key_data values are redacted.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { RubyFloat, RubyObject, RubySymbol, toRubyYaml } from '../../../src/cli/ruby-yaml.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/kamal-config', import.meta.url));
const cases = readdirSync(FIXTURES).sort();

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Kamal prints the private keys of ssh.key_data; we print [REDACTED]. */
function withRedactedKeyData(expected: string): string {
  return expected.replace(
    /(\n {2}:key_data:\n)((?: {2}- .*\n)+)/,
    (_m, head: string, items: string) => head + items.replace(/^ {2}- .*$/gm, '  - "[REDACTED]"'),
  );
}

async function configOutput(name: string): Promise<{ out: string; err: string; exitCode: number }> {
  const dir = mkdtempSync(join(tmpdir(), `kamal-config-${name}-`));
  dirs.push(dir);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  const args = readFileSync(join(dir, 'args'), 'utf8').trim().split(/\s+/);
  const reporter = new MemoryReporter();
  let err = '';
  const result = await runCli(args, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    out: () => undefined,
    err: (s) => (err += s),
    reporter,
  });
  return { out: reporter.text, err, exitCode: result.exitCode };
}

describe('config prints what Kamal 2.12 prints', () => {
  it('has at least 8 projects', () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
  });

  for (const name of cases) {
    it(name, async () => {
      const expected = readFileSync(join(FIXTURES, name, 'expected.yml'), 'utf8');
      const { out, err, exitCode } = await configOutput(name);
      expect(err).toBe('');
      expect(exitCode).toBe(0);
      expect(out).toBe(withRedactedKeyData(expected));
    });
  }

  it('never prints the value of a secret', async () => {
    const { out } = await configOutput('keydata');
    expect(out).not.toContain('BEGIN KEY');
    expect(out).toContain(':key_data:\n  - "[REDACTED]"\n');
  });
});

describe('Ruby YAML (Psych 5 on libyaml 0.2.5)', () => {
  const yamlCases: Array<[string, unknown, string]> = [
    ['symbol keys and values', new Map([[new RubySymbol('a'), new RubySymbol('fatal')]]), '---\n:a: :fatal\n'],
    [
      'empty collections flow',
      new Map<RubySymbol, unknown>([
        [new RubySymbol('h'), new Map()],
        [new RubySymbol('l'), []],
      ]),
      '---\n:h: {}\n:l: []\n',
    ],
    ['nil is empty', { k: null }, '---\nk:\n'],
    ['floats plain', { f: new RubyFloat('1.5') }, '---\nf: 1.5\n'],
    ['float-looking strings single-quoted', { f: '1.5', i: '42', b: 'on', d: '2024-01-01' }, "---\nf: '1.5'\ni: '42'\nb: 'on'\nd: '2024-01-01'\n"],
    ['non-word start double-quoted', { a: '-x', b: '*', c: '~', d: ' x' }, '---\na: "-x"\nb: "*"\nc: "~"\nd: " x"\n'],
    ['y and n double-quoted', ['y', 'n', 'Y', 'N'], '---\n- "y"\n- "n"\n- "Y"\n- "N"\n'],
    ['non-word start with a quote falls back to single quotes', { a: '"x"' }, '---\na: \'"x"\'\n'],
    ['colon-space and space-hash single-quoted', { a: 'a: b', b: 'a #b', c: 'a#b' }, "---\na: 'a: b'\nb: 'a #b'\nc: a#b\n"],
    ['leading zero with 8 or 9', { a: '0789', b: '0,' }, "---\na: '0789'\nb: 0,\n"],
    ['tab escapes', { a: 'a\tb' }, '---\na: "a\\tb"\n'],
    ['emoji escaped', { a: 'x😀' }, '---\na: "x\\U0001F600"\n'],
    ['literal blocks', { a: 'one\ntwo\n', b: 'one\ntwo', c: 'one\n\n' }, '---\na: |\n  one\n  two\nb: |-\n  one\n  two\nc: "one\\n\\n"\n'],
    ['kept final newlines end the document', { a: 'one\ntwo\n\n' }, '---\na: |+\n  one\n  two\n\n...\n'],
    ['sequences of mappings', [{ a: 1, b: [true, false] }], '---\n- a: 1\n  b:\n  - true\n  - false\n'],
    ['nested sequences', [[1, 2], []], '---\n- - 1\n  - 2\n- []\n'],
    [
      'tagged objects',
      { p: new RubyObject('Net::SSH::Proxy::Jump', [['jump_proxies', 'root@h']]) },
      '---\np: !ruby/object:Net::SSH::Proxy::Jump\n  jump_proxies: root@h\n',
    ],
    [
      'long plain scalars fold at 80 columns',
      { key: 'word '.repeat(20).trim() },
      '---\nkey: word word word word word word word word word word word word word word word word\n  word word word word\n',
    ],
    ['merge key', { '<<': 1 }, "---\n!!str '<<': 1\n"],
  ];
  for (const [what, value, yaml] of yamlCases) {
    it(what, () => {
      expect(toRubyYaml(value)).toBe(yaml);
    });
  }
});
