import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../../src/secret.js';
import { any, cat, chain, cmd, combine, display, dq, pipe, quote, raw, render, secretsOf, shell, splitShellWords, sub, xargs } from '../../../src/shell.js';

const NASTY = [
  `it's`,
  `say "hi"`,
  '$(touch /tmp/pwned)',
  '`id`',
  'a; rm -rf /',
  'line1\nline2',
  'tab\there',
  'spaces  inside ',
  'ünïcødé ✓ 日本',
  '\\back\\slash',
  '!bang',
  '',
  '-',
  '*',
  '~root',
  '{a,b}',
  'x=y z',
];

describe('quote', () => {
  it.each([
    ['app', 'app'],
    ['registry:5000/app:v1', 'registry:5000/app:v1'],
    ['name=^app-web-1$', `'name=^app-web-1$'`],
    ['', `''`],
    [`it's`, `'it'\\''s'`],
    ['{{.ID}}', `'{{.ID}}'`],
  ])('%j -> %s', (input, expected) => {
    expect(quote(input)).toBe(expected);
  });
});

describe('render', () => {
  it('renders simple commands and drops empty words', () => {
    expect(render(cmd('docker', 'ps', null, false, undefined, ['--filter', 'label=service=app']))).toBe('docker ps --filter label=service=app');
  });

  it('renders Kamal-style double quotes where safe and single quotes otherwise', () => {
    expect(render(cmd('--label', cat('service=', dq('app'))))).toBe('--label service="app"');
    expect(render(cmd('--label', cat('x=', dq('$(id)'))))).toBe(`--label x='$(id)'`);
  });

  it('renders operators flat, as Kamal joins them', () => {
    const c = combine(cmd('mkdir', '-p', 'a'), chain(cmd('true'), cmd('false')));
    expect(render(c)).toBe('mkdir -p a && true ; false');
    expect(render(any(cmd('docker', 'start', 'x'), pipe(cmd('echo', 'a'), cmd('cat'))))).toBe('docker start x || echo a | cat');
    expect(render(xargs(cmd('docker', 'ps', '-q'), cmd('docker', 'stop')))).toBe('docker ps -q | xargs docker stop');
  });

  it('passes raw shell syntax and substitutions', () => {
    expect(render(cmd('echo', sub(cmd('cat', 'f', raw('2> /dev/null')))))).toBe('echo $(cat f 2> /dev/null)');
    expect(render(cmd('--volume', cat(raw('$PWD'), '/.kamal:/x')))).toBe('--volume $PWD/.kamal:/x');
  });

  it('quotes a nested script for sh -c', () => {
    expect(render(shell(cmd('echo', `it's`)))).toBe(`sh -c 'echo '\\''it'\\''\\'\\'''\\''s'\\'''`);
  });

  it('redacts secrets in display and reveals them in render', () => {
    const s = new Secret('hunter2 $(x)', 'PW');
    const c = cmd('docker', 'login', '-p', s, cat('--env=', dq(s)));
    expect(display(c)).toBe('docker login -p [REDACTED] --env="[REDACTED]"');
    expect(render(c)).toBe(`docker login -p 'hunter2 $(x)' --env='hunter2 $(x)'`);
    expect(secretsOf(c)).toHaveLength(2);
    expect(String(s)).toBe('[REDACTED]');
    expect(JSON.stringify({ s })).toBe('{"s":"[REDACTED]"}');
  });
});

describe('byte-exact through a real shell', () => {
  it.each(NASTY.map((v) => [v]))('%j', (value) => {
    const out = execFileSync('/bin/sh', ['-c', render(cmd('printf', '%s', value))]);
    expect(out.toString('utf8')).toBe(value);
    const dqOut = execFileSync('/bin/sh', ['-c', render(cmd('printf', '%s', cat('k=', dq(value))))]);
    expect(dqOut.toString('utf8')).toBe(`k=${value}`);
    const nested = execFileSync('/bin/sh', ['-c', render(shell(cmd('printf', '%s', value)))]);
    expect(nested.toString('utf8')).toBe(value);
  });

  it('splitShellWords inverts render for every value', () => {
    for (const v of NASTY) {
      expect(splitShellWords(render(cmd('x', v, cat('k=', dq(v)))))).toEqual(['x', v, `k=${v}`]);
    }
  });
});
