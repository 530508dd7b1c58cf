/**
 * All-or-nothing: the fixture app's two web hosts run v1; v2 boots on both
 * and kamal-proxy's health check fails on the second host. With
 * `--all-or-nothing` the first host, already switched to v2, is put back on
 * v1 (v1 started, the proxy routed to it, v2 stopped, in that order); without
 * it (Kamal's behaviour) the first host keeps v2. Both with the hosts booted
 * in parallel (the default) and one at a time (`boot: limit: 1`).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import type { BootRecord } from '../../../src/engine/app.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { RecordingRunner, type RecordedCommand } from '../../../test/support/recording.js';
import { Fleet, LOCK_RELEASE, STACK_FRAME, WEB1, WEB2, copyApp, removeDirs, testEnv } from './fleet.js';

const dirs: string[] = [];
afterAll(() => removeDirs(dirs));

const PROXY_DEPLOY = 'docker exec kamal-proxy kamal-proxy deploy app-web ';
const stop = (v: string): string => `docker container ls --all --filter 'name=^app-web-${v}$' --quiet | xargs docker stop`;
const start = (v: string): string => `docker container ls --all --filter 'name=^app-web-${v}$' --quiet | xargs docker start`;
const logs = (v: string): string => `docker container ls --all --filter 'name=^app-web-${v}$' --quiet | xargs docker logs --timestamps --tail 20 2>&1`;
const runsV2 = (c: string): boolean => c.startsWith('docker run --detach --restart unless-stopped --name app-web-v2 ');

async function deploy(opts: { allOrNothing: boolean; oneAtATime?: boolean; previous?: string; viaEnv?: boolean }) {
  const dir = copyApp(dirs);
  if (opts.oneAtATime) appendFileSync(join(dir, 'config/deploy.yml'), 'boot:\n  limit: 1\n');
  const fleet = new Fleet();
  if (opts.previous) fleet.deployed(WEB1, 'web', opts.previous).deployed(WEB2, 'web', opts.previous);
  fleet.failProxyDeployOn.add(WEB2);
  const runner = new RecordingRunner(fleet.respond);
  const reporter = new MemoryReporter();
  let err = '';
  const args = ['deploy', '--version', 'v2', '-r', 'web', '--skip-push', ...(opts.allOrNothing && !opts.viaEnv ? ['--all-or-nothing'] : [])];
  const env = opts.viaEnv ? { ...testEnv(), KAMAL_ACTION_ALL_OR_NOTHING: 'true' } : testEnv();
  const result = await runCli(args, { cwd: dir, env, out: () => undefined, err: (s) => (err += s), runner, local: runner, reporter });
  const t = runner.transcript;
  return { result, err, t, fleet, reporter, boots: (result.kamal?.boots ?? []) as BootRecord[] };
}

const on = (t: readonly RecordedCommand[], host: string): string[] => t.filter((c) => c.host === host).map((c) => c.command);
/** The commands sent to `host` after the first one matching `from`. */
function after(t: readonly RecordedCommand[], host: string, from: (c: string) => boolean): string[] {
  const list = on(t, host);
  const i = list.findIndex(from);
  expect(i, `no matching command on ${host}`).toBeGreaterThanOrEqual(0);
  return list.slice(i + 1);
}
const index = (t: readonly RecordedCommand[], host: string, command: string): number => t.findIndex((c) => c.host === host && c.command === command);

/** The error for the second host, exactly as printed. */
function failure(t: readonly RecordedCommand[]): string {
  const proxyDeploy = on(t, WEB2).find((c) => c.startsWith(PROXY_DEPLOY))!;
  return [
    `Command failed: command failed on ${WEB2} (exit 1): ${proxyDeploy}`,
    '  Error: target failed to become healthy within configured timeout (30s)',
    `Last log lines of web on ${WEB2}:`,
    '  booting',
    '  listening on 3000',
    'The new container did not answer its health check in time; the previous version keeps serving. ' +
      'Check proxy/healthcheck/path (default /up, must answer 2xx without redirecting), proxy/app_port, and deploy_timeout.',
    '',
  ].join('\n');
}

