import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, commandArgv, getInputs } from '../../../src/action/inputs.js';
import { verificationMarkdown } from '../../../src/action/verify.js';
import { runMain } from '../../../src/action/run-main.js';
import type { CliDeps, CliResult } from '../../../src/cli/run.js';
import { VerifyError, type Verification } from '../../../src/engine/verify.js';
import { RecordingCore, fakeKamal } from './fakes.js';

const reader = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('verify inputs', () => {
  it('become deploy flags, one --verify-url a line', () => {
    const inputs = getInputs(
      reader({
        version: 'v2',
        'verify-url': 'https://app.test/up 200 "OK"\n\n# the home page\nhttps://app.test/ 200 v2\n',
        'verify-for': '2m',
        'rollback-on-failure': 'true',
      }),
    );
    expect(inputs['verify-url']).toEqual(['https://app.test/up 200 "OK"', 'https://app.test/ 200 v2']);
    expect(commandArgv(inputs)).toEqual([
      'deploy',
      '--config-file',
      'config/deploy.yml',
      '--version',
      'v2',
      '--verify-url',
      'https://app.test/up 200 "OK"',
      '--verify-url',
      'https://app.test/ 200 v2',
      '--verify-for',
      '2m',
      '--rollback-on-failure',
    ]);
  });

  it('add nothing without verify-url, whatever verify-for says (the runner passes its default)', () => {
    const inputs = getInputs(reader({ 'verify-for': '30s', 'rollback-on-failure': 'false' }));
    expect(commandArgv(inputs)).toEqual(['deploy', '--config-file', 'config/deploy.yml']);
  });

  it('apply to redeploy too, and leave flags the command line already has', () => {
    const inputs = getInputs(reader({ command: 'redeploy --verify-for 10s', 'verify-url': 'http://a.test/', 'verify-for': '30s' }));
    expect(commandArgv(inputs)).toEqual(['redeploy', '--verify-for', '10s', '--config-file', 'config/deploy.yml', '--verify-url', 'http://a.test/']);
  });

  const bad: [Record<string, string>, string][] = [
    [
      { 'verify-url': 'http://a.test/\napp.test/up' },
      "Input 'verify-url' 'app.test/up' is not an absolute URL: expected URL [STATUS] [TEXT], such as https://app.example.com/up 200 \"OK\"",
    ],
    [{ 'verify-url': 'http://a.test/ 42' }, "Input 'verify-url' '42' after http://a.test/ is not an HTTP status (100-599)"],
    [{ 'verify-url': 'http://a.test/', 'verify-for': 'a while' }, "Input 'verify-for' 'a while' is not a duration such as 30s, 2m, 1m30s or 45 (seconds)"],
    [{ 'verify-url': 'http://a.test/', 'rollback-on-failure': 'yes' }, "Input 'rollback-on-failure' must be true or false"],
    [{ 'rollback-on-failure': 'true' }, "Input 'rollback-on-failure' needs verify-url: the rollback follows a failed check"],
    [{ command: 'rollback v1', 'verify-url': 'http://a.test/' }, "Input 'verify-url' only applies to deploy and redeploy, not 'rollback'"],
  ];
  it.each(bad)('refuses %j', (values, message) => {
    expect(() => getInputs(reader(values))).toThrow(InputError);
    expect(() => getInputs(reader(values))).toThrow(message);
  });
});

const URLS = [{ url: 'http://app.test/', status: 200, contains: 'v1' }];

function verification(o: Partial<Verification>): Verification {
  return {
    urls: URLS,
    hosts: ['10.0.0.1', '10.0.0.2'],
    forSeconds: 20,
    ok: true,
    rounds: 11,
    requests: 22,
    version: 'v2',
    previousVersion: 'v1',
    rollbackOnFailure: true,
    ...o,
  };
}

const FAILURE = {
  url: 'http://app.test/',
  host: '10.0.0.2',
  expectedStatus: 200,
  contains: 'v1',
  status: 200,
  excerpt: 'broken',
  reason: 'body does not contain "v1"',
  atMs: 4000,
};

