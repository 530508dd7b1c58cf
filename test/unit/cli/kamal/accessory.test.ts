/**
 * Kamal 2.12's test/cli/accessory_test.rb, run through our CLI: the same
 * `kamal accessory ...` invocations on an equivalent config (three accessories,
 * two of them on 1.1.1.3, one with its own registry), asserting the commands
 * Kamal runs, on the same hosts, in the same order.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../../src/cli/run.js';
import { MemoryReporter } from '../../../../src/engine/reporter.js';
import { RecordingRunner, type Responder } from '../../../../test/support/recording.js';
import { audit, copyFixture, normalize, on, plan, words, type PlanRun } from '../helpers.js';
import { ENSURE_RUN_DIRECTORY, LOCK_ACQUIRE, LOCK_RELEASE, NETWORK } from './fixtures.js';

// Kamal's test/fixtures/deploy_with_accessories_with_different_registries.yml, written for this app folder
const CONFIG = `service: app
image: dhh/app
servers:
  web:
    - "1.1.1.1"
    - "1.1.1.2"
  workers:
    - "1.1.1.3"
    - "1.1.1.4"
registry:
  server: private.registry
  username: user
  password: pw
builder:
  arch: amd64

accessories:
  mysql:
    image: private.registry/mysql:5.7
    host: 1.1.1.3
    port: 3306
    env:
      clear:
        MYSQL_ROOT_HOST: '%'
      secret:
        - MYSQL_ROOT_PASSWORD
    files:
      - config/mysql/my.cnf:/etc/mysql/my.cnf
    directories:
      - data:/var/lib/mysql
  redis:
    image: redis:latest
    roles:
      - web
    port: 6379
    directories:
      - data:/data
  busybox:
    service: custom-box
    image: busybox:latest
    host: 1.1.1.3
    registry:
      server: other.registry
      username: other_user
      password: other_pw

readiness_delay: 0
`;

const MY_CNF = '[mysqld]\nbind-address = 0.0.0.0\n';

function prepare(dir: string): void {
  writeFileSync(join(dir, 'config/deploy.yml'), CONFIG);
  writeFileSync(join(dir, 'config/mysql/my.cnf'), MY_CNF);
  writeFileSync(join(dir, '.kamal/secrets'), 'MYSQL_ROOT_PASSWORD=secret\n');
}

/** `kamal accessory <args>` as a dry run. */
function accessory(...args: string[]): Promise<PlanRun> {
  return plan(['accessory', ...args, '--version', '999'], { prepare });
}

/** `kamal accessory <args>` against scripted hosts (Kamal's SSHKit stubs). */
async function accessoryOn(args: string[], respond: Responder = () => undefined) {
  const dir = copyFixture();
  prepare(dir);
  const runner = new RecordingRunner({ respond });
  const local = new RecordingRunner();
  const reporter = new MemoryReporter();
  let out = '';
  let err = '';
  const result = await runCli(['accessory', ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, VERSION: '999' },
    runner,
    local,
    reporter,
    out: (s) => (out += s),
    err: (s) => (err += s),
  });
  return { result, runner, local, reporter, out, err, dir };
}

// The registry username is a literal of the config, shown as is (src/commands/DIFFERENCES.md: only the password,
// and a username read from secrets, are redacted); Kamal shows `-u [REDACTED]`.
const LOGIN = 'docker login private.registry -u "user" --password-stdin';
const LOGIN_OTHER = 'docker login other.registry -u "other_user" --password-stdin';

const RUN_MYSQL =
  'docker run --name app-mysql --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --publish 3306:3306 ' +
  '--env KAMAL_HOST="1.1.1.3" --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env ' +
  '--volume $PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf --volume $PWD/app-mysql/data:/var/lib/mysql --label service="app-mysql" private.registry/mysql:5.7';
const runRedis = (host: string) =>
  'docker run --name app-redis --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --publish 6379:6379 ' +
  `--env KAMAL_HOST="${host}" --env-file .kamal/apps/app/env/accessories/redis.env --volume $PWD/app-redis/data:/data --label service="app-redis" redis:latest`;
const RUN_BUSYBOX =
  'docker run --name custom-box --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --env KAMAL_HOST="1.1.1.3" ' +
  '--env-file .kamal/apps/app/env/accessories/busybox.env --label service="custom-box" other.registry/busybox:latest';

