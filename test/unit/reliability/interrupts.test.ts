/**
 * Interrupts: a 2-host deploy of the fixture app (`deploy -r web`, both web
 * hosts behind kamal-proxy, v1 running) is cancelled, as SIGINT/SIGTERM do in
 * src/cli/main.ts (controller.abort(new CancelledError('Cancelled by SIG...'))),
 * when the runner receives its Nth command, for every N of the whole deploy.
 * Each time:
 * - the run ends with exit code 130 and "Cancelled: Cancelled by SIG..." (or,
 *   when the signal came with the very last piece of work, the deploy is
 *   complete and exits 0);
 * - the deploy lock, when it was taken, is released by the last command;
 * - hosts where this run started v2 during the rollout get v1 back with the
 *   steps the boot's phase needs (src/engine/cancel.ts undoSteps, run by
 *   app.ts revertBoots) and nothing else: v2 started but the proxy never
 *   asked to route to it → v2 stopped; the proxy switched (and v1 perhaps
 *   stopped) → v1 started, the proxy routed to it, v2 stopped; a cancel after
 *   the rollout keeps v2 everywhere; either way both hosts end on the same
 *   version;
 * - a second run with a fresh runner then deploys v2.
 * Then the phase this runner cannot reach by itself, a proxy deploy still
 * pending when the signal comes (kamal-proxy goes on waiting for the health
 * check after its client is gone), on a model of the proxy that lets such a
 * deploy land at the worst moment; and `app undo_boot`, with which the
 * action's post step finishes an undo when the process was killed first.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPost } from '../../../src/action/run-post.js';
import { RecordingCore } from '../action/fakes.js';
import { runCli } from '../../../src/cli/run.js';
import { CancelledError, undoSteps, type BootPhase } from '../../../src/engine/cancel.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { RecordingRunner, type RecordedCommand, type Responder } from '../../../test/support/recording.js';
import { CommandAbortedError, type RunOptions, type RunResult } from '../../../src/exec/types.js';
import { display, type Command } from '../../../src/shell.js';
import { Fleet, LOCK_RELEASE, STACK_FRAME, WEB1, WEB2, copyApp, isLockAcquire, lines, removeDirs, testEnv } from './fleet.js';

const ARGS = ['deploy', '--version', 'v2', '-r', 'web'];
const HOSTS = [WEB1, WEB2];

const dirs: string[] = [];
afterAll(() => removeDirs(dirs));
const dir = copyApp(dirs);

/** v1 deployed on both web hosts (or nothing: a first deploy). */
function fleetWith(previous: string | undefined): Fleet {
  const fleet = new Fleet();
  if (previous) for (const h of HOSTS) fleet.deployed(h, 'web', previous);
  return fleet;
}

interface Run {
  exitCode: number;
  err: string;
  error: unknown;
  transcript: RecordedCommand[];
  /** Commands the runner had received when the signal came (0: no signal). */
  cut: number;
  reporter: MemoryReporter;
}

async function deploy(fleet: Fleet, opts: { abortAt?: number; signal?: 'SIGINT' | 'SIGTERM'; delayMs?: number } = {}): Promise<Run> {
  const controller = new AbortController();
  let received = 0;
  let cut = 0;
  const runner = new RecordingRunner({
    delayMs: opts.delayMs,
    respond: (host, command) => {
      const answer = fleet.respond(host, command);
      if (++received === opts.abortAt) {
        cut = runner.transcript.length;
        controller.abort(new CancelledError(`Cancelled by ${opts.signal ?? 'SIGINT'}`));
      }
      return answer;
    },
  });
  const reporter = new MemoryReporter();
  let err = '';
  const result = await runCli(ARGS, {
    cwd: dir,
    env: testEnv(),
    out: () => undefined,
    err: (s) => (err += s),
    runner,
    local: runner,
    reporter,
    signal: controller.signal,
  });
  return { exitCode: result.exitCode, err, error: result.error, transcript: runner.transcript, cut, reporter };
}

