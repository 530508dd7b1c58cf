import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  VerifyError,
  VerifySpecError,
  decideAfterVerify,
  deployVerified,
  describeFailure,
  excerpt,
  parseDuration,
  parseVerifySpec,
  parseVerifySpecs,
  probeFor,
  probesFor,
  verifyLoop,
  type Clock,
  type FetchAnswer,
  type Probe,
} from '../../../src/engine/verify.js';
import { Configuration } from '../../../src/model/index.js';
import { RecordingRunner } from '../../../test/support/recording.js';
import { LocalRunner } from '../../../src/exec/local.js';
import { Kamal } from '../../../src/engine/kamal.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { MapSecretStore } from '../../../src/secret.js';
import { PlanRunner } from '../../../src/exec/plan-runner.js';

describe('parseVerifySpec', () => {
  const ok: [string, { url: string; status: number; contains?: string }][] = [
    ['https://app.example.com/up', { url: 'https://app.example.com/up', status: 200 }],
    ['https://app.example.com/up 200 "OK"', { url: 'https://app.example.com/up', status: 200, contains: 'OK' }],
    ['  http://a.test/health   503  ', { url: 'http://a.test/health', status: 503 }],
    ['http://a.test/ 200 ready to serve', { url: 'http://a.test/', status: 200, contains: 'ready to serve' }],
    ['http://a.test/ ready', { url: 'http://a.test/', status: 200, contains: 'ready' }],
    ['http://a.test/ "  spaced \\"q\\" \\\\ "', { url: 'http://a.test/', status: 200, contains: '  spaced "q" \\ ' }],
    ['http://a.test/ "200"', { url: 'http://a.test/', status: 200, contains: '200' }],
    ['http://a.test', { url: 'http://a.test/', status: 200 }],
    ['http://a.test:8080/x?y=1 301', { url: 'http://a.test:8080/x?y=1', status: 301 }],
  ];
  it.each(ok)('%s', (line, want) => {
    expect(parseVerifySpec(line)).toEqual(want);
  });

  const bad: [string, string][] = [
    ['not-a-url 200', '\'not-a-url\' is not an absolute URL: expected URL [STATUS] [TEXT], such as https://app.example.com/up 200 "OK"'],
    ['ftp://a.test/ 200', "'ftp://a.test/' must be an http:// or https:// URL"],
    ['http://u:p@a.test/', "'http://u:p@a.test/' must not carry a user or password"],
    ['http://a.test/ 99', "'99' after http://a.test/ is not an HTTP status (100-599)"],
    ['http://a.test/ 2000 OK', "'2000' after http://a.test/ is not an HTTP status (100-599)"],
    ['http://a.test/ 200 "open', 'the text after http://a.test/ opens a double quote it does not close (or has more after it): "open'],
    ['http://a.test/ 200 "a" b', 'the text after http://a.test/ opens a double quote it does not close (or has more after it): "a" b'],
    ['http://a.test/ 200 ""', 'the text after http://a.test/ is empty'],
  ];
  it.each(bad)('refuses %s', (line, message) => {
    expect(() => parseVerifySpec(line)).toThrow(new VerifySpecError(message));
  });

  it('reads one spec a line, skipping blank lines and comments, and names the line of an error', () => {
    expect(parseVerifySpecs(['# checks\nhttp://a.test/up 200 "OK"\n\n  https://b.test/ 204\r\n'])).toEqual([
      { url: 'http://a.test/up', status: 200, contains: 'OK' },
      { url: 'https://b.test/', status: 204 },
    ]);
    expect(() => parseVerifySpecs(['http://a.test/\n\nnope'])).toThrow("line 3: 'nope' is not an absolute URL");
  });
});

describe('parseDuration', () => {
  const ok: [string, number][] = [
    ['30s', 30_000],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['45', 45_000],
    ['1.5', 1_500],
    ['500ms', 500],
    ['0s', 0],
    ['1h', 3_600_000],
  ];
  it.each(ok)('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 'soon', '30 s', '-5s', '2h', '1m1h'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(VerifySpecError);
  });
});

