/**
 * `kamal-action plan deploy --version abc --json` for the fixture app, per
 * destination, checked against the sequence Kamal 2.12 runs
 * (Kamal::Cli::Main#deploy: build:deliver, then under the lock pre-deploy,
 * proxy:boot, app:stale_containers --stop, app:boot, prune:all; post-deploy
 * after the release).
 */
import { describe, expect, it } from 'vitest';
import type { PlannedStep } from '../../../src/exec/plan-runner.js';
import { SECRET_VALUES, first, last, lockDetails, normalize, on, plan, words, type PlanRun } from './helpers.js';
import { kamal, PRODUCTION, STAGING, type Destination } from './kamal-expected.js';

const is = (host: string, command: string) => (s: PlannedStep) => s.host === host && normalize(s.command) === command;
const isCmd = (command: string) => (s: PlannedStep) => normalize(s.command) === command;

/** What Kamal runs on the primary web host (first web host) or the other web host during a deploy. */
function webHost(d: Destination, host: string, primary: boolean): string[] {
  const k = kamal(d);
  return [
    // build:pull
    k.login,
    k.firstMirror,
    k.pulledAudit,
    k.clean,
    k.pull,
    k.validateImage,
    // with_lock
    k.ensureRunDirectory,
    ...(primary ? [k.lockAcquire] : []),
    // proxy:boot
    k.createNetwork,
    k.login,
    k.proxyVersion,
    k.proxyAppsConfig,
    k.proxyStartOrRun,
    // app:stale_containers --stop
    k.listVersions('web'),
    k.currentRunningVersion('web'),
    // app:boot: SSL certificates, then Boot#run
    k.sslDirectory,
    k.uploadCert,
    k.uploadKey,
    k.containerIdForVersion('web'),
    k.currentRunningVersion('web'),
    k.bootedAudit('web'),
    k.ensureEnvDirectory,
    k.uploadEnv('web'),
    k.run('web', host),
    k.containerIdForVersion('web'),
    k.proxyDeploy,
    k.stopOld('web'),
    k.taggingAudit,
    k.tagLatest,
    // prune:all
    k.prunedContainersAudit,
    k.pruneContainers,
    k.prunedImagesAudit,
    k.pruneDangling,
    'tagged images',
    ...(primary ? [k.lockRelease] : []),
  ];
}

function jobHost(d: Destination): string[] {
  const k = kamal(d);
  return [
    k.login,
    k.firstMirror,
    k.pulledAudit,
    k.clean,
    k.pull,
    k.validateImage,
    k.ensureRunDirectory,
    k.createNetwork,
    k.listVersions('job'),
    k.currentRunningVersion('job'),
    k.containerIdForVersion('job'),
    k.currentRunningVersion('job'),
    k.bootedAudit('job'),
    k.ensureEnvDirectory,
    k.uploadEnv('job'),
    k.run('job', d.job),
    k.status('job'),
    k.stopOld('job'),
    k.taggingAudit,
    k.tagLatest,
    k.prunedContainersAudit,
    k.pruneContainers,
    k.prunedImagesAudit,
    k.pruneDangling,
    'tagged images',
  ];
}

/** The accessory host is in KAMAL.hosts (run directory, network, prune) but runs no app. */
function mysqlHost(d: Destination): string[] {
  const k = kamal(d);
  return [k.ensureRunDirectory, k.createNetwork, k.prunedContainersAudit, k.pruneContainers, k.prunedImagesAudit, k.pruneDangling, 'tagged images'];
}

/** Our local commands; Kamal's first one is `docker --version && docker buildx version` (see the todo below). */
function local(d: Destination, hooks: string[] = []): string[] {
  const k = kamal(d);
  const hook = (name: string) => (hooks.includes(name) ? [`<app>/.kamal/hooks/${name}`] : []);
  return [
    ...hook('pre-connect'),
    'docker version',
    'docker buildx version',
    k.login,
    ...hook('pre-build'),
    k.inspectBuilder,
    k.build,
    '<app>/.kamal/hooks/pre-deploy',
    ...hook('pre-app-boot'),
    ...hook('post-app-boot'),
    ...hook('post-deploy'),
  ];
}

