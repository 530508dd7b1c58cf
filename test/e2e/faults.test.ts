/**
 * Faults during a rollout to three hosts. Each one must end with a clear error naming the host,
 * every host still serving a version, and the deploy lock released. A host restart must bring
 * the apps and the proxy back with their routes.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { MemoryReporter, type Reporter } from '../../src/engine/reporter.js';
import {
  disconnectHost,
  docker,
  hostExec,
  reconnectHost,
  restartHost,
  restartHostDockerd,
  startRegistry,
  startSshd,
  stopRegistry,
  waitFor,
} from '../lab/lab.js';
import { httpGet, kamal, lab, makeProject, proxyRunYaml, resetHosts } from './helpers.js';

const HOST = 'faults.lab.test';

/** Fires `fire` once, the first time a command matching `match` is about to run on `host`. */
class Trigger implements Reporter {
  readonly memory = new MemoryReporter();
  fired: Promise<void> | undefined;
  constructor(
    private readonly host: string,
    private readonly match: RegExp,
    private readonly fire: () => Promise<void>,
  ) {}
  say(m: string, l?: Parameters<Reporter['say']>[1]): void {
    this.memory.say(m, l);
  }
  hostOutput(h: string, o: string, t?: string): void {
    this.memory.hostOutput(h, o, t);
  }
  write(t: string): void {
    this.memory.write(t);
  }
  command(h: string, c: string): void {
    this.memory.command(h, c);
    if (!this.fired && h === this.host && this.match.test(c)) this.fired = this.fire();
  }
}