const commandsOn = (t: readonly RecordedCommand[], host: string): string[] => t.filter((c) => c.host === host).map((c) => c.command);
const stopOf = (version: string): string => `docker container ls --all --filter 'name=^app-web-${version}$' --quiet | xargs docker stop`;
/** The stop of a container started by a cancelled run: 2 s before SIGKILL (cancel.ts CANCEL_STOP_TIMEOUT). */
const cancelStopOf = (version: string): string => `${stopOf(version)} -t 2`;
const startOf = (version: string): string => `docker container ls --all --filter 'name=^app-web-${version}$' --quiet | xargs docker start`;
const runOf =
  (version: string) =>
  (c: string): boolean =>
    c.startsWith(`docker run --detach --restart unless-stopped --name app-web-${version} `);

/** The uninterrupted deploy: its transcript, and the 1-based index of the last command of the rollout (old version stopped). */
async function reference(previous: string | undefined) {
  const r = await deploy(fleetWith(previous));
  expect(r.err).toBe('');
  expect(r.exitCode).toBe(0);
  const t = r.transcript;
  const rolloutEnd = previous
    ? t.findLastIndex((c) => c.command === stopOf(previous)) + 1
    : t.findLastIndex((c) => c.command.startsWith('docker exec kamal-proxy kamal-proxy deploy app-web ')) + 1;
  expect(rolloutEnd).toBeGreaterThan(0);
  return { t, rolloutEnd };
}

/** The proxy deploy of `app-web` to the container `id`, as the rollout sends it on `host`. */
function proxyDeployTo(host: string, full: readonly RecordedCommand[], id: string): string {
  const proxyDeploy = commandsOn(full, host).find((c) => c.startsWith('docker exec kamal-proxy kamal-proxy deploy app-web '))!;
  return proxyDeploy.replace(/--target="[^"]+"/, `--target="${id}:3000"`);
}

/** What the undo sends to `host` at each phase of its boot: the table of src/engine/cancel.ts, spelled out. */
function revertOn(host: string, fleet: Fleet, full: readonly RecordedCommand[], previous: string | undefined, phase: BootPhase): string[] {
  if (!previous) return [cancelStopOf('v2')];
  const oldId = fleet.host(host).containers.get(`app-web-${previous}`)!.id;
  const start = startOf(previous);
  const lsOld = `docker container ls --filter 'name=^app-web-${previous}$' --quiet`;
  const routeOld = proxyDeployTo(host, full, oldId);
  switch (phase) {
    case 'started':
      return [cancelStopOf('v2')];
    case 'deploying':
      // the new container first: a deploy to it still pending in the proxy must never pass its health check
      return [cancelStopOf('v2'), start, lsOld, routeOld];
    case 'switched':
    case 'done':
      // the proxy back first (draining the new container), then the new container
      return [start, lsOld, routeOld, cancelStopOf('v2')];
  }
}

