/**
 * Kamal 2.12's test/cli/proxy_test.rb, run through our CLI (`kamal-action proxy ...`) with a
 * RecordingRunner standing in for SSHKit: the same invocation on an equivalent config
 * (test/fixtures/deploy_with_proxy.yml and friends, written out below) must run the same
 * commands on the same hosts, in Kamal's order.
 *
 * Kamal prints remote commands through SSHKit's command map (`/usr/bin/env mkdir -p ...`) and
 * uploads as `Uploading "<content>" to <path>`; here the transcript holds the command itself
 * (`mkdir -p ...`) and `upload <path>`, with the uploaded content in `runner.files`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../../src/cli/run.js';
import { ConfigError } from '../../../../src/errors.js';
import { MemoryReporter } from '../../../../src/engine/reporter.js';
import { RecordingRunner, type Responder } from '../../../../test/support/recording.js';
import { audit, copyFixture, normalize, testEnv } from '../helpers.js';
import { ENSURE_RUN_DIRECTORY, LOCK_ACQUIRE, LOCK_RELEASE, NETWORK, WITH_PROXY } from './fixtures.js';

// test/fixtures/deploy_with_proxy.yml: web (proxy) on 1.1.1.1/2, workers on 1.1.1.3/4, two accessories

// test/fixtures/deploy_with_proxy_run_config.yml: proxy/run for the app, another one for the mysql accessory (1.1.1.3)
const WITH_PROXY_RUN_CONFIG = WITH_PROXY.replace(
  'builder:\n  arch: amd64\n',
  `builder:
  arch: amd64
proxy:
  run:
    registry: registry:4443
    debug: true
    metrics_port: 9090
    options:
      cpus: 1.5
`,
).replace(
  '      - data:/var/lib/mysql\n',
  `      - data:/var/lib/mysql
    proxy:
      run:
        debug: false
        metrics_port: 9190
`,
);

// test/fixtures/deploy_with_proxy_run_config_conflicts.yml: the mysql accessory on web host 1.1.1.2 with another proxy/run
const WITH_PROXY_RUN_CONFIG_CONFLICTS = WITH_PROXY.replace(
  'builder:\n  arch: amd64\n',
  `builder:
  arch: amd64
proxy:
  run:
    debug: true
`,
)
  .replace('    host: 1.1.1.3\n', '    host: 1.1.1.2\n')
  .replace(
    '      - data:/var/lib/mysql\n',
    `      - data:/var/lib/mysql
    proxy:
      run:
        debug: false
`,
  );

const WEB = ['1.1.1.1', '1.1.1.2'];
const ALL = ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'];

interface KamalRun {
  exitCode: number;
  error: unknown;
  err: string;
  runner: RecordingRunner;
  reporter: MemoryReporter;
  /** Every command (local ones on `local`), in order, normalized. */
  lines: [string, string][];
  on(host: string): string[];
  /** What was uploaded to `path` on `host`. */
  file(host: string, path: string): string | undefined;
}

/** `kamal proxy <args> -c config/deploy.yml` (Kamal's run_command), one runner for local and remote commands. */
async function kamal(args: string[], o: { config?: string; respond?: Responder } = {}): Promise<KamalRun> {
  const dir = copyFixture();
  writeFileSync(join(dir, 'config/deploy.yml'), o.config ?? WITH_PROXY);
  writeFileSync(join(dir, 'config/my.cnf'), '[mysqld]\n');
  // CliTestCase: VERSION=999, MYSQL_ROOT_PASSWORD=secret123
  writeFileSync(join(dir, '.kamal/secrets'), 'MYSQL_ROOT_PASSWORD=secret123\n');
  const runner = new RecordingRunner({ respond: o.respond });
  const reporter = new MemoryReporter();
  let err = '';
  const result = await runCli(['proxy', ...args, '-c', 'config/deploy.yml'], {
    cwd: dir,
    env: { ...testEnv(), VERSION: '999' },
    runner,
    local: runner,
    reporter,
    out: () => undefined,
    err: (s) => (err += s),
  });
  const lines = runner.transcript.map((t): [string, string] => [t.host, normalize(t.command)]);
  return {
    exitCode: result.exitCode,
    error: result.error,
    err,
    runner,
    reporter,
    lines,
    on: (host) => lines.filter(([h]) => h === host).map(([, c]) => c),
    file: (host, path) => runner.files.get(`${host}:${path}`)?.content.toString(),
  };
}