describe('verificationMarkdown', () => {
  it('says nothing without checks', () => {
    expect(verificationMarkdown(undefined)).toEqual([]);
  });

  it('a passed check', () => {
    expect(verificationMarkdown(verification({})).join('\n')).toBe(
      [
        '### Verification',
        '',
        '✅ `v2` answered as expected for 20 s: 22 requests in 11 rounds through the proxy on `10.0.0.1`, `10.0.0.2`.',
        '',
        '<details><summary>Checked URLs</summary>',
        '',
        '- `http://app.test/` → 200 containing `v1`',
        '',
        '</details>',
        '',
      ].join('\n'),
    );
  });

  it('a failed check rolled back names the URL, host, answer and both versions', () => {
    expect(verificationMarkdown(verification({ ok: false, rounds: 3, failure: FAILURE, rollback: 'done', rolledBackTo: 'v1' })).join('\n')).toBe(
      [
        '### Verification',
        '',
        '❌ `v2` failed its checks after 4.0 s (round 3):',
        '',
        '- **URL:** `http://app.test/` through `10.0.0.2`',
        '- **Expected:** status 200, body containing `v1`',
        '- **Got:** status 200 — body does not contain "v1"',
        '- **Body:** `broken`',
        '',
        '↩️ **Rolled back** from `v2` to `v1` on every host: `v1` serves again.',
        '',
        '<details><summary>Checked URLs</summary>',
        '',
        '- `http://app.test/` → 200 containing `v1`',
        '',
        '</details>',
        '',
      ].join('\n'),
    );
  });

  it('a failed check without rollback says how to roll back; a failed or impossible rollback says so', () => {
    const off = verificationMarkdown(
      verification({ ok: false, failure: { ...FAILURE, status: undefined, excerpt: undefined, reason: 'request failed: timeout' }, rollbackOnFailure: false }),
    );
    expect(off).toContain('- **Got:** no answer — request failed: timeout');
    expect(off).toContain(
      '⚠️ `v2` stays deployed (rollback-on-failure is off); roll back with `kamal-action rollback v1` or the rollback command of this action.',
    );
    expect(off.some((l) => l.startsWith('- **Body:**'))).toBe(false);
    expect(verificationMarkdown(verification({ ok: false, failure: FAILURE, rollback: 'failed' }))).toContain(
      '⚠️ Rolling back from `v2` to `v1` **failed**: see the failure below; `v2` may still serve.',
    );
    expect(verificationMarkdown(verification({ ok: false, failure: FAILURE, rollback: 'skipped', previousVersion: undefined }))).toContain(
      '⚠️ No rollback: no earlier version than `v2` to go back to. `v2` stays deployed.',
    );
  });
});

describe('runMain with verify-url and rollback-on-failure', () => {
  it('passes the flags, fails the step, and names both versions in the summary, the outputs and the annotation', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'action-verify-'));
    const core = new RecordingCore({ version: 'bad', 'verify-url': 'http://app.test/ 200 "v1"', 'verify-for': '20s', 'rollback-on-failure': 'true' });
    const seen: string[][] = [];
    const runCli = async (argv: string[], deps: CliDeps): Promise<CliResult> => {
      seen.push(argv);
      const k = fakeKamal({ version: 'bad' });
      deps.onContext?.(k);
      k.boots.push({ host: '10.0.0.1', role: 'web', version: 'bad', previousVersion: 'v1', ok: true, startedAt: 1, finishedAt: 2 });
      k.boots.push({ host: '10.0.0.1', role: 'web', version: 'v1', previousVersion: 'bad', ok: true, startedAt: 3, finishedAt: 4 });
      const v = verification({ version: 'bad', ok: false, rounds: 3, failure: { ...FAILURE, host: '10.0.0.1' }, rollback: 'done', rolledBackTo: 'v1' });
      k.verification = v;
      const error = new VerifyError(
        'Verification of bad failed: http://app.test/ through 10.0.0.1: body does not contain "v1"; body: "broken" (after 4s)\nRolled back from bad to v1 on every host',
        v,
      );
      return { exitCode: 1, error, kamal: k };
    };
    const r = await runMain({ core, env: { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: workspace }, runCli });
    expect(seen).toEqual([['deploy', '--verify-url', 'http://app.test/ 200 "v1"', '--verify-for', '20s', '--rollback-on-failure']]);
    expect(r.exitCode).toBe(1);
    expect(core.failed).toBe(true);
    expect(core.outputs.version).toBe('bad');
    expect(core.outputs['previous-version']).toBe('v1');
    expect(JSON.parse(core.outputs.report!).verification).toMatchObject({ ok: false, rollback: 'done', rolledBackTo: 'v1', version: 'bad' });
    expect(core.summary).toContain('| `bad` | `v1` |');
    expect(core.summary).toContain('↩️ **Rolled back** from `bad` to `v1` on every host: `v1` serves again.');
    expect(core.summary).toContain('Rolled back from bad to v1 on every host');
    expect(core.summary).not.toContain('keeps serving where the new one did not become healthy');
    const [annotation] = core.of('error');
    expect(annotation!.props?.title).toBe('kamal-action deploy failed on 10.0.0.1');
    expect(annotation!.value).toBe(
      'Error: Verification of bad failed: http://app.test/ through 10.0.0.1: body does not contain "v1"; body: "broken" (after 4s)\nRolled back from bad to v1 on every host',
    );
  });
});