/** How far the boot of v2 on `host` got in `commands` (each of them answered). */
function phaseOf(commands: readonly string[], previous: string | undefined): BootPhase | undefined {
  const v2Deploy = commands.some((c) => /^docker exec kamal-proxy kamal-proxy deploy app-web --target="c\d+webv2:/.test(c));
  if (previous && commands.includes(stopOf(previous))) return 'done';
  if (v2Deploy) return 'switched';
  if (commands.some(runOf('v2'))) return 'started';
  return undefined;
}

function checkCancelledRun(r: Run, fleet: Fleet, ref: { t: RecordedCommand[]; rolloutEnd: number }, n: number, previous: string | undefined): void {
  const t = r.transcript;
  const full = ref.t;
  expect(r.err).not.toMatch(STACK_FRAME);

  // up to the signal, the same commands as the uninterrupted deploy
  const before = t.slice(0, r.cut);
  expect(lines(before)).toEqual(lines(full.slice(0, r.cut)));
  const after = t.slice(r.cut);

  // the signal came with the last piece of work: the deploy is complete
  const workLeft = full.slice(r.cut).filter((c) => c.command !== LOCK_RELEASE);
  if (workLeft.length === 0) {
    expect(r.exitCode).toBe(0);
    expect(r.err).toBe('');
    expect(lines(t)).toEqual(lines(full));
  } else {
    expect(r.exitCode).toBe(130);
    expect(r.error).toBeInstanceOf(CancelledError);
    expect(r.err).toMatch(/^Cancelled: Cancelled by SIG(INT|TERM)\n$/);
  }

  // the lock: released by the very last command when this run took it, never touched otherwise
  const locked = before.some((c) => isLockAcquire(c.command));
  if (locked) {
    expect(t.at(-1)).toEqual({ host: WEB1, command: LOCK_RELEASE });
    expect(t.filter((c) => c.command === LOCK_RELEASE)).toHaveLength(1);
  } else expect(t.some((c) => c.command === LOCK_RELEASE)).toBe(false);
  expect(fleet.locks.size).toBe(0);

  // after the signal: only the revert on the hosts where v2 was started, then the lock release
  const cleanup = after.filter((c) => c.command !== LOCK_RELEASE);
  const reverting = n < ref.rolloutEnd;
  for (const host of HOSTS) {
    const phase = phaseOf(commandsOn(before, host), previous);
    const expected = reverting && phase ? revertOn(host, fleet, full, previous, phase) : [];
    expect(commandsOn(cleanup, host), `cleanup on ${host} after command ${n}`).toEqual(expected);
    if (expected.length) {
      expect(r.reporter.messages.map((m) => m.message)).toContain(`Reverted web on ${host} to ${previous ?? 'nothing (first deploy)'}`);
    }
  }

  // both hosts on one version: the previous one when cancelled during the rollout, v2 once it was done
  const version = reverting ? previous : 'v2';
  for (const host of HOSTS) {
    expect(fleet.runningVersions(host, 'web'), `running on ${host} after command ${n}`).toEqual(version ? [version] : []);
    if (version) expect(fleet.routedVersion(host, 'web'), `routed on ${host} after command ${n}`).toBe(version);
  }
}

async function checkRedeploy(fleet: Fleet): Promise<void> {
  const again = await deploy(fleet);
  expect(again.err).toBe('');
  expect(again.exitCode).toBe(0);
  for (const host of HOSTS) {
    expect(fleet.routedVersion(host, 'web')).toBe('v2');
    expect(fleet.runningVersions(host, 'web')).toEqual(['v2']);
  }
  expect(again.transcript.at(-1)).toEqual({ host: WEB1, command: LOCK_RELEASE });
  expect(fleet.locks.size).toBe(0);
}

/** Runs `fn` for each n in order (the git lookups of a run are synchronous: running several at once gains nothing). */
async function forEach(ns: readonly number[], fn: (n: number) => Promise<void>): Promise<void> {
  for (const n of ns) await fn(n);
}

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

describe('a deploy cancelled at every command', () => {
  it('over v1 on both hosts: exit 130, lock released, v1 back where v2 started, nothing after the cleanup; then a deploy succeeds', async () => {
    const previous = 'v1';
    const ref = await reference(previous);
    const total = ref.t.length;
    expect(total).toBeGreaterThan(60);
    // the deploy builds locally, then works on both hosts
    expect(ref.t[0]).toEqual({ host: 'local', command: 'docker version' });
    expect(new Set(ref.t.map((c) => c.host))).toEqual(new Set(['local', WEB1, WEB2]));

    await forEach(range(1, total), async (n) => {
      const fleet = fleetWith(previous);
      const r = await deploy(fleet, { abortAt: n, signal: n % 2 ? 'SIGINT' : 'SIGTERM' });
      expect(r.cut, `signal at command ${n}`).toBe(n);
      checkCancelledRun(r, fleet, ref, n, previous);
      await checkRedeploy(fleet);
    });
  }, 120_000);

  it('on a first deploy, cancelled around the rollout: the new containers stopped, the lock released; then a deploy succeeds', async () => {
    const ref = await reference(undefined);
    const firstRun = ref.t.findIndex((c) => runOf('v2')(c.command)) + 1;
    await forEach(range(firstRun - 2, ref.rolloutEnd + 2), async (n) => {
      const fleet = fleetWith(undefined);
      const r = await deploy(fleet, { abortAt: n });
      expect(r.cut).toBe(n);
      checkCancelledRun(r, fleet, ref, n, undefined);
      await checkRedeploy(fleet);
    });
  }, 120_000);

  it('with commands in flight on both hosts (each takes 1 ms): still 130, the lock released, one version everywhere', async () => {
    const ref = await reference('v1');
    await forEach(range(1, ref.t.length), async (n) => {
      const fleet = fleetWith('v1');
      const r = await deploy(fleet, { abortAt: n, delayMs: 1 });
      expect(r.err).not.toMatch(STACK_FRAME);
      if (r.exitCode === 0) expect(lines(r.transcript)).toEqual(lines(ref.t));
      else {
        expect(r.exitCode, `signal at command ${n}: ${r.err}`).toBe(130);
        // commands stopped mid-way on the other host are not reported as failures
        expect(r.err).toBe('Cancelled: Cancelled by SIGINT\n');
      }
      const locked = r.transcript.some((c) => isLockAcquire(c.command));
      if (locked) expect(r.transcript.at(-1)).toEqual({ host: WEB1, command: LOCK_RELEASE });
      expect(fleet.locks.size).toBe(0);
      const versions = HOSTS.map((h) => fleet.runningVersions(h, 'web'));
      const routed = HOSTS.map((h) => fleet.routedVersion(h, 'web'));
      expect(versions[0], `after command ${n}`).toHaveLength(1);
      expect(versions[1]).toEqual(versions[0]);
      expect(routed).toEqual([versions[0]![0], versions[0]![0]]);
    });
  }, 120_000);
});

/**
 * kamal-proxy as the rollout meets it when a deploy is still pending: `kamal-proxy deploy` to a v2
 * container on a host of `hang` does not answer (its health check is still waiting) until the run is
 * cancelled, and the proxy goes on with it after our client is gone. Such a deploy lands at the worst
 * moment it can: just before its container is stopped (a container answers health checks during its
 * stop's grace period), or at the end when its container still runs. Anything else is the Fleet's.
 */
class PendingProxy {
  /** host → the container a pending deploy of `app-web` waits for. */
  readonly pending = new Map<string, string>();
  constructor(readonly fleet: Fleet) {}

  readonly respond = (host: string, command: string) => {
    const stop = /^docker container ls --all --filter 'name=\^(\S+)\$' --quiet \| xargs docker stop\b/.exec(command);
    const c = stop ? this.fleet.host(host).containers.get(stop[1]!) : undefined;
    if (c && this.pending.get(host) === c.id) {
      if (c.running) this.fleet.host(host).routes.set('app-web', c.id);
      this.pending.delete(host); // stopped: its health check never passes again
    }
    return this.fleet.respond(host, command);
  };

  /** The pending deploys whose container still runs pass their health check. */
  settle(): void {
    for (const [host, id] of this.pending) {
      if ([...this.fleet.host(host).containers.values()].some((c) => c.id === id && c.running)) this.fleet.host(host).routes.set('app-web', id);
    }
    this.pending.clear();
  }
}

class HangingRunner extends RecordingRunner {
  constructor(
    readonly proxy: PendingProxy,
    readonly hang: ReadonlySet<string>,
    readonly afterCommand: () => void,
  ) {
    super({ respond: proxy.respond });
  }

  override async run(host: string, command: Command, opts: RunOptions = {}): Promise<RunResult> {
    const text = display(command);
    const pending = /^docker exec kamal-proxy kamal-proxy deploy app-web --target="(c\d+webv2):/.exec(text);
    if (pending && this.hang.has(host)) {
      this.transcript.push({ host, command: text });
      this.proxy.pending.set(host, pending[1]!);
      this.afterCommand();
      return new Promise((_resolve, reject) => {
        const abort = () => reject(new CommandAbortedError(host, text, { cause: opts.signal?.reason }));
        if (opts.signal?.aborted) abort();
        else opts.signal?.addEventListener('abort', abort, { once: true });
      });
    }
    try {
      return await super.run(host, command, opts);
    } finally {
      this.afterCommand();
    }
  }

  override async upload(host: string, content: string | Buffer, remotePath: string, opts: { mode?: string } = {}): Promise<void> {
    try {
      await super.upload(host, content, remotePath, opts);
    } finally {
      this.afterCommand();
    }
  }
}

/** A deploy of v2 over v1 on both web hosts, cancelled (SIGINT) once `when` holds after a command. */
async function deployUntil(hang: string[], when: (t: readonly RecordedCommand[], proxy: PendingProxy) => boolean, wrap?: (respond: Responder) => Responder) {
  const fleet = fleetWith('v1');
  const proxy = new PendingProxy(fleet);
  const controller = new AbortController();
  let cut = -1;
  const runner: HangingRunner = new HangingRunner(proxy, new Set(hang), () => {
    if (controller.signal.aborted || !when(runner.transcript, proxy)) return;
    cut = runner.transcript.length;
    controller.abort(new CancelledError('Cancelled by SIGINT'));
  });
  if (wrap) runner.respond = wrap(runner.respond);
  const reporter = new MemoryReporter();
  let err = '';
  const result = await runCli(ARGS, {
    cwd: dir,
    env: testEnv(),
    out: () => undefined,
    err: (s) => (err += s),
    runner,
    local: runner,
    reporter,
    signal: controller.signal,
  });
  const pendingAtEnd = proxy.pending.size;
  proxy.settle();
  const t = runner.transcript;
  return { fleet, proxy, result, err, t, cut, before: t.slice(0, cut), after: t.slice(cut), reporter, pendingAtEnd };
}

const v2Deploy = /^docker exec kamal-proxy kamal-proxy deploy app-web --target="c\d+webv2:/;

describe('undo per phase, with proxy deploys pending', () => {
  const undoOf = async (phase: BootPhase, host: string, fleet: Fleet): Promise<string[]> => {
    const ref = await reference('v1');
    return revertOn(host, fleet, ref.t, 'v1', phase);
  };

  function expectV1Everywhere(r: Awaited<ReturnType<typeof deployUntil>>): void {
    expect(r.err).toBe('Cancelled: Cancelled by SIGINT\n');
    expect(r.result.exitCode).toBe(130);
    expect(r.t.at(-1)).toEqual({ host: WEB1, command: LOCK_RELEASE });
    expect(r.fleet.locks.size).toBe(0);
    for (const host of HOSTS) {
      expect(r.fleet.routedVersion(host, 'web'), `routed on ${host}`).toBe('v1');
      expect(r.fleet.runningVersions(host, 'web'), `running on ${host}`).toEqual(['v1']);
    }
  }

  it('the table: what undoing a boot means at each phase', () => {
    const table = (['started', 'deploying', 'switched', 'done'] as const).map((phase) => [
      phase,
      undoSteps(phase, { previous: true, proxy: true }).join(', '),
      undoSteps(phase, { previous: true, proxy: false }).join(', '),
      undoSteps(phase, { previous: false, proxy: true }).join(', '),
    ]);
    expect(table).toEqual([
      ['started', 'stop-new', 'stop-new', 'stop-new'],
      ['deploying', 'stop-new, start-old, route-old', 'stop-new', 'stop-new'],
      ['switched', 'start-old, route-old, stop-new', 'start-old, stop-new', 'stop-new'],
      ['done', 'start-old, route-old, stop-new', 'start-old, stop-new', 'stop-new'],
    ]);
  });

  it('the proxy model catches an undo that routes back before stopping a container with a deploy pending', () => {
    for (const [order, routed] of [
      [['route-old', 'stop-new'], undefined],
      [['stop-new', 'route-old'], 'v1'],
    ] as const) {
      const fleet = fleetWith('v1');
      const proxy = new PendingProxy(fleet);
      fleet.respond(WEB1, 'docker run --detach --restart unless-stopped --name app-web-v2 --env KAMAL_VERSION="v2" --label role="web"');
      const v2 = fleet.host(WEB1).containers.get('app-web-v2')!.id;
      const v1 = fleet.host(WEB1).containers.get('app-web-v1')!.id;
      proxy.pending.set(WEB1, v2);
      for (const step of order) {
        proxy.respond(WEB1, step === 'stop-new' ? cancelStopOf('v2') : `docker exec kamal-proxy kamal-proxy deploy app-web --target="${v1}:3000"`);
      }
      proxy.settle();
      expect(fleet.routedVersion(WEB1, 'web'), order.join(' then ')).toBe(routed);
    }
  });

  it('before boot (cancelled as the env file goes up, just before `docker run`): nothing to undo, only the lock released', async () => {
    const r = await deployUntil([], (t) => t.some((c) => c.host === WEB1 && c.command.startsWith('upload ') && c.command.includes('/env/roles/web')));
    expect(r.cut).toBeGreaterThan(0);
    expect(r.after.map((c) => `${c.host}: ${c.command}`)).toEqual([`${WEB1}: ${LOCK_RELEASE}`]);
    expect(r.t.some((c) => runOf('v2')(c.command))).toBe(false);
    expect(r.reporter.messages.filter((m) => m.level === 'warn')).toEqual([]);
    expectV1Everywhere(r);
  });

  it('new containers started and proxy deploys pending on both hosts: each new container stopped first, then the proxy sent back to v1', async () => {
    const r = await deployUntil(HOSTS, (_t, proxy) => proxy.pending.size === 2);
    expect(r.cut).toBeGreaterThan(0);
    expect(r.pendingAtEnd).toBe(0);
    for (const host of HOSTS) {
      expect(
        commandsOn(r.after, host).filter((c) => c !== LOCK_RELEASE),
        `undo on ${host}`,
      ).toEqual(await undoOf('deploying', host, r.fleet));
      expect(r.reporter.messages.map((m) => m.message)).toContain(`Reverted web on ${host} to v1`);
    }
    // no failure is reported for the boots the cancel cut short
    expect(r.reporter.messages.filter((m) => m.level === 'error')).toEqual([]);
    expectV1Everywhere(r);
  });

  it('switched and v1 stopped on one host, a deploy pending on the other: each host undone by its own phase', async () => {
    const r = await deployUntil([WEB2], (t, proxy) => proxy.pending.has(WEB2) && commandsOn(t, WEB1).includes(stopOf('v1')));
    expect(r.cut).toBeGreaterThan(0);
    expect(commandsOn(r.before, WEB1).filter((c) => v2Deploy.test(c))).toHaveLength(1);
    expect(commandsOn(r.after, WEB1).filter((c) => c !== LOCK_RELEASE)).toEqual(await undoOf('done', WEB1, r.fleet));
    expect(commandsOn(r.after, WEB2)).toEqual(await undoOf('deploying', WEB2, r.fleet));
    expectV1Everywhere(r);
  });

  it('switched on one host with v1 still running, a deploy pending on the other', async () => {
    const r = await deployUntil([WEB2], (t, proxy) => proxy.pending.has(WEB2) && commandsOn(t, WEB1).some((c) => v2Deploy.test(c)));
    expect(commandsOn(r.before, WEB1)).not.toContain(stopOf('v1'));
    expect(commandsOn(r.after, WEB1).filter((c) => c !== LOCK_RELEASE)).toEqual(await undoOf('switched', WEB1, r.fleet));
    expect(commandsOn(r.after, WEB2)).toEqual(await undoOf('deploying', WEB2, r.fleet));
    expectV1Everywhere(r);
  });
});

/** v1 and v2 on both hosts: a deploy of v2 pending on WEB1; on WEB2 switched to v2 and v1 stopped. */
function halfway() {
  const fleet = new Fleet();
  const proxy = new PendingProxy(fleet);
  for (const h of HOSTS) fleet.deployed(h, 'web', 'v1').deployed(h, 'web', 'v2');
  const one = fleet.host(WEB1);
  one.routes.set('app-web', one.containers.get('app-web-v1')!.id);
  proxy.pending.set(WEB1, one.containers.get('app-web-v2')!.id);
  fleet.host(WEB2).containers.get('app-web-v1')!.running = false;
  return { fleet, proxy };
}
const boots = JSON.stringify([
  { host: WEB1, role: 'web', version: 'v2', previousVersion: 'v1', phase: 'deploying' },
  { host: WEB2, role: 'web', version: 'v2', previousVersion: 'v1', phase: 'done' },
]);

describe('a cancel that cannot undo everything', () => {
  it('names the boots left and the command that finishes the undo; that command does', async () => {
    let failed = false;
    const r = await deployUntil(
      HOSTS,
      (_t, proxy) => proxy.pending.size === 2,
      (inner) => (host, command) => {
        // the proxy on WEB2 refuses the deploy back to v1 once
        if (!failed && host === WEB2 && /^docker exec kamal-proxy kamal-proxy deploy app-web --target="c\d+webv1:/.test(command)) {
          failed = true;
          return { exitCode: 1, stderr: 'Error: target failed to become healthy within configured timeout (30s)' };
        }
        return inner(host, command);
      },
    );
    expect(r.result.exitCode).toBe(130);
    const left = [{ host: WEB2, role: 'web', version: 'v2', previousVersion: 'v1', phase: 'deploying' }];
    expect(r.err).toBe(
      'Cancelled: Cancelled by SIGINT\n' +
        `The previous version is not back for web on ${WEB2}; finish with:\n` +
        `  kamal-action app undo_boot '${JSON.stringify(left)}' --version v2\n`,
    );
    expect(r.reporter.messages.map((m) => m.message)).toContain(`Reverted web on ${WEB1} to v1`);
    expect(r.fleet.locks.size).toBe(0);
    // WEB2: v2 stopped, but the proxy still points at it
    expect(r.fleet.routedVersion(WEB2, 'web')).toBeUndefined();

    const runner = new RecordingRunner({ respond: r.proxy.respond });
    let err = '';
    const again = await runCli(['app', 'undo_boot', JSON.stringify(left), '--version', 'v2'], {
      cwd: dir,
      env: testEnv(),
      out: () => undefined,
      err: (x) => (err += x),
      runner,
      local: runner,
      reporter: new MemoryReporter(),
    });
    expect(err).toBe('');
    expect(again.exitCode).toBe(0);
    for (const h of HOSTS) {
      expect(r.fleet.routedVersion(h, 'web')).toBe('v1');
      expect(r.fleet.runningVersions(h, 'web')).toEqual(['v1']);
    }
    expect(r.fleet.locks.size).toBe(0);
  });
});

describe('app undo_boot (the post step finishing an undo)', () => {
  async function undo(argv: string[], env: Record<string, string | undefined> = {}) {
    const { fleet, proxy } = halfway();
    const runner = new RecordingRunner({ respond: proxy.respond });
    let err = '';
    const result = await runCli(argv, {
      cwd: dir,
      env: { ...testEnv(), ...env },
      out: () => undefined,
      err: (s) => (err += s),
      runner,
      local: runner,
      reporter: new MemoryReporter(),
    });
    proxy.settle();
    return { fleet, result, err, t: runner.transcript };
  }

  it('puts v1 back on each host by its phase, under the lock it takes and releases', async () => {
    const { fleet, result, err, t } = await undo(['app', 'undo_boot', boots, '--version', 'v2']);
    expect(err).toBe('');
    expect(result.exitCode).toBe(0);
    const ref = await reference('v1');
    const oldId = (h: string) => fleet.host(h).containers.get('app-web-v1')!.id;
    const route = (h: string) => proxyDeployTo(h, ref.t, oldId(h));
    const lsOld = `docker container ls --filter 'name=^app-web-v1$' --quiet`;
    // the lock is taken as Kamal takes it: the run directory on every host first
    expect(commandsOn(t, WEB2)).toEqual(['mkdir -p .kamal', startOf('v1'), lsOld, route(WEB2), cancelStopOf('v2')]);
    const web1 = commandsOn(t, WEB1);
    expect(isLockAcquire(web1.find((c) => c.startsWith('mkdir .kamal/lock-app'))!)).toBe(true);
    expect(web1.slice(web1.findIndex(isLockAcquire) + 1)).toEqual([cancelStopOf('v2'), startOf('v1'), lsOld, route(WEB1), LOCK_RELEASE]);
    for (const h of HOSTS) {
      expect(fleet.routedVersion(h, 'web')).toBe('v1');
      expect(fleet.runningVersions(h, 'web')).toEqual(['v1']);
    }
    expect(fleet.locks.size).toBe(0);
  });

  it('with the lock still held by the run (KAMAL_LOCK=true): the undo only', async () => {
    const { result, t } = await undo(['app', 'undo_boot', boots, '--version', 'v2'], { KAMAL_LOCK: 'true' });
    expect(result.exitCode).toBe(0);
    expect(t.some((c) => isLockAcquire(c.command) || c.command === LOCK_RELEASE)).toBe(false);
    expect(t.map((c) => c.host).sort()).toEqual([WEB1, WEB1, WEB1, WEB1, WEB2, WEB2, WEB2, WEB2]);
    expect(commandsOn(t, WEB1)[0]).toBe(cancelStopOf('v2'));
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '{', /app undo_boot: the boots to undo are not valid JSON\n$/],
    ['a host of no role', JSON.stringify([{ host: '10.9.9.9', role: 'web', version: 'v2', phase: 'started' }]), /10\.9\.9\.9 is not a host of role web/],
    ['an unknown role', JSON.stringify([{ host: WEB1, role: 'nope', version: 'v2', phase: 'started' }]), /No role nope in the configuration/],
    ['a version that is no tag', JSON.stringify([{ host: WEB1, role: 'web', version: 'v2; rm -rf /', phase: 'started' }]), /version must be an image tag/],
    [
      'an unknown phase',
      JSON.stringify([{ host: WEB1, role: 'web', version: 'v2', phase: 'halfway' }]),
      /phase must be one of started, deploying, switched, done/,
    ],
    ['an extra field', JSON.stringify([{ host: WEB1, role: 'web', version: 'v2', phase: 'started', cmd: 'x' }]), /unknown fields: cmd/],
  ])('refuses %s before any remote command', async (_name, arg, message) => {
    const { result, err, t } = await undo(['app', 'undo_boot', arg, '--version', 'v2']);
    expect(result.exitCode).toBe(1);
    expect(err).toMatch(message);
    expect(t.filter((c) => c.host !== 'local')).toEqual([]);
  });
});