const LOGIN = 'docker login -u "user" --password-stdin';
const VERSION = "docker inspect kamal-proxy --format '{{.Config.Image}}' | awk -F: '{print $NF}'";
const APPS_CONFIG = 'mkdir -p .kamal/proxy/apps-config';
const BOOT_CONFIG =
  'echo $(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m") ' +
  '$(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") ' +
  '$(cat .kamal/proxy/run_command 2> /dev/null || echo "")';
const DOCKER_RUN =
  'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy ' +
  '--volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config';
const RUN = `${BOOT_CONFIG} | xargs ${DOCKER_RUN}`;
const START = 'docker container start kamal-proxy';
const START_OR_RUN = `${START} || ${RUN}`;
const STOP = 'docker container stop kamal-proxy';
const REMOVE_CONTAINER = 'docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy';
const REMOVE_IMAGE = 'docker image prune --all --force --filter label=org.opencontainers.image.title=kamal-proxy';
const CLEANUP_TRAEFIK =
  'docker container stop traefik ; docker container prune --force --filter label=org.opencontainers.image.title=Traefik && ' +
  'docker image prune --all --force --filter label=org.opencontainers.image.title=Traefik';
const APP_DIRECTORY_COUNT = 'ls .kamal/apps | wc -l';

/** Kamal's with_lock: the run directory on every host, then the lock on the primary host. */
function locked(lines: [string, string][], hosts = ALL): { inside: [string, string][] } {
  expect(lines.slice(0, hosts.length + 1)).toEqual([...hosts.map((h): [string, string] => [h, ENSURE_RUN_DIRECTORY]), [hosts[0]!, LOCK_ACQUIRE]]);
  expect(lines[lines.length - 1]).toEqual([hosts[0], LOCK_RELEASE]);
  return { inside: lines.slice(hosts.length + 1, -1) };
}

/** `host`'s commands of `lines`, in order. */
const of = (lines: [string, string][], host: string) => lines.filter(([h]) => h === host).map(([, c]) => c);

const isVersionCheck = (c: string) => c.includes("docker inspect kamal-proxy --format '{{.Config.Image}}'");

describe('kamal proxy boot (proxy_test.rb)', () => {
  it('boot: network on every host, then login, version check, apps-config directory and start-or-run on the proxy hosts', async () => {
    const run = await kamal(['boot']);
    expect(run.exitCode, run.err).toBe(0);
    const { inside } = locked(run.lines);
    // on(KAMAL.hosts) { create_network } finishes before on(KAMAL.proxy_hosts) starts
    expect(inside.slice(0, 4)).toEqual(ALL.map((h) => [h, NETWORK]));
    for (const host of WEB) expect(of(inside.slice(4), host)).toEqual([LOGIN, VERSION, APPS_CONFIG, START_OR_RUN]);
    expect(of(inside, '1.1.1.3')).toEqual([NETWORK]);
    expect(of(inside, '1.1.1.4')).toEqual([NETWORK]);
  });

  it('boot with run config: docker run from proxy/run, per host (the accessory host gets its own)', async () => {
    const run = await kamal(['boot'], { config: WITH_PROXY_RUN_CONFIG });
    expect(run.exitCode, run.err).toBe(0);
    const runWith = (options: string) =>
      `${START} || docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy ` +
      `--volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m ${options}`;
    const app = runWith('--expose=9090 --cpus "1.5" registry:4443/basecamp/kamal-proxy:v0.9.2 kamal-proxy run --debug --metrics-port "9090"');
    const mysql = runWith('--expose=9190 basecamp/kamal-proxy:v0.9.2 kamal-proxy run --metrics-port "9190"');
    const { inside } = locked(run.lines);
    expect(of(inside, '1.1.1.1')).toEqual([NETWORK, LOGIN, VERSION, APPS_CONFIG, app]);
    expect(of(inside, '1.1.1.2')).toEqual([NETWORK, LOGIN, VERSION, APPS_CONFIG, app]);
    expect(of(inside, '1.1.1.3')).toEqual([NETWORK, LOGIN, VERSION, APPS_CONFIG, mysql]);
    expect(of(inside, '1.1.1.4')).toEqual([NETWORK]);
  });

  it('boot with run config conflicts: refuses the config, nothing runs', async () => {
    const run = await kamal(['boot'], { config: WITH_PROXY_RUN_CONFIG_CONFLICTS });
    expect(run.exitCode).toBe(1);
    expect(run.error).toBeInstanceOf(ConfigError);
    expect((run.error as Error).message).toContain('Conflicting proxy run configurations for host 1.1.1.2');
    expect(run.lines).toEqual([]);
  });

  it('boot old version: kamal-proxy v0.0.1 on the host fails the boot before anything is started', async () => {
    const run = await kamal(['boot'], { respond: (_h, c) => (isVersionCheck(c) ? { stdout: 'v0.0.1\n' } : undefined) });
    expect(run.exitCode).toBe(1);
    // Kamal: "kamal-proxy version v0.0.1 is too old, run `kamal proxy reboot` in order to update to at least v0.9.2"
    // (raised inside on(host), so SSHKit reports it for the host); our message names the host itself and our CLI
    for (const host of WEB) {
      expect((run.error as Error).message).toContain(
        `kamal-proxy version v0.0.1 is too old on ${host}, run \`kamal-action proxy reboot\` in order to update to at least v0.9.2`,
      );
    }
    expect(run.lines.some(([, c]) => c.includes('docker container start kamal-proxy'))).toBe(false);
    expect(run.lines[run.lines.length - 1]).toEqual(['1.1.1.1', LOCK_RELEASE]);
  });

  it('boot correct version: v0.9.2 on the host boots with start-or-run', async () => {
    const run = await kamal(['boot'], { respond: (_h, c) => (isVersionCheck(c) ? { stdout: 'v0.9.2\n' } : undefined) });
    expect(run.exitCode, run.err).toBe(0);
    const { inside } = locked(run.lines);
    for (const host of WEB) expect(of(inside, host)).toEqual([NETWORK, LOGIN, VERSION, APPS_CONFIG, START_OR_RUN]);
  });
});

