/**
 * Kamal 2.12's test/cli/main_test.rb (CliMainTest) ported to our CLI: the same
 * command line on an equivalent config runs the same commands on the same
 * hosts in the same order. Each `it` names the Kamal test it ports.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runCli, type CliResult } from '../../../../src/cli/run.js';
import { MemoryReporter } from '../../../../src/engine/reporter.js';
import { RecordingRunner, type RecordedCommand, type Responder } from '../../../../test/support/recording.js';
import { CommandFailedError } from '../../../../src/exec/types.js';
import { LockError } from '../../../../src/errors.js';
import { KAMAL_ACTION_VERSION, KAMAL_COMPAT_VERSION } from '../../../../src/version.js';
import { renderErb } from '../../../../src/config/erb.js';
import { normalize } from '../helpers.js';
import { WITH_ROLES as ROLES, withAccessories, writeApp } from './fixtures.js';

const WITH_ACCESSORIES = withAccessories({ myCnf: 'config/files/my.cnf' });

// ---- configs equivalent to Kamal's test/fixtures ----

/** deploy_simple.yml */
const SIMPLE = `service: app
image: dhh/app
servers:
  - "1.1.1.1"
  - "1.1.1.2"
registry:
  username: user
  password: pw
builder:
  arch: amd64
`;

/** deploy_with_local_registry.yml */
const LOCAL_REGISTRY = `service: app
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

/** deploy_primary_web_role_override.yml */
const PRIMARY_WEB_ROLE_OVERRIDE = `service: app
image: dhh/app
servers:
  web_chicago:
    proxy: {}
    hosts:
      - 1.1.1.1
      - 1.1.1.2
  web_tokyo:
    proxy: {}
    hosts:
      - 1.1.1.3
      - 1.1.1.4
env:
  REDIS_URL: redis://x/y
registry:
  server: registry.digitalocean.com
  username: user
  password: pw
builder:
  arch: amd64
primary_role: web_tokyo
`;

/** deploy_for_dest.yml (servers come from the destination file) */
const FOR_DEST = `service: app
image: dhh/app
registry:
  server: registry.digitalocean.com
  username: <%= "my-user" %>
  password: <%= "my-password" %>
builder:
  arch: amd64
`;

/** deploy_for_dest.world.yml, deploy_for_required_dest.world.yml */
const WORLD = `servers:
  - 1.1.1.1
  - 1.1.1.2
env:
  REDIS_URL: redis://x/y
`;

/** deploy_for_required_dest.yml */
const FOR_REQUIRED_DEST = `${FOR_DEST}require_destination: true
aliases:
  world_deploy: deploy -d world
`;

/** deploy_with_secrets.yml */
const WITH_SECRETS = `service: app
image: dhh/app
servers:
  - "1.1.1.1"
  - "1.1.1.2"
registry:
  username: user
  password: pw
env:
  secret:
    - PASSWORD
builder:
  arch: amd64
`;

/** deploy_with_aliases.yml */
const WITH_ALIASES = `service: app
image: dhh/app
servers:
  web:
    - 1.1.1.1
    - 1.1.1.2
  workers:
    hosts:
      - 1.1.1.3
      - 1.1.1.4
  console:
    hosts:
      - 1.1.1.5
builder:
  arch: amd64
registry:
  username: user
  password: pw
aliases:
  info: details
  console: app exec --reuse -p -r console "bin/console"
  exec: app exec --reuse -p -r console
  rails: app exec --reuse -p -r console rails
  primary_details: details -p
  deploy_secondary: deploy -d secondary
`;

/** deploy.yml, deploy2.yml and deploy.elsewhere.yml of "switch ... with an alias" */
const ALIASED_DEPLOY = `${SIMPLE}aliases:
  other_config: config -c config/deploy2.yml
  other_destination_config: config -d elsewhere
`;
const ALIASED_DEPLOY2 = `service: app2
image: dhh/app2
servers:
  - "1.1.1.1"
  - "1.1.1.2"
registry:
  username: user2
  password: pw2
builder:
  arch: amd64
aliases:
  other_config: config -c config/deploy2.yml
`;
const ALIASED_ELSEWHERE = `service: app3
image: dhh/app3
servers:
  - "1.1.1.3"
  - "1.1.1.4"
registry:
  username: user
  password: pw
builder:
  arch: amd64
aliases:
  other_config: config -c config/deploy2.yml
