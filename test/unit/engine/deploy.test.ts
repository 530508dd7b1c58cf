import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Configuration } from '../../../src/model/index.js';
import { RecordingRunner } from '../../../test/support/recording.js';
import { LocalRunner } from '../../../src/exec/local.js';
import { Kamal, type GlobalOptions } from '../../../src/engine/kamal.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { installHookRunner } from '../../../src/engine/hooks.js';
import { deploy, rollback } from '../../../src/engine/main.js';
import { MapSecretStore } from '../../../src/secret.js';
import { LockError } from '../../../src/errors.js';

const RAW = {
  service: 'app',
  image: 'dhh/app',
  servers: {
    web: ['1.1.1.1', '1.1.1.2'],
    job: { hosts: ['1.1.1.3'], cmd: 'bin/jobs' },
  },
  registry: { server: 'registry.test', username: 'user', password: ['KAMAL_REGISTRY_PASSWORD'] },
  proxy: { host: 'app.example.test' },
  env: { secret: ['DB_PASSWORD'] },
  builder: { arch: 'amd64' },
  readiness_delay: 0,
};

const SECRETS = { KAMAL_REGISTRY_PASSWORD: 'reg-s3cret-pw', DB_PASSWORD: 'db-s3cret-pw' };

interface Fleet {
  /** host -> running version of each role */
  running: Map<string, Map<string, string>>;
  failDeployOn?: string;
  lockHeld?: boolean;
}

/** A responder that behaves like docker on a set of hosts for the commands a deploy sends. */
function responder(fleet: Fleet) {
  return (host: string, command: string) => {
    const roles = fleet.running.get(host) ?? new Map<string, string>();
    fleet.running.set(host, roles);
    if (command.startsWith('mkdir .kamal/lock-')) {
      if (fleet.lockHeld) return { exitCode: 1, stderr: "mkdir: cannot create directory '.kamal/lock-app': File exists" };
      fleet.lockHeld = true;
      return {};
    }
    if (command.startsWith('rm .kamal/lock-app/details')) {
      fleet.lockHeld = false;
      return {};
    }
    if (command.startsWith('stat .kamal/lock-app')) {
      return fleet.lockHeld
        ? { stdout: 'Locked by: Someone at 2026-12-01T10:00:00Z\nVersion: x\nMessage: manual' }
        : { exitCode: 1, stderr: 'No such file or directory' };
    }
    const ps = /--filter label=role=(\w+) --filter status=running/.exec(command);
    if (ps && command.includes('while read line')) {
      const v = roles.get(ps[1]!);
      return { stdout: v ? `${v}\n` : '' };
    }
    const ls = /docker container ls (?:--all )?--filter 'name=\^app-(\w+)-([^$]+)\$' --quiet/.exec(command);
    if (ls && !command.includes('xargs')) {
      return { stdout: roles.get(`${ls[1]}:${ls[2]}`) ? 'c0ffee\n' : '' };
    }
    const run = /docker run --detach --restart unless-stopped --name app-(\w+)-(\S+) /.exec(command);
    if (run) {
      roles.set(`${run[1]}:${run[2]}`, 'created');
      return {};
    }
    const dep = /kamal-proxy deploy app-(\w+) /.exec(command);
    if (dep) {
      if (fleet.failDeployOn === host) {
        return { exitCode: 1, stderr: 'Error: target failed to become healthy within configured timeout (30s)' };
      }
      return {};
    }
    if (command.includes('docker logs')) return { stdout: 'app booting\nlistening on 80\n' };
    if (command.includes('xargs docker inspect --format')) return { stdout: 'running\n' };
    return undefined;
  };
}