describe('kamal proxy reboot (proxy_test.rb)', () => {
  const REBOOT = [audit('Rebooted proxy'), LOGIN, STOP, REMOVE_CONTAINER, APPS_CONFIG, RUN];

  it('reboot: audit, login, stop, remove container, apps-config directory and run on each proxy host', async () => {
    const run = await kamal(['reboot', '-y']);
    expect(run.exitCode, run.err).toBe(0);
    const { inside } = locked(run.lines);
    for (const host of WEB) expect(of(inside, host)).toEqual(REBOOT);
    expect(of(inside, '1.1.1.3')).toEqual([]);
    expect(of(inside, '1.1.1.4')).toEqual([]);
    // parallel: every host stops before any runs the new proxy
    const lastStop = inside.findLastIndex(([, c]) => c === STOP);
    expect(lastStop).toBeLessThan(inside.findIndex(([, c]) => c === RUN));
  });

  it('reboot --rolling: one proxy host after the other', async () => {
    const run = await kamal(['reboot', '--rolling', '-y']);
    expect(run.exitCode, run.err).toBe(0);
    const { inside } = locked(run.lines);
    expect(inside).toEqual([...REBOOT.map((c): [string, string] => ['1.1.1.1', c]), ...REBOOT.map((c): [string, string] => ['1.1.1.2', c])]);
  });
});

describe('kamal proxy start/stop/restart/details (proxy_test.rb)', () => {
  it('start: docker container start kamal-proxy on the proxy hosts', async () => {
    const run = await kamal(['start']);
    expect(run.exitCode, run.err).toBe(0);
    const { inside } = locked(run.lines);
    for (const host of WEB) expect(of(inside, host)).toEqual([audit('Started proxy'), START]);
    expect(inside.filter(([h]) => !WEB.includes(h))).toEqual([]);
  });

  it('stop: docker container stop kamal-proxy on the proxy hosts', async () => {
    const run = await kamal(['stop']);
    expect(run.exitCode, run.err).toBe(0);
    const { inside } = locked(run.lines);
    for (const host of WEB) expect(of(inside, host)).toEqual([audit('Stopped proxy'), STOP]);
    expect(inside.filter(([h]) => !WEB.includes(h))).toEqual([]);
  });

  it('restart: stop, then start, under one lock', async () => {
    const run = await kamal(['restart']);
    expect(run.exitCode, run.err).toBe(0);
    const { inside } = locked(run.lines);
    expect(inside.filter(([, c]) => c === LOCK_ACQUIRE || c === LOCK_RELEASE)).toEqual([]);
    for (const host of WEB) expect(of(inside, host)).toEqual([audit('Stopped proxy'), STOP, audit('Started proxy'), START]);
    expect(inside.findLastIndex(([, c]) => c === STOP)).toBeLessThan(inside.findIndex(([, c]) => c === START));
  });

  it("details: docker ps --filter 'name=^kamal-proxy$' on the proxy hosts, no lock", async () => {
    const run = await kamal(['details'], { respond: (h) => ({ stdout: `proxy on ${h}\n` }) });
    expect(run.exitCode, run.err).toBe(0);
    expect(run.lines).toEqual(WEB.map((h) => [h, "docker ps --filter 'name=^kamal-proxy$'"]));
    expect(run.reporter.outputs).toEqual(WEB.map((host) => ({ host, output: `proxy on ${host}`, type: 'Proxy' })));
  });
});