describe("the action's post step after a main step killed mid-rollout", () => {
  const base = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'post-state-'));
    dirs.push(d);
    return d;
  };

  async function post(state: (core: RecordingCore, temp: string) => void) {
    const { fleet, proxy } = halfway();
    fleet.leaveLock(WEB1, 'Locked by: the killed run');
    const runner = new RecordingRunner({ respond: proxy.respond });
    const temp = base();
    const core = new RecordingCore({});
    state(core, temp);
    const calls: string[][] = [];
    await runPost({
      core,
      env: { ...testEnv(), GITHUB_WORKSPACE: dir, RUNNER_TEMP: temp, GITHUB_SHA: 'abc' },
      runCli: (argv, deps) => {
        calls.push(argv);
        return runCli(argv, { ...deps, runner, local: runner });
      },
    });
    proxy.settle();
    return { fleet, core, calls, t: runner.transcript };
  }

  it('undoes the boots the main step left, under the lock it still holds, then releases the lock', async () => {
    const { fleet, core, calls, t } = await post((c, temp) => c.signState({ 'lock-held': 'true', 'pending-undo': boots }, temp));
    expect(core.of('warning').map((w) => w.value)).toEqual([
      'Putting the previous version back where a cancelled rollout started the new one...',
      `Reverted web on ${WEB1} to v1`,
      `Reverted web on ${WEB2} to v1`,
    ]);
    expect(calls.map((a) => a.slice(0, 2).join(' '))).toEqual(['app undo_boot', 'lock release']);
    expect(calls[0]).toEqual(['app', 'undo_boot', boots, '--config-file', 'config/deploy.yml', '--version', 'v2']);
    // the undo does not take the lock: this run holds it; the release comes last
    expect(t.filter((c) => isLockAcquire(c.command))).toEqual([]);
    expect(commandsOn(t, WEB1).slice(0, 4)).toEqual([
      cancelStopOf('v2'),
      startOf('v1'),
      `docker container ls --filter 'name=^app-web-v1$' --quiet`,
      expect.stringContaining('kamal-proxy deploy app-web --target="c1webv1:3000"'),
    ]);
    expect(t.at(-1)).toEqual({ host: WEB1, command: LOCK_RELEASE });
    for (const h of HOSTS) {
      expect(fleet.routedVersion(h, 'web')).toBe('v1');
      expect(fleet.runningVersions(h, 'web')).toEqual(['v1']);
    }
    expect(fleet.locks.size).toBe(0);
  });

  it('boots to undo that the main step did not sign are ignored, with a warning', async () => {
    const { core, calls, t } = await post((c, temp) => {
      c.signState({ 'lock-held': 'true' }, temp);
      c.saveState('pending-undo', boots);
    });
    expect(calls.map((a) => a.slice(0, 2).join(' '))).toEqual(['lock release']);
    expect(t.at(-1)).toEqual({ host: WEB1, command: LOCK_RELEASE });
    expect(t.some((c) => c.command.includes('docker'))).toBe(false);
    expect(core.of('warning').map((w) => w.value)).toEqual([expect.stringContaining('pending-undo')]);
  });

  it('a signed but malformed list is reported and never run', async () => {
    const { core, calls } = await post((c, temp) => c.signState({ 'lock-held': 'true', 'pending-undo': '[{"host":"10.0.0.1"}]' }, temp));
    expect(calls.map((a) => a.slice(0, 2).join(' '))).toEqual(['lock release']);
    expect(core.of('warning').map((w) => w.value)).toEqual([
      expect.stringMatching(/^Post step: the boots to undo in the saved state are ignored: boot 1: role must be a role name$/),
    ]);
  });
});
