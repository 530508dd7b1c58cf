/**
 * Ctrl-C in a terminal: SIGINT to the process group of `bin/kamal-action deploy` while the new
 * version's containers run and kamal-proxy's deploy to them is pending on both hosts (the new
 * version boots slowly, BOOT_DELAY). The CLI must stop the new containers and keep the proxy on the
 * old version on every host, release the lock and exit 130; the hosts keep serving the old version
 * for longer than the interrupted deploy could have taken to land. Then a deploy succeeds.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, httpGet, kamal, lab, labProxyYaml, makeProject, onHost, resetHosts, type LabHost } from './helpers.js';
import { cancelLikeRunner, proxyDeployPending, runningContainers, tally, waitUntil, watchServing } from './cancel-helpers.js';

const SERVICE = 'cancelapp';
const HOST = 'cancel.lab.test';
const CLI = join(ROOT, 'bin/kamal-action');
const BOOT_DELAY = 8;
const DEPLOY_TIMEOUT = 15;

describe('Ctrl-C during a rollout from the CLI', () => {
  let dir: string;
  const web = (): LabHost[] => lab().hosts.slice(0, 2);
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    LAB_REGISTRY_PASSWORD: lab().registry.password,
    KAMAL_ACTION_KNOWN_HOSTS: lab().ssh.knownHosts,
    ...extra,
  });
  const serving = async (): Promise<string[]> => Promise.all(web().map(async (h) => (await httpGet(h.ip, '/', HOST)).body.trim()));
  const lockDirs = (): string => onHost(web()[0]!, `ls -d /root/.kamal/lock-${SERVICE}* 2>/dev/null || true`);

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/index.js'))) throw new Error('dist/cli/index.js is missing: run npm run build');
    resetHosts(web());
    dir = makeProject({
      service: SERVICE,
      yaml: `servers:
  web:
    hosts:
${web()
  .map((h) => `      - ${h.ip}`)
  .join('\n')}
env:
  clear:
    BOOT_DELAY: <%= ENV.fetch("BOOT_DELAY", "0") %>
${labProxyYaml(HOST, DEPLOY_TIMEOUT)}`,
    });
    const first = await kamal(dir, ['deploy', '-P', '--version', 'v1']);
    expect(first.exitCode, first.err).toBe(0);
    expect(await serving()).toEqual(['v1', 'v1']);
  });

  it('SIGINT to the process group with the proxy deploy pending on both hosts: exit 130, v1 served throughout, v3 stopped, the lock released; a deploy then succeeds', async () => {
    const child = spawn(process.execPath, [CLI, 'deploy', '--version', 'v3'], {
      cwd: dir,
      env: env({ VERSION: 'v3', BOOT_DELAY: String(BOOT_DELAY) }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, as a terminal's foreground job
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    const explain = () => `--- stdout\n${stdout.slice(-5000)}\n--- stderr\n${stderr.slice(-3000)}`;

    await waitUntil(
      'v3 running with a pending proxy deploy on both hosts',
      async () => (await Promise.all(web().map((h) => proxyDeployPending(h, `${SERVICE}-web-v3`)))).every(Boolean),
      { timeoutMs: 120_000, alive: () => child.exitCode === null },
    ).catch((e: Error) => {
      child.kill('SIGKILL');
      throw new Error(`${e.message}\n${explain()}`);
    });
    // every request from the signal until the interrupted deploy's timeout has passed
    const watching = watchServing(web(), HOST, Date.now() + (DEPLOY_TIMEOUT + 3) * 1000);
    const cancel = cancelLikeRunner(child, { group: true });
    const { code, signal } = await closed;
    const exitedAfterMs = await cancel.exited;
    process.stderr.write(`[cancel] CLI exited ${exitedAfterMs} ms after SIGINT\n`);

    expect(signal, explain()).toBeNull();
    expect(code, explain()).toBe(130);
    expect(stderr).toContain('Received SIGINT');
    expect(stderr).toMatch(/Cancelled: Cancelled by SIGINT\n$/);
    for (const h of web()) expect(stdout + stderr, explain()).toContain(`Reverted web on ${h.ip} to v1`);
    expect(lockDirs()).toBe('');

    // ... is served by v1
    const served = await watching;
    expect(served.requests).toBeGreaterThan(20);
    expect(tally(served)).toEqual(Object.fromEntries(web().map((h) => [h.ip, { v1: served.answers.get(h.ip)!.length }])));
    for (const h of web()) expect(await runningContainers(h, `${SERVICE}-web-v3`), `v3 still running on ${h.ip}`).toBe('');

    // nothing is left in the way of the next deploy of the same version
    const again = await kamal(dir, ['deploy', '--version', 'v3'], { VERSION: 'v3', BOOT_DELAY: '0' });
    expect(again.exitCode, again.err).toBe(0);
    expect(await serving()).toEqual(['v3', 'v3']);
    expect(lockDirs()).toBe('');
  });
});