describe('kamal proxy logs (proxy_test.rb)', () => {
  it('logs: the last 100 lines with timestamps from each proxy host, shown as Proxy Host output', async () => {
    const run = await kamal(['logs'], {
      respond: (_h, c) => (c === 'docker logs kamal-proxy --tail 100 --timestamps 2>&1' ? { stdout: 'Log entry' } : undefined),
    });
    expect(run.exitCode, run.err).toBe(0);
    expect(run.lines).toEqual(WEB.map((h) => [h, 'docker logs kamal-proxy --tail 100 --timestamps 2>&1']));
    expect(run.reporter.outputs).toEqual(WEB.map((host) => ({ host, output: 'Log entry', type: 'Proxy' })));
  });

  it('logs with follow: what Kamal runs through ssh -t, on the primary host over the pooled connection', async () => {
    const run = await kamal(['logs', '--follow']);
    expect(run.exitCode, run.err).toBe(0);
    // Kamal: ssh -t root@1.1.1.1 -p 22 'docker logs kamal-proxy --timestamps --tail 10 --follow 2>&1'
    expect(run.lines).toEqual([['1.1.1.1', 'docker logs kamal-proxy --timestamps --tail 10 --follow 2>&1']]);
    expect(run.reporter.messages).toContainEqual({ level: 'info', message: 'Following logs on 1.1.1.1...' });
  });
});

describe('kamal proxy remove (proxy_test.rb)', () => {
  it('remove: checks for other apps, then stops, removes container, image and the proxy directory', async () => {
    const run = await kamal(['remove']);
    expect(run.exitCode, run.err).toBe(0);
    const { inside } = locked(run.lines);
    for (const host of WEB) {
      expect(of(inside, host)).toEqual([
        APP_DIRECTORY_COUNT,
        audit('Stopped proxy'),
        STOP,
        audit('Removed proxy container'),
        REMOVE_CONTAINER,
        audit('Removed proxy image'),
        REMOVE_IMAGE,
        'rm -r .kamal/proxy',
      ]);
    }
    expect(inside.filter(([h]) => !WEB.includes(h))).toEqual([]);
  });

  for (const [name, args] of [
    ['remove with other apps', ['remove']],
    // Kamal's "force remove with other apps" runs `remove` without --force too (same assertion)
    ['force remove with other apps', ['remove']],
  ] as const) {
    it(`${name}: another app on the hosts keeps the proxy`, async () => {
      const run = await kamal([...args], { respond: (_h, c) => (c === APP_DIRECTORY_COUNT ? { stdout: '1\n' } : undefined) });
      expect(run.exitCode, run.err).toBe(0);
      const { inside } = locked(run.lines);
      expect(inside).toEqual(WEB.map((h) => [h, APP_DIRECTORY_COUNT]));
      expect(run.reporter.messages.map((m) => m.message)).toContain(
        'Not removing the proxy, as other apps are installed, ignore this check with kamal-action proxy remove --force',
      );
    });
  }

  it('remove --force with other apps: says so and removes the proxy', async () => {
    const run = await kamal(['remove', '--force'], { respond: (_h, c) => (c === APP_DIRECTORY_COUNT ? { stdout: '1\n' } : undefined) });
    expect(run.exitCode, run.err).toBe(0);
    expect(run.reporter.messages.map((m) => m.message)).toContain('Forcing, so removing the proxy, even though other apps are installed');
    for (const host of WEB) expect(run.on(host)).toEqual(expect.arrayContaining([STOP, REMOVE_CONTAINER, REMOVE_IMAGE, 'rm -r .kamal/proxy']));
  });

  it('remove_container: prunes the kamal-proxy container on the proxy hosts', async () => {
    const run = await kamal(['remove_container']);
    expect(run.exitCode, run.err).toBe(0);
    const { inside } = locked(run.lines);
    for (const host of WEB) expect(of(inside, host)).toEqual([audit('Removed proxy container'), REMOVE_CONTAINER]);
    expect(inside.filter(([h]) => !WEB.includes(h))).toEqual([]);
  });

  it('remove_image: prunes the kamal-proxy image on the proxy hosts', async () => {
    const run = await kamal(['remove_image']);
    expect(run.exitCode, run.err).toBe(0);
    const { inside } = locked(run.lines);
    for (const host of WEB) expect(of(inside, host)).toEqual([audit('Removed proxy image'), REMOVE_IMAGE]);
    expect(inside.filter(([h]) => !WEB.includes(h))).toEqual([]);
  });
});

