/**
 * `kamal-action plan <command>` for the other commands, against Kamal 2.12's
 * sequences (Kamal::Cli::Main#setup/#rollback, App#boot, Accessory#boot,
 * Proxy#reboot, Lock#status), the plain output format and config errors.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../../src/cli/run.js';
import type { PlannedStep } from '../../../src/exec/plan-runner.js';
import { SECRET_VALUES, first, last, lockDetails, normalize, on, plan } from './helpers.js';
import { DEFAULT, PRODUCTION, STAGING, kamal } from './kamal-expected.js';

const is = (host: string, command: string) => (s: PlannedStep) => s.host === host && normalize(s.command) === command;
const isCmd = (command: string) => (s: PlannedStep) => normalize(s.command) === command;
const hook = (name: string) => `<app>/.kamal/hooks/${name}`;
const ALL = [...DEFAULT.web, DEFAULT.job, DEFAULT.mysql];

function expectNoSecrets(text: string): void {
  for (const value of SECRET_VALUES) expect(text).not.toContain(value);
}

describe('plan setup', () => {
  const k = kamal(DEFAULT);

  it('takes the lock first, checks Docker on every host, runs docker-setup, then deploys with the accessories', async () => {
    const run = await plan(['setup', '--version', 'abc', '--json'], { hooks: ['docker-setup', 'post-deploy'] });
    expect(run.exitCode).toBe(0);
    const s = run.steps;
    expectNoSecrets(run.out);

    // Kamal::Cli::Main#setup: modify(lock: true) around server:bootstrap and deploy(boot_accessories: true)
    const acquire = first(s, is(DEFAULT.web[0], k.lockAcquire), 'lock acquire');
    expect(s.slice(0, acquire).map((x) => normalize(x.command))).toEqual(ALL.map(() => k.ensureRunDirectory));
    const bootstrap = s.filter(isCmd(k.dockerInstalled));
    expect(bootstrap.map((x) => x.host)).toEqual(ALL);
    expect(first(s, isCmd(k.dockerInstalled))).toBe(acquire + 1);
    const dockerSetup = first(s, is('local', hook('docker-setup')), 'docker-setup hook');
    expect(dockerSetup).toBe(last(s, isCmd(k.dockerInstalled)) + 1);
    expect(dockerSetup).toBeLessThan(first(s, is('local', 'docker version')));

    // the deploy inside: build, pull, pre-deploy, proxy, accessories, stale containers, boot, prune
    const build = first(s, is('local', k.build));
    const preDeploy = first(s, is('local', hook('pre-deploy')));
    const lastProxy = last(s, isCmd(k.proxyStartOrRun));
    const accessoryRun = first(s, is(DEFAULT.mysql, k.accessory.run), 'accessory run');
    const firstStale = first(s, (x) => x.step === 'stale containers');
    expect(build).toBeLessThan(preDeploy);
    expect(preDeploy).toBeLessThan(lastProxy);
    expect(lastProxy).toBeLessThan(first(s, is(DEFAULT.mysql, k.accessory.info)));
    expect(accessoryRun).toBeLessThan(firstStale);

    // one lock for the whole setup: deploy's post-deploy hook runs while setup still holds it
    expect(s.filter((x) => x.command.startsWith('mkdir .kamal/lock-'))).toHaveLength(1);
    expect(s.filter((x) => x.command.startsWith('rm .kamal/lock-'))).toHaveLength(1);
    const postDeploy = first(s, is('local', hook('post-deploy')));
    expect(postDeploy).toBeGreaterThan(last(s, (x) => x.step === 'prune'));
    expect(postDeploy).toBe(s.length - 2);
    expect(normalize(s[s.length - 1]!.command)).toBe(k.lockRelease);
  });

  it('boots mysql on its host as Kamal does: login, network, existing container check, directories, files, env, run', async () => {
    const run = await plan(['setup', '--version', 'abc', '--json']);
    const mysql = on(run.steps, DEFAULT.mysql);
    const start = mysql.indexOf(k.login);
    const expected = [
      k.login,
      k.createNetwork,
      k.accessory.info,
      ...k.accessory.directories,
      ...k.accessory.files,
      k.accessory.bootedAudit,
      k.accessory.ensureEnvDirectory,
      k.accessory.uploadEnv,
      k.accessory.run,
    ];
    expect(mysql.slice(start, start + expected.length)).toEqual(expected);
    // after the proxy boot's network (KAMAL.hosts), before the stale containers: prune is all that follows
    expect(mysql.slice(0, start)).toEqual([k.ensureRunDirectory, k.dockerInstalled, k.createNetwork]);
    expect(mysql.slice(start + expected.length)).toEqual([
      k.prunedContainersAudit,
      k.pruneContainers,
      k.prunedImagesAudit,
      k.pruneDangling,
      expect.stringMatching(/^docker image ls --filter label=service=app /),
    ]);
  });
});

describe('plan rollback abc123', () => {
  const k = kamal(DEFAULT, 'abc123');

  it('checks the version exists on every app host under the lock, then boots it: no build, proxy boot or prune', async () => {
    const run = await plan(['rollback', 'abc123', '--json']);
    expect(run.exitCode).toBe(0);
    const s = run.steps;
    expectNoSecrets(run.out);

    // without --version and outside git the lock records the plan's placeholder version, as Kamal takes the lock
    // before it sets config.version to the rollback version
    const acquire = s.find((x) => x.command.startsWith('mkdir .kamal/lock-'))!;
    expect(acquire.host).toBe(DEFAULT.web[0]);
    expect(lockDetails(acquire.command)).toContain('Version: <git-version>\n');

    // container_available?: container_id_for_version on each app host and role, before pre-deploy
    const preDeploy = first(s, is('local', hook('pre-deploy')), 'pre-deploy hook');
    expect(s.slice(first(s, isCmd(k.lockAcquire)) + 1, preDeploy).map((x) => [x.host, normalize(x.command)])).toEqual([
      [DEFAULT.web[0], k.containerIdForVersion('web')],
      [DEFAULT.web[1], k.containerIdForVersion('web')],
      [DEFAULT.job, k.containerIdForVersion('job')],
    ]);

    expect(on(s, DEFAULT.web[1])).toEqual([
      k.ensureRunDirectory,
      k.containerIdForVersion('web'),
      k.sslDirectory,
      k.uploadCert,
      k.uploadKey,
      k.containerIdForVersion('web'),
      k.currentRunningVersion('web'),
      k.bootedAudit('web'),
      k.ensureEnvDirectory,
      k.uploadEnv('web'),
      k.run('web', DEFAULT.web[1]),
      k.containerIdForVersion('web'),
      k.proxyDeploy,
      k.stopOld('web'),
      k.taggingAudit,
      'docker tag registry.example.com/acme/app:abc123 registry.example.com/acme/app:latest',
    ]);
    expect(on(s, 'local')).toEqual([hook('pre-deploy')]);
    expect(on(s, DEFAULT.mysql)).toEqual([k.ensureRunDirectory]);
    expect(s.some((x) => /docker pull|buildx build|kamal-proxy --format|docker image prune|docker network create/.test(x.command))).toBe(false);
    expect(normalize(s[s.length - 1]!.command)).toBe(k.lockRelease);
  });
});

describe('plan app boot', () => {
  it("boots Kamal's latest tag without --version (version_or_latest)", async () => {
    const run = await plan(['app', 'boot', '--json']);
    expect(run.exitCode).toBe(0);
    const s = run.steps;
    // Kamal's app_test "boot": docker tag dhh/app:latest dhh/app:latest and --name app-web-latest
    expect(s.filter((x) => x.command.startsWith('docker tag ')).map((x) => x.command)).toEqual(
      ['web', 'web', 'job'].map(() => 'docker tag registry.example.com/acme/app:latest registry.example.com/acme/app:latest'),
    );
    expect(s.find((x) => x.host === DEFAULT.web[0] && x.command.startsWith('docker run '))?.command).toMatch(
      /^docker run --detach --restart unless-stopped --name app-web-latest --network kamal --hostname 10\.0\.0\.1-[0-9a-f]{12} /,
    );
  });

  it('boots --version abc per role under the lock, web behind kamal-proxy, with no build or pull', async () => {
    const run = await plan(['app', 'boot', '--version', 'abc', '--json']);
    expect(run.exitCode).toBe(0);
    const k = kamal(DEFAULT);
    const s = run.steps;
    expect(on(s, DEFAULT.web[0])).toEqual([
      k.ensureRunDirectory,
      k.lockAcquire,
      k.sslDirectory,
      k.uploadCert,
      k.uploadKey,
      k.containerIdForVersion('web'),
      k.currentRunningVersion('web'),
      k.bootedAudit('web'),
      k.ensureEnvDirectory,
      k.uploadEnv('web'),
      k.run('web', DEFAULT.web[0]),
      k.containerIdForVersion('web'),
      k.proxyDeploy,
      k.stopOld('web'),
      k.taggingAudit,
      k.tagLatest,
      k.lockRelease,
    ]);
    expect(on(s, DEFAULT.job)).toEqual([
      k.ensureRunDirectory,
      k.containerIdForVersion('job'),
      k.currentRunningVersion('job'),
      k.bootedAudit('job'),
      k.ensureEnvDirectory,
      k.uploadEnv('job'),
      k.run('job', DEFAULT.job),
      k.status('job'),
      k.stopOld('job'),
      k.taggingAudit,
      k.tagLatest,
    ]);
    expect(on(s, 'local')).toEqual([]);
  });

  it('runs pre-app-boot and post-app-boot around the boot', async () => {
    const run = await plan(['app', 'boot', '--version', 'abc', '--json'], { hooks: ['pre-app-boot', 'post-app-boot'] });
    const s = run.steps;
    const k = kamal(DEFAULT);
    expect(on(s, 'local')).toEqual([hook('pre-app-boot'), hook('post-app-boot')]);
    expect(first(s, is('local', hook('pre-app-boot')))).toBeLessThan(first(s, isCmd(k.containerIdForVersion('web'))));
    expect(first(s, is('local', hook('post-app-boot')))).toBeLessThan(first(s, isCmd(k.taggingAudit)));
  });
});

describe('plan accessory boot mysql', () => {
  it('takes the lock and boots the accessory on its host only', async () => {
    const run = await plan(['accessory', 'boot', 'mysql', '-d', 'staging', '--json']);
    expect(run.exitCode).toBe(0);
    const k = kamal(STAGING);
    const s = run.steps;
    expectNoSecrets(run.out);
    expect(on(s, STAGING.mysql)).toEqual([
      k.ensureRunDirectory,
      k.login,
      k.createNetwork,
      k.accessory.info,
      ...k.accessory.directories,
      ...k.accessory.files,
      k.accessory.bootedAudit,
      k.accessory.ensureEnvDirectory,
      k.accessory.uploadEnv,
      k.accessory.run,
    ]);
    expect(on(s, STAGING.web[0])).toEqual([k.ensureRunDirectory, k.lockAcquire, k.lockRelease]);
    expect(on(s, STAGING.job)).toEqual([k.ensureRunDirectory]);
    expect(normalize(s[s.length - 1]!.command)).toBe(k.lockRelease);
  });

  it('refuses an unknown accessory without listing any command', async () => {
    const run = await plan(['accessory', 'boot', 'redis']);
    expect(run.exitCode).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toContain("No accessory by the name of 'redis' (options: mysql)");
  });

  it.each([
    ['boot', 'redis'],
    ['reboot', 'redis'],
    ['start', 'redis'],
    ['stop', 'redis'],
    ['restart', 'redis'],
    ['details', 'redis'],
    ['upload', 'redis'],
    ['directories', 'redis'],
    ['remove', 'redis', '-y'],
    ['logs', 'redis'],
    ['logs', 'all'],
    ['exec', 'redis', 'true'],
    ['exec', 'all', 'true'],
  ])('accessory %s %s is refused before the lock is taken or any command is sent', async (...args) => {
    const run = await plan(['accessory', ...args]);
    expect(run.exitCode).toBe(1);
    expect(run.err).toContain(`No accessory by the name of '${args[1]}' (options: mysql)`);
    expect(run.reporter.commands).toEqual([]);
  });
});

describe('plan proxy reboot -y', () => {
  it('reboots kamal-proxy on the web hosts under the lock, as Kamal::Cli::Proxy#reboot', async () => {
    const run = await plan(['proxy', 'reboot', '-y', '--version', 'abc', '--json'], { hooks: ['pre-proxy-reboot', 'post-proxy-reboot'] });
    expect(run.exitCode).toBe(0);
    const k = kamal(DEFAULT);
    const s = run.steps;
    const reboot = [k.proxyRebootAudit, k.login, k.proxyStop, k.proxyRemoveContainer, k.proxyAppsConfig, k.proxyRun];
    expect(on(s, DEFAULT.web[0])).toEqual([k.ensureRunDirectory, k.lockAcquire, ...reboot, k.lockRelease]);
    expect(on(s, DEFAULT.web[1])).toEqual([k.ensureRunDirectory, ...reboot]);
    expect(on(s, DEFAULT.job)).toEqual([k.ensureRunDirectory]);
    expect(on(s, DEFAULT.mysql)).toEqual([k.ensureRunDirectory]);
    expect(on(s, 'local')).toEqual([hook('pre-proxy-reboot'), hook('post-proxy-reboot')]);
    expect(first(s, is('local', hook('pre-proxy-reboot')))).toBeLessThan(first(s, isCmd(k.proxyRebootAudit)));
    expect(first(s, is('local', hook('post-proxy-reboot')))).toBeGreaterThan(last(s, isCmd(k.proxyRun)));
  });

  it('with --rolling reboots one host after the other, hooks around each', async () => {
    const run = await plan(['proxy', 'reboot', '-y', '--rolling', '--version', 'abc', '--json'], { hooks: ['pre-proxy-reboot'] });
    const k = kamal(DEFAULT);
    const s = run.steps.filter((x) => x.host === 'local' || isCmd(k.proxyRun)(x)).map((x) => x.host);
    expect(s).toEqual(['local', DEFAULT.web[0], 'local', DEFAULT.web[1]]);
  });
});

describe('plan lock status', () => {
  it('reads the lock details on the primary host and nothing else', async () => {
    const run = await plan(['lock', 'status', '--json']);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.out)).toEqual([{ host: '10.0.0.1', command: kamal(DEFAULT).lockStatus, kind: 'run' }]);
  });

  it('names the destination lock', async () => {
    const run = await plan(['lock', 'status', '-d', 'production']);
    expect(run.out).toBe(`[10.2.0.1] ${kamal(PRODUCTION).lockStatus}\n`);
  });

  it('runs the pre-connect hook first, as Kamal does for anything that goes through on(hosts)', async () => {
    const run = await plan(['lock', 'status', '--json'], { hooks: ['pre-connect'] });
    expect(run.steps.map((x) => [x.host, x.command])).toEqual([
      ['local', hook('pre-connect')],
      ['10.0.0.1', kamal(DEFAULT).lockStatus],
    ]);
  });
});

describe('plain plan output', () => {
  it('prints one `[host] command` line per command, under a `# step` line when the step changes', async () => {
    const run = await plan(['deploy', '--version', 'abc', '-d', 'staging']);
    expect(run.exitCode).toBe(0);
    expect(run.err).toBe('');
    expect(run.out).toBe(formatPlan(run.result.plan!));
    const lines = run.out.trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^(# [a-z][\w -]*|\[(local|10\.1\.0\.[1-4])\] \S.*)$/);
    const k = kamal(STAGING);
    expect(lines[0]).toBe('[local] docker version');
    expect(lines).toContain(`[local] ${k.build}`);
    expect(lines).toContain('# acquire lock');
    expect(lines.indexOf('# acquire lock')).toBeLessThan(lines.indexOf(`[10.1.0.1] ${k.ensureRunDirectory}`));
    expect(lines.at(-2)).toBe('# release lock');
    expect(lines.at(-1)).toBe(`[10.1.0.1] ${k.lockRelease}`);
    const commandLines = lines.filter((l) => !l.startsWith('# '));
    expect(commandLines).toHaveLength(run.result.plan!.length);
    expectNoSecrets(run.out);
  });

  it('lists the same commands as --json, in the same order', async () => {
    const plain = await plan(['deploy', '--version', 'abc', '-d', 'production']);
    const json = await plan(['deploy', '--version', 'abc', '-d', 'production', '--json']);
    const fromPlain = plain.out
      .trimEnd()
      .split('\n')
      .filter((l) => !l.startsWith('# '))
      .map((l) =>
        normalize(
          l
            .replace(/^\[[^\]]+\] /, '')
            .split(plain.dir)
            .join('<app>'),
        ),
      );
    expect(fromPlain).toEqual(json.steps.map((s) => normalize(s.command)));
  });

  it('needs a command', async () => {
    const run = await plan([]);
    expect(run.exitCode).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toMatch(/plan needs a command/);
  });
});

describe('plan with a broken config', () => {
  const breakConfig = (file: string, from: string, to: string) => (dir: string) => {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(from)) throw new Error(`fixture ${file} has no ${from}`);
    writeFileSync(path, text.replace(from, to));
  };

  it.each([
    ['--json', ['deploy', '--version', 'abc', '--json']],
    ['plain', ['deploy', '--version', 'abc']],
    ['setup', ['setup', '--version', 'abc']],
  ])('names the key path, exits 1 and lists no command (%s)', async (_name, args) => {
    const run = await plan(args, {
      prepare: breakConfig('config/deploy.yml', '      app_port: 3000\n', '      app_port: 3000\n      hots: app.example.com\n'),
    });
    expect(run.exitCode).toBe(1);
    expect(run.out).toBe('');
    expect(run.result.plan).toBeUndefined();
    expect(run.err).toMatch(/^Configuration error: /);
    expect(run.err).toContain('servers/web/proxy');
    expect(run.err).toContain('hots');
    expect(run.reporter.commands).toEqual([]);
  });

  it('reports an error in the destination file with its key path', async () => {
    const run = await plan(['deploy', '--version', 'abc', '-d', 'staging', '--json'], {
      prepare: breakConfig('config/deploy.staging.yml', 'accessories:\n  mysql:\n', 'accessories:\n  mysql:\n    colour: blue\n'),
    });
    expect(run.exitCode).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toContain('accessories/mysql');
    expect(run.err).toContain('colour');
  });

  it("refuses Kamal's invalid `ssl: true` for a role with two hosts and no certificates", async () => {
    const run = await plan(['deploy', '--version', 'abc', '--json'], {
      prepare: breakConfig(
        'config/deploy.yml',
        '      ssl:\n        certificate_pem: CERTIFICATE_PEM\n        private_key_pem: PRIVATE_KEY_PEM\n',
        '      ssl: true\n',
      ),
    });
    expect(run.exitCode).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toContain('SSL is only supported on a single server unless you provide custom certificates, found 2 servers for role web');
  });
});

describe('Kamal CLI flags', () => {
  it('-H skips the hooks and -h picks the hosts, as in Kamal', async () => {
    const hooks = ['pre-connect', 'pre-deploy', 'post-deploy'];
    const withHooks = await plan(['deploy', '--version', 'abc', '--skip-push', '--json'], { hooks });
    expect(withHooks.exitCode, withHooks.err).toBe(0);
    expect(withHooks.steps.filter((s) => s.host === 'local' && s.command.includes('/.kamal/hooks/')).length).toBeGreaterThanOrEqual(3);

    const skipped = await plan(['deploy', '--version', 'abc', '--skip-push', '--json', '-H'], { hooks });
    expect(skipped.exitCode, skipped.err).toBe(0);
    expect(skipped.steps.filter((s) => s.command.includes('/.kamal/hooks/'))).toEqual([]);

    const one = await plan(['app', 'version', '--json', '-h', DEFAULT.web[1]]);
    expect(one.exitCode, one.err).toBe(0);
    expect([...new Set(one.steps.map((s) => s.host))]).toEqual([DEFAULT.web[1]]);
  });
});