`;

// ---- running the CLI ----

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Options {
  /** config/deploy.yml */
  config?: string;
  /** Other files of the app folder, by relative path. */
  files?: Record<string, string>;
  /** Hooks that exist (Kamal's `hook_exists?` stubbed to true): empty scripts in .kamal/hooks. */
  hooks?: string[];
  /** Extra environment (Kamal's CliTestCase sets VERSION=999). */
  env?: Record<string, string>;
  /** Remote answers. */
  respond?: Responder;
  /** Local answers (build, hooks, registry). */
  respondLocal?: Responder;
  /** Run in this folder instead of a fresh one. */
  dir?: string;
}

interface Run {
  result: CliResult;
  exitCode: number;
  error: unknown;
  out: string;
  err: string;
  reporter: MemoryReporter;
  /** Messages said (Kamal's `say`), in order. */
  said: string[];
  /** Remote commands, normalized, with their host. */
  remote: RecordedCommand[];
  /** Local commands, with the app folder shown as `<app>`. */
  local: string[];
  /** Remote and local commands interleaved in call order (`local` for local ones). */
  all: { host: string; command: string }[];
  dir: string;
}

const ALL_HOOKS = [
  'pre-connect',
  'pre-build',
  'pre-deploy',
  'post-deploy',
  'pre-app-boot',
  'post-app-boot',
  'pre-proxy-reboot',
  'post-proxy-reboot',
  'docker-setup',
];

function appDir(o: Options): string {
  if (o.dir) return o.dir;
  const dir = mkdtempSync(join(tmpdir(), 'kamal-main-'));
  dirs.push(dir);
  const files: Record<string, string> = { Dockerfile: 'FROM scratch\n', 'config/deploy.yml': o.config ?? SIMPLE, ...o.files };
  writeApp(dir, files, o.hooks);
  return dir;
}

/** `kamal <argv>` in an app folder, with VERSION=999 as in Kamal's CliTestCase. */
async function kamal(argv: string[], o: Options = {}): Promise<Run> {
  const dir = appDir(o);
  const order: { host: string; command: string }[] = [];
  const docker = dockerHosts();
  // each runner records the command (as shown, secrets redacted) before it asks for the answer
  const runner: RecordingRunner = new RecordingRunner({
    respond: (host, command) => {
      order.push({ host, command: runner.transcript.at(-1)!.command });
      return o.respond?.(host, command) ?? docker(host, command);
    },
  });
  const local: RecordingRunner = new RecordingRunner({
    respond: (host, command) => {
      order.push({ host: 'local', command: local.transcript.at(-1)!.command });
      return o.respondLocal?.(host, command);
    },
  });
  let out = '';
  let err = '';
  const reporter = new MemoryReporter();
  const result = await runCli(argv, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, VERSION: '999', ...o.env },
    runner,
    local,
    reporter,
    out: (s) => (out += s),
    err: (s) => (err += s),
  });
  const clean = (c: string) => normalize(c.split(dir).join('<app>'));
  return {
    result,
    exitCode: result.exitCode,
    error: result.error,
    out,
    err,
    reporter,
    said: reporter.messages.map((m) => m.message),
    remote: runner.transcript.map((t) => ({ ...t, command: clean(t.command) })),
    local: local.transcript.map((t) => clean(t.command)),
    all: order.map((c) => ({ host: c.host, command: clean(c.command) })),
    dir,
  };
}

/**
 * Hosts that answer like docker for what a deploy asks: a container started with `docker run --name X`
 * exists (an id for `container ls --filter name=^X$`) and is running.
 */
function dockerHosts(): Responder {
  const containers = new Map<string, Set<string>>();
  return (host, command) => {
    const names = containers.get(host) ?? new Set<string>();
    containers.set(host, names);
    const run = /^docker run --detach --restart unless-stopped --name (\S+) /.exec(command);
    if (run) names.add(run[1]!);
    const ls = /^docker container ls --all --filter 'name=\^(\S+)\$' --quiet/.exec(command);
    if (ls && names.has(ls[1]!)) return { stdout: command.includes('xargs docker inspect') ? 'running\n' : 'c0ffee\n' };
    return undefined;
  };
}

const hook = (name: string) => `<app>/.kamal/hooks/${name}`;

/** The hooks run, in order. */
const hooksRan = (run: Run) => run.local.filter((c) => c.startsWith('<app>/.kamal/hooks/')).map((c) => c.slice('<app>/.kamal/hooks/'.length));

/** Index in `all` of the first command matching. */
function at(run: Run, host: string, match: string | RegExp): number {
  const i = run.all.findIndex((c) => c.host === host && (typeof match === 'string' ? c.command === match : match.test(c.command)));
  if (i < 0) throw new Error(`no ${String(match)} on ${host}`);
  return i;
}

const has = (run: Run, host: string, match: string | RegExp) =>
  run.all.some((c) => c.host === host && (typeof match === 'string' ? c.command === match : match.test(c.command)));

const on = (run: Run, host: string) => run.remote.filter((c) => c.host === host).map((c) => c.command);

/** The order in which the messages appear (each must appear). */
function saidInOrder(run: Run, messages: (string | RegExp)[]): void {
  let from = 0;
  for (const m of messages) {
    const i = run.said.findIndex((s, j) => j >= from && (typeof m === 'string' ? s === m : m.test(s)));
    expect(i, `"${String(m)}" said after message ${from} in:\n${run.said.join('\n')}`).toBeGreaterThanOrEqual(0);
    from = i + 1;
  }
}

const ok = (run: Run) => expect(run.exitCode, `${run.err}\n${run.said.join('\n')}`).toBe(0);

// ---- Kamal's commands, as printed for deploy_simple.yml with VERSION=999 ----

const LOCK_ACQUIRE = /^mkdir \.kamal\/lock-app && echo "<details>" > \.kamal\/lock-app\/details$/;
const LOCK_RELEASE = 'rm .kamal/lock-app/details && rm -r .kamal/lock-app';
const LOCK_STATUS = 'stat .kamal/lock-app > /dev/null && cat .kamal/lock-app/details | base64 -d';
const RUN_DIRECTORY = 'mkdir -p .kamal';
const DOCKER_INSTALLED = 'docker -v';
const FIRST_MIRROR = "docker info --format '{{index .RegistryConfig.Mirrors 0}}'";
const PULL = 'docker pull dhh/app:999';
const BUILD =
  /^docker buildx build --output=type=registry --platform linux\/amd64 --builder kamal-local-docker-container -t dhh\/app:999 -t dhh\/app:latest --label service="app" --file Dockerfile \. 2>&1$/;
const BUILD_NO_CACHE =
  /^docker buildx build --output=type=registry --platform linux\/amd64 --builder kamal-local-docker-container -t dhh\/app:999 -t dhh\/app:latest --label service="app" --file Dockerfile --no-cache \. 2>&1$/;
const PROXY_START = /^docker container start kamal-proxy \|\| echo /;
const STALE =
  'docker ps --filter label=service=app --filter label=destination= --filter label=role=web --format "{{.Names}}" | while read line; do echo ${line#app-web-}; done';
const APP_RUN = /^docker run --detach --restart unless-stopped --name app-web-999 /;
const PRUNE_CONTAINERS =
  'docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +6 | while read container_id; do docker rm $container_id; done';
const PRUNE_DANGLING = 'docker image prune --force --filter label=service=app';

function currentRunningVersion(role: string, image = 'dhh/app'): string {
  const ps = `docker ps --latest --format '\\''{{.Names}}'\\'' --filter label=service=app --filter label=destination= --filter label=role=${role} --filter status=running --filter status=restarting`;
  return `sh -c '${ps} --filter ancestor=$(docker image ls --filter reference=${image}:latest --format '\\''{{.ID}}'\\'') ; ${ps}' | head -1 | while read line; do echo \${line#app-${role}-}; done`;
}
const containerIdForVersion = (role: string, version: string) => `docker container ls --all --filter 'name=^app-${role}-${version}$' --quiet`;

/** What every deploy of deploy_simple.yml runs on each host, in order, between the pull and the prune. */
function expectDeploySequence(run: Run, opts: { pull?: boolean; proxy?: boolean; prune?: boolean; lock?: boolean } = {}): void {
  const { pull = true, proxy = true, prune = true, lock = true } = opts;
  for (const host of ['1.1.1.1', '1.1.1.2']) {
    const steps: (string | RegExp)[] = [
      ...(pull ? [FIRST_MIRROR, PULL] : []),
      ...(lock ? [RUN_DIRECTORY] : []),
      ...(lock && host === '1.1.1.1' ? [LOCK_ACQUIRE] : []),
      ...(proxy ? ['docker network create kamal', PROXY_START] : []),
      STALE,
      APP_RUN,
      ...(prune ? [PRUNE_CONTAINERS, PRUNE_DANGLING] : []),
      ...(lock && host === '1.1.1.1' ? [LOCK_RELEASE] : []),
    ];
    let from = -1;
    for (const step of steps) {
      const i = run.all.findIndex((c, j) => j > from && c.host === host && (typeof step === 'string' ? c.command === step : step.test(c.command)));
      expect(i, `${String(step)} on ${host} after #${from}`).toBeGreaterThan(from);
      from = i;
    }
  }
}

