/** Destinations, versions, hosts and roles from the command line are checked before any use. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from '../../../src/cli/program.js';
import { runCli } from '../../../src/cli/run.js';
import { UsageError } from '../../../src/errors.js';

function usage(argv: string[]): string {
  try {
    parse(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('parsed');
}

describe('command-line values', () => {
  it.each<[string[], string]>([
    [['deploy', '-d', '../../etc/x'], `--destination: "../../etc/x" is not a destination name (letters, digits, '.', '_', '-'; no path separators)`],
    [['deploy', '-d', 'a/b'], `--destination: "a/b" is not a destination name (letters, digits, '.', '_', '-'; no path separators)`],
    [['deploy', '--destination=.hidden'], `--destination: ".hidden" is not a destination name (letters, digits, '.', '_', '-'; no path separators)`],
    [
      ['deploy', '--version', 'v1;rm -rf /'],
      `--version: "v1;rm -rf /" is not an image tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')`,
    ],
    [['deploy', '--version', '-x'], `--version: "-x" is not an image tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')`],
    [
      ['deploy', '--version', 'a'.repeat(129)],
      `--version: "${'a'.repeat(129)}" is not an image tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')`,
    ],
    [['app', 'logs', '-h', 'web1,$(id)'], `--hosts: "$(id)" is not a host name or address (letters, digits, '.', '-', '_', ':' and the wildcard '*')`],
    [['app', 'logs', '-r', 'web/../x'], `--roles: "web/../x" is not a role name (letters, digits, '_', '.', '-' and the wildcard '*')`],
  ])('%j', (argv, message) => {
    expect(usage(argv)).toBe(message);
  });

  it.each<string[]>([
    ['deploy', '-d', 'staging', '--version', 'a1b2c3_uncommitted_ff.1-x'],
    ['app', 'logs', '-h', '10.0.0.1,web-*.example.com,[::1]', '-r', 'web,job*'],
    ['rollback', 'v1.2.3', '-d', 'prod.eu-1'],
  ])('accepts %j', (...argv) => {
    expect(() => parse(argv)).not.toThrow();
  });

  it('a bad destination stops the CLI before any file of it is read', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cli-values-'));
    mkdirSync(join(cwd, 'config'));
    writeFileSync(join(cwd, 'config/deploy.yml'), 'service: x\n');
    let err = '';
    const r = await runCli(['lock', 'status', '-d', '../x'], { cwd, env: {}, err: (s) => (err += s), out: () => undefined });
    expect(r.exitCode).toBe(1);
    expect(err).toContain(`--destination: "../x" is not a destination name`);
  });
});