describe('kamal proxy upgrade (proxy_test.rb)', () => {
  // every capture answers 12345678 (container ids, running version), the proxy is v0.9.2, the workers are running
  const respond: Responder = (_h, c) => {
    if (isVersionCheck(c)) return { stdout: 'v0.9.2\n' };
    if (c.includes("--filter 'name=^app-workers-latest$' --quiet | xargs docker inspect --format")) return { stdout: 'running\n' };
    return { stdout: '12345678\n' };
  };
  const CLEANUP = [audit('Rebooted proxy'), LOGIN, CLEANUP_TRAEFIK, STOP, REMOVE_CONTAINER, REMOVE_IMAGE];
  const webRun = (host: string) =>
    `docker run --detach --restart unless-stopped --name app-web-latest --network kamal --hostname ${host}-<hex> --env KAMAL_CONTAINER_NAME="app-web-latest" ` +
    `--env KAMAL_VERSION="latest" --env KAMAL_HOST="${host}" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" ` +
    '--label role="web" --label destination dhh/app:latest';
  const PROXY_DEPLOY =
    'docker exec kamal-proxy kamal-proxy deploy app-web --target="12345678:80" --deploy-timeout="6s" --drain-timeout="30s" --buffer-requests --buffer-responses ' +
    '--log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"';
  const PRUNE_CONTAINERS =
    'docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +6 | while read container_id; do docker rm $container_id; done';

  it('upgrade: cleans up Traefik and kamal-proxy everywhere, then proxy boot, app boot at latest and prune on all hosts', async () => {
    const run = await kamal(['upgrade', '-y'], { respond });
    expect(run.exitCode, run.err).toBe(0);
    const messages = run.reporter.messages.map((m) => m.message);
    expect(messages[0]).toBe('Upgrading proxy on 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4...');
    expect(messages[messages.length - 1]).toBe('Upgraded proxy on 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4');

    // the cleanup runs on every host, without the lock; then proxy:boot, app:boot and prune:all, each under its own lock
    const lines = run.lines;
    const firstLock = lines.findIndex(([, c]) => c === LOCK_ACQUIRE);
    for (const host of ALL) expect(of(lines.slice(0, firstLock), host)).toEqual([...CLEANUP, ENSURE_RUN_DIRECTORY]);
    expect(lines.filter(([, c]) => c === LOCK_ACQUIRE)).toHaveLength(3);
    const sections: [string, string][][] = [];
    let current: [string, string][] = [];
    for (const line of lines.slice(firstLock + 1)) {
      if (line[1] === LOCK_RELEASE) {
        sections.push(current);
        current = [];
      } else current.push(line);
    }
    const [proxyBoot, appBoot, prune] = sections.map((s) => s.filter(([, c]) => c !== ENSURE_RUN_DIRECTORY && c !== LOCK_ACQUIRE));
    for (const host of WEB) expect(of(proxyBoot!, host)).toEqual([NETWORK, LOGIN, VERSION, APPS_CONFIG, START_OR_RUN]);
    for (const host of ['1.1.1.3', '1.1.1.4']) expect(of(proxyBoot!, host)).toEqual([NETWORK]);

    for (const host of WEB) {
      const web = of(appBoot!, host);
      expect(web[0]).toBe("docker container ls --all --filter 'name=^app-web-latest$' --quiet");
      expect(web[2]).toMatch(/^docker rename app-web-latest app-web-latest_replaced_[0-9a-f]+$/);
      expect(web).toContain('mkdir -p .kamal/apps/app/env/roles');
      expect(run.file(host, '.kamal/apps/app/env/roles/web.env')).toBe('\n');
      expect(web).toContain(webRun(host));
      expect(web).toContain(PROXY_DEPLOY);
      expect(web).toContain("docker container ls --all --filter 'name=^app-web-12345678$' --quiet | xargs docker stop");
      expect(web[web.length - 1]).toBe('docker tag dhh/app:latest dhh/app:latest');
      expect(web.indexOf(webRun(host))).toBeLessThan(web.indexOf(PROXY_DEPLOY));
    }
    for (const host of ALL) {
      expect(of(prune!, host).slice(0, 4)).toEqual([
        audit('Pruned containers'),
        PRUNE_CONTAINERS,
        audit('Pruned images'),
        'docker image prune --force --filter label=service=app',
      ]);
    }
  });

  it('upgrade --rolling: the whole upgrade, one host after the other', async () => {
    const run = await kamal(['upgrade', '--rolling', '-y'], { respond });
    expect(run.exitCode, run.err).toBe(0);
    const messages = run.reporter.messages.map((m) => m.message).filter((m) => /^Upgrad/.test(m));
    expect(messages).toEqual(ALL.flatMap((h) => [`Upgrading proxy on ${h}...`, `Upgraded proxy on ${h}`]));
    // each host's traefik cleanup comes after the previous host's prune
    const cleanups = ALL.map((h) => run.lines.findIndex(([host, c]) => host === h && c === CLEANUP_TRAEFIK));
    const prunes = ALL.map((h) => run.lines.findLastIndex(([host, c]) => host === h && c === 'docker image prune --force --filter label=service=app'));
    for (let i = 0; i < ALL.length; i++) {
      expect(cleanups[i]).toBeGreaterThanOrEqual(0);
      expect(cleanups[i]).toBeLessThan(prunes[i]!);
      if (i > 0) expect(prunes[i - 1]).toBeLessThan(cleanups[i]!);
    }
    // with_specific_hosts: each round's locks and commands stay on its host
    for (const h of ALL) {
      const round = run.lines.slice(cleanups[ALL.indexOf(h)]! - 2, prunes[ALL.indexOf(h)]! + 1);
      expect(new Set(round.map(([host]) => host))).toEqual(new Set([h]));
    }
  });
});