describe('CliMainTest', () => {
  it('setup', async () => {
    const run = await kamal(['setup']);
    ok(run);
    saidInOrder(run, ['Acquiring the deploy lock...', 'Ensure Docker is installed...', 'Build and push app image...']);
    // modify(lock: true) { server:bootstrap; deploy(boot_accessories: true) }: Docker checked on every host under the lock
    const acquire = at(run, '1.1.1.1', LOCK_ACQUIRE);
    for (const host of ['1.1.1.1', '1.1.1.2']) expect(at(run, host, DOCKER_INSTALLED)).toBeGreaterThan(acquire);
    expect(at(run, 'local', BUILD)).toBeGreaterThan(at(run, '1.1.1.2', DOCKER_INSTALLED));
    expectDeploySequence(run, { lock: false });
    // one lock around the whole setup
    expect(run.remote.filter((c) => LOCK_ACQUIRE.test(c.command))).toHaveLength(1);
    expect(run.remote.filter((c) => c.command === LOCK_RELEASE)).toHaveLength(1);
    expect(run.remote.at(-1)).toEqual({ host: '1.1.1.1', command: LOCK_RELEASE });
  });

  it('setup with skip_push', async () => {
    const run = await kamal(['setup', '--skip_push']);
    ok(run);
    saidInOrder(run, [
      'Acquiring the deploy lock...',
      'Ensure Docker is installed...',
      'Pull app image...',
      'Ensure kamal-proxy is running...',
      'Detect stale containers...',
      'Prune old containers and images...',
      'Releasing the deploy lock...',
    ]);
    expect(run.local.some((c) => /^docker buildx build /.test(c))).toBe(false);
    for (const host of ['1.1.1.1', '1.1.1.2']) expect(at(run, host, PULL)).toBeGreaterThan(at(run, host, DOCKER_INSTALLED));
    expectDeploySequence(run, { lock: false });
  });

  it('deploy with local registry', async () => {
    const run = await kamal(['deploy', '--verbose'], { config: LOCAL_REGISTRY, hooks: ALL_HOOKS, files: { '.kamal/secrets': 'DB_PASSWORD=secret\n' } });
    ok(run);
    saidInOrder(run, ['Build and push app image...', 'Ensure kamal-proxy is running...', 'Detect stale containers...', 'Prune old containers and images...']);
    expect(hooksRan(run)).toEqual(['pre-connect', 'pre-build', 'pre-deploy', 'pre-app-boot', 'post-app-boot', 'post-deploy']);
    // build:push starts the local registry instead of logging in, and tags for localhost:5000
    const registry = at(
      run,
      'local',
      'docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:5000:5000 --name kamal-docker-registry registry:3',
    );
    const build = at(run, 'local', /^docker buildx build --output=type=registry .* -t localhost:5000\/dhh\/app:999 -t localhost:5000\/dhh\/app:latest /);
    expect(registry).toBeLessThan(build);
    expect(run.all.some((c) => /^docker login/.test(c.command))).toBe(false);
    // build:pull reaches the registry through a tunnel from each host
    for (const host of ['1.1.1.1', '1.1.1.2']) {
      const forward = at(run, host, 'forward 127.0.0.1:5000 to localhost:5000');
      expect(forward).toBeGreaterThan(build);
      expect(at(run, host, 'docker pull localhost:5000/dhh/app:999')).toBeGreaterThan(forward);
    }
    expect(at(run, 'local', hook('pre-deploy'))).toBeGreaterThan(at(run, '1.1.1.1', LOCK_ACQUIRE));
    expect(at(run, 'local', hook('post-deploy'))).toBeGreaterThan(at(run, '1.1.1.1', LOCK_RELEASE));
  });

  it('setup with no_cache', async () => {
    const run = await kamal(['setup', '--no-cache']);
    ok(run);
    saidInOrder(run, [
      'Ensure Docker is installed...',
      'Build and push app image...',
      'Ensure kamal-proxy is running...',
      'Detect stale containers...',
      'Prune old containers and images...',
    ]);
    expect(at(run, 'local', BUILD_NO_CACHE)).toBeGreaterThan(at(run, '1.1.1.2', DOCKER_INSTALLED));
    expectDeploySequence(run, { lock: false });
  });

  it('deploy', async () => {
    const run = await kamal(['deploy', '--verbose'], { hooks: ALL_HOOKS, files: { '.kamal/secrets': 'DB_PASSWORD=secret\n' } });
    ok(run);
    saidInOrder(run, [
      'Build and push app image...',
      'Acquiring the deploy lock...',
      'Ensure kamal-proxy is running...',
      'Detect stale containers...',
      'Prune old containers and images...',
      'Releasing the deploy lock...',
    ]);
    expect(hooksRan(run)).toEqual(['pre-connect', 'pre-build', 'pre-deploy', 'pre-app-boot', 'post-app-boot', 'post-deploy']);
    // pre-connect before anything, pre-build before the build, pre-deploy under the lock, post-deploy after its release
    expect(run.all[0]).toEqual({ host: 'local', command: hook('pre-connect') });
    expect(at(run, 'local', hook('pre-build'))).toBeLessThan(at(run, 'local', BUILD));
    const preDeploy = at(run, 'local', hook('pre-deploy'));
    expect(preDeploy).toBeGreaterThan(at(run, '1.1.1.1', LOCK_ACQUIRE));
    expect(preDeploy).toBeLessThan(at(run, '1.1.1.1', 'docker network create kamal'));
    expect(run.all.at(-1)).toEqual({ host: 'local', command: hook('post-deploy') });
    expect(run.all.at(-2)).toEqual({ host: '1.1.1.1', command: LOCK_RELEASE });
    expect(at(run, 'local', 'docker login -u "user" --password-stdin')).toBeLessThan(at(run, 'local', BUILD));
    expectDeploySequence(run);
  });

  it('deploy with skip_push', async () => {
    const run = await kamal(['deploy', '--skip_push']);
    ok(run);
    saidInOrder(run, [
      'Pull app image...',
      'Acquiring the deploy lock...',
      'Ensure kamal-proxy is running...',
      'Detect stale containers...',
      'Prune old containers and images...',
      'Releasing the deploy lock...',
    ]);
    expect(run.local).toEqual([]);
    for (const host of ['1.1.1.1', '1.1.1.2']) expect(on(run, host)[0]).toBe('docker login -u "user" --password-stdin');
    expectDeploySequence(run);
  });

  it('deploy with no_cache', async () => {
    const run = await kamal(['deploy', '--no-cache']);
    ok(run);
    saidInOrder(run, ['Build and push app image...', 'Ensure kamal-proxy is running...', 'Detect stale containers...', 'Prune old containers and images...']);
    expect(run.local.filter((c) => c.startsWith('docker buildx build'))).toEqual([expect.stringMatching(BUILD_NO_CACHE)]);
    expectDeploySequence(run);
  });
});

