/**
 * Kamal 2.12's test/cli/app_test.rb (CliAppTest) ported to our CLI: the same
 * `kamal app ...` command line on an equivalent config runs the same commands
 * on the same hosts in the same order. Each `it` names the Kamal test it ports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli, type CliResult } from '../../../../src/cli/run.js';
import { MemoryReporter } from '../../../../src/engine/reporter.js';
import { RecordingRunner, type RecordedCommand, type Responder } from '../../../../test/support/recording.js';
import { normalize, words } from '../helpers.js';
import { WITH_ACCESSORIES, WITH_PROXY, WITH_ROLES, writeApp } from './fixtures.js';

// Kamal's tests stub `sleep` (Object.any_instance.stubs(:sleep)); the waits are recorded and cut short here.
const sleeps = vi.hoisted(() => [] as number[]);
vi.mock('../../../../src/engine/parallel.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../../src/engine/parallel.js')>();
  return {
    ...original,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      await new Promise((r) => setTimeout(r, 1));
    },
  };
});

beforeEach(() => {
  sleeps.length = 0;
});

// ---- configs equivalent to Kamal's test/fixtures ----

/** deploy_with_proxy_roles.yml */
const WITH_PROXY_ROLES = `service: app
image: dhh/app
servers:
  web:
    hosts:
      - "1.1.1.1"
      - "1.1.1.2"
  web2:
    hosts:
      - "1.1.1.3"
      - "1.1.1.4"
    proxy:
      response_timeout: 15
registry:
  username: user
  password: pw
builder:
  arch: amd64
proxy:
  response_timeout: 10
accessories:
  mysql:
    image: mysql:5.7
    host: 1.1.1.3
    port: 3306
    env:
      clear:
        MYSQL_ROOT_HOST: '%'
      secret:
        - MYSQL_ROOT_PASSWORD
    files:
      - config/my.cnf:/etc/mysql/my.cnf
    directories:
      - data:/var/lib/mysql
  redis:
    image: redis:latest
    roles:
      - web
    port: 6379
    directories:
      - data:/data
readiness_delay: 0
deploy_timeout: 6
`;

/** deploy_with_boot_strategy.yml */
const WITH_BOOT_STRATEGY = `service: app
image: dhh/app
servers:
  web:
    - "1.1.1.1"
    - "1.1.1.2"
  workers:
    - "1.1.1.3"
    - "1.1.1.4"
builder:
  arch: amd64
registry:
  username: user
  password: pw
boot:
  limit: 3
  wait: 2
`;

/** deploy_without_parallel_roles.yml */
const WITHOUT_PARALLEL_ROLES = `service: app
image: dhh/app
servers:
  web:
    - "1.1.1.1"
    - "1.1.1.2"
  workers:
    - "1.1.1.1"
    - "1.1.1.3"
builder:
  arch: amd64
registry:
  username: user
  password: pw
`;

/** deploy_with_parallel_roles.yml */
const WITH_PARALLEL_ROLES = `${WITHOUT_PARALLEL_ROLES}boot:
  parallel_roles: true
`;

/** deploy_with_assets.yml */
const WITH_ASSETS = `service: app
image: dhh/app
servers:
  - "1.1.1.1"
  - "1.1.1.2"
registry:
  username: user
  password: pw
builder:
  arch: amd64
asset_path: /public/assets
`;

/** deploy_with_env_tags.yml */
const WITH_ENV_TAGS = `service: app
image: dhh/app
servers:
  web:
    - 1.1.1.1: site1
    - 1.1.1.2: [ site1 experimental ]
    - 1.2.1.1: site2
    - 1.2.1.2: site2
  workers:
    - 1.1.1.3: site1
    - 1.1.1.4: site1
    - 1.2.1.3: site2
    - 1.2.1.4: [ site2 experimental ]
builder:
  arch: amd64
env:
  clear:
    TEST: "root"
    EXPERIMENT: "disabled"
  tags:
    site1:
      SITE: site1
    site2:
      SITE: site2
    experimental:
      EXPERIMENT: "enabled"
registry:
  username: user
  password: pw
`;

/** deploy_with_only_workers.yml */
const WITH_ONLY_WORKERS = `service: app
image: dhh/app
servers:
  workers:
    proxy: false
    hosts:
      - 1.1.1.1
      - 1.1.1.2
primary_role: workers
registry:
  username: user
  password: pw
builder:
  arch: amd64
`;

/** deploy_with_error_pages.yml */
const WITH_ERROR_PAGES = `service: app
image: dhh/app
servers:
  - "1.1.1.1"
  - "1.1.1.2"
registry:
  username: user
  password: pw
builder:
  arch: amd64
error_pages_path: public
`;

/** deploy_with_two_roles_one_host.yml */
const WITH_TWO_ROLES_ONE_HOST = `service: app
image: dhh/app
servers:
  workers:
    hosts:
      - 1.1.1.1
  web:
    hosts:
      - 1.1.1.1
env:
  REDIS_URL: redis://x/y
registry:
  server: registry.digitalocean.com
  username: user
  password: pw
builder:
  arch: amd64
`;

/** deploy_with_uncommon_hostnames.yml */
const WITH_UNCOMMON_HOSTNAMES = `service: app
image: dhh/app
servers:
  - "this-hostname-with-random-part-is-too-long.example.com"
  - "this-hostname-is-really-unacceptably-long-to-be-honest.example.com"
registry:
  username: user
  password: pw
builder:
  arch: amd64
`;

// ---- running `kamal app ...` ----

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Options {
  config?: string;
  /** Kamal's run_command adds `--hosts 1.1.1.1` unless host: nil. */
  host?: string | null;
  files?: Record<string, string>;
  hooks?: string[];
  respond?: Responder;
  /** Set on the context before the run (e.g. a terminal on stdin). */
  context?: (k: NonNullable<CliResult['kamal']>) => void;
}

