/**
 * Files we read must be regular files within a size bound: a FIFO or a device in
 * their place fails at once with a message naming the file, instead of blocking
 * or filling memory. The loaders are run in a child process (memory-limited, with a
 * guard) so a loader that blocks fails the test instead of freezing the run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ONE_MIB, UnsafeFileError, readRegularFile } from '../../../src/fs-safe.js';

const ROOT = resolve(import.meta.dirname, '../../..');

function fifo(dir: string, name: string): string {
  const p = join(dir, name);
  execFileSync('mkfifo', [p]);
  return p;
}

/** Runs `code` (an ES module body) with tsx, PROJECT=`project`, at most 1.5 GB of data; prints its result. */
function child(code: string, project: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', `ulimit -d 1500000; exec "${process.execPath}" --import tsx --input-type=module -e "$0"`, code], {
    cwd: ROOT,
    env: { ...process.env, PROJECT: project },
    encoding: 'utf8',
    // a guard against a loader that blocks: such a run fails (status null), it is not timed
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('readRegularFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-safe-'));
  writeFileSync(join(dir, 'ok.yml'), 'service: app\n');
  writeFileSync(join(dir, 'big'), Buffer.alloc(2048, 'a'));
  mkdirSync(join(dir, 'folder'));
  const pipe = fifo(dir, 'pipe');
  symlinkSync('/dev/zero', join(dir, 'zero'));
  symlinkSync(join(dir, 'ok.yml'), join(dir, 'link.yml'));

  it('reads a regular file, and one through a symlink', () => {
    expect(readRegularFile(join(dir, 'ok.yml'), 100).toString()).toBe('service: app\n');
    expect(readRegularFile(join(dir, 'link.yml'), 100).toString()).toBe('service: app\n');
  });

  it.each<[string, string, string]>([
    ['pipe', 'NOT_FILE', 'config/deploy.yml: is a named pipe (FIFO), not a regular file'],
    ['zero', 'NOT_FILE', 'config/deploy.yml: is a device, not a regular file'],
    ['folder', 'NOT_FILE', 'config/deploy.yml: is a directory, not a regular file'],
    ['big', 'TOO_LARGE', 'config/deploy.yml: file is too large (2048 bytes; the limit is 1024)'],
    ['missing', 'ENOENT', 'config/deploy.yml: no such file'],
  ])('%s is refused (%s)', (name, code, message) => {
    const path = name === 'pipe' ? pipe : join(dir, name);
    let error: unknown;
    try {
      readRegularFile(path, 1024, 'config/deploy.yml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsafeFileError);
    expect((error as UnsafeFileError).code).toBe(code);
    expect((error as Error).message).toBe(message);
  });

  it('bounds config and secrets at one MiB', () => {
    expect(ONE_MIB).toBe(1048576);
  });
});

describe('loaders refuse what is not a regular file, at once', () => {
  function project(kind: 'fifo' | 'zero'): string {
    const dir = mkdtempSync(join(tmpdir(), 'fs-safe-project-'));
    mkdirSync(join(dir, 'config'));
    if (kind === 'fifo') fifo(join(dir, 'config'), 'deploy.yml');
    else symlinkSync('/dev/zero', join(dir, 'config/deploy.yml'));
    return dir;
  }

  it.each<['fifo' | 'zero', string]>([
    ['fifo', 'config/deploy.yml: is a named pipe (FIFO), not a regular file'],
    ['zero', 'config/deploy.yml: is a device, not a regular file'],
  ])('config/deploy.yml as a %s: a ConfigError naming the file', (kind, message) => {
    const dir = project(kind);
    const r = child(
      `import { loadConfigFile } from '${join(ROOT, 'src/config/load.ts')}';
       try { loadConfigFile('config/deploy.yml', { cwd: process.env.PROJECT, env: {} }); console.log('READ'); }
       catch (e) { console.log(e.name + ': ' + e.message); }`,
      dir,
    );
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`ConfigError: ${message}`);
  });

  it.each<['fifo' | 'zero', string]>([
    ['fifo', '.kamal/secrets: is a named pipe (FIFO), not a regular file'],
    ['zero', '.kamal/secrets: is a device, not a regular file'],
  ])('.kamal/secrets as a %s: a ConfigError naming the file', (kind, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-safe-secrets-'));
    mkdirSync(join(dir, '.kamal'));
    if (kind === 'fifo') fifo(join(dir, '.kamal'), 'secrets');
    else symlinkSync('/dev/zero', join(dir, '.kamal/secrets'));
    const r = child(
      `import { FileSecretStore } from '${join(ROOT, 'src/config/secrets.ts')}';
       try { new FileSecretStore({ cwd: process.env.PROJECT, env: {} }).load(); console.log('READ'); }
       catch (e) { console.log(e.name + ': ' + e.message); }`,
      dir,
    );
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`ConfigError: ${message}`);
  });

  it('an SSH key file that is a FIFO is a problem named by the file, not a hang', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-safe-key-'));
    const key = fifo(dir, 'id_key');
    const r = child(
      `import { loadIdentities } from '${join(ROOT, 'src/ssh/keys.ts')}';
       const r = await loadIdentities({ keys: ['${key}'] });
       console.log(JSON.stringify(r.problems));`,
      dir,
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual([`key file ${key} is a named pipe (FIFO), not a regular file`]);
  });
});
