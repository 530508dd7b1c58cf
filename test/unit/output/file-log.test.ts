import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileLog, fileTimestamp, logFileName } from '../../../src/output/file-log.js';

const AT = new Date(2026, 11, 6, 9, 5, 7); // local time, as Kamal's Time.now

describe('log file names (Kamal: <time>[_<destination>]_<command>[_<subcommand>].log, local time)', () => {
  it.each([
    [{ command: 'deploy' }, '2026-12-06T09-05-07_deploy.log'],
    [{ command: 'deploy', destination: 'staging' }, '2026-12-06T09-05-07_staging_deploy.log'],
    [{ command: 'app', subcommand: 'boot' }, '2026-12-06T09-05-07_app_boot.log'],
    [{ command: 'app', subcommand: 'boot', destination: 'staging' }, '2026-12-06T09-05-07_staging_app_boot.log'],
    [
      { command: 'accessory', subcommand: 'remove_service_directory', destination: 'production' },
      '2026-12-06T09-05-07_production_accessory_remove_service_directory.log',
    ],
    [{ command: 'rollback' }, '2026-12-06T09-05-07_rollback.log'],
  ])('%j → %s', (payload, name) => {
    expect(logFileName(payload, AT)).toBe(name);
  });

  it('pads every field to two digits', () => {
    expect(fileTimestamp(new Date(2027, 0, 2, 3, 4, 5))).toBe('2027-01-02T03-04-05');
    expect(fileTimestamp(new Date(2026, 10, 30, 23, 59, 59))).toBe('2026-11-30T23-59-59');
  });
});

describe('FileLog', () => {
  let dir: string;
  let printed: string[];
  const log = (path = join(dir, 'logs/kamal/')): FileLog => new FileLog(path, { cwd: dir, now: () => AT, print: (l) => printed.push(l) });
  const files = (): string[] => readdirSync(join(dir, 'logs/kamal')).sort();
  const content = (): string => readFileSync(join(dir, 'logs/kamal', files()[0]!), 'utf8');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kamal-output-'));
    printed = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes nothing before the command starts, then every line until it ends, then the completion line', async () => {
    const f = log();
    f.write('before modify\n', {});
    f.start({ command: 'deploy', hosts: ['1.1.1.1'] });
    f.write('Build and push app image...\n', {});
    f.write('  INFO [ab12cd34] Running docker ps on 1.1.1.1\n', { host: '1.1.1.1', severity: 'info' });
    f.finish({ command: 'deploy', hosts: ['1.1.1.1'] }, 12.3);
    f.write('after\n', {});
    await f.close();
    expect(files()).toEqual(['2026-12-06T09-05-07_deploy.log']);
    expect(content()).toBe('Build and push app image...\n  INFO [ab12cd34] Running docker ps on 1.1.1.1\n# Completed in 12.3s\n');
    expect(printed).toEqual([`Logs written to ${join(dir, 'logs/kamal', '2026-12-06T09-05-07_deploy.log')}`]);
  });

  it('ends a failed command with its error and runtime', async () => {
    const f = log();
    f.start({ command: 'app', subcommand: 'boot', destination: 'staging', hosts: [] });
    f.finish({ command: 'app', subcommand: 'boot', hosts: [] }, 0, ['CommandFailedError', 'command failed on 1.1.1.1 (exit 1): docker run']);
    expect(files()).toEqual(['2026-12-06T09-05-07_staging_app_boot.log']);
    expect(content()).toBe('# FAILED: CommandFailedError: command failed on 1.1.1.1 (exit 1): docker run (0.0s)\n');
  });

  it('appends to a file of the same name, and prints the path as configured (relative to the project)', () => {
    const a = new FileLog('logs/kamal', { cwd: dir, now: () => AT, print: (l) => printed.push(l) });
    a.start({ command: 'deploy', hosts: [] });
    a.write('one\n', {});
    a.finish({ command: 'deploy', hosts: [] }, 1);
    a.start({ command: 'deploy', hosts: [] });
    a.write('two\n', {});
    a.finish({ command: 'deploy', hosts: [] }, 2);
    expect(content()).toBe('one\n# Completed in 1.0s\ntwo\n# Completed in 2.0s\n');
    expect(printed).toEqual(['Logs written to logs/kamal/2026-12-06T09-05-07_deploy.log', 'Logs written to logs/kamal/2026-12-06T09-05-07_deploy.log']);
  });

  it('close without a finish closes the file; closing twice is harmless', async () => {
    const f = log();
    f.start({ command: 'deploy', hosts: [] });
    f.write('x\n', {});
    await f.close();
    await f.close();
    f.write('ignored\n', {});
    expect(content()).toBe('x\n');
    expect(printed).toEqual([]);
  });
});