/** A primary host whose lock directory exists (Kamal's `mkdir .kamal/lock-app` raising "File exists"). */
function lockedBy(message: string, opts: { freeAfter?: number } = {}): Responder & { attempts: number } {
  const responder = ((_host: string, command: string) => {
    if (command.startsWith('mkdir .kamal/lock-app ')) {
      responder.attempts++;
      if (opts.freeAfter === undefined || responder.attempts <= opts.freeAfter) {
        return { exitCode: 1, stderr: 'mkdir: cannot create directory ‘.kamal/lock-app’: File exists' };
      }
    }
    if (command === LOCK_STATUS) return { stdout: `Locked by: alice at 2026-12-01T10:00:00Z\nVersion: 999\nMessage: ${message}\n` };
    return undefined;
  }) as Responder & { attempts: number };
  responder.attempts = 0;
  return responder;
}

describe('CliMainTest: the deploy lock', () => {
  it('deploy when locked', async () => {
    const run = await kamal(['deploy'], { respond: lockedBy('Automatic deploy lock') });
    expect(run.exitCode).toBe(1);
    expect(run.error).toBeInstanceOf(LockError);
    expect(run.said).toContain('Deploy lock already in place!');
    // the image was delivered first (docker info for the mirrors at least once), then the lock was refused and its details read
    for (const host of ['1.1.1.1', '1.1.1.2']) expect(has(run, host, FIRST_MIRROR)).toBe(true);
    const acquire = at(run, '1.1.1.1', LOCK_ACQUIRE);
    expect(run.all.slice(acquire + 1)).toEqual([{ host: '1.1.1.1', command: LOCK_STATUS }]);
    expect(run.remote.some((c) => c.command === LOCK_RELEASE || APP_RUN.test(c.command))).toBe(false);
  });

  it('deploy with --lock-wait retries and acquires lock when freed', async () => {
    const respond = lockedBy('Automatic deploy lock', { freeAfter: 2 });
    // Kamal's test waits 0s between polls; we refuse intervals under a second
    const run = await kamal(['deploy', '--lock-wait', '--lock-wait-interval', '1', '--lock-wait-timeout', '60'], { respond });
    ok(run);
    expect(respond.attempts).toBe(3);
    saidInOrder(run, [
      'Acquiring the deploy lock (waiting up to 60s)...',
      'Deploy lock is held by:',
      /^Retrying in 1s/,
      /^Retrying in 1s/,
      'Releasing the deploy lock...',
    ]);
    // the details are read once, after the first refusal
    const primary = on(run, '1.1.1.1');
    const attempts = primary.flatMap((c, i) => (LOCK_ACQUIRE.test(c) ? [i] : []));
    expect(attempts).toHaveLength(3);
    expect(primary.filter((c) => c === LOCK_STATUS)).toHaveLength(1);
    expect(primary[attempts[0]! + 1]).toBe(LOCK_STATUS);
    expect(primary[attempts[1]! + 1]).toMatch(LOCK_ACQUIRE);
    expectDeploySequence(run);
  });

  it('deploy with --lock-wait times out', async () => {
    const run = await kamal(['deploy', '--lock-wait', '--lock-wait-timeout', '0', '--lock-wait-interval', '1'], { respond: lockedBy('Automatic deploy lock') });
    expect(run.exitCode).toBe(1);
    expect(run.error).toBeInstanceOf(LockError);
    expect((run.error as Error).message).toBe('Timed out waiting for deploy lock');
    expect(run.said).toContain('Timed out after 0s waiting for the deploy lock');
    const primary = on(run, '1.1.1.1');
    expect(primary.filter((c) => LOCK_ACQUIRE.test(c))).toHaveLength(1);
    expect(primary.at(-1)).toBe(LOCK_STATUS);
  });

  it('deploy with --lock-wait fails immediately when the lock is held manually', async () => {
    const started = Date.now();
    const run = await kamal(['deploy', '--lock-wait', '--lock-wait-timeout', '60', '--lock-wait-interval', '1'], {
      respond: lockedBy('Stopping deploys for maintenance'),
    });
    expect(run.exitCode).toBe(1);
    expect(run.error).toBeInstanceOf(LockError);
    expect((run.error as Error).message).toMatch(/held manually/);
    expect(run.said.some((m) => m.startsWith('Retrying'))).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    const primary = on(run, '1.1.1.1');
    expect(primary.filter((c) => LOCK_ACQUIRE.test(c))).toHaveLength(1);
    expect(primary.at(-1)).toBe(LOCK_STATUS);
  });

  it('deploy when inheriting lock', async () => {
    const run = await kamal(['deploy'], { env: { KAMAL_LOCK: 'true' }, hooks: ALL_HOOKS });
    ok(run);
    expect(run.said).not.toContain('Acquiring the deploy lock...');
    expect(run.said).not.toContain('Releasing the deploy lock...');
    saidInOrder(run, ['Build and push app image...', 'Ensure kamal-proxy is running...', 'Detect stale containers...', 'Prune old containers and images...']);
    expect(run.remote.some((c) => LOCK_ACQUIRE.test(c.command) || c.command === LOCK_RELEASE || c.command === RUN_DIRECTORY)).toBe(false);
    expectDeploySequence(run, { lock: false });
  });

  it('deploy error when locking', async () => {
    const run = await kamal(['deploy'], {
      respond: (_host, command) =>
        command.startsWith('mkdir .kamal/lock-app ') ? { exitCode: 255, stderr: 'getaddrinfo: nodename nor servname provided, or not known' } : undefined,
    });
    expect(run.exitCode).toBe(1);
    expect(run.error).toBeInstanceOf(CommandFailedError);
    expect(run.error).not.toBeInstanceOf(LockError);
    for (const host of ['1.1.1.1', '1.1.1.2']) expect(has(run, host, FIRST_MIRROR)).toBe(true);
    // not a held lock: no lock details are read, nothing runs after the failed mkdir
    expect(run.remote.at(-1)!.command).toMatch(LOCK_ACQUIRE);
    expect(run.remote.some((c) => c.command === LOCK_STATUS)).toBe(false);
  });

  it('deploy errors during outside section leave remote lock', async () => {
    const run = await kamal(['deploy'], { respondLocal: (_h, c) => (c.startsWith('docker buildx build') ? { exitCode: 1, stderr: 'boom' } : undefined) });
    expect(run.exitCode).toBe(1);
    expect(run.result.kamal!.holdingLock).toBe(false);
    // build:deliver runs before the lock is taken: nothing was locked, nothing released
    expect(run.remote.some((c) => LOCK_ACQUIRE.test(c.command) || c.command === LOCK_RELEASE)).toBe(false);
    expect(run.remote).toEqual([]);
  });
});

