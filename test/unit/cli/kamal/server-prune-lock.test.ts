/**
 * Kamal 2.12's test/cli/server_test.rb, prune_test.rb, lock_test.rb,
 * secrets_test.rb and modify_test.rb, run through our CLI on an equivalent
 * config (Kamal's deploy_with_accessories.yml: two web hosts, two workers,
 * mysql and redis accessories), asserting the commands Kamal runs, on the same
 * hosts, in the same order, and what it prints.
 */
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../../src/cli/run.js';
import { MemoryReporter } from '../../../../src/engine/reporter.js';
import { RecordingRunner, type Responder } from '../../../../test/support/recording.js';
import { createContext } from '../../../../src/cli/context.js';
import { accessoryRestart, accessoryStart, accessoryBoot } from '../../../../src/engine/accessory.js';
import { audit, copyFixture, normalize, on, plan, words, type PlanRun } from '../helpers.js';
import { ENSURE_RUN_DIRECTORY, LOCK_ACQUIRE, LOCK_RELEASE, LOCK_STATUS, withAccessories } from './fixtures.js';

// Kamal's test/fixtures/deploy_with_accessories.yml, written for this app folder
const CONFIG = withAccessories({ myCnf: 'config/mysql/my.cnf' });

const HOSTS = ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'];

function prepare(dir: string, secrets = 'MYSQL_ROOT_PASSWORD=secret123\n'): void {
  // only the test's own secrets file, as Kamal's setup_test_secrets
  for (const f of ['secrets-common', 'secrets.staging', 'secrets.production']) rmSync(join(dir, '.kamal', f));
  writeFileSync(join(dir, 'config/deploy.yml'), CONFIG);
  writeFileSync(join(dir, 'config/mysql/my.cnf'), '[mysqld]\n');
  writeFileSync(join(dir, '.kamal/secrets'), secrets);
}

function addHook(dir: string, name: string): void {
  const file = join(dir, '.kamal/hooks', name);
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
}

/** A dry run of `kamal <args>`. */
function dry(...args: string[]): Promise<PlanRun> {
  return plan([...args, '--version', '999'], { prepare: (d) => prepare(d) });
}

/** `kamal <args>` against scripted hosts (Kamal's SSHKit stubs). */
async function kamal(args: string[], respond: Responder = () => undefined, opts: { hooks?: string[]; secrets?: string } = {}) {
  const dir = copyFixture();
  prepare(dir, opts.secrets);
  for (const h of opts.hooks ?? []) addHook(dir, h);
  const runner = new RecordingRunner({ respond });
  const local = new RecordingRunner();
  const reporter = new MemoryReporter();
  let out = '';
  let err = '';
  const result = await runCli(args, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, VERSION: '999' },
    runner,
    local,
    reporter,
    out: (s) => (out += s),
    err: (s) => (err += s),
  });
  const said = reporter.messages.map((m) => m.message);
  return { result, runner, local, reporter, out, err, dir, said };
}