interface Run {
  exitCode: number;
  error: unknown;
  err: string;
  said: string[];
  outputs: { host: string; output: string }[];
  remote: RecordedCommand[];
  local: RecordedCommand[];
  /** Uploaded contents, keyed by `host:path`. */
  files: Map<string, { content: Buffer; mode?: string }>;
  /** Remote and local (`local`) commands in call order, normalized, with the time each was sent. */
  all: { host: string; command: string; at: number }[];
}

function appDir(o: Options): string {
  const dir = mkdtempSync(join(tmpdir(), 'kamal-app-'));
  dirs.push(dir);
  const files: Record<string, string> = {
    Dockerfile: 'FROM scratch\n',
    'config/deploy.yml': o.config ?? WITH_ACCESSORIES,
    'config/my.cnf': '[mysqld]\n',
    '.kamal/secrets': 'MYSQL_ROOT_PASSWORD=secret123\nRAILS_MASTER_KEY=123\n',
    ...o.files,
  };
  writeApp(dir, files, o.hooks);
  return dir;
}

/** `kamal app <argv> [--hosts 1.1.1.1]` with VERSION=999, as Kamal's CliTestCase and run_command. */
async function app(argv: string[], o: Options = {}): Promise<Run> {
  return kamal(['app', ...argv, ...(o.host === null ? [] : ['--hosts', o.host ?? '1.1.1.1'])], o);
}

async function kamal(argv: string[], o: Options = {}): Promise<Run> {
  const dir = appDir(o);
  const clean = (c: string) => normalize(c.split(dir).join('<app>'));
  const all: Run['all'] = [];
  const runner: RecordingRunner = new RecordingRunner({
    respond: (host, command) => {
      all.push({ host, command: clean(runner.transcript.at(-1)!.command), at: Date.now() });
      return o.respond?.(host, command);
    },
  });
  const local: RecordingRunner = new RecordingRunner({
    respond: () => {
      all.push({ host: 'local', command: clean(local.transcript.at(-1)!.command), at: Date.now() });
      return undefined;
    },
  });
  const reporter = new MemoryReporter();
  let err = '';
  const result = await runCli(argv, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, VERSION: '999' },
    runner,
    local,
    reporter,
    out: () => undefined,
    err: (s) => (err += s),
    onContext: o.context,
  });
  return {
    exitCode: result.exitCode,
    error: result.error,
    err,
    said: reporter.messages.map((m) => (m.level === 'error' ? `ERROR ${m.message}` : m.message)),
    outputs: reporter.outputs,
    remote: runner.transcript.map((t) => ({ ...t, command: clean(t.command) })),
    local: local.transcript.map((t) => ({ ...t, command: clean(t.command) })),
    files: runner.files,
    all,
  };
}

/**
 * Kamal's stub_running: every capture answers "123" (the old version). Kamal's stub also answers
 * the health check of roles without a proxy; here it reports "running" so those boots complete.
 */
const running: Responder = (_host, command) => ({ stdout: command.includes('xargs docker inspect') ? 'running\n' : '123\n' });

const ok = (run: Run) => expect(run.exitCode, `${run.err}\n${run.said.join('\n')}`).toBe(0);
const on = (run: Run, host: string) => run.remote.filter((c) => c.host === host).map((c) => c.command);
const everywhere = (run: Run) => run.remote.map((c) => c.command);
const hooksRan = (run: Run) => run.local.filter((c) => c.command.startsWith('<app>/.kamal/hooks/')).map((c) => c.command.slice('<app>/.kamal/hooks/'.length));

/** The commands on `host` include these, in this order (strings exact, regexps matched). */
function inOrder(commands: string[], expected: (string | RegExp)[]): void {
  let from = 0;
  for (const e of expected) {
    const i = commands.findIndex((c, j) => j >= from && (typeof e === 'string' ? c === e : e.test(c)));
    expect(i, `${String(e)} after command ${from} in:\n${commands.join('\n')}`).toBeGreaterThanOrEqual(0);
    from = i + 1;
  }
}

function index(run: Run, host: string, match: string | RegExp, from = 0): number {
  const i = run.all.findIndex((c, j) => j >= from && c.host === host && (typeof match === 'string' ? c.command === match : match.test(c.command)));
  if (i < 0) throw new Error(`no ${String(match)} on ${host} in:\n${run.all.map((c) => `${c.host}: ${c.command}`).join('\n')}`);
  return i;
}

// ---- Kamal's commands for service app, image dhh/app ----

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function runningContainer(role: string, format: string): string {
  const ps = `docker ps --latest ${format} --filter label=service=app --filter label=destination= --filter label=role=${role} --filter status=running --filter status=restarting`;
  return `sh -c '${ps} --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; ${ps}' | head -1`;
}
const currentRunningVersion = (role = 'web') =>
  `${runningContainer(role, "--format '\\''{{.Names}}'\\''")} | while read line; do echo \${line#app-${role}-}; done`;
const currentRunningContainerId = (role = 'web') => runningContainer(role, '--quiet');
const containerIdForVersion = (version: string, role = 'web') => `docker container ls --all --filter 'name=^app-${role}-${version}$' --quiet`;
/** Roles without a proxy stop with `-t <drain_timeout>` (Kamal's Role#stop_args). */
const stopVersion = (version: string, role = 'web', args = '') => `${containerIdForVersion(version, role)} | xargs docker stop${args}`;
const status = (version: string, role = 'workers') =>
  `${containerIdForVersion(version, role)} | xargs docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}'`;
const listVersions = (role = 'web') =>
  `docker ps --filter label=service=app --filter label=destination= --filter label=role=${role} --format "{{.Names}}" | while read line; do echo \${line#app-${role}-}; done`;
