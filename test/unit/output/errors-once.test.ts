/**
 * An error reaches the user once: printed by the CLI, or, in the action, as the step's annotation
 * only (not also as a log line). The runner's debug logging turns on verbose output.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { runMain } from '../../../src/action/run-main.js';
import { runPost } from '../../../src/action/run-post.js';
import { RecordingCore } from '../action/fakes.js';

function app(): string {
  const dir = mkdtempSync(join(tmpdir(), 'errors-once-'));
  mkdirSync(join(dir, 'config'));
  // a config error: a key Kamal does not know
  writeFileSync(
    join(dir, 'config/deploy.yml'),
    'service: app\nimage: a/b\nservers:\n  - 10.0.0.1\nregistry:\n  username: u\n  password: p\nbuilder:\n  arch: amd64\nbogus: 1\n',
  );
  return dir;
}

describe('an error is printed once', () => {
  it('CLI: on stderr, once', async () => {
    let out = '';
    let err = '';
    const r = await runCli(['app', 'version', '--version', 'v1'], {
      cwd: app(),
      env: { PATH: process.env.PATH },
      out: (s) => (out += s),
      err: (s) => (err += s),
    });
    expect(r.exitCode).toBe(1);
    expect(err).toBe('Configuration error: unknown key: bogus\n');
    expect(out).toBe('');
  });

  it('a caller that shows errors itself gets the error back, unprinted', async () => {
    let err = '';
    const r = await runCli(['app', 'version', '--version', 'v1'], { cwd: app(), env: { PATH: process.env.PATH }, err: (s) => (err += s), reportsErrors: true });
    expect(r.exitCode).toBe(1);
    expect((r.error as Error).message).toBe('unknown key: bogus');
    expect(err).toBe('');
  });

  it('action: the annotation only, not also a log line', async () => {
    const dir = app();
    const core = new RecordingCore({ version: 'v1' });
    const r = await runMain({ core, env: { GITHUB_WORKSPACE: dir, RUNNER_TEMP: dir, PATH: process.env.PATH ?? '' }, runCli });
    expect(r.exitCode).toBe(1);
    // in the log (the report output carries it as data)
    const mentions = core.events.filter((e) => e.kind !== 'output' && e.value?.includes('unknown key: bogus'));
    expect(mentions.map((e) => e.kind)).toEqual(['error']);
    expect(mentions[0]!.value).toBe('Configuration error: unknown key: bogus');
  });

  it("action's post step: a failed lock release is one warning, not also a log line", async () => {
    const dir = app();
    const core = new RecordingCore({ version: 'v1' });
    core.signState({ 'lock-held': 'true' }, tmpdir());
    await runPost({ core, env: { GITHUB_WORKSPACE: dir, PATH: process.env.PATH ?? '' }, runCli });
    const mentions = core.events.filter((e) => e.value?.includes('unknown key: bogus'));
    expect(mentions.map((e) => e.kind)).toEqual(['warning']);
    expect(mentions[0]!.value).toMatch(/^Could not release the deploy lock: Configuration error: unknown key: bogus\. Run `kamal-action lock release`$/);
  });
});
