import { describe, expect, it } from 'vitest';
import { RecordingRunner } from '../../../test/support/recording.js';
import { CommandAbortedError, CommandFailedError } from '../../../src/exec/types.js';
import { Secret } from '../../../src/secret.js';
import { cmd } from '../../../src/shell.js';

describe('RecordingRunner', () => {
  it('records redacted commands in call order; default response is exit 0 and no output', async () => {
    const r = new RecordingRunner();
    const res = await r.run('h1', cmd('docker', 'login', '-p', new Secret('pw-123456')));
    await r.run('h2', cmd('docker', 'ps'));
    await r.upload('h1', 'A=1', '/app/.env', { mode: '600' });
    expect(res).toMatchObject({ host: 'h1', exitCode: 0, stdout: '', stderr: '' });
    expect(r.transcript).toEqual([
      { host: 'h1', command: 'docker login -p [REDACTED]' },
      { host: 'h2', command: 'docker ps' },
      { host: 'h1', command: 'upload /app/.env (mode 600)', upload: { path: '/app/.env', mode: '600', bytes: 3 } },
    ]);
    expect(r.commandsFor('h1')).toEqual(['docker login -p [REDACTED]', 'upload /app/.env (mode 600)']);
    expect(r.lines()).toEqual(['h1: docker login -p [REDACTED]', 'h2: docker ps', 'h1: upload /app/.env (mode 600)']);
    expect(r.files.get('h1:/app/.env')?.content.toString()).toBe('A=1');
  });

  it('answers with scripted responses given the real command, and redacts them', async () => {
    const seen: string[] = [];
    const r = new RecordingRunner((host, line) => {
      seen.push(line);
      if (line.startsWith('docker inspect')) return { exitCode: 1, stderr: 'No such object: pw-123456' };
      if (host === 'h2') return { stdout: 'abc\n' };
      return undefined;
    });
    const secret = new Secret('pw-123456');
    await expect(r.run('h1', cmd('docker', 'inspect', secret))).rejects.toSatisfy(
      (e: unknown) => e instanceof CommandFailedError && e.exitCode === 1 && !e.message.includes('pw-123456') && e.message.includes('[REDACTED]'),
    );
    expect(seen[0]).toBe('docker inspect pw-123456');
    expect((await r.run('h1', cmd('docker', 'inspect', 'x'), { allowFailure: true })).exitCode).toBe(1);
    const chunks: string[] = [];
    expect((await r.run('h2', cmd('docker', 'ps'), { onStdout: (c) => chunks.push(c) })).stdout).toBe('abc\n');
    expect(chunks).toEqual(['abc\n']);
  });

  it('delays and honours AbortSignal', async () => {
    const r = new RecordingRunner({ delayMs: 1000 });
    const ac = new AbortController();
    const p = r.run('h', cmd('true'), { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(CommandAbortedError);
    const quick = new RecordingRunner({ delayMs: 5 });
    expect((await quick.run('h', cmd('true'))).durationMs).toBe(5);
  });

  it('records in call order under concurrency', async () => {
    const r = new RecordingRunner({ delayMs: 2 });
    await Promise.all(['a', 'b', 'c'].map((h) => r.run(h, cmd('echo', h))));
    expect(r.lines()).toEqual(['a: echo a', 'b: echo b', 'c: echo c']);
  });
});