describe('kamal proxy boot_config (proxy_test.rb)', () => {
  const OPTIONS = '.kamal/proxy/options';
  const IMAGE = '.kamal/proxy/image';
  const IMAGE_VERSION = '.kamal/proxy/image_version';
  const RUN_COMMAND = '.kamal/proxy/run_command';

  /** Per proxy host: mkdir, then each file uploaded (when given) or removed, in Kamal's order. */
  async function bootConfigSet(args: string[], files: { options?: string; image?: string; imageVersion?: string; runCommand?: string }) {
    const run = await kamal(['boot_config', 'set', ...args]);
    expect(run.exitCode, run.err).toBe(0);
    expect(run.reporter.messages).toContainEqual({
      level: 'warn',
      message: 'The proxy boot_config command is deprecated - set the config in the deploy YAML at proxy/run instead',
    });
    const step = (path: string, content: string | undefined) => (content === undefined ? `rm ${path}` : `upload ${path}`);
    for (const host of WEB) {
      expect(run.on(host)).toEqual([
        'mkdir -p .kamal/proxy',
        step(OPTIONS, files.options),
        step(IMAGE, files.image),
        step(IMAGE_VERSION, files.imageVersion),
        step(RUN_COMMAND, files.runCommand),
      ]);
      expect(run.file(host, OPTIONS)).toBe(files.options);
      expect(run.file(host, IMAGE)).toBe(files.image);
      expect(run.file(host, IMAGE_VERSION)).toBe(files.imageVersion);
      expect(run.file(host, RUN_COMMAND)).toBe(files.runCommand);
    }
    expect(run.lines.filter(([h]) => !WEB.includes(h))).toEqual([]);
  }

  it('boot_config set: the defaults remove every file', () => bootConfigSet([], {}));

  it('boot_config set no publish', () => bootConfigSet(['--publish', 'false'], { options: '--log-opt max-size=10m' }));

  it('boot_config set custom max_size', () =>
    bootConfigSet(['--log-max-size', '100m'], { options: '--publish 80:80 --publish 443:443 --log-opt max-size=100m' }));

  it('boot_config set no log max size', () => bootConfigSet(['--log-max-size='], { options: '--publish 80:80 --publish 443:443' }));

  it('boot_config set custom ports', () =>
    bootConfigSet(['--http-port', '8080', '--https-port', '8443'], { options: '--publish 8080:80 --publish 8443:443 --log-opt max-size=10m' }));

  it('boot_config set bind IP', () =>
    bootConfigSet(['--publish-host-ip', '127.0.0.1'], {
      options: '--publish 127.0.0.1:80:80 --publish 127.0.0.1:443:443 --log-opt max-size=10m',
    }));

  it('boot_config set multiple bind IPs', () =>
    bootConfigSet(['--publish-host-ip', '127.0.0.1', '--publish-host-ip', '::1'], {
      options: '--publish 127.0.0.1:80:80 --publish 127.0.0.1:443:443 --publish [::1]:80:80 --publish [::1]:443:443 --log-opt max-size=10m',
    }));

  it('boot_config set invalid bind IPs', async () => {
    const run = await kamal(['boot_config', 'set', '--publish-host-ip', '1.2.3.invalidIP', '--publish-host-ip', '::1']);
    expect(run.exitCode).toBe(1);
    expect((run.error as Error).message).toContain('Invalid publish IP address: 1.2.3.invalidIP');
    expect(run.lines).toEqual([]);
  });

  it('boot_config set docker options', () =>
    bootConfigSet(['--docker_options', 'label=foo=bar', 'add_host=thishost:thathost'], {
      options: '--publish 80:80 --publish 443:443 --log-opt max-size=10m --label=foo=bar --add_host=thishost:thathost',
    }));

  it('boot_config set registry', () => bootConfigSet(['--registry', 'myreg'], { image: 'myreg/basecamp/kamal-proxy' }));

  it('boot_config set repository', () => bootConfigSet(['--repository', 'myrepo'], { image: 'myrepo/kamal-proxy' }));

  it('boot_config set image_version', () => bootConfigSet(['--image_version', '0.9.9'], { imageVersion: '0.9.9' }));

  it('boot_config set run_command', () =>
    bootConfigSet(['--metrics_port', '9000', '--debug', 'true'], {
      options: '--publish 80:80 --publish 443:443 --log-opt max-size=10m --expose=9000',
      runCommand: 'kamal-proxy run --debug --metrics-port "9000"',
    }));

  it('boot_config set all', () =>
    bootConfigSet(
      [
        '--docker_options',
        'label=foo=bar',
        '--registry',
        'myreg',
        '--repository',
        'myrepo',
        '--image_version',
        '0.9.9',
        '--metrics_port',
        '9000',
        '--debug',
        'true',
      ],
      {
        options: '--publish 80:80 --publish 443:443 --log-opt max-size=10m --expose=9000 --label=foo=bar',
        image: 'myreg/myrepo/kamal-proxy',
        imageVersion: '0.9.9',
        runCommand: 'kamal-proxy run --debug --metrics-port "9000"',
      },
    ));

  it('boot_config get: echoes the boot config of each proxy host', async () => {
    const answer = '--publish 80:80 --publish 8443:443 --label=foo=bar basecamp/kamal-proxy:v1.0.0';
    const run = await kamal(['boot_config', 'get'], { respond: (_h, c) => (c === BOOT_CONFIG ? { stdout: answer } : undefined) });
    expect(run.exitCode, run.err).toBe(0);
    expect(run.lines).toEqual(WEB.map((h) => [h, BOOT_CONFIG]));
    expect(run.reporter.text.split('\n').filter(Boolean).sort()).toEqual(WEB.map((h) => `Host ${h}: ${answer}`));
  });

  it('boot_config reset: removes the four files on each proxy host', async () => {
    const run = await kamal(['boot_config', 'reset']);
    expect(run.exitCode, run.err).toBe(0);
    for (const host of WEB) expect(run.on(host)).toEqual([`rm ${OPTIONS}`, `rm ${IMAGE}`, `rm ${IMAGE_VERSION}`, `rm ${RUN_COMMAND}`]);
    expect(run.lines.filter(([h]) => !WEB.includes(h))).toEqual([]);
  });
});
