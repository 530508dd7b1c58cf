import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalRunner } from '../../../src/exec/local.js';
import { CommandAbortedError, CommandFailedError, CommandTimeoutError, LOCAL } from '../../../src/exec/types.js';
import { Secret } from '../../../src/secret.js';
import { chain, cmd, pipe, raw } from '../../../src/shell.js';

const NASTY = [
  `it's "quoted"`,
  '$(touch /tmp/pwned)',
  '`id`',
  'a; rm -rf /',
  'line1\nline2\n',
  '  spaces  ',
  'ünïcødé ✓ 日本',
  '\\back\\slash',
  '!bang *',
  '',
  `all of it: ' " $(x) \`y\` ; \n \t ü $HOME`,
];

const runner = new LocalRunner();

describe('LocalRunner', () => {
  it('runs through /bin/sh and reports host local', async () => {
    const r = await runner.run(LOCAL, pipe(cmd('printf', 'a\\nb\\n'), cmd('wc', '-l')));
    expect(r.host).toBe(LOCAL);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe('2');
    expect(r.command).toBe(`printf 'a\\nb\\n' | wc -l`);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('decides success by exit code only', async () => {
    const r = await runner.run(LOCAL, chain(cmd('echo', 'warning', raw('>&2')), cmd('true')));
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('warning\n');
  });

  it('throws CommandFailedError with host, redacted command, exit code and stderr tail', async () => {
    const secret = new Secret('hunter2-hunter2');
    const err = await runner.run(LOCAL, chain(cmd('echo', 'bad', secret, raw('>&2')), cmd('exit', '4'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    const e = err as CommandFailedError;
    expect(e.exitCode).toBe(4);
    expect(e.host).toBe(LOCAL);
    expect(e.message).toContain('command failed on local (exit 4)');
    expect(e.message).toContain('bad [REDACTED]');
    expect(e.message).not.toContain('hunter2-hunter2');
    expect(e.stderr).toBe('bad [REDACTED]\n');
  });

  it('allowFailure returns the result', async () => {
    const r = await runner.run(LOCAL, cmd('false'), { allowFailure: true });
    expect(r.exitCode).toBe(1);
  });

  it('redacts secrets from stdout and streamed output', async () => {
    const chunks: string[] = [];
    const r = await runner.run(LOCAL, cmd('echo', new Secret('abc-secret-xyz')), { onStdout: (c) => chunks.push(c) });
    expect(r.stdout).toBe('[REDACTED]\n');
    expect(chunks.join('')).toBe('[REDACTED]\n');
  });

  it('runs in the given working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kamal-cwd-'));
    expect((await runner.run(LOCAL, cmd('pwd'), { cwd: dir })).stdout.trim()).toBe(dir);
    expect((await new LocalRunner({ cwd: dir }).run(LOCAL, cmd('pwd'))).stdout.trim()).toBe(dir);
  });

  it('passes stdin, env and streams stderr', async () => {
    const errs: string[] = [];
    const r = await runner.run(LOCAL, cmd('sh', '-c', 'cat; echo "$X" >&2'), {
      stdin: Buffer.from('in\n'),
      env: { X: 'from env' },
      onStderr: (c) => errs.push(c),
    });
    expect(r.stdout).toBe('in\n');
    expect(errs.join('')).toBe('from env\n');
  });

  it.each(NASTY)('delivers %j byte-exact as a word', async (value) => {
    const r = await runner.run(LOCAL, cmd('printf', '%s', value));
    expect(r.stdout).toBe(value);
  });

  it('stops a command at timeoutMs, including the processes it started', async () => {
    const err = await runner.run(LOCAL, pipe(cmd('sleep', '30'), cmd('cat')), { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandTimeoutError);
    expect((err as CommandTimeoutError).exitCode).toBe(124);
    expect((err as Error).message).toContain('timed out after 200 ms on local: sleep 30 | cat');
  });

  it('cancels through an AbortSignal', async () => {
    const ac = new AbortController();
    const p = runner.run(LOCAL, cmd('sleep', '30'), { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expect(p).rejects.toBeInstanceOf(CommandAbortedError);
    const pre = new AbortController();
    pre.abort();
    await expect(runner.run(LOCAL, cmd('true'), { signal: pre.signal })).rejects.toBeInstanceOf(CommandAbortedError);
  });

  it('reports a command killed by a signal as 128 + signal number', async () => {
    const r = await runner.run(LOCAL, cmd('kill', '-9', raw('$$')), { allowFailure: true });
    expect(r.exitCode).toBe(137);
  });

  it('upload writes a file; with a mode it replaces the file with that mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kamal-local-'));
    const path = join(dir, 'f.env');
    await runner.upload(LOCAL, 'plain', path);
    expect(readFileSync(path, 'utf8')).toBe('plain');
    writeFileSync(path, 'old', { mode: 0o644 });
    await runner.upload(LOCAL, 'SECRET=1\n', path, { mode: '600' });
    expect(readFileSync(path, 'utf8')).toBe('SECRET=1\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await runner.upload(LOCAL, 'x', join(dir, 'g'), { mode: '640' });
    expect(statSync(join(dir, 'g')).mode & 0o777).toBe(0o640);
  });
});