describe('Kamal CliServerTest', () => {
  const today: Responder = (_h, c) => (c === 'date' || c === 'date -j' ? { stdout: 'Today' } : undefined);

  it('running a command with exec', async () => {
    const run = await kamal(['server', 'exec', 'date'], today);
    expect(run.result.exitCode).toBe(0);
    expect(run.said).toContain("Running 'date' on 1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4...");
    expect(run.reporter.outputs.map((o) => `${o.type} Host: ${o.host}\n${o.output}`).sort()).toEqual(HOSTS.map((h) => `App Host: ${h}\nToday`));
    for (const host of HOSTS) {
      expect(run.runner.commandsFor(host).map(normalize)).toEqual([audit(`Executed cmd 'date' on ${host}`), 'date']);
    }
  });

  it('running a command with exec multiple arguments', async () => {
    const run = await kamal(['server', 'exec', 'date', '-j'], today);
    expect(run.result.exitCode).toBe(0);
    expect(run.said).toContain("Running 'date -j' on 1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4...");
    expect(run.reporter.outputs.map((o) => `${o.type} Host: ${o.host}\n${o.output}`).sort()).toEqual(HOSTS.map((h) => `App Host: ${h}\nToday`));
    for (const host of HOSTS) expect(run.runner.commandsFor(host).slice(-1)).toEqual(['date -j']);
  });

  it('running a command with exec --raw writes stdout verbatim', async () => {
    const run = await kamal(['server', 'exec', 'date', '--raw'], today);
    expect(run.result.exitCode).toBe(0);
    expect(run.reporter.text).toBe('Today'.repeat(4));
    expect(run.reporter.outputs).toEqual([]);
    expect(run.said.some((m) => m.startsWith("Running 'date'"))).toBe(false);
    expect(run.runner.transcript.filter((t) => t.command === 'date').map((t) => t.host)).toEqual(HOSTS);
  });

  it('exec --raw is incompatible with --interactive', async () => {
    const run = await kamal(['server', 'exec', 'date', '--raw', '--interactive']);
    expect(run.result.exitCode).toBe(1);
    expect(run.err).toContain('Raw is not compatible with interactive');
    expect(run.runner.transcript).toEqual([]);
  });

  it('bootstrap already installed', async () => {
    const run = await kamal(['server', 'bootstrap']);
    expect(run.result.exitCode).toBe(0);
    expect(run.said).toEqual(['Acquiring the deploy lock...', 'Releasing the deploy lock...']);
    expect(run.runner.commandsFor('1.1.1.1').map(normalize)).toEqual([ENSURE_RUN_DIRECTORY, LOCK_ACQUIRE, 'docker -v', LOCK_RELEASE]);
    for (const host of HOSTS.slice(1)) expect(run.runner.commandsFor(host)).toEqual([ENSURE_RUN_DIRECTORY, 'docker -v']);
  });

  const SUPERUSER = '[ "${EUID:-$(id -u)}" -eq 0 ] || sudo -nl usermod >/dev/null';
  const ROOT = '[ "${EUID:-$(id -u)}" -eq 0 ]';
  const INSTALL = 'sh -c \'curl -fsSL https://get.docker.com || wget -O - https://get.docker.com || echo "exit 1"\' | sh';
  const IN_GROUP = 'id -nG "${USER:-$(id -un)}" | grep -qw docker';
  const ADD_TO_GROUP = 'sudo -n usermod -aG docker "${USER:-$(id -un)}"';

  it('bootstrap install as non-root user', async () => {
    const run = await kamal(['server', 'bootstrap'], (_h, c) => (c === 'docker -v' || c === SUPERUSER ? { exitCode: 1 } : undefined));
    expect(run.result.exitCode).toBe(1);
    expect(run.err).toContain(
      "Docker is not installed on 1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4 and can't be automatically installed without having root access and either `wget` or `curl`. Install Docker manually: https://docs.docker.com/engine/install/",
    );
    for (const host of HOSTS) expect(run.runner.commandsFor(host)).toContain(SUPERUSER);
    expect(run.runner.transcript.some((t) => t.command.includes('get.docker.com'))).toBe(false);
    // the lock is released on the way out
    expect(normalize(run.runner.transcript.at(-1)!.command)).toBe(LOCK_RELEASE);
  });

  it('bootstrap install as root user', async () => {
    const run = await kamal(['server', 'bootstrap'], (_h, c) => (c === 'docker -v' ? { exitCode: 1 } : undefined), {
      hooks: ['pre-connect', 'docker-setup'],
    });
    expect(run.result.exitCode).toBe(0);
    for (const host of HOSTS) {
      expect(run.said).toContain(`Missing Docker on ${host}. Installing…`);
      const cmds = run.runner.commandsFor(host).filter((c) => c !== ENSURE_RUN_DIRECTORY && !c.includes('lock-app'));
      expect(cmds).toEqual(['docker -v', SUPERUSER, INSTALL, ROOT]);
    }
    const hooks = run.local.transcript.map((t) => t.command.split('/').at(-1));
    expect(hooks).toEqual(['pre-connect', 'docker-setup']);
  });

  it('bootstrap install as sudo non-root user', async () => {
    const run = await kamal(
      ['server', 'bootstrap'],
      (_h, c) => {
        if (c === 'docker -v' || c === ROOT || c === IN_GROUP) return { exitCode: 1 };
        if (c === 'kill -HUP $PPID') return { exitCode: 255, stderr: 'closed stream' };
        return undefined;
      },
      { hooks: ['pre-connect', 'docker-setup'] },
    );
    expect(run.result.exitCode).toBe(0);
    for (const host of HOSTS) {
      expect(run.said).toContain(`Missing Docker on ${host}. Installing…`);
      const cmds = run.runner.commandsFor(host).filter((c) => c !== ENSURE_RUN_DIRECTORY && !c.includes('lock-app'));
      expect(cmds).toEqual(['docker -v', SUPERUSER, INSTALL, ROOT, IN_GROUP, ADD_TO_GROUP, 'kill -HUP $PPID']);
    }
    expect(run.said.filter((m) => m === 'Session refreshed due to group change.')).toHaveLength(4);
    expect(run.local.transcript.map((t) => t.command.split('/').at(-1))).toEqual(['pre-connect', 'docker-setup']);
  });
});

