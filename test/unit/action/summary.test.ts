import { describe, expect, it } from 'vitest';
import { buildReport, failureOf, previousVersionOf, redactDeep, type DeployReport } from '../../../src/action/report.js';
import { failureAnnotation, rolloutGantt, summaryMarkdown } from '../../../src/action/summary.js';
import { CommandFailedError } from '../../../src/exec/types.js';
import { BootError } from '../../../src/errors.js';
import { MultiError } from '../../../src/engine/parallel.js';
import { SecretRegistry } from '../../../src/secret.js';
import { fakeKamal } from './fakes.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

function successKamal() {
  return fakeKamal({
    version: 'v2',
    hosts: ['10.0.0.1', '10.0.0.2'],
    roles: ['web', 'job'],
    boots: [
      { host: '10.0.0.1', role: 'web', version: 'v2', previousVersion: 'v1', ok: true, startedAt: T0 + 5000, finishedAt: T0 + 9000 },
      { host: '10.0.0.2', role: 'web', version: 'v2', previousVersion: 'v1', ok: true, startedAt: T0 + 5000, finishedAt: T0 + 9500 },
      { host: '10.0.0.2', role: 'job', version: 'v2', previousVersion: 'v0', ok: true, startedAt: T0 + 9000, finishedAt: T0 + 10000 },
    ],
    timeline: [
      { step: 'build', startedAt: T0, finishedAt: T0 + 4000, ok: true },
      { step: 'acquire lock', startedAt: T0 + 4000, finishedAt: T0 + 4200, ok: true },
      { step: 'boot web', host: '10.0.0.1', role: 'web', startedAt: T0 + 5000, finishedAt: T0 + 9000, ok: true },
      { step: 'boot web', host: '10.0.0.2', role: 'web', startedAt: T0 + 5000, finishedAt: T0 + 9500, ok: true },
      { step: 'boot job', host: '10.0.0.2', role: 'job', startedAt: T0 + 9000, finishedAt: T0 + 10000, ok: true },
    ],
  });
}

describe('buildReport', () => {
  it('collects versions, hosts, roles, boots and timeline', () => {
    const r = buildReport({ argv: ['deploy', '--destination', 'prod'], kamal: successKamal(), cancelled: false, startedAt: T0, finishedAt: T0 + 12_345 });
    expect(r).toMatchObject({
      command: 'deploy --destination prod',
      result: 'success',
      version: 'v2',
      previousVersion: 'v1',
      image: 'registry.example.com/app:v2',
      hosts: ['10.0.0.1', '10.0.0.2'],
      roles: ['web', 'job'],
      durationSeconds: 12.3,
      startedAt: '2026-06-01T12:00:00.000Z',
    });
    expect(r.boots[0]).toEqual({
      host: '10.0.0.1',
      role: 'web',
      version: 'v2',
      previousVersion: 'v1',
      ok: true,
      startedAt: '2026-06-01T12:00:05.000Z',
      finishedAt: '2026-06-01T12:00:09.000Z',
      durationSeconds: 4,
      error: undefined,
      logs: undefined,
    });
    expect(r.timeline).toHaveLength(5);
    expect(r.error).toBeUndefined();
  });

  it('quotes words of the command that need it', () => {
    const r = buildReport({ argv: ['app', 'exec', 'bin/rails db:migrate', "it's"], cancelled: false, startedAt: T0, finishedAt: T0 });
    expect(r.command).toBe(`app exec 'bin/rails db:migrate' 'it'\\''s'`);
  });

  it('previous version comes from the primary role on the primary host', () => {
    const boots = [
      { host: 'b', role: 'job', version: 'v2', previousVersion: 'x', ok: true, startedAt: 0 },
      { host: 'a', role: 'web', version: 'v2', previousVersion: 'v1', ok: true, startedAt: 0 },
    ];
    expect(previousVersionOf(boots, { role: 'web', host: 'a' })).toBe('v1');
    expect(previousVersionOf(boots, { role: 'web', host: 'zzz' })).toBe('x');
    expect(previousVersionOf([], { role: 'web', host: 'a' })).toBeUndefined();
  });

  it('falls back to the version seen on the hosts before the run', () => {
    const r = buildReport({
      argv: ['rollback', 'v1'],
      kamal: fakeKamal({ version: 'v1' }),
      cancelled: false,
      startedAt: T0,
      finishedAt: T0,
      previousVersion: 'v2',
    });
    expect(r.previousVersion).toBe('v2');
  });

  it('works without a context (configuration error)', () => {
    const r = buildReport({
      argv: ['deploy'],
      error: new Error('bad config'),
      errorText: 'Configuration error: bad config',
      cancelled: false,
      startedAt: T0,
      finishedAt: T0 + 100,
    });
    expect(r).toMatchObject({ result: 'failure', hosts: [], roles: [], boots: [], timeline: [], error: { message: 'Configuration error: bad config' } });
  });
});