describe('CliMainTest: deploy options', () => {
  it('deploy with skipped hooks', async () => {
    const run = await kamal(['deploy', '--skip_hooks'], { hooks: ALL_HOOKS });
    ok(run);
    expect(hooksRan(run)).toEqual([]);
    expect(run.said.some((m) => /Running the .* hook/.test(m))).toBe(false);
    expectDeploySequence(run);
  });

  it('deploy with missing secrets', async () => {
    // Kamal loads the config without the secret and looks PASSWORD up only when the env file is written;
    // we check every secret a deploy needs before running anything (src/engine/preflight.ts), with Kamal's message
    const details = await kamal(['details'], { config: WITH_SECRETS });
    ok(details);
    const run = await kamal(['deploy'], { config: WITH_SECRETS });
    expect(run.exitCode).toBe(1);
    expect((run.error as Error).message).toMatch(/^Secret 'PASSWORD' not found/);
    expect(run.all).toEqual([]);
  });

  it('redeploy', async () => {
    const run = await kamal(['redeploy', '--verbose'], { hooks: ALL_HOOKS });
    ok(run);
    saidInOrder(run, ['Build and push app image...', 'Acquiring the deploy lock...', 'Detect stale containers...', 'Releasing the deploy lock...']);
    expect(hooksRan(run)).toEqual(['pre-connect', 'pre-build', 'pre-deploy', 'pre-app-boot', 'post-app-boot', 'post-deploy']);
    expect(run.all.at(-1)).toEqual({ host: 'local', command: hook('post-deploy') });
    // no proxy boot and no prune
    expect(run.said).not.toContain('Ensure kamal-proxy is running...');
    expect(run.remote.some((c) => PROXY_START.test(c.command) || c.command === PRUNE_DANGLING)).toBe(false);
    expectDeploySequence(run, { proxy: false, prune: false });
  });

  it('redeploy with skip_push', async () => {
    const run = await kamal(['redeploy', '--skip_push']);
    ok(run);
    saidInOrder(run, ['Pull app image...', 'Detect stale containers...']);
    expect(run.local).toEqual([]);
    expectDeploySequence(run, { proxy: false, prune: false });
  });

  it('redeploy with no_cache', async () => {
    const run = await kamal(['redeploy', '--no-cache']);
    ok(run);
    saidInOrder(run, ['Build and push app image...']);
    expect(run.local.filter((c) => c.startsWith('docker buildx build'))).toEqual([expect.stringMatching(BUILD_NO_CACHE)]);
    expectDeploySequence(run, { proxy: false, prune: false });
  });
});

/**
 * Kamal's rollback stubs: the version's container exists when rollback looks for it, is not found again by
 * the boot's "already exists?" check (raise_on_non_zero_exit: false), and has an id once started;
 * `running` is what current_running_version answers.
 */
function rollbackHosts(version: string, running: string): Responder {
  const lookups = new Map<string, number>();
  return (host, command) => {
    const ls = new RegExp(`^docker container ls --all --filter 'name=\\^app-(\\w+)-${version}\\$' --quiet`).exec(command);
    if (ls && command.includes('xargs docker inspect')) return { stdout: 'running\n' };
    if (ls && command === containerIdForVersion(ls[1]!, version)) {
      const key = `${host} ${ls[1]}`;
      const n = (lookups.get(key) ?? 0) + 1;
      lookups.set(key, n);
      return { stdout: n === 2 ? '' : 'version-to-rollback\n' };
    }
    const current = /--filter label=role=(\w+) --filter status=running .* while read line/.exec(command);
    if (current) return { stdout: running ? `${running}\n` : '' };
    return undefined;
  };
}

describe('CliMainTest: rollback', () => {
  it('rollback bad version', async () => {
    const details = await kamal(['details']);
    ok(details);
    const run = await kamal(['rollback', 'nonsense'], { hooks: ALL_HOOKS });
    for (const host of ['1.1.1.1', '1.1.1.2']) expect(on(run, host)).toContain(containerIdForVersion('web', 'nonsense'));
    expect((run.error as Error).message).toMatch(/^The app version 'nonsense' is not available as a container/);
    // nothing booted, the lock released, no deploy hooks
    expect(run.remote.some((c) => /^docker run /.test(c.command))).toBe(false);
    expect(run.remote.at(-1)).toEqual({ host: '1.1.1.1', command: LOCK_RELEASE });
    expect(hooksRan(run)).toEqual(['pre-connect']);
  });

  it('rollback good version', async () => {
    const run = await kamal(['rollback', '--verbose', '123'], {
      config: WITH_ACCESSORIES,
      files: { 'config/files/my.cnf': '[mysqld]\n' },
      hooks: ALL_HOOKS,
      respond: rollbackHosts('123', 'version-to-rollback'),
    });
    ok(run);
    expect(hooksRan(run)).toEqual(['pre-connect', 'pre-deploy', 'pre-app-boot', 'post-app-boot', 'post-deploy']);
    for (const [host, role] of [
      ['1.1.1.1', 'web'],
      ['1.1.1.2', 'web'],
      ['1.1.1.3', 'workers'],
      ['1.1.1.4', 'workers'],
    ] as const) {
      const cmds = on(run, host);
      const run123 = cmds.findIndex((c) => c.startsWith(`docker run --detach --restart unless-stopped --name app-${role}-123 `));
      expect(run123, host).toBeGreaterThan(cmds.indexOf(containerIdForVersion(role, '123')));
      expect(cmds.indexOf(currentRunningVersion(role)), host).toBeLessThan(run123);
      expect(cmds.indexOf(currentRunningVersion(role)), host).toBeGreaterThan(-1);
      // the container that was running is stopped once the new one is up
      // (roles without the proxy wait drain_timeout for the old container to stop, Kamal's Role#stop_args)
      const stop = `docker container ls --all --filter 'name=^app-${role}-version-to-rollback$' --quiet | xargs docker stop${role === 'web' ? '' : ' -t 30'}`;
      expect(cmds.indexOf(stop), host).toBeGreaterThan(run123);
      expect(cmds.filter((c) => c !== LOCK_RELEASE).at(-1), host).toBe('docker tag dhh/app:123 dhh/app:latest');
    }
    // no build, no proxy boot, no prune
    expect(run.local.filter((c) => !c.startsWith('<app>/'))).toEqual([]);
    expect(run.remote.some((c) => PROXY_START.test(c.command) || c.command.startsWith('docker image prune'))).toBe(false);
    expect(at(run, 'local', hook('pre-deploy'))).toBeGreaterThan(at(run, '1.1.1.4', containerIdForVersion('workers', '123')));
    expect(run.all.at(-1)).toEqual({ host: 'local', command: hook('post-deploy') });
  });

  it('rollback without old version', async () => {
    const run = await kamal(['rollback', '123'], { respond: rollbackHosts('123', '') });
    ok(run);
    for (const host of ['1.1.1.1', '1.1.1.2']) {
      expect(on(run, host).some((c) => c.startsWith('docker run --detach --restart unless-stopped --name app-web-123 '))).toBe(true);
    }
    expect(run.remote.some((c) => c.command.includes('docker stop'))).toBe(false);
  });
});