describe.each([
  ['hosts booted in parallel', false],
  ['hosts booted one at a time (boot: limit: 1)', true],
] as const)('a failure on the second host, %s', (_name, oneAtATime) => {
  it('--all-or-nothing puts v1 back on the first host: start v1, route the proxy to it, stop v2', async () => {
    const { result, err, t, fleet, reporter, boots } = await deploy({ allOrNothing: true, oneAtATime, previous: 'v1' });
    expect(result.exitCode).toBe(1);
    expect(err).toBe(failure(t));
    expect(err).not.toMatch(STACK_FRAME);

    const v1 = fleet.host(WEB1).containers.get('app-web-v1')!.id;
    const switched = on(t, WEB1).find((c) => c.startsWith(PROXY_DEPLOY))!;
    expect(switched).toContain('--target="c3webv2:3000"');
    // the first host: switched to v2, stopped v1 (the normal rollout), then the revert, then the lock
    expect(after(t, WEB1, (c) => c === switched)).toEqual([
      stop('v1'),
      start('v1'),
      "docker container ls --filter 'name=^app-web-v1$' --quiet",
      switched.replace('--target="c3webv2:3000"', `--target="${v1}:3000"`),
      stop('v2'),
      LOCK_RELEASE,
    ]);
    // the second host: its failed boot stops its own v2 and nothing more
    expect(after(t, WEB2, (c) => c.startsWith(PROXY_DEPLOY))).toEqual([logs('v2'), stop('v2')]);
    // the revert starts once the second host has failed and cleaned up
    expect(index(t, WEB1, start('v1'))).toBeGreaterThan(index(t, WEB2, stop('v2')));
    if (oneAtATime) expect(index(t, WEB1, stop('v1'))).toBeLessThan(t.findIndex((c) => c.host === WEB2 && runsV2(c.command)));
    expect(t.at(-1)).toEqual({ host: WEB1, command: LOCK_RELEASE });

    for (const host of [WEB1, WEB2]) {
      expect(fleet.routedVersion(host, 'web')).toBe('v1');
      expect(fleet.runningVersions(host, 'web')).toEqual(['v1']);
    }
    expect(fleet.locks.size).toBe(0);
    expect(boots.map((b) => [b.host, b.ok, !!b.reverted])).toEqual([
      [WEB1, true, true],
      [WEB2, false, false],
    ]);
    const warnings = reporter.messages.filter((m) => m.level === 'warn').map((m) => m.message);
    expect(warnings).toEqual(['All-or-nothing: putting the previous version back on every host...', `Reverted web on ${WEB1} to v1`]);
  });

  it('KAMAL_ACTION_ALL_OR_NOTHING=true in the environment given to the run does the same as the flag', async () => {
    const { fleet, boots } = await deploy({ allOrNothing: true, viaEnv: true, oneAtATime, previous: 'v1' });
    expect(fleet.routedVersion(WEB1, 'web')).toBe('v1');
    expect(fleet.runningVersions(WEB1, 'web')).toEqual(['v1']);
    expect(boots.some((b) => b.reverted)).toBe(true);
  });

  it("without it (Kamal's default) the first host keeps v2", async () => {
    const { result, err, t, fleet, reporter, boots } = await deploy({ allOrNothing: false, oneAtATime, previous: 'v1' });
    expect(result.exitCode).toBe(1);
    expect(err).toBe(failure(t));

    const switched = on(t, WEB1).find((c) => c.startsWith(PROXY_DEPLOY))!;
    expect(after(t, WEB1, (c) => c === switched)).toEqual([stop('v1'), LOCK_RELEASE]);
    expect(after(t, WEB2, (c) => c.startsWith(PROXY_DEPLOY))).toEqual([logs('v2'), stop('v2')]);
    expect(t.some((c) => c.command.includes('xargs docker start'))).toBe(false);

    expect(fleet.routedVersion(WEB1, 'web')).toBe('v2');
    expect(fleet.runningVersions(WEB1, 'web')).toEqual(['v2']);
    expect(fleet.routedVersion(WEB2, 'web')).toBe('v1');
    expect(fleet.runningVersions(WEB2, 'web')).toEqual(['v1']);
    expect(fleet.locks.size).toBe(0);
    expect(boots.some((b) => b.reverted)).toBe(false);
    expect(reporter.messages.filter((m) => m.level === 'warn')).toEqual([]);
  });
});

describe('all-or-nothing on a first deploy', () => {
  it('stops v2 on the first host: there is no previous version to put back', async () => {
    const { result, t, fleet, reporter } = await deploy({ allOrNothing: true });
    expect(result.exitCode).toBe(1);
    const switched = on(t, WEB1).find((c) => c.startsWith(PROXY_DEPLOY))!;
    expect(after(t, WEB1, (c) => c === switched)).toEqual([stop('v2'), LOCK_RELEASE]);
    for (const host of [WEB1, WEB2]) expect(fleet.runningVersions(host, 'web')).toEqual([]);
    expect(reporter.messages.map((m) => m.message)).toContain(`Reverted web on ${WEB1} to nothing (first deploy)`);
  });
});