describe('failureOf', () => {
  const boots = [
    {
      host: '10.0.0.1',
      role: 'web',
      version: 'bad',
      previousVersion: 'v2',
      ok: false,
      startedAt: T0,
      finishedAt: T0 + 1,
      error: 'x',
      logs: 'booting\nlistening on 3000\nGET /up 404',
    },
  ];
  const timeline = [{ step: 'boot web', host: '10.0.0.1', role: 'web', startedAt: T0, finishedAt: T0 + 1, ok: false, detail: 'x' }];

  it('names host, command and exit code of a failed command, and the container logs', () => {
    const e = new CommandFailedError({
      host: '10.0.0.1',
      command: 'docker exec kamal-proxy kamal-proxy deploy app-web',
      exitCode: 1,
      stdout: '',
      stderr: 'target failed to become healthy',
    });
    expect(failureOf(e, 'Command failed: ...', boots, timeline)).toEqual({
      message: 'Command failed: ...',
      host: '10.0.0.1',
      role: 'web',
      command: 'docker exec kamal-proxy kamal-proxy deploy app-web',
      exitCode: 1,
      step: 'boot web',
      logs: 'booting\nlistening on 3000\nGET /up 404',
    });
  });

  it('looks inside a MultiError', () => {
    const inner = new CommandFailedError({ host: '10.0.0.1', command: 'c', exitCode: 2, stdout: '', stderr: '' });
    expect(failureOf(new MultiError([inner, new Error('other')]), 'm', boots, timeline)).toMatchObject({ host: '10.0.0.1', command: 'c', exitCode: 2 });
  });

  it('finds the host from the failed boot when the error has none', () => {
    expect(failureOf(new BootError('container not ready'), 'm', boots, timeline)).toMatchObject({ host: '10.0.0.1', role: 'web', step: 'boot web' });
  });
});

describe('redactDeep', () => {
  it('redacts every string, nested, keys included, and drops undefined', () => {
    const reg = new SecretRegistry();
    reg.add('hunter2-pw');
    reg.add('-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\n-----END KEY-----');
    const report = {
      command: 'deploy',
      error: { message: 'login -p hunter2-pw failed', logs: 'key line AAAABBBBCCCCDDDD seen' },
      boots: [{ error: 'x hunter2-pw y', n: 3, ok: true, missing: undefined }],
      'hunter2-pw': 'key',
    };
    const out = redactDeep(report, (s) => reg.redact(s));
    expect(JSON.stringify(out)).not.toMatch(/hunter2|AAAABBBB/);
    expect(out).toEqual({
      command: 'deploy',
      error: { message: 'login -p [REDACTED] failed', logs: 'key line [REDACTED] seen' },
      boots: [{ error: 'x [REDACTED] y', n: 3, ok: true }],
      '[REDACTED]': 'key',
    });
  });
});