describe('CliMainTest: remove, details, audit', () => {
  it('remove', async () => {
    const run = await kamal(['remove', '-y']);
    ok(run);
    // under one lock: app:remove, proxy:remove, accessory:remove all (none here), registry:remove --skip-local
    for (const host of ['1.1.1.1', '1.1.1.2']) {
      const cmds = on(run, host);
      const order = [
        'docker image prune --all --force --filter label=service=app',
        'rm -r .kamal/apps/app',
        'docker container stop kamal-proxy',
        'docker image prune --all --force --filter label=org.opencontainers.image.title=kamal-proxy',
        'rm -r .kamal/proxy',
        'docker logout',
      ].map((c) => cmds.indexOf(c));
      expect(order, host).toEqual([...order].sort((a, b) => a - b));
      expect(order[0], host).toBeGreaterThan(0);
      expect(
        cmds.filter((c) => c === 'docker logout'),
        host,
      ).toHaveLength(1);
    }
    expect(run.local).toEqual([]);
    expect(run.remote.filter((c) => LOCK_ACQUIRE.test(c.command))).toHaveLength(1);
    expect(run.remote.at(-1)).toEqual({ host: '1.1.1.1', command: LOCK_RELEASE });
  });

  it('details', async () => {
    const run = await kamal(['details']);
    ok(run);
    expect(run.all).toEqual([
      { host: '1.1.1.1', command: "docker ps --filter 'name=^kamal-proxy$'" },
      { host: '1.1.1.2', command: "docker ps --filter 'name=^kamal-proxy$'" },
      { host: '1.1.1.1', command: 'docker ps --filter label=service=app --filter label=destination= --filter label=role=web' },
      { host: '1.1.1.2', command: 'docker ps --filter label=service=app --filter label=destination= --filter label=role=web' },
    ]);
  });

  it('audit', async () => {
    const run = await kamal(['audit'], {
      respond: (host, c) => (c === 'tail -n 50 .kamal/app-audit.log' ? { stdout: `[${host}] Booted app version 999\n` } : undefined),
    });
    ok(run);
    expect(run.all).toEqual([
      { host: '1.1.1.1', command: 'tail -n 50 .kamal/app-audit.log' },
      { host: '1.1.1.2', command: 'tail -n 50 .kamal/app-audit.log' },
    ]);
    expect(run.reporter.outputs).toEqual([
      { host: '1.1.1.1', output: '[1.1.1.1] Booted app version 999', type: 'App' },
      { host: '1.1.1.2', output: '[1.1.1.2] Booted app version 999', type: 'App' },
    ]);
  });

  it('remove with confirmation', async () => {
    const run = await kamal(['remove', '-y'], { config: WITH_ACCESSORIES, files: { 'config/files/my.cnf': '[mysqld]\n' } });
    ok(run);
    const everywhere = (c: string, hosts: string[]) => {
      for (const host of ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4']) expect(on(run, host).includes(c), `${c} on ${host}`).toBe(hosts.includes(host));
    };
    const web = ['1.1.1.1', '1.1.1.2'];
    const all = ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'];
    // kamal-proxy, on the proxy hosts (the web role)
    everywhere('docker container stop kamal-proxy', web);
    everywhere('docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy', web);
    everywhere('docker image prune --all --force --filter label=org.opencontainers.image.title=kamal-proxy', web);
    // the app
    const stop = (role: string, timeout: string) =>
      `sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=${role} --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=${role} --filter status=running --filter status=restarting' | head -1 | xargs docker stop${timeout}`;
    everywhere(stop('web', ''), web);
    everywhere(stop('workers', ' -t 30'), ['1.1.1.3', '1.1.1.4']);
    everywhere('docker container prune --force --filter label=service=app --filter label=destination= --filter label=role=web', web);
    everywhere('docker image prune --all --force --filter label=service=app', all);
    everywhere('rm -r .kamal/apps/app', all);
    // the accessories
    everywhere('docker container stop app-mysql', ['1.1.1.3']);
    everywhere('docker container prune --force --filter label=service=app-mysql', ['1.1.1.3']);
    everywhere('docker image rm --force mysql:5.7', ['1.1.1.3']);
    everywhere('rm -rf app-mysql', ['1.1.1.3']);
    everywhere('docker container stop app-redis', web);
    everywhere('docker container prune --force --filter label=service=app-redis', web);
    everywhere('docker image rm --force redis:latest', web);
    everywhere('rm -rf app-redis', web);
    // the registry session, on the hosts only
    everywhere('docker logout', all);
    expect(run.local).toEqual([]);
    // app, then proxy, then accessories, then registry
    const first = (c: string) => run.remote.findIndex((x) => x.command === c);
    const last = (c: string) => run.remote.findLastIndex((x) => x.command === c);
    expect(last('rm -r .kamal/apps/app')).toBeLessThan(first('docker container stop kamal-proxy'));
    expect(last('rm -r .kamal/proxy')).toBeLessThan(first('docker container stop app-mysql'));
    expect(last('rm -rf app-redis')).toBeLessThan(first('docker logout'));
  });
});

/** The YAML `config` printed, read as Kamal's test reads it (`YAML.load(output)[:roles]`): Ruby symbol keys (`:roles:`) and values (`:fatal`) become plain strings. */
const unsymbolize = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(unsymbolize)
    : v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/^:/, ''), unsymbolize(x)]))
      : typeof v === 'string'
        ? v.replace(/^:(?=\w)/, '')
        : v;
const printed = (run: Run) => unsymbolize(parseYaml(run.reporter.text)) as Record<string, unknown>;