describe('Kamal CliPruneTest', () => {
  const PRUNE_CONTAINERS = (retain: number) =>
    `docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +${retain + 1} | while read container_id; do docker rm $container_id; done`;
  const PRUNE_DANGLING = 'docker image prune --force --filter label=service=app';
  const PRUNE_TAGGED =
    "docker image ls --filter label=service=app --format '{{.ID}} {{.Repository}}:{{.Tag}}' | " +
    "grep -v -w \"$(docker container ls -a --format '{{.Image}}\\|' --filter label=service=app | tr -d '\\n')dhh/app:latest\\|dhh/app:<none>\" | " +
    'while read image tag; do docker rmi $tag; done';
  // the tagged images line is compared word for word: we single-quote the image list after the $(...)
  const tagged = (c: string): string | string[] => (c.startsWith('docker image ls ') ? words(c) : c);

  it('all', async () => {
    const run = await dry('prune', 'all');
    expect(run.exitCode).toBe(0);
    // containers, then images, under one lock
    const pruning = [audit('Pruned containers'), PRUNE_CONTAINERS(5), audit('Pruned images'), PRUNE_DANGLING, PRUNE_TAGGED];
    expect(on(run.steps, '1.1.1.1').map(tagged)).toEqual([ENSURE_RUN_DIRECTORY, LOCK_ACQUIRE, ...pruning, LOCK_RELEASE].map(tagged));
    for (const host of HOSTS.slice(1)) expect(on(run.steps, host).map(tagged)).toEqual([ENSURE_RUN_DIRECTORY, ...pruning].map(tagged));
    const s = run.steps.map((x) => x.command);
    expect(s.lastIndexOf(PRUNE_CONTAINERS(5))).toBeLessThan(s.indexOf(PRUNE_DANGLING));
  });

  it('images', async () => {
    const run = await dry('prune', 'images');
    expect(run.exitCode).toBe(0);
    for (const host of HOSTS.slice(1)) {
      expect(on(run.steps, host).map(tagged)).toEqual([ENSURE_RUN_DIRECTORY, audit('Pruned images'), PRUNE_DANGLING, PRUNE_TAGGED].map(tagged));
    }
    expect(on(run.steps, '1.1.1.1').map(tagged)).toEqual(
      [ENSURE_RUN_DIRECTORY, LOCK_ACQUIRE, audit('Pruned images'), PRUNE_DANGLING, PRUNE_TAGGED, LOCK_RELEASE].map(tagged),
    );
  });

  it('containers', async () => {
    const run = await dry('prune', 'containers');
    expect(run.steps.filter((s) => s.command === PRUNE_CONTAINERS(5)).map((s) => s.host)).toEqual(HOSTS);

    const ten = await dry('prune', 'containers', '--retain', '10');
    expect(ten.steps.filter((s) => s.command === PRUNE_CONTAINERS(10)).map((s) => s.host)).toEqual(HOSTS);
    expect(ten.steps.some((s) => s.command === PRUNE_CONTAINERS(5))).toBe(false);

    const zero = await dry('prune', 'containers', '--retain', '0');
    expect(zero.exitCode).toBe(1);
    expect(zero.err).toContain('retain must be at least 1');
    expect(zero.steps).toEqual([]);
  });
});

describe('Kamal CliLockTest', () => {
  it('status', async () => {
    const run = await kamal(['lock', 'status', '-v'], (_h, c) =>
      c === LOCK_STATUS ? { stdout: 'Locked by: Someone at 2026-12-01T10:00:00Z\nVersion: 999\nMessage: manual' } : undefined,
    );
    expect(run.result.exitCode).toBe(0);
    // Running /usr/bin/env stat .kamal/lock-app > /dev/null && cat .kamal/lock-app/details | base64 -d on 1.1.1.1
    expect(run.runner.lines()).toEqual([`1.1.1.1: ${LOCK_STATUS}`]);
    expect(run.reporter.text).toContain('Locked by: Someone at 2026-12-01T10:00:00Z\nVersion: 999\nMessage: manual\n');
  });

  it('release', async () => {
    const run = await kamal(['lock', 'release', '-v']);
    expect(run.result.exitCode).toBe(0);
    expect(run.runner.lines()).toEqual([`1.1.1.1: ${LOCK_RELEASE}`]);
    expect(run.said).toContain('Released the deploy lock');
  });

  it('status when there is no deploy lock', async () => {
    const run = await kamal(['lock', 'status', '-v'], (_h, c) =>
      c === LOCK_STATUS ? { exitCode: 1, stderr: 'cat: .kamal/lock-app/details: No such file or directory' } : undefined,
    );
    expect(run.result.exitCode).toBe(0);
    expect(`${run.reporter.text}${run.said.join('\n')}`).toContain('There is no deploy lock');
  });

  it('release when there is no deploy lock', async () => {
    const run = await kamal(['lock', 'release', '-v'], () => ({
      exitCode: 1,
      stderr: "rm: cannot remove '.kamal/lock-app/details': No such file or directory",
    }));
    expect(run.result.exitCode).toBe(0);
    expect(`${run.reporter.text}${run.said.join('\n')}`).toContain('There is no deploy lock');
    expect(run.said).not.toContain('Released the deploy lock');
  });
});