const TAG_LATEST = 'docker tag dhh/app:latest dhh/app:latest';
const RUN_LATEST = (host: string, role = 'web') =>
  new RegExp(`^docker run --detach --restart unless-stopped --name app-${role}-latest --network kamal --hostname ${esc(host)}-<hex> `);
const LOCK_RELEASE = 'rm .kamal/lock-app/details && rm -r .kamal/lock-app';
const LOGS_TAIL = (tail: string) => `${currentRunningContainerId()} | xargs docker logs --timestamps ${tail}2>&1`;

/** Answers the stale containers / version lookups Kamal's tests stub. */
function answers(map: [string | RegExp, string][]): Responder {
  return (_host, command) => {
    for (const [match, stdout] of map) {
      if (typeof match === 'string' ? command === match : match.test(command)) return { stdout };
    }
    return undefined;
  };
}

// ---- the tests ----

describe('kamal app boot (CliAppTest)', () => {
  it('boot', async () => {
    const run = await app(['boot'], { respond: running });
    ok(run);
    inOrder(run.said, ['Get most recent version available as an image...', 'Start container with version latest (or reboot if already running)...']);
    inOrder(on(run, '1.1.1.1'), [RUN_LATEST('1.1.1.1'), stopVersion('123'), TAG_LATEST]);
    expect(run.remote.every((c) => c.host === '1.1.1.1')).toBe(true);
  });

  it('boot will rename if same version is already running', async () => {
    const run = await app(['boot'], {
      respond: answers([
        [containerIdForVersion('latest'), '12345678\n'],
        [currentRunningVersion(), '123\n'],
      ]),
    });
    ok(run);
    // messages are redacted by value: the secret RAILS_MASTER_KEY=123 may fall inside the random hex suffix
    expect(run.said).toContainEqual(
      expect.stringMatching(/^Renaming container latest to latest_replaced_(?:[0-9a-f]|\[REDACTED\])+ as already deployed on 1\.1\.1\.1$/),
    );
    inOrder(on(run, '1.1.1.1'), [
      containerIdForVersion('latest'),
      /^docker rename app-web-latest app-web-latest_replaced_[0-9a-f]{16}$/,
      currentRunningVersion(),
      RUN_LATEST('1.1.1.1'),
      containerIdForVersion('latest'),
      /^docker exec kamal-proxy kamal-proxy deploy app-web --target="12345678:80" /,
      stopVersion('123'),
      TAG_LATEST,
    ]);
  });

  it('boot uses group strategy when specified', async () => {
    const hooks = ['pre-connect', 'pre-app-boot', 'post-app-boot'];
    const run = await app(['boot'], { config: WITH_BOOT_STRATEGY, host: null, hooks, respond: running });
    ok(run);
    expect(hooksRan(run)).toEqual(['pre-connect', 'pre-app-boot', 'post-app-boot', 'pre-app-boot', 'post-app-boot']);
    const bootHooks = run.local.filter((c) => /app-boot$/.test(c.command)).map((c) => c.env?.KAMAL_HOSTS);
    expect(bootHooks).toEqual(['1.1.1.1,1.1.1.2,1.1.1.3', '1.1.1.1,1.1.1.2,1.1.1.3', '1.1.1.4', '1.1.1.4']);
    // the boot of 1.1.1.4 comes after the first group's post-app-boot hook and the 2s wait
    const firstPost = index(run, 'local', '<app>/.kamal/hooks/post-app-boot');
    const secondPre = index(run, 'local', '<app>/.kamal/hooks/pre-app-boot', firstPost);
    // before: only the run directory (Kamal's ensure_run_and_locks_directory on every host)
    expect(
      run.all
        .slice(0, firstPost)
        .filter((c) => c.host === '1.1.1.4')
        .map((c) => c.command),
    ).toEqual(['mkdir -p .kamal']);
    for (const host of ['1.1.1.1', '1.1.1.2', '1.1.1.3']) {
      expect(index(run, host, RUN_LATEST(host, host === '1.1.1.3' ? 'workers' : 'web'))).toBeLessThan(firstPost);
    }
    expect(index(run, '1.1.1.4', RUN_LATEST('1.1.1.4', 'workers'))).toBeGreaterThan(secondPre);
    expect(sleeps.filter((ms) => ms === 2000)).toHaveLength(2);
  });

  it('boot without parallel roles', async () => {
    const run = await app(['boot'], { config: WITHOUT_PARALLEL_ROLES, host: null, respond: running });
    ok(run);
    // roles in sequence on each host: every workers command on 1.1.1.1 after web's boot there
    const commands = on(run, '1.1.1.1');
    const webStop = commands.indexOf(stopVersion('123', 'web'));
    const firstWorkers = commands.findIndex((c) => c.includes('app-workers-') || c.includes('role=workers'));
    expect(webStop).toBeGreaterThanOrEqual(0);
    expect(firstWorkers).toBeGreaterThan(webStop);
    inOrder(commands, [RUN_LATEST('1.1.1.1', 'web'), RUN_LATEST('1.1.1.1', 'workers'), TAG_LATEST]);
    expect(on(run, '1.1.1.2').some((c) => RUN_LATEST('1.1.1.2', 'web').test(c))).toBe(true);
    expect(on(run, '1.1.1.3').some((c) => RUN_LATEST('1.1.1.3', 'workers').test(c))).toBe(true);
  });

  it('boot with parallel roles', async () => {
    const run = await app(['boot'], { config: WITH_PARALLEL_ROLES, host: null, respond: running });
    ok(run);
    // each role boots on its own: workers on 1.1.1.1 start looking before web's container runs there
    const commands = on(run, '1.1.1.1');
    const webRun = commands.findIndex((c) => RUN_LATEST('1.1.1.1', 'web').test(c));
    expect(commands.indexOf(containerIdForVersion('latest', 'workers'))).toBeGreaterThanOrEqual(0);
    expect(commands.indexOf(containerIdForVersion('latest', 'workers'))).toBeLessThan(webRun);
    inOrder(commands, [RUN_LATEST('1.1.1.1', 'web'), TAG_LATEST]);
    expect(commands.some((c) => RUN_LATEST('1.1.1.1', 'workers').test(c))).toBe(true);
  });

  it("boot errors don't leave lock in place", async () => {
    const run = await app(['boot'], {
      respond: (_host, command) => (command.startsWith('docker run ') ? { exitCode: 1, stderr: 'boom' } : undefined),
    });
    expect(run.exitCode).toBe(1);
    const commands = on(run, '1.1.1.1');
    expect(commands.at(-1)).toBe(LOCK_RELEASE);
    expect(commands.filter((c) => c === LOCK_RELEASE)).toHaveLength(1);
  });

  it('boot with assets', async () => {
    const run = await app(['boot'], {
      config: WITH_ASSETS,
      respond: answers([
        [containerIdForVersion('latest'), '12345678\n'],
        [currentRunningVersion(), '123\n'],
      ]),
    });
    ok(run);
    inOrder(on(run, '1.1.1.1'), [
      'mkdir -p .kamal/apps/app/assets/extracted/web-latest && docker container rm app-web-assets 2> /dev/null || true && docker container create --name app-web-assets dhh/app:latest && docker container cp -L app-web-assets:/public/assets/. .kamal/apps/app/assets/extracted/web-latest && docker container rm app-web-assets',
      currentRunningVersion(),
      'mkdir -p .kamal/apps/app/assets/volumes/web-latest ; cp -rnT .kamal/apps/app/assets/extracted/web-latest .kamal/apps/app/assets/volumes/web-latest ; cp -rnT .kamal/apps/app/assets/extracted/web-latest .kamal/apps/app/assets/volumes/web-123 || true ; cp -rnT .kamal/apps/app/assets/extracted/web-123 .kamal/apps/app/assets/volumes/web-latest || true',
      RUN_LATEST('1.1.1.1'),
      stopVersion('123'),
      `find .kamal/apps/app/assets/extracted -maxdepth 1 -name 'web-*' ! -name web-latest -exec rm -rf "{}" + ; find .kamal/apps/app/assets/volumes -maxdepth 1 -name 'web-*' ! -name web-latest -exec rm -rf "{}" +`,
      TAG_LATEST,
    ]);
  });

  it('boot with host tags', async () => {
    const run = await app(['boot'], {
      config: WITH_ENV_TAGS,
      respond: answers([
        [containerIdForVersion('latest'), '12345678\n'],
        [currentRunningVersion(), '123\n'],
      ]),
    });
    ok(run);
    inOrder(on(run, '1.1.1.1'), [
      /^docker run --detach --restart unless-stopped --name app-web-latest --network kamal --hostname 1\.1\.1\.1-<hex> --env KAMAL_CONTAINER_NAME="app-web-latest" --env KAMAL_VERSION="latest" --env KAMAL_HOST="1\.1\.1\.1" --env TEST="root" --env EXPERIMENT="disabled" --env SITE="site1"/,
      stopVersion('123'),
      TAG_LATEST,
    ]);
  });

  it('boot with web barrier opened', async () => {
    const run = await app(['boot'], {
      config: WITH_ROLES,
      host: null,
      respond: (_host, command) => ({ stdout: command === status('latest') ? 'running\n' : '123\n' }),
    });
    ok(run);
    for (const host of ['1.1.1.3', '1.1.1.4']) {
      expect(run.said).toContain(`Waiting for the first healthy web container before booting workers on ${host}...`);
      expect(run.said).toContainEqual(expect.stringContaining(`First web container is healthy, booting workers on ${host}`));
      inOrder(on(run, host), [
        RUN_LATEST(host, 'workers'),
        status('latest'),
        stopVersion('123', 'workers', ' -t 30'),
        'docker tag registry.digitalocean.com/dhh/app:latest registry.digitalocean.com/dhh/app:latest',
      ]);
    }
  });

  it('boot with web barrier closed', async () => {
    const run = await app(['boot'], {
      config: WITH_ROLES,
      host: null,
      respond: (_host, command) =>
        command ===
        'docker exec kamal-proxy kamal-proxy deploy app-web --target="123:80" --deploy-timeout="1s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"'
          ? { exitCode: 1, stderr: 'Failed to deploy' }
          : { stdout: '123\n' },
    });
    expect(run.exitCode).toBe(1);
    for (const host of ['1.1.1.3', '1.1.1.4']) {
      expect(run.said).toContain(`Waiting for the first healthy web container before booting workers on ${host}...`);
      expect(run.said).toContain(`First web container is unhealthy, not booting workers on ${host}`);
      expect(on(run, host).some((c) => c.startsWith('docker run '))).toBe(false);
    }
    // close_barrier on the primary host: the logs and health log of the new container, then it is stopped
    expect(run.said).toContainEqual(expect.stringMatching(/First web container is unhealthy on 1\.1\.1\.1, not booting any other roles$/));
    inOrder(on(run, '1.1.1.1'), [
      /^docker exec kamal-proxy kamal-proxy deploy app-web /,
      // Kamal's app.logs(container_id:) with no line limit
      "docker container ls --all --filter 'name=^app-web-latest$' --quiet | xargs docker logs --timestamps 2>&1",
      `${containerIdForVersion('latest')} | xargs docker inspect --format '{{json .State.Health}}'`,
      stopVersion('latest'),
    ]);
  });

  it('boot with worker errors', async () => {
    const run = await app(['boot'], {
      config: WITH_ROLES,
      host: null,
      respond: (_host, command) => ({ stdout: command === status('latest') ? 'unhealthy\n' : '123\n' }),
    });
    expect(run.exitCode).toBe(1);
    for (const host of ['1.1.1.3', '1.1.1.4']) {
      expect(run.said).toContain(`Waiting for the first healthy web container before booting workers on ${host}...`);
      expect(run.said).toContainEqual(expect.stringContaining(`First web container is healthy, booting workers on ${host}`));
      expect(run.said).toContain(`ERROR Failed to boot workers on ${host}`);
      // the new container is stopped again
      inOrder(on(run, host), [RUN_LATEST(host, 'workers'), status('latest'), stopVersion('latest', 'workers', ' -t 30')]);
    }
  });

  it('boot with worker ready then not', async () => {
    const answersOf = new Map<string, number>();
    const run = await app(['boot'], {
      config: WITH_ROLES,
      host: '1.1.1.3',
      respond: (host, command) => {
        if (command !== status('latest')) return { stdout: '123\n' };
        const n = (answersOf.get(host) ?? 0) + 1;
        answersOf.set(host, n);
        return { stdout: n === 1 ? 'running\n' : 'stopped\n' };
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.said).toContain('ERROR Failed to boot workers on 1.1.1.3');
    // readiness delay (7s by default) after the first "running", then the check again
    expect(run.said).toContain('Container is running, waiting for readiness delay of 7 seconds');
    expect(sleeps[0]).toBe(7000);
    expect(on(run, '1.1.1.3').filter((c) => c === status('latest')).length).toBeGreaterThanOrEqual(2);
  });

  it('boot with only workers', async () => {
    const run = await app(['boot'], {
      config: WITH_ONLY_WORKERS,
      host: null,
      respond: (_host, command) => ({ stdout: command === status('latest') ? 'running\n' : '123\n' }),
    });
    ok(run);
    expect(run.said).toContainEqual(expect.stringMatching(/^First workers container is healthy on 1\.1\.1\.\d, booting any other roles$/));
    expect(everywhere(run).some((c) => c.includes('kamal-proxy'))).toBe(false);
    for (const host of ['1.1.1.1', '1.1.1.2']) inOrder(on(run, host), [RUN_LATEST(host, 'workers'), status('latest'), TAG_LATEST]);
  });

  it('boot with error pages', async () => {
    const run = await app(['boot'], {
      config: WITH_ERROR_PAGES,
      respond: running,
      files: { 'public/404.html': '404 page', 'public/500.html': '500 page' },
    });
    ok(run);
    inOrder(on(run, '1.1.1.1'), [
      'mkdir -p .kamal/proxy/apps-config/app/error_pages',
      'upload .kamal/proxy/apps-config/app/error_pages/latest/404.html (mode 700)',
      'upload .kamal/proxy/apps-config/app/error_pages/latest/500.html (mode 700)',
      RUN_LATEST('1.1.1.1'),
      stopVersion('123'),
      'find .kamal/proxy/apps-config/app/error_pages -mindepth 1 -maxdepth 1 ! -name latest -exec rm -rf {} +',
      TAG_LATEST,
    ]);
  });

  it('boot with custom ssl certificate', async () => {
    const config = WITH_PROXY.replace(
      'registry:',
      'proxy:\n  host: example.com\n  ssl:\n    certificate_pem: CERTIFICATE_PEM\n    private_key_pem: PRIVATE_KEY_PEM\nregistry:',
    );
    const run = await app(['boot'], {
      config,
      respond: running,
      files: { '.kamal/secrets': 'MYSQL_ROOT_PASSWORD=secret123\nCERTIFICATE_PEM="CERTIFICATE CONTENT"\nPRIVATE_KEY_PEM="PRIVATE KEY CONTENT"\n' },
    });
    ok(run);
    expect(run.said).toContain('Writing SSL certificates for web on 1.1.1.1');
    inOrder(on(run, '1.1.1.1'), [
      'mkdir -p .kamal/proxy/apps-config/app/tls/web',
      'upload .kamal/proxy/apps-config/app/tls/web/cert.pem (mode 644)',
      'upload .kamal/proxy/apps-config/app/tls/web/key.pem (mode 644)',
      RUN_LATEST('1.1.1.1'),
      /^docker exec kamal-proxy kamal-proxy deploy app-web .*--tls-certificate-path="\/home\/kamal-proxy\/\.apps-config\/app\/tls\/web\/cert\.pem" --tls-private-key-path="\/home\/kamal-proxy\/\.apps-config\/app\/tls\/web\/key\.pem"/,
    ]);
    expect(run.files.get('1.1.1.1:.kamal/proxy/apps-config/app/tls/web/cert.pem')?.content.toString()).toBe('CERTIFICATE CONTENT');
    expect(run.files.get('1.1.1.1:.kamal/proxy/apps-config/app/tls/web/key.pem')?.content.toString()).toBe('PRIVATE KEY CONTENT');
  });

  it('long hostname', async () => {
    const hostname = 'this-hostname-is-really-unacceptably-long-to-be-honest.example.com';
    const run = await app(['boot'], { config: WITH_UNCOMMON_HOSTNAMES, host: hostname, respond: running });
    ok(run);
    expect(
      on(run, hostname).some((c) =>
        /^docker run --detach --restart unless-stopped --name app-web-latest --network kamal --hostname this-hostname-is-really-unacceptably-long-to-be-hon-<hex> /.test(
          c,
        ),
      ),
    ).toBe(true);
  });

  it('hostname is trimmed if will end with a period', async () => {
    const hostname = 'this-hostname-with-random-part-is-too-long.example.com';
    const run = await app(['boot'], { config: WITH_UNCOMMON_HOSTNAMES, host: hostname, respond: running });
    ok(run);
    expect(
      on(run, hostname).some((c) =>
        /^docker run --detach --restart unless-stopped --name app-web-latest --network kamal --hostname this-hostname-with-random-part-is-too-long\.example-<hex> /.test(
          c,
        ),
      ),
    ).toBe(true);
  });

  it('boot proxy', async () => {
    const run = await app(['boot'], { config: WITH_PROXY, respond: running });
    ok(run);
    expect(run.said).toContainEqual(expect.stringMatching(/^Renaming container .* to .* as already deployed on 1\.1\.1\.1$/));
    inOrder(on(run, '1.1.1.1'), [
      /^docker rename app-web-latest app-web-latest_replaced_[0-9a-f]{16}$/,
      /^docker run --detach --restart unless-stopped --name app-web-latest --network kamal --hostname 1\.1\.1\.1-<hex> --env KAMAL_CONTAINER_NAME="app-web-latest" --env KAMAL_VERSION="latest" --env KAMAL_HOST="1\.1\.1\.1" --env-file \.kamal\/apps\/app\/env\/roles\/web\.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh\/app:latest/,
      /^docker exec kamal-proxy kamal-proxy deploy app-web --target="123:80"/,
      stopVersion('123'),
    ]);
  });

  it('boot proxy with role specific config', async () => {
    const run = await app(['boot'], { config: WITH_PROXY_ROLES, host: null, respond: running });
    ok(run);
    const deploy = (prefix: string, timeout: string) =>
      `docker exec kamal-proxy kamal-proxy deploy ${prefix} --target="123:80" --deploy-timeout="6s" --drain-timeout="30s" --target-timeout="${timeout}" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"`;
    for (const host of ['1.1.1.1', '1.1.1.2']) expect(on(run, host)).toContain(deploy('app-web', '10s'));
    for (const host of ['1.1.1.3', '1.1.1.4']) expect(on(run, host)).toContain(deploy('app-web2', '15s'));
  });
});

describe('kamal app start/stop/details/stale_containers (CliAppTest)', () => {
  it('start', async () => {
    const run = await app(['start'], { respond: () => ({ stdout: '999\n' }) });
    ok(run);
    inOrder(on(run, '1.1.1.1'), [
      'docker start app-web-999',
      currentRunningVersion(),
      containerIdForVersion('999'),
      'docker exec kamal-proxy kamal-proxy deploy app-web --target="999:80" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
      LOCK_RELEASE,
    ]);
  });

  it('stop', async () => {
    const run = await app(['stop']);
    ok(run);
    inOrder(on(run, '1.1.1.1'), [currentRunningVersion(), containerIdForVersion(''), `${currentRunningContainerId()} | xargs docker stop`, LOCK_RELEASE]);
    // no container for the running version: nothing to remove from the proxy
    expect(on(run, '1.1.1.1').some((c) => c.includes('kamal-proxy remove'))).toBe(false);
  });

  it('stale_containers', async () => {
    const run = await app(['stale_containers'], {
      respond: answers([
        [listVersions(), '12345678\n87654321\n'],
        [currentRunningVersion(), '12345678\n'],
      ]),
    });
    ok(run);
    expect(on(run, '1.1.1.1')).toEqual([listVersions(), currentRunningVersion()]);
    expect(run.outputs.map((o) => o.output)).toEqual([expect.stringMatching(/^Detected stale container for role web with version 87654321/)]);
  });

  it('stop stale_containers', async () => {
    const run = await app(['stale_containers', '--stop'], {
      respond: answers([
        [listVersions(), '12345678\n87654321\n'],
        [currentRunningVersion(), '12345678\n'],
      ]),
    });
    ok(run);
    expect(run.outputs.map((o) => o.output)).toEqual(['Stopping stale container for role web with version 87654321']);
    inOrder(on(run, '1.1.1.1'), [listVersions(), currentRunningVersion(), stopVersion('87654321'), LOCK_RELEASE]);
    expect(on(run, '1.1.1.1')).not.toContain(stopVersion('12345678'));
  });

  it('details', async () => {
    const run = await app(['details']);
    ok(run);
    expect(on(run, '1.1.1.1')).toContain('docker ps --filter label=service=app --filter label=destination= --filter label=role=web');
  });
});

describe('kamal app remove (CliAppTest)', () => {
  it('remove', async () => {
    const run = await app(['remove']);
    ok(run);
    inOrder(on(run, '1.1.1.1'), [
      `${currentRunningContainerId()} | xargs docker stop`,
      /^docker container prune --force --filter label=service=app /,
      'docker image prune --all --force --filter label=service=app',
      'rm -r .kamal/apps/app',
      'rm -r .kamal/proxy/apps-config/app',
      LOCK_RELEASE,
    ]);
  });

  it('remove with role filter does not remove images or app directories', async () => {
    const run = await app(['remove', '-r', 'workers'], { config: WITH_TWO_ROLES_ONE_HOST });
    ok(run);
    const commands = on(run, '1.1.1.1');
    inOrder(commands, [
      /^sh -c 'docker ps --latest --quiet .*--filter label=role=workers .*' \| head -1 \| xargs docker stop -t 30$/,
      /^docker container prune --force --filter label=service=app /,
    ]);
    expect(commands.some((c) => c.startsWith('docker image prune --all --force --filter label=service=app'))).toBe(false);
    expect(commands.some((c) => c.startsWith('rm -r .kamal/apps/app'))).toBe(false);
    expect(commands.some((c) => c.startsWith('rm -r .kamal/proxy/apps-config/app'))).toBe(false);
  });

  it('remove with all roles on host removes images and app directories', async () => {
    const run = await app(['remove', '-r', 'workers,web'], { config: WITH_TWO_ROLES_ONE_HOST });
    ok(run);
    inOrder(on(run, '1.1.1.1'), [
      / \| xargs docker stop$/,
      /^docker container prune --force --filter label=service=app /,
      'docker image prune --all --force --filter label=service=app',
      'rm -r .kamal/apps/app',
      'rm -r .kamal/proxy/apps-config/app',
    ]);
  });

  it('remove_container', async () => {
    const run = await app(['remove_container', '1234567']);
    ok(run);
    inOrder(on(run, '1.1.1.1'), [`${containerIdForVersion('1234567')} | xargs docker container rm`, LOCK_RELEASE]);
  });

  it('remove_containers', async () => {
    const run = await app(['remove_containers']);
    ok(run);
    inOrder(on(run, '1.1.1.1'), [
      'docker container prune --force --filter label=service=app --filter label=destination= --filter label=role=web',
      LOCK_RELEASE,
    ]);
  });

  it('remove_images', async () => {
    const run = await app(['remove_images']);
    ok(run);
    inOrder(on(run, '1.1.1.1'), ['docker image prune --all --force --filter label=service=app', LOCK_RELEASE]);
  });

  it('remove_app_directories', async () => {
    const run = await app(['remove_app_directories']);
    ok(run);
    inOrder(on(run, '1.1.1.1'), ['rm -r .kamal/apps/app', 'rm -r .kamal/proxy/apps-config/app', LOCK_RELEASE]);
  });
});

describe('kamal app exec (CliAppTest)', () => {
  const EXEC_NEW = (flag: string) =>
    new RegExp(
      `^docker run ${flag} --name app-web-exec-latest-[0-9a-f]{6} --network kamal --env-file \\.kamal/apps/app/env/roles/web\\.env --log-opt max-size="10m" dhh/app:latest ruby -v$`,
    );
  const LOGIN = ['docker', 'login', '-u', 'user', '--password-stdin'];

  it('exec', async () => {
    const run = await app(['exec', 'ruby -v']);
    ok(run);
    const commands = on(run, '1.1.1.1');
    expect(words(commands.find((c) => c.startsWith('docker login'))!)).toEqual(LOGIN);
    inOrder(commands, [/^docker login /, EXEC_NEW('--rm')]);
  });

  it('exec without command fails', async () => {
    const run = await app(['exec']);
    expect(run.exitCode).toBe(1);
    expect(run.err).toContain('No command provided. You must specify a command to execute.');
    expect(run.remote).toEqual([]);
  });

  it('exec separate arguments', async () => {
    const run = await app(['exec', 'ruby', ' -v']);
    ok(run);
    expect(on(run, '1.1.1.1').some((c) => EXEC_NEW('--rm').test(c))).toBe(true);
  });

  it('exec detach', async () => {
    const run = await app(['exec', '--detach', 'ruby -v']);
    ok(run);
    expect(on(run, '1.1.1.1').some((c) => EXEC_NEW('--detach').test(c))).toBe(true);
  });

  it('exec detach with reuse', async () => {
    const run = await app(['exec', '--detach', '--reuse', 'ruby -v']);
    expect(run.exitCode).toBe(1);
    expect(run.err).toContain('Detach is not compatible with reuse');
    expect(run.remote).toEqual([]);
  });

  it('exec detach with interactive', async () => {
    const run = await app(['exec', '--interactive', '--detach', 'ruby -v']);
    expect(run.exitCode).toBe(1);
    expect(run.err).toContain('Detach is not compatible with interactive');
    expect(run.remote).toEqual([]);
  });

  it('exec detach with interactive and reuse', async () => {
    const run = await app(['exec', '--interactive', '--detach', '--reuse', 'ruby -v']);
    expect(run.exitCode).toBe(1);
    expect(run.err).toContain('Detach is not compatible with interactive or reuse');
    expect(run.remote).toEqual([]);
  });

  it('exec with reuse', async () => {
    const run = await app(['exec', '--reuse', 'ruby -v']);
    ok(run);
    expect(run.said).toContain('Get current version of running container...');
    inOrder(on(run, '1.1.1.1'), [currentRunningVersion(), 'docker exec app-web-999 ruby -v']);
  });

  it('exec raw prints only the output, unmodified', async () => {
    const run = await app(['exec', '--raw', '--reuse', 'ruby -v'], {
      respond: (_h, c) => (c.startsWith('docker exec') ? { stdout: '  ruby 3.4\n' } : undefined),
    });
    ok(run);
    expect(run.said.filter((m) => m.startsWith('Launching') || m.startsWith('Get current'))).toEqual([]);
    expect(run.outputs).toEqual([]);
    inOrder(on(run, '1.1.1.1'), ['docker exec app-web-999 ruby -v']);
  });

  it('exec raw with interactive or detach', async () => {
    for (const [flag, what] of [
      ['--interactive', 'interactive'],
      ['--detach', 'detach'],
    ] as const) {
      const run = await app(['exec', '--raw', flag, 'ruby -v']);
      expect(run.exitCode).toBe(1);
      expect(run.err).toContain(`Raw is not compatible with ${what}`);
      expect(run.remote).toEqual([]);
    }
  });

  const terminal = (isTTY: boolean) => (k: NonNullable<CliResult['kamal']>) => {
    k.stdin = { isTTY } as unknown as NodeJS.ReadableStream;
  };

  it('exec interactive', async () => {
    const run = await app(['exec', '-i', 'ruby -v'], { hooks: ['pre-connect'], context: terminal(true) });
    ok(run);
    expect(hooksRan(run)).toEqual(['pre-connect']);
    expect(run.said).toContain('Get most recent version available as an image...');
    expect(run.said).toContain('Launching interactive command with version latest via SSH from new container on 1.1.1.1...');
    const commands = on(run, '1.1.1.1');
    expect(words(commands.find((c) => c.startsWith('docker login'))!)).toEqual(LOGIN);
    inOrder(commands, [/^docker login /, EXEC_NEW('-it --rm')]);
  });

  it('exec interactive with reuse', async () => {
    const run = await app(['exec', '-i', '--reuse', 'ruby -v'], { hooks: ['pre-connect'], context: terminal(true) });
    ok(run);
    expect(hooksRan(run)).toEqual(['pre-connect']);
    expect(run.said).toContain('Get current version of running container...');
    expect(run.said).toContain('Launching interactive command with version 999 via SSH from existing container on 1.1.1.1...');
    expect(on(run, '1.1.1.1')).toEqual([currentRunningVersion(), 'docker exec -it app-web-999 ruby -v']);
  });

  it('exec interactive with pipe on STDIN', async () => {
    const run = await app(['exec', '-i', '--reuse', 'ruby -v'], { hooks: ['pre-connect'], context: terminal(false) });
    ok(run);
    expect(hooksRan(run)).toEqual(['pre-connect']);
    expect(run.said).toContain('Launching interactive command with version 999 via SSH from existing container on 1.1.1.1...');
    expect(on(run, '1.1.1.1')).toEqual([currentRunningVersion(), 'docker exec -i app-web-999 ruby -v']);
  });
});

describe('kamal app containers/images/logs/version (CliAppTest)', () => {
  it('containers', async () => {
    const run = await app(['containers']);
    ok(run);
    expect(on(run, '1.1.1.1')).toEqual(['docker container ls --all --filter label=service=app --filter label=destination=']);
  });

  it('images', async () => {
    const run = await app(['images']);
    ok(run);
    expect(on(run, '1.1.1.1')).toEqual(['docker image ls dhh/app']);
  });

  it('logs', async () => {
    const tail = await app(['logs']);
    ok(tail);
    expect(on(tail, '1.1.1.1')).toEqual([LOGS_TAIL('--tail 100 ')]);

    const grep = await app(['logs', '--grep', 'hey']);
    ok(grep);
    expect(on(grep, '1.1.1.1').map(words)).toEqual([words(`${LOGS_TAIL('')} | grep 'hey'`)]);

    const grepOptions = await app(['logs', '--grep', 'hey', '--grep-options', '-C 2']);
    ok(grepOptions);
    expect(on(grepOptions, '1.1.1.1').map(words)).toEqual([words(`${LOGS_TAIL('')} | grep 'hey' -C 2`)]);
  });

  /**
   * Kamal execs the local `ssh -t root@1.1.1.1 -p 22 '<remote>'`; we run `<remote>` on the host's
   * pooled connection with the terminal attached (src/commands/DIFFERENCES.md): the remote
   * command compared word for word.
   */
  function expectFollow(run: Run, kamalSsh: string): void {
    ok(run);
    expect(run.local.map((c) => c.command).filter((c) => c.startsWith('ssh '))).toEqual([]);
    const theirs = words(kamalSsh);
    expect(theirs.slice(0, -1)).toEqual(['ssh', '-t', 'root@1.1.1.1', '-p', '22']);
    expect(run.remote.map((c) => c.host)).toEqual(['1.1.1.1']);
    expect(words(run.remote[0]!.command)).toEqual(words(theirs.at(-1)!));
    expect(run.said).toContain('Following logs on 1.1.1.1...');
  }

  const followPs = (role = 'web') => {
    const ps = `docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=${role} --filter status=running --filter status=restarting`;
    return `sh -c '\\''${ps} --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''\\'\\'''\\''{{.ID}}'\\''\\'\\'''\\'') ; ${ps}'\\'' | head -1`;
  };

  it('logs with follow', async () => {
    expectFollow(await app(['logs', '--follow']), `ssh -t root@1.1.1.1 -p 22 '${followPs()} | xargs docker logs --timestamps --tail 10 --follow 2>&1'`);
  });

  it('logs with follow and container_id', async () => {
    expectFollow(
      await app(['logs', '--follow', '--container-id', 'ID123']),
      "ssh -t root@1.1.1.1 -p 22 'sh -c '\\''echo ID123'\\'' | xargs docker logs --timestamps --tail 10 --follow 2>&1'",
    );
  });

  it('logs with follow and grep', async () => {
    expectFollow(
      await app(['logs', '--follow', '--grep', 'hey']),
      `ssh -t root@1.1.1.1 -p 22 '${followPs()} | xargs docker logs --timestamps --follow 2>&1 | grep "hey"'`,
    );
  });

  it('logs with follow, grep and grep options', async () => {
    expectFollow(
      await app(['logs', '--follow', '--grep', 'hey', '--grep-options', '-C 2']),
      `ssh -t root@1.1.1.1 -p 22 '${followPs()} | xargs docker logs --timestamps --follow 2>&1 | grep "hey" -C 2'`,
    );
  });

  it('version', async () => {
    const run = await app(['version']);
    ok(run);
    expect(on(run, '1.1.1.1')).toEqual([currentRunningVersion()]);
  });

  it('version through main', async () => {
    const run = await kamal(['app', 'version', '-c', 'config/deploy.yml', '--hosts', '1.1.1.1']);
    ok(run);
    expect(everywhere(run)).toEqual([currentRunningVersion()]);
    expect(run.remote.map((c) => c.host)).toEqual(['1.1.1.1']);
  });
});

describe('kamal app live/maintenance (CliAppTest)', () => {
  it('live', async () => {
    const run = await app(['live']);
    ok(run);
    inOrder(on(run, '1.1.1.1'), ['docker exec kamal-proxy kamal-proxy resume app-web', LOCK_RELEASE]);
  });

  it('maintenance', async () => {
    const run = await app(['maintenance']);
    ok(run);
    inOrder(on(run, '1.1.1.1'), ['docker exec kamal-proxy kamal-proxy stop app-web --drain-timeout="30s"', LOCK_RELEASE]);
  });

  it('maintenance with options', async () => {
    const run = await app(['maintenance', '--message', 'Hello', '--drain_timeout', '10']);
    ok(run);
    inOrder(on(run, '1.1.1.1'), ['docker exec kamal-proxy kamal-proxy stop app-web --drain-timeout="10s" --message="Hello"', LOCK_RELEASE]);
  });
});