describe('CliMainTest: config', () => {
  it('config', async () => {
    const run = await kamal(['config']);
    ok(run);
    expect(printed(run)).toMatchObject({
      roles: ['web'],
      hosts: ['1.1.1.1', '1.1.1.2'],
      version: '999',
      repository: 'dhh/app',
      absolute_image: 'dhh/app:999',
      service_with_version: 'app-999',
    });
    expect(run.all).toEqual([]);
  });

  it('config with roles', async () => {
    const run = await kamal(['config'], { config: ROLES });
    ok(run);
    expect(printed(run)).toMatchObject({
      roles: ['web', 'workers'],
      hosts: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'],
      version: '999',
      repository: 'registry.digitalocean.com/dhh/app',
      absolute_image: 'registry.digitalocean.com/dhh/app:999',
      service_with_version: 'app-999',
    });
  });

  it('config with primary web role override', async () => {
    const run = await kamal(['config'], { config: PRIMARY_WEB_ROLE_OVERRIDE });
    ok(run);
    expect(printed(run)).toMatchObject({
      roles: ['web_chicago', 'web_tokyo'],
      hosts: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'],
      primary_host: '1.1.1.3',
    });
  });

  it('config with destination', async () => {
    const run = await kamal(['config', '-d', 'world'], { config: FOR_DEST, files: { 'config/deploy.world.yml': WORLD } });
    ok(run);
    expect(printed(run)).toMatchObject({
      roles: ['web'],
      hosts: ['1.1.1.1', '1.1.1.2'],
      version: '999',
      repository: 'registry.digitalocean.com/dhh/app',
      absolute_image: 'registry.digitalocean.com/dhh/app:999',
      service_with_version: 'app-999',
    });
  });

  it('config with blank line trimming', async () => {
    // Kamal's template wraps the second host in `<% if true -%>` / `<% end -%>`; we render no Ruby code
    // (src/config/erb.ts), so the same trim-mode lines are a comment tag and an empty code tag
    const template =
      'service: app\nimage: dhh/app\nservers:\n  - "1.1.1.1"\n<%# if true -%>\n  - "1.1.1.2"\n<% -%>\nregistry:\n  username: user\n  password: pw\nbuilder:\n  arch: amd64\n';
    // what Kamal hands YAML.load: ERB with trim_mode "-", the tag lines gone
    expect(renderErb(template, {})).toBe(
      'service: app\nimage: dhh/app\nservers:\n  - "1.1.1.1"\n  - "1.1.1.2"\nregistry:\n  username: user\n  password: pw\nbuilder:\n  arch: amd64\n',
    );
    const run = await kamal(['config'], { config: template });
    ok(run);
    expect(printed(run)).toMatchObject({ hosts: ['1.1.1.1', '1.1.1.2'] });
  });

  it('config with destination blank line trimming', async () => {
    const base = 'service: app\nimage: dhh/app\nservers:\n  - "1.1.1.1"\nregistry:\n  username: user\n  password: pw\nbuilder:\n  arch: amd64\n';
    const destination = 'servers:\n  - "2.2.2.2"\n<%# if true -%>\n  - "2.2.2.3"\n<% -%>\n';
    expect(renderErb(base, {})).toBe(base);
    expect(renderErb(destination, {}, 'config/deploy.world.yml')).toBe('servers:\n  - "2.2.2.2"\n  - "2.2.2.3"\n');
    const run = await kamal(['config', '-d', 'world'], { config: base, files: { 'config/deploy.world.yml': destination } });
    ok(run);
    expect(printed(run)).toMatchObject({ hosts: ['2.2.2.2', '2.2.2.3'] });
  });
});

describe('CliMainTest: init and version', () => {
  const emptyDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kamal-init-'));
    dirs.push(dir);
    return dir;
  };

  it('init', async () => {
    const dir = emptyDir();
    const run = await kamal(['init'], { dir });
    ok(run);
    expect(run.out).toContain('Created configuration file in config/deploy.yml');
    expect(run.out).toContain('Created .kamal/secrets file');
    expect(readFileSync(join(dir, 'config/deploy.yml'), 'utf8')).toContain('service: my-app');
    expect(readFileSync(join(dir, '.kamal/secrets'), 'utf8')).toContain('KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD');
    expect(run.all).toEqual([]);
  });

  it('init with existing config', async () => {
    const dir = emptyDir();
    ok(await kamal(['init'], { dir }));
    const run = await kamal(['init'], { dir });
    ok(run);
    expect(run.out).toMatch(/Config file already exists in config\/deploy.yml \(remove first to create a new one\)/);
    expect(run.out).not.toMatch(/Added .kamal\/secrets/);
    expect(run.out).not.toMatch(/Created .kamal\/secrets/);
    expect(existsSync(join(dir, '.kamal/secrets'))).toBe(true);
  });

  it('version', async () => {
    const run = await kamal(['version']);
    ok(run);
    // Kamal prints Kamal::VERSION; we print ours and the Kamal version we follow
    expect(run.out).toBe(`${KAMAL_ACTION_VERSION} (compatible with Kamal ${KAMAL_COMPAT_VERSION})\n`);
    expect(KAMAL_COMPAT_VERSION).toBe('2.12.0');
  });
});