describe('summaryMarkdown', () => {
  it('shows versions per host and role, durations and a gantt timeline', () => {
    const r = buildReport({ argv: ['deploy', '--destination', 'prod'], kamal: successKamal(), cancelled: false, startedAt: T0, finishedAt: T0 + 12_000 });
    const md = summaryMarkdown(r);
    expect(md).toContain('## ✅ app: deploy succeeded');
    expect(md).toContain('| `v2` | `v1` | `registry.example.com/app:v2` | 12.0 s | `kamal-action deploy --destination prod` |');
    expect(md).toContain('| 10.0.0.1 | web | `v1` | `v2` | ✅ booted | 4.0 s |');
    expect(md).toContain('| 10.0.0.2 | job | `v0` | `v2` | ✅ booted | 1.0 s |');
    expect(md).toContain('```mermaid\ngantt');
    expect(md).not.toContain('### Failure');
  });

  it('gantt: one section per host, global steps first, failed steps crit, unfinished active', () => {
    const g = rolloutGantt(
      [
        { step: 'build', startedAt: new Date(T0).toISOString(), finishedAt: new Date(T0 + 2000).toISOString(), ok: true, durationSeconds: 2 },
        {
          step: 'boot web',
          host: '10.0.0.1',
          role: 'web',
          startedAt: new Date(T0 + 2000).toISOString(),
          finishedAt: new Date(T0 + 2000).toISOString(),
          ok: false,
        },
        { step: 'hook pre-deploy: x#y;z', host: '10.0.0.2', startedAt: new Date(T0 + 2500).toISOString() },
      ],
      new Date(T0 + 5000).toISOString(),
    );
    expect(g).toBe(
      [
        'gantt',
        '  title Rollout timeline',
        '  dateFormat x',
        '  axisFormat %M:%S',
        '  section all hosts',
        `  build :done, t0, ${T0}, ${T0 + 2000}`,
        '  section 10.0.0.1',
        `  boot web :crit, t1, ${T0 + 2000}, ${T0 + 2001}`,
        '  section 10.0.0.2',
        `  hook pre-deploy x y z :active, t2, ${T0 + 2500}, ${T0 + 5000}`,
      ].join('\n'),
    );
  });

  it('on failure names host, command and shows the last log lines; the annotation says the same', () => {
    const k = fakeKamal({
      version: 'bad',
      hosts: ['10.0.0.1'],
      boots: [
        {
          host: '10.0.0.1',
          role: 'web',
          version: 'bad',
          previousVersion: 'v2',
          ok: false,
          startedAt: T0,
          finishedAt: T0 + 3000,
          error: 'x',
          logs: 'app starting\nGET /up 404 ```',
        },
      ],
      timeline: [
        { step: 'boot web', host: '10.0.0.1', role: 'web', startedAt: T0, finishedAt: T0 + 3000, ok: false, detail: 'target failed to become healthy' },
      ],
    });
    const e = new CommandFailedError({
      host: '10.0.0.1',
      command: 'docker exec kamal-proxy kamal-proxy deploy app-web --target "x|y"',
      exitCode: 1,
      stdout: '',
      stderr: 'target failed to become healthy',
    });
    const r = buildReport({
      argv: ['deploy'],
      kamal: k,
      error: e,
      errorText: 'Command failed: command failed on 10.0.0.1 (exit 1)',
      cancelled: false,
      startedAt: T0,
      finishedAt: T0 + 4000,
    });
    const md = summaryMarkdown(r);
    expect(md).toContain('## ❌ app: deploy failed');
    expect(md).toContain('### Failure');
    expect(md).toContain('- **Host:** `10.0.0.1` (role `web`)');
    expect(md).toContain('- **Command:** `docker exec kamal-proxy kamal-proxy deploy app-web --target "x\\|y"` (exit 1)');
    expect(md).toContain('````\napp starting\nGET /up 404 ```\n````');
    expect(md).toContain('| 10.0.0.1 | web | `v2` | `bad` | ❌ failed | 3.0 s |');
    expect(md).toContain('The previous version `v2` keeps serving');
    const note = failureAnnotation(r)!;
    expect(note.title).toBe('kamal-action deploy failed on 10.0.0.1');
    expect(note.message).toContain('Command failed: command failed on 10.0.0.1');
    expect(note.message).toContain('Last log lines:\napp starting');
  });

  it('a cancelled run says so', () => {
    const r: DeployReport = buildReport({
      argv: ['deploy'],
      kamal: fakeKamal(),
      error: new Error('Cancelled by SIGINT'),
      errorText: 'Cancelled: Cancelled by SIGINT',
      cancelled: true,
      startedAt: T0,
      finishedAt: T0 + 1000,
    });
    expect(summaryMarkdown(r)).toContain('## ⚠️ app: deploy was cancelled');
    expect(summaryMarkdown(r)).toContain('### Cancelled');
    expect(failureAnnotation(r)!.title).toBe('kamal-action deploy cancelled');
  });

  it('a successful run has no annotation', () => {
    expect(failureAnnotation(buildReport({ argv: ['deploy'], kamal: fakeKamal(), cancelled: false, startedAt: T0, finishedAt: T0 }))).toBeUndefined();
  });
});
