/**
 * Kamal 2.12's test/cli/registry_test.rb, run through our CLI (`kamal-action registry ...`) with
 * one RecordingRunner for local and remote commands, so the transcript keeps Kamal's order
 * (run_locally first, then on(KAMAL.hosts)).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../../src/cli/run.js';
import { DependencyError } from '../../../../src/errors.js';
import { MemoryReporter } from '../../../../src/engine/reporter.js';
import { RecordingRunner, type Responder } from '../../../../test/support/recording.js';
import { copyFixture, testEnv } from '../helpers.js';
import { WITH_ACCESSORIES } from './fixtures.js';

// test/fixtures/deploy_with_accessories.yml

// test/fixtures/deploy_with_local_registry.yml
const WITH_LOCAL_REGISTRY = `service: app
image: dhh/app
servers:
  web:
    - "1.1.1.1"
    - "1.1.1.2"
registry:
  server: localhost:5000
builder:
  arch: amd64
`;

const HOSTS = ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'];
const LOGIN = 'docker login -u "user" --password-stdin';
const LOGOUT = 'docker logout';
/** Kamal's ensure_docker_installed (`docker --version && docker buildx version`); ours asks `docker version`, buildx being optional. */
const DOCKER_CHECK = 'docker version';

interface KamalRun {
  exitCode: number;
  error: unknown;
  err: string;
  lines: [string, string][];
}

/** `kamal registry <args> -c config/deploy.yml` (Kamal's run_command). */
async function kamal(args: string[], o: { config?: string; respond?: Responder } = {}): Promise<KamalRun> {
  const dir = copyFixture();
  writeFileSync(join(dir, 'config/deploy.yml'), o.config ?? WITH_ACCESSORIES);
  writeFileSync(join(dir, 'config/my.cnf'), '[mysqld]\n');
  writeFileSync(join(dir, '.kamal/secrets'), 'MYSQL_ROOT_PASSWORD=secret123\n');
  const runner = new RecordingRunner({ respond: o.respond });
  let err = '';
  const result = await runCli(['registry', ...args, '-c', 'config/deploy.yml'], {
    cwd: dir,
    env: { ...testEnv(), VERSION: '999' },
    runner,
    local: runner,
    reporter: new MemoryReporter(),
    out: () => undefined,
    err: (s) => (err += s),
  });
  return { exitCode: result.exitCode, error: result.error, err, lines: runner.transcript.map((t): [string, string] => [t.host, t.command]) };
}

const local = (...commands: string[]) => commands.map((c): [string, string] => ['local', c]);
const remote = (command: string) => HOSTS.map((h): [string, string] => [h, command]);

describe('kamal registry setup/login (registry_test.rb)', () => {
  for (const name of ['setup', 'login']) {
    it(`${name}: checks docker and logs in locally, then on every host`, async () => {
      const run = await kamal([name]);
      expect(run.exitCode, run.err).toBe(0);
      expect(run.lines).toEqual([...local(DOCKER_CHECK, LOGIN), ...remote(LOGIN)]);
    });

    it(`${name} skip local: only the hosts log in`, async () => {
      const run = await kamal([name, '-L']);
      expect(run.exitCode, run.err).toBe(0);
      expect(run.lines).toEqual(remote(LOGIN));
    });

    it(`${name} skip remote: only the local login`, async () => {
      const run = await kamal([name, '-R']);
      expect(run.exitCode, run.err).toBe(0);
      expect(run.lines).toEqual(local(DOCKER_CHECK, LOGIN));
    });
  }

  it('setup with no docker: DependencyError before any login', async () => {
    const run = await kamal(['setup'], {
      respond: (h, c) => (h === 'local' && c === DOCKER_CHECK ? { exitCode: 127, stderr: 'sh: docker: command not found' } : undefined),
    });
    expect(run.exitCode).toBe(1);
    expect(run.error).toBeInstanceOf(DependencyError);
    expect((run.error as Error).message).toBe('Docker is not installed locally');
    expect(run.lines).toEqual(local(DOCKER_CHECK));
  });

  it('allow remote login with no docker: --skip-local does not check the local docker', async () => {
    const run = await kamal(['setup', '--skip-local'], {
      respond: (h) => (h === 'local' ? { exitCode: 127, stderr: 'sh: docker: command not found' } : undefined),
    });
    expect(run.exitCode, run.err).toBe(0);
    expect(run.lines).toEqual(remote(LOGIN));
  });

  it('setup local registry: starts (or runs) the registry container locally, no login', async () => {
    const run = await kamal(['setup'], { config: WITH_LOCAL_REGISTRY });
    expect(run.exitCode, run.err).toBe(0);
    expect(run.lines).toEqual(
      local(DOCKER_CHECK, 'docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:5000:5000 --name kamal-docker-registry registry:3'),
    );
  });

  it('login with local registry raises error', async () => {
    const run = await kamal(['login'], { config: WITH_LOCAL_REGISTRY });
    expect(run.exitCode).toBe(1);
    expect((run.error as Error).message).toBe('Cannot use login command with a local registry. Use `kamal registry setup` instead.');
    expect(run.lines).toEqual([]);
  });
});

describe('kamal registry remove/logout (registry_test.rb)', () => {
  for (const name of ['remove', 'logout']) {
    it(`${name}: logs out locally, then on every host`, async () => {
      const run = await kamal([name]);
      expect(run.exitCode, run.err).toBe(0);
      expect(run.lines).toEqual([...local(LOGOUT), ...remote(LOGOUT)]);
    });

    it(`${name} skip local: only the hosts log out`, async () => {
      const run = await kamal([name, '-L']);
      expect(run.exitCode, run.err).toBe(0);
      expect(run.lines).toEqual(remote(LOGOUT));
    });

    it(`${name} skip remote: only the local logout`, async () => {
      const run = await kamal([name, '-R']);
      expect(run.exitCode, run.err).toBe(0);
      expect(run.lines).toEqual(local(LOGOUT));
    });
  }

  it('remove local registry: stops and removes the registry container locally', async () => {
    const run = await kamal(['remove'], { config: WITH_LOCAL_REGISTRY });
    expect(run.exitCode, run.err).toBe(0);
    expect(run.lines).toEqual(local('docker stop kamal-docker-registry && docker rm kamal-docker-registry'));
  });

  it('remove local registry: a registry container that is not there is no failure (raise_on_non_zero_exit: false)', async () => {
    const run = await kamal(['remove'], {
      config: WITH_LOCAL_REGISTRY,
      respond: () => ({ exitCode: 1, stderr: 'Error response from daemon: No such container: kamal-docker-registry' }),
    });
    expect(run.exitCode, run.err).toBe(0);
    expect(run.lines).toEqual(local('docker stop kamal-docker-registry && docker rm kamal-docker-registry'));
  });

  it('logout with local registry raises error', async () => {
    const run = await kamal(['logout'], { config: WITH_LOCAL_REGISTRY });
    expect(run.exitCode).toBe(1);
    expect((run.error as Error).message).toBe('Cannot use logout command with a local registry. Use `kamal registry remove` instead.');
    expect(run.lines).toEqual([]);
  });
});