/** The tagged-images prune is compared by shell words (Kamal double-quotes the grep pattern, we single-quote the image part). */
function withTaggedImages(d: Destination, commands: string[]): string[] {
  const kamalWords = JSON.stringify(words(kamal(d).pruneTaggedKamal));
  return commands.map((c) => (c.startsWith('docker image ls ') && JSON.stringify(words(c)) === kamalWords ? 'tagged images' : c));
}

describe.each([
  ['staging', STAGING],
  ['production', PRODUCTION],
])('plan deploy -d %s --version abc --json', (name, d) => {
  const k = kamal(d);
  let run: PlanRun;
  const steps = () => run.steps;

  it('exits 0 and prints the plan as a JSON array of {host, command}', async () => {
    run = await plan(['deploy', '--version', 'abc', '-d', name, '--json']);
    expect(run.err).toBe('');
    expect(run.exitCode).toBe(0);
    const printed = JSON.parse(run.out) as PlannedStep[];
    expect(Array.isArray(printed)).toBe(true);
    expect(printed.length).toBeGreaterThan(100);
    for (const s of printed) {
      expect(typeof s.host).toBe('string');
      expect(typeof s.command).toBe('string');
    }
    expect(printed).toEqual(run.result.plan);
    expect(new Set(printed.map((s) => s.host))).toEqual(new Set(['local', ...d.web, d.job, d.mysql]));
  });

  it('runs the local commands in order: pre-connect, docker checks, registry login, pre-build, build, hooks', () => {
    expect(on(steps(), 'local')).toEqual(local(d));
  });

  it('runs on the primary web host exactly what Kamal runs, in order', () => {
    expect(withTaggedImages(d, on(steps(), d.web[0]))).toEqual(webHost(d, d.web[0], true));
  });

  it('runs on the other web host the same without the lock', () => {
    expect(withTaggedImages(d, on(steps(), d.web[1]))).toEqual(webHost(d, d.web[1], false));
  });

  it('boots the job role without the proxy: health polled from docker, stopped with the drain timeout', () => {
    expect(withTaggedImages(d, on(steps(), d.job))).toEqual(jobHost(d));
  });

  it('touches the accessory host only for the run directory, network and prune', () => {
    expect(withTaggedImages(d, on(steps(), d.mysql))).toEqual(mysqlHost(d));
  });

  it('orders the phases as Kamal: build, pull, lock, pre-deploy, proxy, stale containers, boot, tag, prune, release', () => {
    const s = steps();
    const allHosts = [...d.web, d.job, d.mysql];
    const build = first(s, is('local', k.build), 'build');
    const firstPull = first(s, (x) => x.host !== 'local' && normalize(x.command) === k.login, 'remote login');
    const lastValidate = last(s, isCmd(k.validateImage), 'validate image');
    const firstRunDir = first(s, isCmd(k.ensureRunDirectory), 'run directory');
    const lastRunDir = last(s, isCmd(k.ensureRunDirectory), 'run directory');
    const acquire = first(s, is(d.web[0], k.lockAcquire), 'lock acquire');
    const preDeploy = first(s, is('local', '<app>/.kamal/hooks/pre-deploy'), 'pre-deploy hook');
    const firstNetwork = first(s, isCmd(k.createNetwork), 'network');
    const lastProxy = last(s, isCmd(k.proxyStartOrRun), 'proxy start');
    const firstStale = first(s, (x) => x.step === 'stale containers', 'stale containers');
    const lastStale = last(s, (x) => x.step === 'stale containers', 'stale containers');
    const firstBoot = first(s, (x) => x.step === 'boot web' || x.step === 'boot job', 'boot step');
    const firstTag = first(s, isCmd(k.tagLatest), 'tag');
    const lastBoot = last(s, (x) => x.step === 'boot web' || x.step === 'boot job', 'boot step');
    const firstPrune = first(s, isCmd(k.prunedContainersAudit), 'prune');
    const lastPrune = last(s, (x) => x.step === 'prune', 'prune');
    const release = first(s, is(d.web[0], k.lockRelease), 'lock release');

    expect(build).toBeLessThan(firstPull);
    expect(lastValidate).toBeLessThan(firstRunDir);
    expect(lastRunDir).toBeLessThan(acquire);
    expect(acquire).toBeLessThan(preDeploy);
    expect(preDeploy).toBeLessThan(firstNetwork);
    expect(lastProxy).toBeLessThan(firstStale);
    expect(
      s
        .slice(firstStale, lastStale + 1)
        .map((x) => normalize(x.command))
        .sort(),
    ).toEqual([...d.web.flatMap(() => [k.listVersions('web'), k.currentRunningVersion('web')]), k.listVersions('job'), k.currentRunningVersion('job')].sort());
    expect(lastStale).toBeLessThan(first(s, isCmd(k.sslDirectory)));
    expect(last(s, isCmd(k.uploadKey))).toBeLessThan(firstBoot);
    expect(lastBoot).toBeLessThan(firstTag);
    expect(last(s, isCmd(k.tagLatest))).toBeLessThan(firstPrune);
    expect(lastPrune).toBeLessThan(release);
    expect(release).toBe(s.length - 1);
    // the lock is taken once, released once, on the primary host
    expect(s.filter((x) => x.command.startsWith('mkdir .kamal/lock-')).map((x) => x.host)).toEqual([d.web[0]]);
    expect(s.filter((x) => x.command.startsWith('rm .kamal/lock-')).map((x) => x.host)).toEqual([d.web[0]]);
    // network and prune on every host, as KAMAL.hosts includes the accessory host
    expect(
      s
        .filter(isCmd(k.createNetwork))
        .map((x) => x.host)
        .sort(),
    ).toEqual([...allHosts].sort());
    expect(
      s
        .filter(isCmd(k.pruneDangling))
        .map((x) => x.host)
        .sort(),
    ).toEqual([...allHosts].sort());
  });

  it('waits for the first healthy web container before booting the job role (the barrier)', () => {
    const s = steps();
    const firstDeploy = first(s, isCmd(k.proxyDeploy), 'kamal-proxy deploy');
    expect(firstDeploy).toBeLessThan(first(s, is(d.job, k.bootedAudit('job'))));
    expect(firstDeploy).toBeLessThan(first(s, (x) => x.host === d.job && normalize(x.command) === k.run('job', d.job)));
  });

  it('deploys to kamal-proxy for the web role only, once per web host', () => {
    const deploys = steps().filter((s) => s.command.includes('kamal-proxy deploy'));
    expect(deploys.map((s) => s.host)).toEqual([...d.web]);
    for (const s of deploys) expect(s.command).toBe(k.proxyDeploy);
  });

  it('renders the web docker run line as Kamal does', () => {
    for (const host of d.web) {
      const runs = steps().filter((s) => s.host === host && s.command.startsWith('docker run '));
      expect(runs).toHaveLength(1);
      expect(runs[0]!.command).toMatch(new RegExp(` --hostname ${host.replace(/\./g, '\\.')}-[0-9a-f]{12} `));
      expect(normalize(runs[0]!.command)).toBe(k.run('web', host));
    }
  });

  it('writes Kamal lock details: who, when, the version and the automatic message', () => {
    const acquire = steps().find((s) => s.command.startsWith('mkdir .kamal/lock-'))!;
    expect(normalize(acquire.command)).toBe(k.lockAcquire);
    expect(lockDetails(acquire.command)).toMatch(/^Locked by: .+ at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\nVersion: abc\nMessage: Automatic deploy lock$/);
  });

  it('labels each command with its rollout step, also while roles boot in parallel', () => {
    const s = steps();
    expect(s.filter((x) => x.step === 'boot job').every((x) => x.host === d.job)).toBe(true);
    expect(s.filter((x) => x.step === 'boot web').every((x) => d.web.includes(x.host))).toBe(true);
    expect(s.find(isCmd(k.run('job', d.job)))?.step).toBe('boot job');
    expect(s.find(is(d.web[0], k.lockAcquire))?.step).toBe('acquire lock');
    expect(s.find(is('local', k.build))?.step).toBe('build');
    expect(s.find(isCmd(k.proxyStartOrRun))?.step).toBe('proxy boot');
    expect(s.find(is(d.web[0], k.lockRelease))?.step).toBe('release lock');
  });

  it('never prints a secret value', () => {
    const everything = [
      run.out,
      run.err,
      run.reporter.text,
      ...run.reporter.messages.map((m) => m.message),
      ...run.reporter.commands.map((c) => c.command),
    ].join('\n');
    for (const value of SECRET_VALUES) expect(everything).not.toContain(value);
    // the registry password is shown redacted; secret env goes in the uploaded env file, not the command line
    expect(run.out).toContain('--password-stdin');
    expect(run.out).not.toMatch(/DB_PASSWORD|MYSQL_ROOT_PASSWORD|RAILS_MASTER_KEY/);
  });
});