function setup(opts: { fleet?: Fleet; options?: GlobalOptions; hooks?: Record<string, string> } = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'kamal-engine-'));
  if (opts.hooks) {
    mkdirSync(join(cwd, '.kamal/hooks'), { recursive: true });
    for (const [name, body] of Object.entries(opts.hooks)) {
      writeFileSync(join(cwd, '.kamal/hooks', name), body);
      chmodSync(join(cwd, '.kamal/hooks', name), 0o755);
    }
  }
  const fleet = opts.fleet ?? { running: new Map() };
  const secrets = new MapSecretStore(SECRETS);
  const config = new Configuration(structuredClone(RAW), { version: 'v2', secrets, cwd });
  const runner = new RecordingRunner(responder(fleet));
  const reporter = new MemoryReporter();
  const k = new Kamal({ config, runner, local: new LocalRunner({ cwd }), reporter, options: opts.options, cwd, env: {}, command: 'deploy' });
  for (const v of Object.values(SECRETS)) k.secrets.add(v);
  installHookRunner(k, { performer: 'ci@example.test', secretEnv: () => SECRETS });
  return { k, runner, fleet, cwd, reporter };
}

const idx = (t: { host: string; command: string }[], host: string, re: RegExp): number => t.findIndex((c) => c.host === host && re.test(c.command));

