/**
 * Deploys to the lab over real SSH: two roles on three hosts, continuous
 * traffic through kamal-proxy across consecutive deploys, a failing health
 * check, rollback, the deploy lock and hooks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Traffic, httpGet, kamal, lab, makeProject, onHost, proxyRunYaml, resetHosts } from './helpers.js';

const HOST = 'app.lab.test';

function config(l = lab()): string {
  const [a, b, c] = l.hosts;
  return `servers:
  web:
    hosts:
      - ${a!.ip}
      - ${b!.ip}
  job:
    hosts:
      - ${c!.ip}
    cmd: sh -c "echo job $VERSION started; while true; do sleep 1; done"
proxy:
  host: ${HOST}
  app_port: 80
  healthcheck:
    interval: 1
${proxyRunYaml()}
env:
  clear:
    FAIL_HEALTH: <%= ENV.fetch("FAIL_HEALTH", "0") %>
deploy_timeout: 8
drain_timeout: 5
readiness_delay: 0
retain_containers: 3
`;
}

const HOOK = (file: string) => `#!/bin/sh
{ echo "hook=$(basename "$0")"; env | grep '^KAMAL_' | sort; echo ---; } >> ${file}
`;

describe('deploy to the lab', () => {
  let dir: string;
  let hookLog: string;
  const web = () => lab().hosts.slice(0, 2);

  beforeAll(() => {
    resetHosts();
    hookLog = join(lab().labDir, `hooks-${process.pid}.log`);
    dir = makeProject({
      yaml: config(),
      hooks: { 'pre-deploy': HOOK(hookLog), 'post-deploy': HOOK(hookLog), 'pre-connect': HOOK(hookLog) },
    });
  });

  async function deploy(version: string, extra: string[] = [], env: Record<string, string> = {}) {
    return kamal(dir, ['deploy', '--version', version, ...extra], { VERSION: version, ...env });
  }

  it('setup boots two roles on three hosts and the web role serves the version through the proxy', async () => {
    const r = await kamal(dir, ['setup', '--version', 'v1'], { VERSION: 'v1' });
    expect(r.err).toBe('');
    expect(r.exitCode).toBe(0);
    for (const h of web()) {
      const res = await httpGet(h.ip, '/', HOST);
      expect(res).toEqual({ status: 200, body: 'v1\n' });
    }
    const job = lab().hosts[2]!;
    expect(onHost(job, "docker ps --filter label=service=app --filter label=role=job --format '{{.Names}}'")).toBe('app-job-v1');
    // files and names a `kamal` run would find on the host
    expect(onHost(web()[0]!, 'stat -c %a .kamal/apps/app/env/roles/web.env')).toBe('600');
    expect(onHost(web()[0]!, 'ls .kamal')).toMatch(/app-audit\.log/);
  });

  it('serves every request through three consecutive deploys under continuous traffic', async () => {
    const traffic = new Traffic(
      web().map((h) => ({ ip: h.ip, host: HOST })),
      { maxRequests: 50_000, maxMs: 5 * 60_000, pauseMs: 2 },
    ).start();
    for (const v of ['v2', 'v3', 'v4']) {
      const r = await deploy(v);
      expect(r.exitCode, r.err).toBe(0);
    }
    const { served, failed } = await traffic.stop();
    console.log(`traffic across 3 deploys: ${served} served, ${failed} failed`, traffic.failures);
    expect(failed).toBe(0);
    expect(served).toBeGreaterThanOrEqual(1000);
    for (const h of web()) expect((await httpGet(h.ip, '/', HOST)).body).toBe('v4\n');
    const job = lab().hosts[2]!;
    expect(onHost(job, "docker ps --filter label=role=job --format '{{.Names}}'")).toBe('app-job-v4');
    // prune keeps retain_containers stopped containers
    const names = onHost(web()[0]!, "docker ps -a --filter label=service=app --format '{{.Names}}'").split('\n');
    expect(names).toContain('app-web-v4');
    expect(names.length).toBeLessThanOrEqual(4);
  });

  it('a version whose health check fails leaves the old one serving, with zero failed requests and a non-zero exit', async () => {
    const traffic = new Traffic(
      web().map((h) => ({ ip: h.ip, host: HOST })),
      { maxRequests: 50_000, maxMs: 2 * 60_000, pauseMs: 2 },
    ).start();
    // not `bad`: that tag is the lab's own failing image, which a build here would overwrite
    const r = await deploy('unhealthy', [], { FAIL_HEALTH: '1' });
    const { served, failed } = await traffic.stop();
    expect(r.exitCode).toBe(1);
    expect(r.err).toMatch(/target failed to become healthy/);
    expect(r.err).toMatch(/127\.0\.0\.[23]/);
    expect(r.err).toMatch(/app version=unhealthy/);
    expect(failed).toBe(0);
    expect(served).toBeGreaterThan(0);
    for (const h of web()) expect((await httpGet(h.ip, '/', HOST)).body).toBe('v4\n');
    // the failed container is stopped and the lock released
    expect(onHost(web()[0]!, "docker ps --filter name=app-web-unhealthy --format '{{.Names}}'")).toBe('');
    expect((await kamal(dir, ['lock', 'status'])).reporter.text).toMatch(/There is no deploy lock/);
  });

  it('rollback restores the previous version', async () => {
    const r = await kamal(dir, ['rollback', 'v3']);
    expect(r.exitCode, r.err).toBe(0);
    for (const h of web()) expect((await httpGet(h.ip, '/', HOST)).body).toBe('v3\n');
    const v = await kamal(dir, ['app', 'version', '-q']);
    expect(v.reporter.outputs.map((o) => o.output)).toEqual(['v3', 'v3', 'v3']);
  });

  it("a second deploy while the lock is held fails with the holder's details", async () => {
    const held = await kamal(dir, ['lock', 'acquire', '-m', 'Migrating the database']);
    expect(held.exitCode, held.err).toBe(0);
    // v4 is in the registry already: Kamal pulls before it takes the lock
    const r = await deploy('v4', ['--skip-push']);
    expect(r.exitCode).toBe(1);
    expect(r.err).toMatch(/Deploy lock found/);
    expect(r.err).toMatch(/Message: Migrating the database/);
    expect(r.err).toMatch(/Locked by: /);
    const released = await kamal(dir, ['lock', 'release']);
    expect(released.exitCode).toBe(0);
  });

  it("ran the hooks with Kamal's variables", () => {
    const log = readFileSync(hookLog, 'utf8');
    const runs = log.split('---\n').filter(Boolean);
    const preDeploy = runs.find((r) => r.includes('hook=pre-deploy') && r.includes('KAMAL_VERSION=v2'));
    expect(preDeploy).toBeDefined();
    expect(preDeploy).toContain('KAMAL_SERVICE=app');
    expect(preDeploy).toContain('KAMAL_COMMAND=deploy');
    // the config's three hosts (the lab may hold more)
    expect(preDeploy).toContain(
      `KAMAL_HOSTS=${lab()
        .hosts.slice(0, 3)
        .map((h) => h.ip)
        .join(',')}`,
    );
    expect(preDeploy).toMatch(/KAMAL_RECORDED_AT=\d{4}-\d\d-\d\dT/);
    const postDeploy = runs.find((r) => r.includes('hook=post-deploy') && r.includes('KAMAL_VERSION=v2'));
    expect(postDeploy).toMatch(/KAMAL_RUNTIME=\d+/);
    expect(runs.some((r) => r.includes('hook=pre-connect'))).toBe(true);
    const rollback = runs.find((r) => r.includes('KAMAL_COMMAND=rollback') && r.includes('hook=pre-deploy'));
    expect(rollback).toContain('KAMAL_VERSION=v3');
  });
});