describe('plan deploy with every hook present', () => {
  const HOOKS = ['pre-connect', 'pre-build', 'pre-app-boot', 'post-app-boot', 'post-deploy'];

  it('runs each hook as a local command where Kamal runs it', async () => {
    const run = await plan(['deploy', '--version', 'abc', '-d', 'production', '--json'], { hooks: HOOKS });
    expect(run.exitCode).toBe(0);
    const s = run.steps;
    const k = kamal(PRODUCTION);
    expect(on(s, 'local')).toEqual(local(PRODUCTION, HOOKS));
    const hook = (name: string) => first(s, is('local', `<app>/.kamal/hooks/${name}`), `${name} hook`);
    // pre-connect before anything else (Kamal's build push calls pre_connect_if_required first)
    expect(hook('pre-connect')).toBe(0);
    // pre-build after the local registry login, before the builder
    expect(hook('pre-build')).toBeGreaterThan(first(s, is('local', k.login)));
    expect(hook('pre-build')).toBeLessThan(first(s, is('local', k.inspectBuilder)));
    // pre-deploy under the lock, before the proxy boots
    expect(hook('pre-deploy')).toBeGreaterThan(first(s, isCmd(k.lockAcquire)));
    expect(hook('pre-deploy')).toBeLessThan(first(s, isCmd(k.createNetwork)));
    // pre-app-boot after the SSL certificates, before any container is looked at; post-app-boot before tagging
    expect(hook('pre-app-boot')).toBeGreaterThan(last(s, isCmd(k.uploadKey)));
    expect(hook('pre-app-boot')).toBeLessThan(first(s, (x) => x.step === 'boot web'));
    expect(hook('post-app-boot')).toBeGreaterThan(last(s, (x) => x.step === 'boot web' || x.step === 'boot job'));
    expect(hook('post-app-boot')).toBeLessThan(first(s, isCmd(k.tagLatest)));
    // post-deploy after the lock is released: the last command
    expect(hook('post-deploy')).toBe(s.length - 1);
    expect(hook('post-deploy')).toBeGreaterThan(first(s, isCmd(k.lockRelease)));
    // the hook itself is only listed, never run: its command line holds no secret
    for (const value of SECRET_VALUES) expect(run.out).not.toContain(value);
  });

  it('skips every hook with --skip-hooks', async () => {
    const run = await plan(['deploy', '--version', 'abc', '--skip-hooks', '--json'], { hooks: HOOKS });
    expect(run.exitCode).toBe(0);
    expect(run.steps.filter((s) => s.command.includes('.kamal/hooks/'))).toEqual([]);
  });

  it.todo(
    'Kamal checks the local Docker with one command, `docker --version && docker buildx version`; we run `docker version` ' +
      '(which also needs the daemon) and `docker buildx version` separately, to fall back to `docker build` without buildx',
  );
});