describe('probes', () => {
  it('connect to the host itself, port 80 or 443 unless the URL names one, with the URL host as Host header and TLS name', () => {
    const spec = (url: string) => ({ url, status: 200 });
    expect(probeFor('127.0.0.2', spec('http://app.test/up?x=1'))).toEqual({
      host: '127.0.0.2',
      port: 80,
      protocol: 'http:',
      hostHeader: 'app.test',
      servername: 'app.test',
      path: '/up?x=1',
      spec: spec('http://app.test/up?x=1'),
    });
    const https = probeFor('web-1', spec('https://app.test/'));
    expect([https.port, https.hostHeader, https.servername]).toEqual([443, 'app.test', 'app.test']);
    const custom = probeFor('web-1', spec('https://app.test:8443/'));
    expect([custom.port, custom.hostHeader, custom.servername]).toEqual([8443, 'app.test:8443', 'app.test']);
    expect(probesFor(['h1', 'h2'], [spec('http://a.test/'), spec('http://b.test/')]).map((p) => `${p.spec.url}@${p.host}`)).toEqual([
      'http://a.test/@h1',
      'http://a.test/@h2',
      'http://b.test/@h1',
      'http://b.test/@h2',
    ]);
  });
});

/** A clock that only moves when slept on or when a fake request takes time. */
function fakeClock(): Clock & { t: number; sleeps: number[] } {
  const c = {
    t: 1_000_000,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.sleeps.push(ms);
      c.t += ms;
    },
  };
  return c;
}

interface Call {
  at: number;
  host: string;
  url: string;
}

/** A fetcher answering from `answer(call)`; each request takes `latency` ms of the fake clock. */
function fakeFetch(clock: ReturnType<typeof fakeClock>, answer: (c: Call) => FetchAnswer | Error, latency = 0) {
  const calls: Call[] = [];
  const start = clock.t;
  const fetch = async (p: Probe): Promise<FetchAnswer> => {
    const call = { at: clock.t - start, host: p.host, url: p.spec.url };
    calls.push(call);
    const a = answer(call);
    if (latency) clock.t += latency;
    if (a instanceof Error) throw a;
    return a;
  };
  return { fetch, calls };
}

const SPEC = { url: 'http://app.test/', status: 200, contains: 'v2' };
const probes = probesFor(['h1', 'h2'], [SPEC]);

describe('verifyLoop timing', () => {
  it('asks every host once per interval from the start of the window until the window is over', async () => {
    const clock = fakeClock();
    const { fetch, calls } = fakeFetch(clock, () => ({ status: 200, body: 'v2\n' }));
    const out = await verifyLoop({ probes, forMs: 10_000, intervalMs: 2_000, clock, fetch });
    expect(out).toEqual({ ok: true, rounds: 6, requests: 12, elapsedMs: 10_000 });
    expect(calls.filter((c) => c.host === 'h1').map((c) => c.at)).toEqual([0, 2000, 4000, 6000, 8000, 10000]);
    expect(calls.filter((c) => c.host === 'h2').map((c) => c.at)).toEqual([0, 2000, 4000, 6000, 8000, 10000]);
  });

  it('keeps the schedule when requests take time (the wait is what is left of the interval)', async () => {
    const clock = fakeClock();
    const { fetch, calls } = fakeFetch(clock, () => ({ status: 200, body: 'v2' }), 300);
    const out = await verifyLoop({ probes: probes.slice(0, 1), forMs: 5_000, intervalMs: 2_000, clock, fetch });
    expect(calls.map((c) => c.at)).toEqual([0, 2000, 4000, 5000]);
    expect(clock.sleeps).toEqual([1700, 1700, 700]);
    expect(out).toEqual({ ok: true, rounds: 4, requests: 4, elapsedMs: 5300 });
  });

  it('runs the next round at once when a round takes longer than the interval', async () => {
    const clock = fakeClock();
    const { fetch, calls } = fakeFetch(clock, () => ({ status: 200, body: 'v2' }), 3_000);
    const out = await verifyLoop({ probes: probes.slice(0, 1), forMs: 7_000, intervalMs: 2_000, clock, fetch });
    expect(calls.map((c) => c.at)).toEqual([0, 3000, 6000]);
    expect(clock.sleeps).toEqual([]);
    expect(out.rounds).toBe(3);
    expect(out.elapsedMs).toBe(9000);
  });

  it('makes one round for an empty window', async () => {
    const clock = fakeClock();
    const { fetch, calls } = fakeFetch(clock, () => ({ status: 200, body: 'v2' }));
    expect(await verifyLoop({ probes, forMs: 0, clock, fetch })).toEqual({ ok: true, rounds: 1, requests: 2, elapsedMs: 0 });
    expect(calls).toHaveLength(2);
    expect(clock.sleeps).toEqual([]);
  });

  it('ends the last interval at the end of the window', async () => {
    const clock = fakeClock();
    const { fetch, calls } = fakeFetch(clock, () => ({ status: 200, body: 'v2' }));
    await verifyLoop({ probes: probes.slice(0, 1), forMs: 3_000, intervalMs: 2_000, clock, fetch });
    expect(calls.map((c) => c.at)).toEqual([0, 2000, 3000]);
  });
});

