/** The action log: verbose output (each command line and its output) with -v or the runner's debug logging. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../../../src/action/run-main.js';
import type { CliDeps, CliResult } from '../../../src/cli/run.js';
import { RecordingCore, fakeKamal } from '../action/fakes.js';

/** A CLI run that reports one command with its output. */
async function log(env: Record<string, string>, command = 'deploy'): Promise<string[]> {
  const core = new RecordingCore({ version: 'v2', command });
  const runCli = async (_argv: string[], deps: CliDeps): Promise<CliResult> => {
    const k = fakeKamal();
    deps.onContext?.(k);
    deps.reporter!.command('10.0.0.1', 'docker ps', 'a1b2c3d4');
    deps.reporter!.commandOutput?.('10.0.0.1', 'a1b2c3d4', 'stdout', 'abc123\n');
    deps.reporter!.commandEnd?.('10.0.0.1', 'a1b2c3d4', 0, 0.5);
    return { exitCode: 0, kamal: k };
  };
  const workspace = mkdtempSync(join(tmpdir(), 'action-verbose-'));
  await runMain({ core, env: { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: workspace, ...env }, runCli });
  return core
    .of('info')
    .map((e) => e.value!)
    .filter((l) => l.includes('[a1b2c3d4]'));
}

describe('action log verbosity', () => {
  it('by default: Running and Finished', async () => {
    expect(await log({})).toEqual([
      '  INFO [a1b2c3d4] Running docker ps on 10.0.0.1',
      '  INFO [a1b2c3d4] Finished in 0.500 seconds with exit status 0 (successful).',
    ]);
  });

  const verbose = [
    '  INFO [a1b2c3d4] Running docker ps on 10.0.0.1',
    ' DEBUG [a1b2c3d4] Command: docker ps',
    ' DEBUG [a1b2c3d4] \tabc123',
    '  INFO [a1b2c3d4] Finished in 0.500 seconds with exit status 0 (successful).',
  ];
  it('RUNNER_DEBUG=1 (a re-run with debug logging): the command line and its output too', async () => {
    expect(await log({ RUNNER_DEBUG: '1' })).toEqual(verbose);
  });
  it('-v in the command: the same', async () => {
    expect(await log({}, 'deploy -v')).toEqual(verbose);
  });
});