/** What Kamal::Cli::Accessory#boot runs on a host for one accessory after prepare (login, network). */
function bootOn(name: string, service: string, run: string, opts: { directories?: string[]; files?: string[] } = {}): string[] {
  return [
    `docker ps -a -q --filter label=service=${service}`,
    ...(opts.directories ?? []),
    ...(opts.files ?? []),
    audit(`Booted ${name} accessory`),
    'mkdir -p .kamal/apps/app/env/accessories',
    `upload .kamal/apps/app/env/accessories/${name}.env (mode 600)`,
    run,
  ];
}
const MYSQL_DIRECTORIES = ['mkdir -p $PWD/app-mysql/data'];
const MYSQL_FILES = ['mkdir -p app-mysql/etc/mysql', 'upload app-mysql/etc/mysql/my.cnf', 'chmod 755 app-mysql/etc/mysql/my.cnf'];
const REDIS_DIRECTORIES = ['mkdir -p $PWD/app-redis/data'];
const bootMysql = bootOn('mysql', 'app-mysql', RUN_MYSQL, { directories: MYSQL_DIRECTORIES, files: MYSQL_FILES });
const bootRedis = (host: string) => bootOn('redis', 'app-redis', runRedis(host), { directories: REDIS_DIRECTORIES });
const bootBusybox = bootOn('busybox', 'custom-box', RUN_BUSYBOX);

/** Kamal::Cli::Accessory#reboot for one accessory on one of its hosts, after prepare. */
const rebootTail = (name: string, service: string, image: string) => [
  audit(`Pull ${name} accessory image`),
  `docker image pull ${image}`,
  audit(`Stopped ${name} accessory`),
  `docker container stop ${service}`,
  audit(`Remove ${name} accessory container`),
  `docker container prune --force --filter label=service=${service}`,
];

/** The commands of a locked Kamal command on the primary host 1.1.1.1 around what it runs there. */
const locked = (commands: string[] = []) => [ENSURE_RUN_DIRECTORY, LOCK_ACQUIRE, ...commands, LOCK_RELEASE];