describe('deploy transcript', () => {
  it("runs Kamal's step order: lock, proxy boot, stale containers, primary role first, switch then stop old, prune, unlock", async () => {
    const fleet: Fleet = {
      running: new Map([
        ['1.1.1.1', new Map([['web', 'v1']])],
        ['1.1.1.2', new Map([['web', 'v1']])],
        ['1.1.1.3', new Map([['job', 'v1']])],
      ]),
    };
    const { k, runner } = setup({ fleet, options: {} });
    await deploy(k, { skipPush: true });
    const t = runner.transcript;

    const lock = idx(t, '1.1.1.1', /^mkdir \.kamal\/lock-app && /);
    const proxyBoot = idx(t, '1.1.1.1', /docker container start kamal-proxy \|\| /);
    const webRun = idx(t, '1.1.1.1', /^docker run --detach .* --name app-web-v2 /);
    const webDeploy = idx(t, '1.1.1.1', /kamal-proxy deploy app-web --target="c0ffee:80" --host="app.example.test"/);
    const webStopOld = idx(t, '1.1.1.1', /name=\^app-web-v1\$' --quiet \| xargs docker stop/);
    const jobRun = idx(t, '1.1.1.3', /^docker run --detach .* --name app-job-v2 /);
    const prune = idx(t, '1.1.1.1', /docker image prune --force --filter label=service=app/);
    const unlock = idx(t, '1.1.1.1', /^rm \.kamal\/lock-app\/details && rm -r \.kamal\/lock-app$/);

    for (const i of [lock, proxyBoot, webRun, webDeploy, webStopOld, jobRun, prune, unlock]) expect(i).toBeGreaterThanOrEqual(0);
    expect(lock).toBeLessThan(proxyBoot);
    expect(proxyBoot).toBeLessThan(webRun);
    expect(webRun).toBeLessThan(webDeploy);
    expect(webDeploy).toBeLessThan(webStopOld);
    // the job role waits at the barrier until the first web container is healthy
    expect(jobRun).toBeGreaterThan(Math.min(webDeploy, idx(t, '1.1.1.2', /kamal-proxy deploy app-web/)));
    expect(prune).toBeGreaterThan(webStopOld);
    expect(unlock).toBe(t.length - 1);
    // env files are uploaded with mode 600 before the container starts
    const upload = t.findIndex((c) => c.host === '1.1.1.1' && c.command === 'upload .kamal/apps/app/env/roles/web.env (mode 600)');
    expect(upload).toBeGreaterThan(lock);
    expect(upload).toBeLessThan(webRun);
    expect(runner.files.get('1.1.1.1:.kamal/apps/app/env/roles/web.env')!.content.toString()).toContain('DB_PASSWORD=db-s3cret-pw');
    // secrets never appear in the transcript
    expect(JSON.stringify(t)).not.toMatch(/s3cret/);
    expect(k.holdingLock).toBe(false);
  });

  it('a failed health check stops the new container, keeps the old one, skips other roles and releases the lock', async () => {
    const fleet: Fleet = {
      running: new Map([
        ['1.1.1.1', new Map([['web', 'v1']])],
        ['1.1.1.2', new Map([['web', 'v1']])],
        ['1.1.1.3', new Map([['job', 'v1']])],
      ]),
      failDeployOn: '1.1.1.1',
    };
    const { k, runner } = setup({ fleet, options: { hosts: '1.1.1.1,1.1.1.3' } });
    const error = await deploy(k, { skipPush: true }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeDefined();
    expect(error!.message).toContain('1.1.1.1');
    expect(error!.message).toContain('target failed to become healthy');
    expect(error!.message).toContain('listening on 80');
    const t = runner.transcript;
    expect(idx(t, '1.1.1.1', /name=\^app-web-v2\$' --quiet \| xargs docker stop/)).toBeGreaterThan(idx(t, '1.1.1.1', /kamal-proxy deploy/));
    expect(idx(t, '1.1.1.1', /name=\^app-web-v1\$' --quiet \| xargs docker stop/)).toBe(-1);
    expect(idx(t, '1.1.1.3', /^docker run --detach/)).toBe(-1);
    expect(t.at(-1)!.command).toBe('rm .kamal/lock-app/details && rm -r .kamal/lock-app');
    expect(fleet.lockHeld).toBe(false);
  });

  it('refuses to deploy while the lock is held, naming the holder, and runs nothing else', async () => {
    const fleet: Fleet = { running: new Map(), lockHeld: true };
    const { k, runner } = setup({ fleet });
    const error = await deploy(k, { skipPush: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockError);
    expect((error as Error).message).toContain('Locked by: Someone');
    expect(runner.transcript.some((c) => /docker run/.test(c.command))).toBe(false);
    expect(fleet.lockHeld).toBe(true);
  });

  it('rollback boots an existing container and fails when the version is gone', async () => {
    const fleet: Fleet = {
      running: new Map([
        [
          '1.1.1.1',
          new Map([
            ['web', 'v2'],
            ['web:v1', 'exited'],
          ]),
        ],
      ]),
    };
    const { k, runner } = setup({ fleet, options: { hosts: '1.1.1.1' } });
    await rollback(k, 'v1');
    // as in Kamal: the kept v1 container is renamed out of the way, then v1 boots from its image
    const t = runner.transcript;
    const rename = t.findIndex((c) => /^docker rename app-web-v1 app-web-v1_replaced_[0-9a-f]{16}$/.test(c.command));
    const run = t.findIndex((c) => /^docker run --detach .* --name app-web-v1 /.test(c.command));
    expect(rename).toBeGreaterThan(0);
    expect(run).toBeGreaterThan(rename);
    expect(idx(t, '1.1.1.1', /name=\^app-web-v2\$' --quiet \| xargs docker stop/)).toBeGreaterThan(run);

    const missing = setup({ fleet: { running: new Map() }, options: { hosts: '1.1.1.1' } });
    await expect(rollback(missing.k, 'v0')).rejects.toThrow(/not available as a container/);
  });

  it('runs hooks locally with the KAMAL_* environment and secrets for pre/post-deploy', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hook-out-')), 'env');
    const hook = `#!/bin/sh\nenv | grep -E '^(KAMAL_|DB_PASSWORD)' | sort >> ${out}\necho --- >> ${out}\n`;
    const fleet: Fleet = { running: new Map() };
    const { k } = setup({ fleet, options: { destination: undefined }, hooks: { 'pre-deploy': hook, 'post-deploy': hook } });
    await deploy(k, { skipPush: true });
    const text = readFileSync(out, 'utf8');
    const [pre, post] = text.split('---\n');
    expect(pre).toContain('KAMAL_VERSION=v2');
    expect(pre).toContain('KAMAL_SERVICE=app');
    expect(pre).toContain('KAMAL_SERVICE_VERSION=app@v2');
    expect(pre).toContain('KAMAL_HOSTS=1.1.1.1,1.1.1.2,1.1.1.3');
    expect(pre).toContain('KAMAL_COMMAND=deploy');
    expect(pre).toContain('KAMAL_LOCK=true');
    expect(pre).toContain('KAMAL_PERFORMER=ci@example.test');
    expect(pre).toContain('DB_PASSWORD=db-s3cret-pw');
    expect(post).toMatch(/KAMAL_RUNTIME=\d+/);
    expect(post).toContain('KAMAL_LOCK=false');
  });

  it('all-or-nothing: a failing host puts the previous version back on the hosts already switched', async () => {
    const fleet: Fleet = {
      running: new Map([
        [
          '1.1.1.1',
          new Map([
            ['web', 'v1'],
            ['web:v1', 'running'],
          ]),
        ],
        [
          '1.1.1.2',
          new Map([
            ['web', 'v1'],
            ['web:v1', 'running'],
          ]),
        ],
      ]),
      failDeployOn: '1.1.1.2',
    };
    const { k, runner } = setup({ fleet, options: { hosts: '1.1.1.1,1.1.1.2', allOrNothing: true } });
    await expect(deploy(k, { skipPush: true })).rejects.toThrow(/1\.1\.1\.2/);
    const t = runner.transcript;
    const switched = idx(t, '1.1.1.1', /kamal-proxy deploy app-web/);
    const restartOld = t.findIndex((c, i) => i > switched && c.host === '1.1.1.1' && /name=\^app-web-v1\$' --quiet \| xargs docker start/.test(c.command));
    const redeployOld = t.findIndex((c, i) => i > restartOld && c.host === '1.1.1.1' && /kamal-proxy deploy app-web --target="c0ffee:80"/.test(c.command));
    const stopNew = t.findIndex((c, i) => i > redeployOld && c.host === '1.1.1.1' && /name=\^app-web-v2\$' --quiet \| xargs docker stop/.test(c.command));
    expect(restartOld).toBeGreaterThan(switched);
    expect(redeployOld).toBeGreaterThan(restartOld);
    expect(stopNew).toBeGreaterThan(redeployOld);
    expect(k.boots!.filter((b) => b.reverted).map((b) => b.host)).toEqual(['1.1.1.1']);
    expect(t.at(-1)!.command).toBe('rm .kamal/lock-app/details && rm -r .kamal/lock-app');
  });

  it('a cancel during the rollout reverts what this run started and releases the lock', async () => {
    const fleet: Fleet = {
      running: new Map([
        [
          '1.1.1.1',
          new Map([
            ['web', 'v1'],
            ['web:v1', 'running'],
          ]),
        ],
      ]),
    };
    const controller = new AbortController();
    const { k, runner } = setup({ fleet, options: { hosts: '1.1.1.1' } });
    k.signal = controller.signal;
    const respond = runner.respond;
    runner.respond = (host, command) => {
      if (/kamal-proxy deploy app-web/.test(command) && !controller.signal.aborted) controller.abort(new Error('Cancelled by SIGINT'));
      return respond(host, command);
    };
    await expect(deploy(k, { skipPush: true })).rejects.toThrow(/Cancelled/);
    const t = runner.transcript;
    const first = idx(t, '1.1.1.1', /kamal-proxy deploy app-web/);
    expect(t.findIndex((c, i) => i > first && /kamal-proxy deploy app-web --target="c0ffee:80"/.test(c.command))).toBeGreaterThan(first);
    expect(t.some((c) => /name=\^app-web-v2\$' --quiet \| xargs docker stop/.test(c.command))).toBe(true);
    expect(t.at(-1)!.command).toBe('rm .kamal/lock-app/details && rm -r .kamal/lock-app');
    expect(fleet.lockHeld).toBe(false);
  });
});