describe('verifyLoop decisions', () => {
  it('fails on the first wrong body, naming URL, host, status, an excerpt and when, and asks nothing more', async () => {
    const clock = fakeClock();
    const { fetch, calls } = fakeFetch(clock, (c) =>
      c.host === 'h2' && c.at >= 4000 ? { status: 200, body: 'broken\n  build\n' } : { status: 200, body: 'v2\n' },
    );
    const out = await verifyLoop({ probes, forMs: 30_000, intervalMs: 2_000, clock, fetch });
    expect(out).toEqual({
      ok: false,
      rounds: 3,
      requests: 6,
      elapsedMs: 4000,
      failure: {
        url: 'http://app.test/',
        host: 'h2',
        expectedStatus: 200,
        contains: 'v2',
        status: 200,
        excerpt: 'broken build',
        reason: 'body does not contain "v2"',
        atMs: 4000,
      },
    });
    expect(calls).toHaveLength(6);
    expect(describeFailure(out.failure!)).toBe('http://app.test/ through h2: body does not contain "v2"; body: "broken build" (after 4s)');
  });

  it('fails on a wrong status, and on both status and body at once', async () => {
    const clock = fakeClock();
    const { fetch } = fakeFetch(clock, (c) => (c.host === 'h1' ? { status: 502, body: 'Bad Gateway' } : { status: 200, body: 'v2' }));
    const out = await verifyLoop({ probes, forMs: 10_000, clock, fetch });
    expect(out.failure).toMatchObject({
      host: 'h1',
      status: 502,
      reason: 'status 502, expected 200; body does not contain "v2"',
      excerpt: 'Bad Gateway',
      atMs: 0,
    });
    const plain = await verifyLoop({
      probes: probesFor(['h1'], [{ url: 'http://app.test/up', status: 204 }]),
      forMs: 0,
      clock,
      fetch: async () => ({ status: 200, body: '' }),
    });
    expect(plain.failure).toMatchObject({ status: 200, reason: 'status 200, expected 204', excerpt: '' });
  });

  it('counts a request that gets no answer as a failure', async () => {
    const clock = fakeClock();
    const { fetch } = fakeFetch(clock, (c) => (c.at >= 2000 && c.host === 'h1' ? new Error('connect ECONNREFUSED 127.0.0.2:80') : { status: 200, body: 'v2' }));
    const out = await verifyLoop({ probes, forMs: 10_000, clock, fetch });
    expect(out.ok).toBe(false);
    expect(out.failure).toEqual({
      url: 'http://app.test/',
      host: 'h1',
      expectedStatus: 200,
      contains: 'v2',
      reason: 'request failed: connect ECONNREFUSED 127.0.0.2:80',
      atMs: 2000,
    });
    expect(describeFailure(out.failure!)).toBe('http://app.test/ through h1: request failed: connect ECONNREFUSED 127.0.0.2:80 (after 2s)');
  });

  it('reports the first failing probe in spec then host order when several fail in one round', async () => {
    const clock = fakeClock();
    const two = probesFor(
      ['h1', 'h2'],
      [
        { url: 'http://a.test/', status: 200 },
        { url: 'http://b.test/', status: 200 },
      ],
    );
    const out = await verifyLoop({
      probes: two,
      forMs: 0,
      clock,
      fetch: async (p) => ({ status: p.host === 'h2' || p.spec.url.includes('b.test') ? 500 : 200, body: '' }),
    });
    expect([out.failure!.url, out.failure!.host]).toEqual(['http://a.test/', 'h2']);
  });

  it('passes the request timeout to the fetcher', async () => {
    const seen: number[] = [];
    await verifyLoop({
      probes: probes.slice(0, 1),
      forMs: 0,
      timeoutMs: 1234,
      clock: fakeClock(),
      fetch: async (_p, t) => (seen.push(t), { status: 200, body: 'v2' }),
    });
    expect(seen).toEqual([1234]);
  });

  it('cuts a long body to one line of 200 characters', () => {
    expect(excerpt(`${'x'.repeat(250)}\n`)).toBe(`${'x'.repeat(200)}…`);
    expect(excerpt(' a\n\tb ')).toBe('a b');
  });
});

