import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { maskAll, maskableParts, parseSecretsInput } from '../../../src/action/secrets-input.js';
import { actionsCore } from '../../../src/action/core.js';
import { runMain } from '../../../src/action/run-main.js';
import type { CliDeps, CliResult } from '../../../src/cli/run.js';
import { fakeKamal } from './fakes.js';

describe('parseSecretsInput: dotenv', () => {
  it.each<[string, string, Record<string, string>]>([
    ['empty', '', {}],
    ['blank and comments', '\n# a comment\n  \n', {}],
    ['plain', 'A=1\nB=two', { A: '1', B: 'two' }],
    ['export prefix and spaces', 'export A = x \n  B=y', { A: 'x', B: 'y' }],
    ['CRLF', 'A=1\r\nB=2\r\n', { A: '1', B: '2' }],
    ['inline comment after space', 'A=abc # note', { A: 'abc' }],
    ['hash inside a value', 'A=abc#def', { A: 'abc#def' }],
    ['equals in value', 'URL=postgres://u:p@h/db?x=1', { URL: 'postgres://u:p@h/db?x=1' }],
    ['double quotes with escapes', 'A="a\\nb\\t\\"c\\" \\\\ \\$x"', { A: 'a\nb\t"c" \\ $x' }],
    ['single quotes are literal', "A='a\\nb $x'", { A: 'a\\nb $x' }],
    ['empty values', 'A=\nB=""', { A: '', B: '' }],
    ['multi-line double-quoted value', 'KEY="-----BEGIN X-----\nabc\n-----END X-----"\nB=1', { KEY: '-----BEGIN X-----\nabc\n-----END X-----', B: '1' }],
    ['multi-line single-quoted value', "KEY='l1\nl2'", { KEY: 'l1\nl2' }],
    ['comment after closing quote', 'A="x" # c', { A: 'x' }],
    ['later definition wins', 'A=1\nA=2', { A: '2' }],
  ])('%s', (_n, text, expected) => {
    expect(parseSecretsInput(text)).toEqual(expected);
  });

  it.each([
    ['no equals', 'JUSTAKEY', 'line 1: expected KEY=VALUE'],
    ['bad name', 'A B=1', 'line 1: invalid name'],
    ['digit first', '1A=1', 'line 1: invalid name'],
    ['unterminated', 'A=1\nB="open', 'line 2: unterminated double quote'],
    ['text after quote', 'A="x" y', 'line 1: unexpected text after the closing quote'],
  ])('rejects %s', (_n, text, message) => {
    expect(() => parseSecretsInput(text)).toThrow(message);
  });
});

describe('parseSecretsInput: JSON', () => {
  it('reads toJSON(secrets)', () => {
    expect(parseSecretsInput('{\n  "github_token": "ghs_x",\n  "KAMAL_REGISTRY_PASSWORD": "pw"\n}')).toEqual({
      github_token: 'ghs_x',
      KAMAL_REGISTRY_PASSWORD: 'pw',
    });
  });
  it('turns numbers and booleans into strings and skips null', () => {
    expect(parseSecretsInput('{"A": 1, "B": true, "C": null}')).toEqual({ A: '1', B: 'true' });
  });
  it('rejects arrays and nested objects without quoting values', () => {
    expect(() => parseSecretsInput('{"A": {"x": "s3cret"}}')).toThrow("key 'A' must have a string value");
    expect(() => parseSecretsInput('[1]')).toThrow('must be a JSON object');
  });
  it('hides the parser message, which may quote the input', () => {
    try {
      parseSecretsInput('{"A": s3cret-value}');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain('s3cret');
    }
  });
});

describe('maskAll', () => {
  it('masks every value and each line of multi-line values, once', () => {
    const masked: string[] = [];
    maskAll(['abc', '', '  ', 'l1\r\n  l2  \n\nl3', 'abc'], (s) => masked.push(s));
    expect(masked.slice(0, 2)).toEqual(['abc', 'YWJj']);
    expect(masked).toContain('l1\r\n  l2  \n\nl3');
    for (const line of ['l1', 'l2', 'l3']) expect(masked).toContain(line);
    expect(new Set(masked).size).toBe(masked.length);
  });
  it('maskableParts of a blank value is nothing', () => {
    expect(maskableParts('\n \n')).toEqual([]);
  });
});

