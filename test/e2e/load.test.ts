/**
 * Sustained load through kamal-proxy on three hosts for at least 60 seconds while versions
 * change: repeated deploys and a rollback. Not one request may fail. The load client is
 * bounded in requests and time and only targets the lab hosts on 127.0.0.x.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Traffic, httpGet, kamal, lab, makeProject, proxyRunYaml, resetHosts } from './helpers.js';

const HOST = 'load.lab.test';
const MIN_SECONDS = 60;

describe('sustained traffic across deploys and a rollback', () => {
  let dir: string;
  const hosts = () => lab().hosts.slice(0, 3);

  beforeAll(async () => {
    resetHosts(hosts());
    dir = makeProject({
      service: 'load',
      yaml: `servers:
  web:
${hosts()
  .map((h) => `    - ${h.ip}`)
  .join('\n')}
proxy:
  host: ${HOST}
  app_port: 80
  healthcheck:
    interval: 1
${proxyRunYaml()}readiness_delay: 0
drain_timeout: 5
retain_containers: 3
`,
    });
    for (const v of ['l2', 'l3']) {
      const b = await kamal(dir, ['build', 'push', '--version', v], { VERSION: v });
      expect(b.exitCode, b.err).toBe(0);
    }
    const r = await kamal(dir, ['setup', '--version', 'l1'], { VERSION: 'l1' });
    expect(r.exitCode, r.err).toBe(0);
  });

  it(`serves every request for at least ${MIN_SECONDS} s through deploys and a rollback`, async () => {
    const targets = hosts().map((h) => ({ ip: h.ip, host: HOST }));
    const started = Date.now();
    const traffic = new Traffic(targets, { maxRequests: 400_000, maxMs: 5 * 60_000, pauseMs: 2 }).start();
    const steps: string[] = [];
    const order: [string[], string][] = [
      [['deploy', '--version', 'l2', '--skip-push'], 'l2'],
      [['deploy', '--version', 'l3', '--skip-push'], 'l3'],
      [['rollback', 'l2'], 'l2'],
      [['deploy', '--version', 'l3', '--skip-push'], 'l3'],
    ];
    let i = 0;
    // Keep changing versions until the minimum time has passed (and at least once through the list).
    while (i < order.length || Date.now() - started < MIN_SECONDS * 1000) {
      const [args, expected] = order[i % order.length]!;
      const r = await kamal(dir, args);
      expect(r.exitCode, r.err).toBe(0);
      for (const h of hosts()) expect((await httpGet(h.ip, '/', HOST)).body).toBe(`${expected}\n`);
      steps.push(args.slice(0, 2).join(' '));
      i++;
    }
    const { served, failed } = await traffic.stop();
    const seconds = (Date.now() - started) / 1000;
    const rate = served / seconds;
    process.stdout.write(
      `load: ${served} served, ${failed} failed in ${seconds.toFixed(1)} s (${rate.toFixed(0)} req/s over ${targets.length} hosts) across ${steps.length} version changes: ${steps.join(', ')}\n`,
    );
    expect(traffic.failures).toEqual([]);
    expect(failed).toBe(0);
    expect(seconds).toBeGreaterThanOrEqual(MIN_SECONDS);
    expect(served).toBeGreaterThan(1000);
    expect([...traffic.versions.keys()].sort()).toEqual(['l1', 'l2', 'l3']);
  });
});
