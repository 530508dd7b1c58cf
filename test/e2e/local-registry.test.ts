/**
 * A local registry (`registry.server: localhost:PORT`, Kamal 2.8): the image is
 * pushed to kamal-docker-registry on this machine, and each host pulls it from
 * its own 127.0.0.1:PORT through a reverse SSH tunnel that exists only while
 * the pull runs. No registry login anywhere; `registry login` is refused with
 * Kamal's message, `registry remove` removes the local registry container.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, kamal, lab, labProxyYaml, makeProject, onHost, resetHosts, type KamalRun, type LabHost } from './helpers.js';

const SERVICE = 'lreg';
const HOST = 'lreg.lab.test';
const PORT = 5555;
const IMAGE = `localhost:${PORT}/lab/${SERVICE}`;

function ok(r: KamalRun): KamalRun {
  expect(r.exitCode, r.err).toBe(0);
  return r;
}

const localRegistryContainers = (): string =>
  execFileSync('docker', ['ps', '-a', '--filter', 'name=^kamal-docker-registry$', '--format', '{{.Names}} {{.Status}} {{.Ports}}']).toString().trim();

/** Whether anything listens on the host's 127.0.0.1:`port` (the tunnel's end for PORT). */
const listening = (h: LabHost, port = PORT): boolean =>
  onHost(h, `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' 2>/dev/null && echo open || echo closed`) === 'open';

describe('local registry through SSH tunnels', () => {
  let dir: string;
  let h2: LabHost, h3: LabHost;

  beforeAll(() => {
    const l = lab();
    [, h2, h3] = l.hosts as [LabHost, LabHost, LabHost];
    resetHosts([h2, h3]);
    // kamal-proxy's image comes from the lab's registry (with authentication) in place of Docker Hub:
    // put it on the hosts beforehand, since nothing logs in to a registry with a local one
    for (const h of [h2, h3]) {
      onHost(
        h,
        `echo '${l.registry.password}' | docker login ${l.registry.server} -u ${l.registry.username} --password-stdin >/dev/null && docker pull -q ${l.proxyImage.image} >/dev/null; docker logout ${l.registry.server} >/dev/null`,
      );
    }
    execFileSync('docker', ['rm', '-f', 'kamal-docker-registry'], { stdio: 'ignore' });
    dir = makeProject({
      service: SERVICE,
      registry: `  server: localhost:${PORT}\n`,
      yaml: `servers:\n  - ${h2.ip}\n  - ${h3.ip}\n${labProxyYaml(HOST)}`,
      secrets: '',
    });
  });

  afterAll(async () => {
    if (dir) await kamal(dir, ['registry', 'remove']);
    execFileSync('docker', ['rm', '-f', 'kamal-docker-registry'], { stdio: 'ignore' });
  });

  it('deploys twice: pushes to kamal-docker-registry here, pulls on each host through its tunnel, then closes it', async () => {
    for (const v of ['lr1', 'lr2']) {
      const r = ok(await kamal(dir, ['deploy', '--version', v], { VERSION: v }));
      const commands = r.reporter.commands.map((c) => `${c.host}: ${c.command}`);
      expect(commands).toContain(
        `local: docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:${PORT}:5000 --name kamal-docker-registry registry:3`,
      );
      for (const h of [h2, h3]) {
        expect(r.reporter.notes).toContainEqual({ host: h.ip, message: `Forwarding 127.0.0.1:${PORT} on ${h.ip} to localhost:${PORT}` });
        expect(commands).toContain(`${h.ip}: docker pull ${IMAGE}:${v}`);
        expect((await httpGet(h.ip, '/', HOST)).body).toBe(`${v}\n`);
        expect(listening(h), `tunnel on ${h.ip} still open after the deploy`).toBe(false);
        expect(listening(h, 22), 'the probe sees sshd').toBe(true);
        expect(onHost(h, `docker image inspect -f '{{ .Config.Labels.service }}' ${IMAGE}:${v}`)).toBe(SERVICE);
      }
      expect(commands.filter((c) => c.includes('docker login'))).toEqual([]);
      expect(r.reporter.messages.map((m) => m.message)).toContain(`Setting up local registry port forwarding to ${h2.ip}, ${h3.ip}...`);
    }
    expect(localRegistryContainers()).toMatch(new RegExp(`^kamal-docker-registry Up .*127\\.0\\.0\\.1:${PORT}->5000/tcp`));
  });

  it("refuses registry login and logout with Kamal's message; registry remove removes the local registry", async () => {
    const login = await kamal(dir, ['registry', 'login']);
    expect(login.exitCode).toBe(1);
    expect(login.err).toContain('Cannot use login command with a local registry. Use `kamal registry setup` instead.');
    const logout = await kamal(dir, ['registry', 'logout']);
    expect(logout.exitCode).toBe(1);
    expect(logout.err).toContain('Cannot use logout command with a local registry. Use `kamal registry remove` instead.');
    expect(login.reporter.commands).toEqual([]);

    ok(await kamal(dir, ['registry', 'remove']));
    expect(localRegistryContainers()).toBe('');
    ok(await kamal(dir, ['registry', 'setup']));
    expect(localRegistryContainers()).toMatch(/^kamal-docker-registry Up/);
  });
});