describe('masking before the first log line (real @actions/core, captured stdout)', () => {
  const saved = { ...process.env };
  let dir: string;
  let written: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'action-mask-'));
    for (const f of ['output', 'state', 'summary']) writeFileSync(join(dir, f), '');
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config/deploy.yml'), 'registry:\n  password:\n    - KAMAL_REGISTRY_PASSWORD\n');
    written = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.env = { ...saved };
    process.exitCode = 0;
  });

  it('every secret value and key line is masked before anything else is written', async () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\nAAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1\n-----END OPENSSH PRIVATE KEY-----\n';
    const secrets = { KAMAL_REGISTRY_PASSWORD: 'reg-pass-0123456789', DB_URL: 'postgres://u:pw-9876@db/x', CERT: 'line-one-aaaa\nline-two-bbbb' };
    Object.assign(process.env, {
      INPUT_COMMAND: 'deploy',
      INPUT_SECRETS: JSON.stringify(secrets),
      'INPUT_SSH-PRIVATE-KEY': key,
      'INPUT_GITHUB-TOKEN': 'ghs_token_abcdef123456',
      'INPUT_WORKING-DIRECTORY': '.',
      GITHUB_WORKSPACE: dir,
      GITHUB_OUTPUT: join(dir, 'output'),
      GITHUB_STATE: join(dir, 'state'),
      GITHUB_STEP_SUMMARY: join(dir, 'summary'),
      RUNNER_TEMP: dir,
      ACTIONS_RUNTIME_TOKEN: 'runtime-token-xyz-000',
    });
    const all = [...Object.values(secrets), key, 'ghs_token_abcdef123456', 'runtime-token-xyz-000'];

    let seenEnv: Record<string, string | undefined> = {};
    let seenOptions: CliDeps['options'] = {};
    const runCli = async (argv: string[], deps: CliDeps): Promise<CliResult> => {
      const k = fakeKamal();
      deps.onContext?.(k);
      seenEnv = deps.env ?? {};
      seenOptions = deps.options;
      deps.reporter!.say(`logging in with ${secrets.KAMAL_REGISTRY_PASSWORD} and ${secrets.CERT}`);
      deps.reporter!.command('10.0.0.1', `echo ${secrets.DB_URL}`);
      deps.reporter!.hostOutput('10.0.0.1', `token ghs_token_abcdef123456 runtime-token-xyz-000\nline-two-bbbb`);
      return { exitCode: 0, kamal: k };
    };
    const r = await runMain({ core: actionsCore(), env: process.env, runCli });
    expect(r.exitCode).toBe(0);

    const lines = written
      .join('')
      .split('\n')
      .filter((l) => l !== '');
    const firstOther = lines.findIndex((l) => !l.startsWith('::add-mask::'));
    expect(firstOther).toBeGreaterThan(0);
    const masks = lines.slice(0, firstOther).map((l) => l.slice('::add-mask::'.length));
    expect(lines.slice(firstOther).some((l) => l.startsWith('::add-mask::'))).toBe(false);
    const escape = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
    for (const v of all) {
      expect(masks).toContain(escape(v));
      if (v.includes('\n')) for (const l of v.split('\n').filter((x) => x.trim())) expect(masks).toContain(escape(l.trim()));
    }

    // No value (nor a line of one) in anything written, outputs, state or summary.
    const visible = [
      lines.slice(firstOther).join('\n'),
      readFileSync(join(dir, 'output'), 'utf8'),
      readFileSync(join(dir, 'state'), 'utf8'),
      readFileSync(join(dir, 'summary'), 'utf8'),
    ].join('\n');
    for (const v of all) for (const part of maskableParts(v)) expect(visible).not.toContain(part);
    expect(visible).toContain('[REDACTED]');

    // The engine's environment: the secrets the config names exported, the runner's tokens and raw inputs dropped.
    expect(seenEnv.KAMAL_REGISTRY_PASSWORD).toBe(secrets.KAMAL_REGISTRY_PASSWORD);
    expect(seenEnv.DB_URL).toBeUndefined();
    expect(seenEnv.ACTIONS_RUNTIME_TOKEN).toBeUndefined();
    // the key reaches the engine as a file named in the run's options, not through its environment
    expect(Object.keys(seenEnv).filter((k) => k.startsWith('KAMAL_ACTION_'))).toEqual([]);
    expect(seenOptions?.hostKeyChecking).toBe('strict');
    expect(seenOptions?.sshKeyFile).toMatch(/kamal-action-ssh-.*\/id_key$/);
    expect(readFileSync(seenOptions!.sshKeyFile!, 'utf8')).toBe(key);
    expect(Object.keys(seenEnv).filter((k) => k.startsWith('INPUT_'))).toEqual([]);
  });
});