describe('Kamal CliAccessoryTest', () => {
  it('boot', async () => {
    const run = await accessory('boot', 'mysql');
    expect(run.exitCode).toBe(0);
    // prepare (login, network), then directories and upload before the container runs
    expect(on(run.steps, '1.1.1.3')).toEqual([ENSURE_RUN_DIRECTORY, LOGIN, NETWORK, ...bootMysql]);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked());
    expect(on(run.steps, '1.1.1.2')).toEqual([ENSURE_RUN_DIRECTORY]);
    expect(on(run.steps, '1.1.1.4')).toEqual([ENSURE_RUN_DIRECTORY]);
  });

  it('boot all', async () => {
    const run = await accessory('boot', 'all');
    expect(run.exitCode).toBe(0);
    expect(on(run.steps, '1.1.1.3')).toEqual([ENSURE_RUN_DIRECTORY, LOGIN, NETWORK, ...bootMysql, LOGIN_OTHER, NETWORK, ...bootBusybox]);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked([LOGIN, NETWORK, ...bootRedis('1.1.1.1')]));
    expect(on(run.steps, '1.1.1.2')).toEqual([ENSURE_RUN_DIRECTORY, LOGIN, NETWORK, ...bootRedis('1.1.1.2')]);
    expect(on(run.steps, '1.1.1.4')).toEqual([ENSURE_RUN_DIRECTORY]);
    // one accessory after the other, in the config's order
    const runs = run.steps.filter((s) => s.command.startsWith('docker run ')).map((s) => [s.host, s.command]);
    expect(runs).toEqual([
      ['1.1.1.3', RUN_MYSQL],
      ['1.1.1.1', runRedis('1.1.1.1')],
      ['1.1.1.2', runRedis('1.1.1.2')],
      ['1.1.1.3', RUN_BUSYBOX],
    ]);
  });

  it('upload', async () => {
    const { result, runner } = await accessoryOn(['upload', 'mysql']);
    expect(result.exitCode).toBe(0);
    expect(runner.commandsFor('1.1.1.3').map(normalize)).toEqual([
      ENSURE_RUN_DIRECTORY,
      'mkdir -p app-mysql/etc/mysql',
      'upload app-mysql/etc/mysql/my.cnf',
      'chmod 755 app-mysql/etc/mysql/my.cnf',
    ]);
    // test/fixtures/files/my.cnf to app-mysql/etc/mysql/my.cnf
    expect(runner.files.get('1.1.1.3:app-mysql/etc/mysql/my.cnf')?.content.toString()).toBe(MY_CNF);
  });

  it('directories', async () => {
    const run = await accessory('directories', 'mysql');
    // Kamal: assert_match "mkdir -p $PWD/app-mysql/data", run_command("directories", "mysql")
    expect(on(run.steps, '1.1.1.3')).toEqual([ENSURE_RUN_DIRECTORY, 'mkdir -p $PWD/app-mysql/data']);
    expect(run.steps.filter((s) => s.command.startsWith('mkdir -p $PWD/app-mysql')).map((s) => s.host)).toEqual(['1.1.1.3']);
  });

  it('reboot', async () => {
    const run = await accessory('reboot', 'mysql');
    expect(run.exitCode).toBe(0);
    // login (prepare), pull_image, stop, remove_container, then boot without a second prepare
    expect(on(run.steps, '1.1.1.3')).toEqual([
      ENSURE_RUN_DIRECTORY,
      LOGIN,
      NETWORK,
      ...rebootTail('mysql', 'app-mysql', 'private.registry/mysql:5.7'),
      ...bootMysql,
    ]);
    expect(run.steps.filter((s) => s.command.startsWith('docker login'))).toHaveLength(1);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked());
  });

  it('reboot all', async () => {
    const run = await accessory('reboot', 'all');
    expect(run.exitCode).toBe(0);
    // Registry login 4 times: mysql on 1.1.1.3, redis on 1.1.1.1 and 1.1.1.2, busybox on 1.1.1.3
    expect(run.steps.filter((s) => s.command.startsWith('docker login')).map((s) => [s.host, s.command])).toEqual([
      ['1.1.1.3', LOGIN],
      ['1.1.1.1', LOGIN],
      ['1.1.1.2', LOGIN],
      ['1.1.1.3', LOGIN_OTHER],
    ]);
    expect(on(run.steps, '1.1.1.3')).toEqual([
      ENSURE_RUN_DIRECTORY,
      LOGIN,
      NETWORK,
      ...rebootTail('mysql', 'app-mysql', 'private.registry/mysql:5.7'),
      ...bootMysql,
      LOGIN_OTHER,
      NETWORK,
      ...rebootTail('busybox', 'custom-box', 'other.registry/busybox:latest'),
      ...bootBusybox,
    ]);
    expect(on(run.steps, '1.1.1.2')).toEqual([
      ENSURE_RUN_DIRECTORY,
      LOGIN,
      NETWORK,
      ...rebootTail('redis', 'app-redis', 'redis:latest'),
      ...bootRedis('1.1.1.2'),
    ]);
  });

  it('start', async () => {
    const run = await accessory('start', 'mysql');
    expect(on(run.steps, '1.1.1.3')).toEqual([ENSURE_RUN_DIRECTORY, audit('Started mysql accessory'), 'docker container start app-mysql']);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked());
  });

  it('stop', async () => {
    const run = await accessory('stop', 'mysql');
    expect(on(run.steps, '1.1.1.3')).toEqual([ENSURE_RUN_DIRECTORY, audit('Stopped mysql accessory'), 'docker container stop app-mysql']);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked());
  });

  it('restart', async () => {
    const run = await accessory('restart', 'mysql');
    // stop then start, under one lock
    expect(on(run.steps, '1.1.1.3')).toEqual([
      ENSURE_RUN_DIRECTORY,
      audit('Stopped mysql accessory'),
      'docker container stop app-mysql',
      audit('Started mysql accessory'),
      'docker container start app-mysql',
    ]);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked());
  });

  it('details', async () => {
    const { result, runner, reporter } = await accessoryOn(['details', 'mysql'], (_h, c) =>
      c.startsWith('docker ps') ? { stdout: 'CONTAINER ID   IMAGE   NAMES\n1a2b   mysql   app-mysql\n' } : undefined,
    );
    expect(result.exitCode).toBe(0);
    expect(runner.lines()).toEqual(['1.1.1.3: docker ps --filter label=service=app-mysql']);
    // Accessory mysql Host: 1.1.1.3
    expect(reporter.outputs).toEqual([{ host: '1.1.1.3', type: 'Accessory mysql', output: 'CONTAINER ID   IMAGE   NAMES\n1a2b   mysql   app-mysql' }]);
  });

  it('details with non-existent accessory', async () => {
    const run = await accessory('details', 'hello');
    expect(run.exitCode).toBe(1);
    expect(run.err).toContain("No accessory by the name of 'hello' (options: mysql, redis, and busybox)");
    expect(run.steps).toEqual([]);
  });

  it('details with all', async () => {
    const { runner, reporter } = await accessoryOn(['details', 'all']);
    expect(runner.lines()).toEqual([
      '1.1.1.3: docker ps --filter label=service=app-mysql',
      '1.1.1.1: docker ps --filter label=service=app-redis',
      '1.1.1.2: docker ps --filter label=service=app-redis',
      '1.1.1.3: docker ps --filter label=service=custom-box',
    ]);
    expect(reporter.outputs.map((o) => `${o.type} Host: ${o.host}`)).toEqual([
      'Accessory mysql Host: 1.1.1.3',
      'Accessory redis Host: 1.1.1.1',
      'Accessory redis Host: 1.1.1.2',
      'Accessory busybox Host: 1.1.1.3',
    ]);
  });

  it('exec', async () => {
    const run = await accessory('exec', 'mysql', 'mysql -v');
    expect(run.exitCode).toBe(0);
    expect(run.reporter.messages.map((m) => m.message)).toContain('Launching command from new container...');
    expect(on(run.steps, '1.1.1.3')).toEqual([
      LOGIN,
      audit("Executed cmd 'mysql -v' on mysql accessory"),
      'docker run --rm --network kamal --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env ' +
        '--volume $PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf --volume $PWD/app-mysql/data:/var/lib/mysql private.registry/mysql:5.7 mysql -v',
    ]);
    expect(run.steps.map((s) => s.host)).toEqual(['1.1.1.3', '1.1.1.3', '1.1.1.3']);
    // puts_by_host with its default type
    expect(run.reporter.outputs.map((o) => `${o.type} Host: ${o.host}`)).toEqual(['App Host: 1.1.1.3']);
  });

  it('exec with reuse', async () => {
    const run = await accessory('exec', 'mysql', '--reuse', 'mysql -v');
    expect(run.reporter.messages.map((m) => m.message)).toContain('Launching command from existing container...');
    expect(run.steps.map((s) => [s.host, normalize(s.command)])).toEqual([
      ['1.1.1.3', audit("Executed cmd 'mysql -v' on mysql accessory")],
      ['1.1.1.3', 'docker exec app-mysql mysql -v'],
    ]);
  });

  it('logs', async () => {
    const run = await accessory('logs', 'mysql');
    expect(run.steps.map((s) => s.host)).toEqual(['1.1.1.3']);
    expect(words(run.steps[0]!.command)).toEqual(words('docker logs app-mysql  --tail 100 --timestamps 2>&1'));
  });

  it('logs with grep', async () => {
    const run = await accessory('logs', 'mysql', '--grep', 'hey');
    expect(run.steps.map((s) => s.host)).toEqual(['1.1.1.3']);
    expect(words(run.steps[0]!.command)).toEqual(words("docker logs app-mysql --timestamps 2>&1 | grep 'hey'"));
  });

  it('logs with grep and grep options', async () => {
    const run = await accessory('logs', 'mysql', '--grep', 'hey', '--grep-options', '-C 2');
    // grep options are split into words (src/commands/DIFFERENCES.md)
    expect(words(run.steps[0]!.command)).toEqual(words("docker logs app-mysql --timestamps 2>&1 | grep 'hey' -C 2"));
  });

  // Kamal execs the local `ssh -t root@1.1.1.3 -p 22 '<remote>'`; we run `<remote>` on the
  // accessory's first host over the pooled connection (src/commands/DIFFERENCES.md)

  it('logs with follow', async () => {
    const run = await accessory('logs', 'mysql', '--follow');
    expect(run.exitCode).toBe(0);
    expect(run.steps.map((s) => [s.host, s.command])).toEqual([['1.1.1.3', 'docker logs app-mysql --timestamps --tail 10 --follow 2>&1']]);
  });

  it('logs with follow and grep', async () => {
    const run = await accessory('logs', 'mysql', '--follow', '--grep', 'hey');
    expect(run.steps.map((s) => [s.host, s.command])).toEqual([['1.1.1.3', 'docker logs app-mysql --timestamps --tail 10 --follow 2>&1 | grep "hey"']]);
  });

  it('logs with follow, grep, and grep options', async () => {
    const run = await accessory('logs', 'mysql', '--follow', '--grep', 'hey', '--grep-options', '-C 2');
    expect(run.steps.map((s) => s.host)).toEqual(['1.1.1.3']);
    expect(words(run.steps[0]!.command)).toEqual(words('docker logs app-mysql --timestamps --tail 10 --follow 2>&1 | grep "hey" -C 2'));
  });

  const removeOn = (name: string, service: string, image: string) => [
    audit(`Stopped ${name} accessory`),
    `docker container stop ${service}`,
    audit(`Remove ${name} accessory container`),
    `docker container prune --force --filter label=service=${service}`,
    audit(`Removed ${name} accessory image`),
    `docker image rm --force ${image}`,
    `rm -rf ${service}`,
  ];

  it('remove with confirmation', async () => {
    const run = await accessory('remove', 'mysql', '-y');
    expect(run.exitCode).toBe(0);
    // stop, remove_container, remove_image, remove_service_directory
    expect(on(run.steps, '1.1.1.3')).toEqual([ENSURE_RUN_DIRECTORY, ...removeOn('mysql', 'app-mysql', 'private.registry/mysql:5.7')]);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked());
  });

  it('remove all with confirmation', async () => {
    const run = await accessory('remove', 'all', '-y');
    expect(on(run.steps, '1.1.1.3')).toEqual([
      ENSURE_RUN_DIRECTORY,
      ...removeOn('mysql', 'app-mysql', 'private.registry/mysql:5.7'),
      ...removeOn('busybox', 'custom-box', 'other.registry/busybox:latest'),
    ]);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked(removeOn('redis', 'app-redis', 'redis:latest')));
    expect(on(run.steps, '1.1.1.2')).toEqual([ENSURE_RUN_DIRECTORY, ...removeOn('redis', 'app-redis', 'redis:latest')]);
    expect(on(run.steps, '1.1.1.4')).toEqual([ENSURE_RUN_DIRECTORY]);
  });

  it('remove_container', async () => {
    const run = await accessory('remove_container', 'mysql');
    expect(run.exitCode).toBe(0);
    expect(on(run.steps, '1.1.1.3')).toEqual([
      ENSURE_RUN_DIRECTORY,
      audit('Remove mysql accessory container'),
      'docker container prune --force --filter label=service=app-mysql',
    ]);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked());
  });

  it('pull_image', async () => {
    const run = await accessory('pull_image', 'mysql');
    expect(run.exitCode).toBe(0);
    expect(on(run.steps, '1.1.1.3')).toEqual([ENSURE_RUN_DIRECTORY, audit('Pull mysql accessory image'), 'docker image pull private.registry/mysql:5.7']);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked());
  });

  it('remove_image', async () => {
    const run = await accessory('remove_image', 'mysql');
    expect(run.exitCode).toBe(0);
    expect(on(run.steps, '1.1.1.3')).toEqual([
      ENSURE_RUN_DIRECTORY,
      audit('Removed mysql accessory image'),
      'docker image rm --force private.registry/mysql:5.7',
    ]);
  });

  it('remove_service_directory', async () => {
    const run = await accessory('remove_service_directory', 'mysql');
    expect(run.exitCode).toBe(0);
    expect(on(run.steps, '1.1.1.3')).toEqual([ENSURE_RUN_DIRECTORY, 'rm -rf app-mysql']);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked());
  });

  it('hosts param respected', async () => {
    const run = await accessory('boot', 'redis', '--hosts', '1.1.1.1');
    expect(run.exitCode).toBe(0);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked([LOGIN, NETWORK, ...bootRedis('1.1.1.1')]));
    expect(on(run.steps, '1.1.1.2')).toEqual([]);
  });

  it('hosts param intersected with configuration', async () => {
    const run = await accessory('boot', 'redis', '--hosts', '1.1.1.1,1.1.1.3');
    expect(run.exitCode).toBe(0);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked([LOGIN, NETWORK, ...bootRedis('1.1.1.1')]));
    // 1.1.1.3 is selected but does not run redis: only the lock's run directory
    expect(on(run.steps, '1.1.1.3')).toEqual([ENSURE_RUN_DIRECTORY]);
    expect(run.steps.some((s) => s.host === '1.1.1.2')).toBe(false);
  });

  /** `upgrade -y all` on one group of hosts: reboot all, each accessory on the group's hosts it runs on. */
  it('upgrade', async () => {
    const run = await accessory('upgrade', '-y', 'all');
    expect(run.exitCode).toBe(0);
    const said = run.reporter.messages.map((m) => m.message);
    expect(said).toContain('Upgrading all accessories on 1.1.1.3,1.1.1.1,1.1.1.2...');
    expect(said).toContain('Upgraded all accessories on 1.1.1.3,1.1.1.1,1.1.1.2...');
    expect(on(run.steps, '1.1.1.3')).toEqual([
      ENSURE_RUN_DIRECTORY,
      LOGIN,
      NETWORK,
      ...rebootTail('mysql', 'app-mysql', 'private.registry/mysql:5.7'),
      ...bootMysql,
      LOGIN_OTHER,
      NETWORK,
      ...rebootTail('busybox', 'custom-box', 'other.registry/busybox:latest'),
      ...bootBusybox,
    ]);
    expect(on(run.steps, '1.1.1.1')).toEqual(locked([LOGIN, NETWORK, ...rebootTail('redis', 'app-redis', 'redis:latest'), ...bootRedis('1.1.1.1')]));
    // one lock around the whole upgrade
    expect(run.steps.filter((s) => s.command.startsWith('mkdir .kamal/lock-'))).toHaveLength(1);
  });

  it('upgrade rolling', async () => {
    const run = await accessory('upgrade', '--rolling', '-y', 'all');
    expect(run.exitCode).toBe(0);
    const said = run.reporter.messages.map((m) => m.message).filter((m) => m.startsWith('Upgrad'));
    expect(said).toEqual([
      'Upgrading all accessories on 1.1.1.3...',
      'Upgraded all accessories on 1.1.1.3...',
      'Upgrading all accessories on 1.1.1.1...',
      'Upgraded all accessories on 1.1.1.1...',
      'Upgrading all accessories on 1.1.1.2...',
      'Upgraded all accessories on 1.1.1.2...',
    ]);
    // one host after the other: everything on 1.1.1.3 is done before 1.1.1.1 starts
    const s = run.steps;
    const lastOn3 = s.findLastIndex((x) => x.host === '1.1.1.3' && x.command.startsWith('docker run '));
    const firstRedis = s.findIndex((x) => x.command.startsWith('docker login') && x.host === '1.1.1.1');
    expect(lastOn3).toBeLessThan(firstRedis);
    expect(s.filter((x) => x.command.startsWith('docker run ')).map((x) => [x.host, x.command])).toEqual([
      ['1.1.1.3', RUN_MYSQL],
      ['1.1.1.3', RUN_BUSYBOX],
      ['1.1.1.1', runRedis('1.1.1.1')],
      ['1.1.1.2', runRedis('1.1.1.2')],
    ]);
    expect(s.filter((x) => x.command.startsWith('docker container stop app-mysql')).map((x) => x.host)).toEqual(['1.1.1.3']);
    expect(s.filter((x) => x.command.startsWith('mkdir .kamal/lock-'))).toHaveLength(1);
  });

  it('boot with web role filter', async () => {
    const run = await accessory('boot', 'redis', '-r', 'web');
    expect(run.exitCode).toBe(0);
    expect(run.steps.filter((s) => s.command.startsWith('docker run ')).map((s) => [s.host, s.command])).toEqual([
      ['1.1.1.1', runRedis('1.1.1.1')],
      ['1.1.1.2', runRedis('1.1.1.2')],
    ]);
  });

  it('boot with workers role filter', async () => {
    const run = await accessory('boot', 'redis', '-r', 'workers');
    expect(run.exitCode).toBe(0);
    expect(run.steps.some((s) => s.command.includes('docker run'))).toBe(false);
    // only the lock, taken on the workers' primary host
    expect(run.steps.map((s) => normalize(s.command))).toEqual([ENSURE_RUN_DIRECTORY, ENSURE_RUN_DIRECTORY, LOCK_ACQUIRE, LOCK_RELEASE]);
  });
});
