/**
 * `kamal-action build pull` through runCli with a recording runner (nothing
 * connects): Kamal::Cli::Build#pull asks each app host for its first registry
 * mirror when there are several app hosts, pulls on one host per mirror to
 * seed it, then on the remaining hosts. A plan can't show the seeding order
 * (the mirror is only known at run time), so it is checked here.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { RecordingRunner, type ScriptedResponse } from '../../../test/support/recording.js';
import { copyFixture, testEnv } from './helpers.js';
import { DEFAULT, kamal } from './kamal-expected.js';

const NO_MIRROR: ScriptedResponse = {
  exitCode: 1,
  stderr: 'template: :1:2: executing "" at <index .RegistryConfig.Mirrors 0>: error calling index: reflect: slice index out of range\n',
};

async function pull(mirrorOf: (host: string) => ScriptedResponse) {
  const k = kamal(DEFAULT);
  const runner = new RecordingRunner((host, command) => (command === k.firstMirror ? mirrorOf(host) : undefined));
  const reporter = new MemoryReporter();
  let err = '';
  const result = await runCli(['build', 'pull', '--version', 'abc'], {
    cwd: copyFixture(),
    env: testEnv(),
    runner,
    local: runner,
    reporter,
    out: () => undefined,
    err: (s) => (err += s),
  });
  const pulls = runner.transcript.filter((c) => c.command === k.pull).map((c) => c.host);
  return { result, runner, reporter, err, pulls, k };
}

describe('build pull and registry mirrors', () => {
  it('pulls on every app host when none has a mirror (docker fails the index lookup)', async () => {
    const { result, runner, pulls, k, err } = await pull(() => NO_MIRROR);
    expect(err).toBe('');
    expect(result.exitCode).toBe(0);
    expect(runner.transcript.filter((c) => c.command === k.firstMirror).map((c) => c.host)).toEqual([...DEFAULT.web, DEFAULT.job]);
    expect(pulls).toEqual([...DEFAULT.web, DEFAULT.job]);
    // the accessory host runs no app: nothing is pulled there
    expect(runner.transcript.some((c) => c.host === DEFAULT.mysql)).toBe(false);
  });

  it('seeds each mirror from one host first, then pulls on the remaining hosts', async () => {
    const mirrors: Record<string, string> = {
      [DEFAULT.web[0]]: 'https://mirror-a.example\n',
      [DEFAULT.web[1]]: 'https://mirror-b.example\n',
      [DEFAULT.job]: 'https://mirror-a.example\n',
    };
    const { result, runner, reporter, pulls, k } = await pull((host) => ({ stdout: mirrors[host] }));
    expect(result.exitCode).toBe(0);
    expect(pulls).toEqual([DEFAULT.web[0], DEFAULT.web[1], DEFAULT.job]);
    // the job host (second on mirror a) starts only after both seeds are validated
    const t = runner.transcript;
    const lastSeed = t.findLastIndex((c) => c.host !== DEFAULT.job && c.command === k.validateImage);
    const jobStarts = t.findIndex((c) => c.host === DEFAULT.job && c.command.includes('Pulled image with version abc'));
    expect(jobStarts).toBeGreaterThan(0);
    expect(lastSeed).toBeLessThan(jobStarts);
    expect(reporter.messages.map((m) => m.message)).toEqual(
      expect.arrayContaining([`Pulling image on ${DEFAULT.web[0]}, ${DEFAULT.web[1]} to seed the mirrors...`, 'Pulling image on remaining hosts...']),
    );
  });

  it('fails on any other docker info error', async () => {
    const { result, err, pulls } = await pull((host) =>
      host === DEFAULT.web[1] ? { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock\n' } : NO_MIRROR,
    );
    expect(result.exitCode).toBe(1);
    expect(err).toContain('Cannot connect to the Docker daemon');
    expect(pulls).toEqual([]);
  });
});