describe('decideAfterVerify', () => {
  const table: [Parameters<typeof decideAfterVerify>[0], ReturnType<typeof decideAfterVerify>][] = [
    [{ ok: true, rollbackOnFailure: true, version: 'v2', previousVersion: 'v1' }, { kind: 'keep' }],
    [{ ok: true, rollbackOnFailure: false, version: 'v2' }, { kind: 'keep' }],
    [
      { ok: false, rollbackOnFailure: false, version: 'v2', previousVersion: 'v1' },
      { kind: 'fail', why: 'no-rollback' },
    ],
    [
      { ok: false, rollbackOnFailure: true, version: 'v2', previousVersion: 'v1' },
      { kind: 'rollback', to: 'v1' },
    ],
    [
      { ok: false, rollbackOnFailure: true, version: 'v2' },
      { kind: 'fail', why: 'no-previous' },
    ],
    [
      { ok: false, rollbackOnFailure: true, version: 'v2', previousVersion: 'v2' },
      { kind: 'fail', why: 'same-version' },
    ],
  ];
  it.each(table)('%j → %j', (input, want) => expect(decideAfterVerify(input)).toEqual(want));
});

// ---- the whole step against recorded hosts ----

const RAW = {
  service: 'app',
  image: 'acme/app',
  servers: { web: ['1.1.1.1', '1.1.1.2'], job: { hosts: ['1.1.1.3'], cmd: 'bin/jobs', proxy: false } },
  registry: { server: 'registry.test', username: 'user', password: ['KAMAL_REGISTRY_PASSWORD'] },
  proxy: { host: 'app.test' },
  builder: { arch: 'amd64' },
  readiness_delay: 0,
};

function context(opts: { dryRun?: boolean } = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'kamal-verify-'));
  const config = new Configuration(structuredClone(RAW), { version: 'v2', secrets: new MapSecretStore({ KAMAL_REGISTRY_PASSWORD: 'pw' }), cwd });
  const recording = new RecordingRunner((_host, command) => {
    if (/docker container ls .*--quiet/.test(command) && !command.includes('xargs')) return { stdout: 'c0ffee\n' };
    if (command.includes('xargs docker inspect --format')) return { stdout: 'running\n' };
    return undefined;
  });
  const runner = opts.dryRun ? new PlanRunner() : recording;
  const reporter = new MemoryReporter();
  const k = new Kamal({ config, runner, local: new LocalRunner({ cwd }), reporter, cwd, env: {}, command: 'deploy', dryRun: opts.dryRun });
  /** Stands in for the rollout: records a boot per host and role from v1 to the version. */
  const rollout = async () => {
    for (const [host, role] of [
      ['1.1.1.1', 'web'],
      ['1.1.1.2', 'web'],
      ['1.1.1.3', 'job'],
    ] as const) {
      (k.boots ??= []).push({ host, role, version: k.config.version, previousVersion: 'v1', ok: true, startedAt: 0, finishedAt: 1 });
    }
  };
  return { k, recording, reporter, rollout };
}

const bodyAnswer = (body: string) => async () => ({ status: 200, body });
const instant: Clock = { now: () => 0, sleep: async () => undefined };