describe('CliMainTest: aliases', () => {
  const consoleRunning = (c: string) => /--filter label=role=console --filter status=running/.test(c) && c.includes('while read line');

  it('run an alias for details', async () => {
    const run = await kamal(['info'], { config: WITH_ALIASES });
    ok(run);
    const details = await kamal(['details'], { config: WITH_ALIASES });
    expect(run.all).toEqual(details.all);
    expect(run.all.filter((c) => c.command === "docker ps --filter 'name=^kamal-proxy$'").map((c) => c.host)).toEqual(['1.1.1.1', '1.1.1.2']);
    for (const [host, role] of [
      ['1.1.1.1', 'web'],
      ['1.1.1.2', 'web'],
      ['1.1.1.3', 'workers'],
      ['1.1.1.4', 'workers'],
      ['1.1.1.5', 'console'],
    ]) {
      expect(on(run, host)).toContain(`docker ps --filter label=service=app --filter label=destination= --filter label=role=${role}`);
    }
  });

  it('run an alias for a console', async () => {
    const run = await kamal(['console'], { config: WITH_ALIASES });
    ok(run);
    // --reuse: the running version is asked for (none answered, so the configured 999 is used)
    expect(consoleRunning(on(run, '1.1.1.5')[0]!)).toBe(true);
    expect(on(run, '1.1.1.5').at(-1)).toBe('docker exec app-console-999 bin/console');
    expect(run.remote.every((c) => c.host === '1.1.1.5')).toBe(true);
    expect(run.reporter.outputs.map((o) => o.host)).toEqual(['1.1.1.5']);
  });

  it('run an alias for a console overriding role', async () => {
    const run = await kamal(['console', '-r', 'workers'], { config: WITH_ALIASES });
    ok(run);
    expect(on(run, '1.1.1.3').at(-1)).toBe('docker exec app-workers-999 bin/console');
    expect(run.remote.every((c) => c.host === '1.1.1.3')).toBe(true);
    expect(run.reporter.outputs.map((o) => o.host)).toEqual(['1.1.1.3']);
  });

  it('run an alias for a console passing command', async () => {
    const run = await kamal(['exec', 'bin/job'], { config: WITH_ALIASES });
    ok(run);
    expect(on(run, '1.1.1.5').at(-1)).toBe('docker exec app-console-999 bin/job');
    expect(run.reporter.outputs.map((o) => o.host)).toEqual(['1.1.1.5']);
  });

  it('append to command with an alias', async () => {
    const run = await kamal(['rails', 'db:migrate:status'], { config: WITH_ALIASES });
    ok(run);
    expect(on(run, '1.1.1.5').at(-1)).toBe('docker exec app-console-999 rails db:migrate:status');
    expect(run.reporter.outputs.map((o) => o.host)).toEqual(['1.1.1.5']);
  });

  it('switch config file with an alias', async () => {
    const files = { 'config/deploy2.yml': ALIASED_DEPLOY2, 'config/deploy.elsewhere.yml': ALIASED_ELSEWHERE };
    const run = await kamal(['other_config'], { config: ALIASED_DEPLOY, files });
    ok(run);
    expect(printed(run)).toMatchObject({ service_with_version: 'app2-999' });
  });

  it('switch destination with an alias', async () => {
    const files = { 'config/deploy2.yml': ALIASED_DEPLOY2, 'config/deploy.elsewhere.yml': ALIASED_ELSEWHERE };
    const run = await kamal(['other_destination_config'], { config: ALIASED_DEPLOY, files });
    ok(run);
    expect(printed(run)).toMatchObject({ service_with_version: 'app3-999', hosts: ['1.1.1.3', '1.1.1.4'] });
  });

  it('run an alias with require_destination', async () => {
    const run = await kamal(['world_deploy', '-c', 'config/deploy_for_required_dest.yml'], {
      files: { 'config/deploy_for_required_dest.yml': FOR_REQUIRED_DEST, 'config/deploy_for_required_dest.world.yml': WORLD },
    });
    ok(run);
    expect(run.result.kamal!.config.destination).toBe('world');
    saidInOrder(run, [
      'Build and push app image...',
      'Acquiring the deploy lock...',
      'Ensure kamal-proxy is running...',
      'Detect stale containers...',
      'Prune old containers and images...',
      'Releasing the deploy lock...',
    ]);
    expect(at(run, 'local', /^docker buildx build .* -t registry\.digitalocean\.com\/dhh\/app:999 /)).toBeGreaterThan(-1);
    expect(at(run, '1.1.1.1', /^mkdir \.kamal\/lock-app-world && /)).toBeGreaterThan(at(run, '1.1.1.2', 'docker pull registry.digitalocean.com/dhh/app:999'));
    for (const host of ['1.1.1.1', '1.1.1.2']) {
      expect(has(run, host, /^docker run --detach --restart unless-stopped --name app-web-world-999 /)).toBe(true);
    }
    expect(run.remote.at(-1)).toEqual({ host: '1.1.1.1', command: 'rm .kamal/lock-app-world/details && rm -r .kamal/lock-app-world' });
  });

  it('run on primary via alias', async () => {
    const run = await kamal(['primary_details'], { config: WITH_ALIASES });
    ok(run);
    expect(run.all).toEqual([
      { host: '1.1.1.1', command: "docker ps --filter 'name=^kamal-proxy$'" },
      { host: '1.1.1.1', command: 'docker ps --filter label=service=app --filter label=destination= --filter label=role=web' },
    ]);
    expect(run.reporter.outputs.map((o) => o.host)).toEqual(['1.1.1.1', '1.1.1.1']);
  });
});

describe('CliMainTest: upgrade', () => {
  const TRAEFIK =
    'docker container stop traefik ; docker container prune --force --filter label=org.opencontainers.image.title=Traefik && docker image prune --all --force --filter label=org.opencontainers.image.title=Traefik';
  const files = { 'config/files/my.cnf': '[mysqld]\n', '.kamal/secrets': 'MYSQL_ROOT_PASSWORD=secret123\n' };
  const HOSTS = ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'];

  it('upgrade', async () => {
    const run = await kamal(['upgrade', '-y'], { config: WITH_ACCESSORIES, files });
    ok(run);
    saidInOrder(run, [
      'Acquiring the deploy lock...',
      'Upgrading all hosts...',
      'Upgrading proxy on 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4...',
      /^Upgrading all accessories on /,
      'Upgraded all hosts',
      'Releasing the deploy lock...',
    ]);
    // proxy:upgrade once over every host, then accessory:upgrade all once
    for (const host of HOSTS)
      expect(
        on(run, host).filter((c) => c === TRAEFIK),
        host,
      ).toHaveLength(1);
    const lastTraefik = run.all.findLastIndex((c) => c.command === TRAEFIK);
    expect(run.all.findIndex((c) => c.command === TRAEFIK)).toBeGreaterThan(at(run, '1.1.1.1', LOCK_ACQUIRE));
    for (const [name, hosts] of [
      ['mysql', ['1.1.1.3']],
      ['redis', ['1.1.1.1', '1.1.1.2']],
    ] as const) {
      const stops = run.remote.filter((c) => c.command === `docker container stop app-${name}`);
      expect(stops.map((c) => c.host).sort()).toEqual([...hosts]);
      expect(at(run, hosts[0], `docker container stop app-${name}`)).toBeGreaterThan(lastTraefik);
    }
    expect(run.remote.filter((c) => LOCK_ACQUIRE.test(c.command))).toHaveLength(1);
    expect(run.remote.at(-1)).toEqual({ host: '1.1.1.1', command: LOCK_RELEASE });
  });

  it('upgrade rolling', async () => {
    const run = await kamal(['upgrade', '--rolling', '-y'], { config: WITH_ACCESSORIES, files });
    ok(run);
    saidInOrder(
      run,
      HOSTS.flatMap((h) => [`Upgrading ${h}...`, `Upgraded ${h}`]),
    );
    // one host at a time: proxy:upgrade on each (all are app hosts), accessory:upgrade all on the accessory hosts
    const traefik = run.remote.filter((c) => c.command === TRAEFIK).map((c) => c.host);
    expect(traefik).toEqual(HOSTS);
    const accessoryUpgrades = run.said.filter((m) => /^Upgrading all accessories on /.test(m));
    expect(accessoryUpgrades).toEqual([
      'Upgrading all accessories on 1.1.1.1...',
      'Upgrading all accessories on 1.1.1.2...',
      'Upgrading all accessories on 1.1.1.3...',
    ]);
    // each host is done before the next one starts
    for (let i = 0; i + 1 < HOSTS.length; i++) {
      const lastOnHost = run.all.findLastIndex((c) => c.host === HOSTS[i] && c.command !== LOCK_RELEASE);
      expect(lastOnHost, HOSTS[i]).toBeLessThan(at(run, HOSTS[i + 1]!, TRAEFIK));
    }
    expect(at(run, '1.1.1.3', 'docker container stop app-mysql')).toBeGreaterThan(at(run, '1.1.1.3', TRAEFIK));
    expect(run.remote.filter((c) => LOCK_ACQUIRE.test(c.command))).toHaveLength(1);
  });
});