describe('Kamal CliSecretsTest', () => {
  it('extract', async () => {
    const run = await kamal(['secrets', 'extract', 'foo', '{"foo":"oof", "bar":"rab", "baz":"zab"}']);
    expect(run.result.exitCode).toBe(0);
    expect(run.out).toBe('oof\n');
    expect(run.runner.transcript).toEqual([]);
  });

  it('extract match from end', async () => {
    const run = await kamal(['secrets', 'extract', 'foo', '{"abc/foo":"oof", "bar":"rab", "baz":"zab"}']);
    expect(run.result.exitCode).toBe(0);
    expect(run.out).toBe('oof\n');
  });

  it('extract of a missing secret fails as Kamal does', async () => {
    const run = await kamal(['secrets', 'extract', 'qux', '{"foo":"oof"}']);
    expect(run.result.exitCode).toBe(1);
    expect(run.err).toContain('Could not find secret qux');
  });

  it('print', async () => {
    // our `secrets print` redacts unless --reveal; Kamal's prints the values
    const run = await kamal(['secrets', 'print', '--reveal'], undefined, { secrets: 'SECRET1=ABC\nSECRET2=${SECRET1}DEF\n' });
    expect(run.result.exitCode).toBe(0);
    expect(run.reporter.text).toBe('SECRET1=ABC\nSECRET2=ABCDEF\n');
  });
});

/**
 * Kamal's CliModifyTest checks Commander#modify's depth counter: nested modify blocks share the
 * outermost one (one lock, one instrumentation event) and the depth is back at 0 after the block
 * or an error. Here: the lock is what a nested modify shares, and holding_lock is what resets.
 */
describe('Kamal CliModifyTest', () => {
  async function context(respond: Responder = () => undefined) {
    const dir = copyFixture();
    prepare(dir);
    const runner = new RecordingRunner({ respond });
    const k = await createContext(
      { configFile: 'config/deploy.yml', version: '999' },
      { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME }, reporter: new MemoryReporter(), runner, local: new RecordingRunner() },
      'accessory',
      'restart',
    );
    return { k, runner };
  }
  const acquires = (r: RecordingRunner) => r.transcript.filter((t) => t.command.startsWith('mkdir .kamal/lock-app ')).length;
  const releases = (r: RecordingRunner) => r.transcript.filter((t) => t.command === LOCK_RELEASE).length;

  it('nested modify only instruments outermost', async () => {
    const { k, runner } = await context();
    await accessoryRestart(k, 'mysql'); // restart = modify(lock) { stop (modify(lock)); start (modify(lock)) }
    expect(acquires(runner)).toBe(1);
    expect(releases(runner)).toBe(1);
    expect(runner.commandsFor('1.1.1.3').filter((c) => c.startsWith('docker container'))).toEqual([
      'docker container stop app-mysql',
      'docker container start app-mysql',
    ]);
  });

  it('modify depth resets after completion', async () => {
    const { k, runner } = await context();
    await accessoryStart(k, 'mysql');
    expect(k.holdingLock).toBe(false);
    await accessoryStart(k, 'mysql');
    expect(acquires(runner)).toBe(2);
    expect(releases(runner)).toBe(2);
  });

  it('modify depth resets after error', async () => {
    const { k, runner } = await context((_h, c) => (c.startsWith('docker run ') ? { exitCode: 1, stderr: 'boom' } : undefined));
    await expect(accessoryBoot(k, 'mysql')).rejects.toThrow();
    expect(k.holdingLock).toBe(false);
    expect(normalize(runner.transcript.at(-1)!.command)).toBe(LOCK_RELEASE);
    expect(acquires(runner)).toBe(1);
  });
});