describe('deployVerified', () => {
  it('keeps a deploy whose checks pass, asking only the proxy hosts, with the lock held from rollout to the end', async () => {
    const { k, recording, rollout } = context();
    const asked = new Set<string>();
    let lockedDuringChecks = false;
    await deployVerified(k, rollout, {
      specs: [SPEC],
      forMs: 0,
      rollbackOnFailure: true,
      clock: instant,
      fetch: async (p) => {
        asked.add(p.host);
        lockedDuringChecks = k.holdingLock;
        return { status: 200, body: 'v2' };
      },
    });
    expect([...asked].sort()).toEqual(['1.1.1.1', '1.1.1.2']);
    expect(lockedDuringChecks).toBe(true);
    expect(k.verification).toMatchObject({ ok: true, version: 'v2', previousVersion: 'v1', rounds: 1, requests: 2, hosts: ['1.1.1.1', '1.1.1.2'] });
    expect(recording.transcript.some((c) => /kamal-proxy deploy/.test(c.command))).toBe(false);
    expect(recording.transcript.at(-1)!.command).toBe('rm .kamal/lock-app/details && rm -r .kamal/lock-app');
  });

  it('rolls back to the previous version on every host and fails naming both versions', async () => {
    const { k, recording, reporter, rollout } = context();
    const error = await deployVerified(k, rollout, { specs: [SPEC], forMs: 0, rollbackOnFailure: true, clock: instant, fetch: bodyAnswer('oops') }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VerifyError);
    expect((error as Error).message).toBe(
      'Verification of v2 failed: http://app.test/ through 1.1.1.1: body does not contain "v2"; body: "oops" (after 0s)\nRolled back from v2 to v1 on every host',
    );
    const t = recording.transcript;
    for (const host of ['1.1.1.1', '1.1.1.2']) {
      expect(t.some((c) => c.host === host && /kamal-proxy deploy app-web --target="c0ffee:80" --host="app\.test"/.test(c.command))).toBe(true);
      expect(t.some((c) => c.host === host && /^docker run --detach .* --name app-web-v1 /.test(c.command))).toBe(true);
    }
    expect(t.some((c) => c.host === '1.1.1.3' && /--name app-job-v1 /.test(c.command))).toBe(true);
    // one lock for the whole run: the rollback reuses it
    expect(t.filter((c) => /^mkdir \.kamal\/lock-app/.test(c.command))).toHaveLength(1);
    expect(k.verification).toMatchObject({ ok: false, rollback: 'done', rolledBackTo: 'v1', version: 'v2', previousVersion: 'v1' });
    expect(k.config.version).toBe('v2');
    expect(k.timeline.filter((t) => t.step === 'verify' || t.step === 'rollback after failed verification').map((t) => [t.step, t.ok, t.detail])).toEqual([
      ['verify', false, 'http://app.test/ through 1.1.1.1: body does not contain "v2"; body: "oops" (after 0s)'],
      ['rollback after failed verification', true, undefined],
    ]);
    expect(reporter.messages.map((m) => m.message)).toContain('Rolling back from v2 to v1 on every host...');
  });

  it('without rollback-on-failure fails and leaves the new version running', async () => {
    const { k, recording, rollout } = context();
    const error = await deployVerified(k, rollout, { specs: [SPEC], forMs: 0, rollbackOnFailure: false, clock: instant, fetch: bodyAnswer('oops') }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(/\nv2 stays deployed \(rollback-on-failure is off; the previous version was v1\)$/);
    expect(recording.transcript.some((c) => /docker run|kamal-proxy deploy/.test(c.command))).toBe(false);
    expect(k.verification!.rollback).toBeUndefined();
  });

  it('has nothing to roll back to after a first deploy', async () => {
    const { k, rollout } = context();
    const first = async () => {
      await rollout();
      for (const b of k.boots!) delete b.previousVersion;
    };
    const error = await deployVerified(k, first, { specs: [SPEC], forMs: 0, rollbackOnFailure: true, clock: instant, fetch: bodyAnswer('oops') }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(/\nnothing to roll back to: no version ran before v2$/);
    expect(k.verification!.rollback).toBe('skipped');
  });

  it('without URLs is the rollout alone', async () => {
    const { k, recording, rollout } = context();
    await deployVerified(k, rollout, { specs: [], forMs: 30_000, rollbackOnFailure: true });
    expect(recording.transcript).toEqual([]);
    expect(k.verification).toBeUndefined();
  });

  it('a dry run prints what it would check and asks nothing', async () => {
    const { k, reporter, rollout } = context({ dryRun: true });
    let asked = 0;
    await deployVerified(k, rollout, { specs: [SPEC], forMs: 60_000, rollbackOnFailure: true, fetch: async () => (asked++, { status: 500, body: '' }) });
    expect(asked).toBe(0);
    expect(reporter.messages.map((m) => m.message)).toContain(
      'Verifying v2 for 60s through the proxy on 1.1.1.1, 1.1.1.2: http://app.test/ (200, containing "v2")',
    );
  });
});