describe('faults during a rollout to three hosts', () => {
  let dir: string;
  let version = 1;
  const hosts = () => lab().hosts.slice(0, 3);
  const env = () => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LAB_REGISTRY_PASSWORD: lab().registry.password,
    KAMAL_ACTION_KNOWN_HOSTS: lab().ssh.knownHosts,
  });

  async function deployWith(trigger: Trigger, args: string[] = []) {
    const v = `f${++version}`;
    let err = '';
    const r = await runCli(['deploy', '--version', v, '--skip-push', ...args], {
      cwd: dir,
      env: env(),
      reporter: trigger,
      out: () => undefined,
      err: (s) => void (err += s),
      confirm: async () => true,
    });
    await trigger.fired;
    return { ...r, err, version: v };
  }

  /** Every host answers through its proxy with one of the versions deployed so far. */
  async function everyHostServes(): Promise<string[]> {
    const bodies: string[] = [];
    for (const h of hosts()) {
      const r = await httpGet(h.ip, '/', HOST);
      expect(r.status, `${h.ip} answers`).toBe(200);
      expect(r.body.trim(), `${h.ip} serves a deployed version`).toMatch(/^f\d+$/);
      bodies.push(r.body.trim());
    }
    return bodies;
  }

  async function lockReleased(): Promise<void> {
    const s = await kamal(dir, ['lock', 'status']);
    expect(s.reporter.text).toMatch(/There is no deploy lock/);
  }

  beforeAll(async () => {
    resetHosts(hosts());
    dir = makeProject({
      service: 'faults',
      yaml: `servers:\n  web:\n${hosts()
        .map((h) => `    - ${h.ip}`)
        .join(
          '\n',
        )}\nproxy:\n  host: ${HOST}\n  app_port: 80\n  healthcheck:\n    interval: 1\n${proxyRunYaml()}deploy_timeout: 10\ndrain_timeout: 2\nreadiness_delay: 0\nretain_containers: 2\n`,
    });
    // One image for every version: deploys below only pull and boot.
    for (let i = 1; i <= 12; i++) {
      const b = await kamal(dir, ['build', 'push', '--version', `f${i}`], { VERSION: `f${i}` });
      expect(b.exitCode, b.err).toBe(0);
    }
    const r = await kamal(dir, ['setup', '--version', 'f1', '--skip-push']);
    expect(r.exitCode, r.err).toBe(0);
    await everyHostServes();
  });

  afterEach(async () => {
    // undo whatever a fault left, then make sure a normal deploy works again
    for (const h of hosts()) {
      await reconnectHost(h).catch(() => undefined);
      await startSshd(h).catch(() => undefined);
    }
    await startRegistry().catch(() => undefined);
    const r = await kamal(dir, ['deploy', '--version', `f${++version}`, '--skip-push']);
    expect(r.exitCode, `a deploy after the fault works: ${r.err}`).toBe(0);
    const bodies = await everyHostServes();
    expect(new Set(bodies)).toEqual(new Set([`f${version}`]));
  });

  it('sshd killed on one host mid-rollout', async () => {
    const victim = hosts()[2]!;
    const t = new Trigger(victim.ip, /^docker run /, () => hostExec(victim, 'pkill -KILL -x sshd; true').then(() => undefined));
    const r = await deployWith(t);
    expect(r.exitCode).toBe(1);
    expect(r.err).toContain(victim.ip);
    await everyHostServes();
    await lockReleased();
  });

  it('the proxy container killed on one host mid-rollout', async () => {
    const victim = hosts()[1]!;
    const t = new Trigger(victim.ip, /^docker run --detach --restart unless-stopped --name faults-web/, () =>
      hostExec(victim, 'docker kill kamal-proxy >/dev/null').then(() => undefined),
    );
    const r = await deployWith(t);
    expect(r.exitCode).toBe(1);
    expect(r.err).toContain(victim.ip);
    // the proxy has restart: unless-stopped, but a killed container stays down: boot it back
    const boot = await kamal(dir, ['proxy', 'boot']);
    expect(boot.exitCode, boot.err).toBe(0);
    await waitFor('the proxy to route again', async () => (await httpGet(victim.ip, '/', HOST).catch(() => ({ status: 0 }))).status === 200, {
      timeoutMs: 30_000,
    });
    await everyHostServes();
    await lockReleased();
  });

  it('the registry stopped before the pull', async () => {
    const first = hosts()[0]!;
    const t = new Trigger(first.ip, /^docker login /, () => stopRegistry());
    const r = await deployWith(t);
    expect(r.exitCode).toBe(1);
    expect(r.err).toMatch(/127\.0\.0\.\d/);
    expect(r.err).toMatch(/registry/);
    await everyHostServes();
    await lockReleased();
  });

  it('dockerd restarted on one host mid-rollout', async () => {
    const victim = hosts()[2]!;
    const t = new Trigger(victim.ip, /^docker run /, () => restartHostDockerd(victim));
    const r = await deployWith(t);
    // the restart may land before or after the command: either the rollout fails naming the
    // host, or it went through; both leave every host serving
    if (r.exitCode !== 0) expect(r.err).toContain(victim.ip);
    // its containers (restart: unless-stopped) come back with dockerd, the proxy with its routes
    await waitFor('the restarted host to route again', async () => (await httpGet(victim.ip, '/', HOST).catch(() => ({ status: 0 }))).status === 200, {
      timeoutMs: 60_000,
    });
    await everyHostServes();
    await lockReleased();
  });

  it('one host cut off from the network mid-rollout', async () => {
    const victim = hosts()[2]!;
    const t = new Trigger(victim.ip, /^docker run /, () => disconnectHost(victim));
    const r = await deployWith(t);
    expect(r.exitCode).toBe(1);
    expect(r.err).toContain(victim.ip);
    await reconnectHost(victim);
    await everyHostServes();
    await lockReleased();
  });

  it('a restarted host comes back with its app and proxy routes', async () => {
    const victim = hosts()[1]!;
    const before = (await httpGet(victim.ip, '/', HOST)).body;
    await restartHost(victim);
    await waitFor(
      'the app to answer after the restart',
      async () => (await httpGet(victim.ip, '/', HOST).catch(() => ({ status: 0, body: '' }))).status === 200,
      {
        timeoutMs: 60_000,
      },
    );
    expect((await httpGet(victim.ip, '/', HOST)).body).toBe(before);
    const ps = await docker(['exec', victim.container, 'docker', 'ps', '--format', '{{.Names}}']);
    expect(ps.stdout).toMatch(/kamal-proxy/);
  });
});
