/** Words the CLI rewrites before commander parses them: `-e` pairs of `app exec`, Thor's underscore spellings. */
import { describe, expect, it } from 'vitest';
import { preprocessArgv } from '../../../src/cli/program.js';
import { plan } from './helpers.js';

describe('preprocessArgv', () => {
  it('leaves -h and -H to commander (Kamal: -h is --hosts, -H is --skip-hooks)', () => {
    expect(preprocessArgv(['app', 'version', '-h', '1.1.1.1', '-H'])).toEqual(['app', 'version', '-h', '1.1.1.1', '-H']);
  });

  it('gives each KEY=VALUE or KEY:VALUE word after -e/--env its own --env=, and stops at the first other word', () => {
    expect(preprocessArgv(['app', 'exec', '-e', 'A=1', 'B:2', '-r', 'web', 'echo', 'C=3'])).toEqual([
      'app',
      'exec',
      '--env=A=1',
      '--env=B:2',
      '-r',
      'web',
      'echo',
      'C=3',
    ]);
    expect(preprocessArgv(['app', 'exec', '--env', 'A=x=y', 'ls'])).toEqual(['app', 'exec', '--env=A=x=y', 'ls']);
    // nothing to take: left for commander to report
    expect(preprocessArgv(['app', 'exec', '-e'])).toEqual(['app', 'exec', '-e']);
    // words after -- are the command's
    expect(preprocessArgv(['app', 'exec', '--', 'grep', '-e', 'A=1', '-H'])).toEqual(['app', 'exec', '--', 'grep', '-e', 'A=1', '-H']);
  });
});

describe('app exec --env', () => {
  const runs = async (args: string[]) => {
    const run = await plan(['app', 'exec', '--version', 'abc', '--json', ...args]);
    expect(run.exitCode, run.err).toBe(0);
    return run.steps.filter((s) => s.command.startsWith('docker run --rm')).map((s) => s.command);
  };

  it("takes Kamal's KEY:VALUE and KEY=VALUE pairs before other options and the command", async () => {
    const commands = await runs(['-e', 'FOO:bar', 'BAZ=1', '-r', 'web', 'printenv FOO']);
    expect(commands.length).toBeGreaterThan(0);
    for (const c of commands) {
      expect(c).toContain('--env FOO="bar" --env BAZ="1"');
      expect(c).toMatch(/ printenv FOO$/);
    }
  });

  it('takes repeated -e and -e after the command', async () => {
    const commands = await runs(['printenv FOO', '-e', 'FOO=bar', '--env', 'X=y:z']);
    for (const c of commands) expect(c).toContain('--env FOO="bar" --env X="y:z"');
  });

  it('refuses a value that is no pair', async () => {
    const run = await plan(['app', 'exec', '--version', 'abc', '--env=nope', 'ls']);
    expect(run.exitCode).toBe(1);
    expect(run.err).toContain("--env expects KEY=VALUE, got 'nope'");
  });
});
