import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readPostState, runPost, shouldFailDeployment, shouldReleaseLock } from '../../../src/action/run-post.js';
import { writeSshFiles } from '../../../src/action/ssh-files.js';
import type { CliDeps, CliResult } from '../../../src/cli/run.js';
import { LockError } from '../../../src/errors.js';
import { RecordingCore } from './fakes.js';
import { startFakeGithub, type FakeGithub } from './github-server.js';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAkeymaterial0001\n-----END OPENSSH PRIVATE KEY-----\n';

describe('post-step decisions', () => {
  const state = (s: Record<string, string>) => readPostState((n) => s[n] ?? '');
  it.each<[string, Record<string, string>, boolean]>([
    ['lock taken and never released (failed or cancelled run)', { 'lock-held': 'true' }, true],
    ['killed before main finished while holding the lock', { 'lock-held': 'true', 'deployment-id': '5' }, true],
    ['lock released by the engine', { 'lock-held': 'false', 'main-done': 'true' }, false],
    ['lock never taken', { 'main-done': 'true' }, false],
    ['nothing recorded (inputs were invalid)', {}, false],
  ])('%s', (_n, s, release) => {
    expect(shouldReleaseLock(state(s))).toBe(release);
  });

  it.each<[Record<string, string>, boolean]>([
    [{ 'deployment-id': '5' }, true],
    [{ 'deployment-id': '5', 'deployment-done': 'true' }, false],
    [{}, false],
    [{ 'deployment-id': 'x' }, false],
  ])('deployment needs a final status: %j → %s', (s, expected) => {
    expect(shouldFailDeployment(state(s))).toBe(expected);
  });
});

/** A core holding `values` as state saved (and signed) by a main step. */
function postCore(inputs: Record<string, string>, values: Record<string, string>): RecordingCore {
  const core = new RecordingCore(inputs);
  core.signState(values, tmpdir());
  return core;
}

describe('runPost', () => {
  let gh: FakeGithub;
  let workspace: string;
  beforeEach(async () => {
    gh = await startFakeGithub();
    workspace = mkdtempSync(join(tmpdir(), 'post-ws-'));
  });
  afterEach(async () => {
    await gh.close();
  });
  const env = () => ({
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SHA: 'abc',
    GITHUB_API_URL: gh.url,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_RUN_ID: '9',
  });

  function cli(result: Partial<CliResult> = {}) {
    const calls: { argv: string[]; deps: CliDeps; keyExisted: boolean }[] = [];
    const runCli = async (argv: string[], deps: CliDeps): Promise<CliResult> => {
      calls.push({ argv, deps, keyExisted: !!deps.options?.sshKeyFile && existsSync(deps.options.sshKeyFile) });
      return { exitCode: 0, ...result };
    };
    return { runCli, calls };
  }

  it('releases a lock left held, with the same config flags and key, then removes the key', async () => {
    const files = writeSshFiles({ key: KEY, knownHosts: 'h ssh-ed25519 AAAA\n', base: workspace })!;
    const core = postCore(
      { destination: 'staging', 'config-file': 'config/deploy.yml', 'ssh-private-key': KEY, secrets: 'KAMAL_REGISTRY_PASSWORD=pw-0001' },
      { 'lock-held': 'true', 'ssh-dir': files.dir },
    );
    mkdirSync(join(workspace, 'config'));
    writeFileSync(join(workspace, 'config/deploy.yml'), 'registry:\n  password:\n    - KAMAL_REGISTRY_PASSWORD\n');
    const { runCli, calls } = cli();
    await runPost({ core, env: env(), runCli });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.argv).toEqual(['lock', 'release', '--config-file', 'config/deploy.yml', '--destination', 'staging', '--version', 'abc']);
    expect(calls[0]!.keyExisted).toBe(true);
    expect(calls[0]!.deps.env).toMatchObject({ KAMAL_REGISTRY_PASSWORD: 'pw-0001' });
    expect(Object.keys(calls[0]!.deps.env!).filter((n) => n.startsWith('KAMAL_ACTION_'))).toEqual([]);
    expect(calls[0]!.deps.options).toEqual({ hostKeyChecking: 'strict', sshKeyFile: files.key, knownHostsFile: files.knownHosts });
    expect(calls[0]!.deps.extraSecrets).toEqual({ KAMAL_REGISTRY_PASSWORD: 'pw-0001' });
    expect(existsSync(files.dir)).toBe(false);
    expect(core.of('mask').map((m) => m.value)).toContain('pw-0001');
    expect(core.of('warning')).toEqual([]);
  });

  it('finishes a cancelled undo, then releases the lock: two runs, one load of the configuration', async () => {
    const pending = [{ host: '10.0.0.1', role: 'web', version: 'v2', previousVersion: 'v1', phase: 'switched' }];
    const core = postCore({}, { 'lock-held': 'true', 'pending-undo': JSON.stringify(pending) });
    const { runCli, calls } = cli();
    await runPost({ core, env: env(), runCli });
    expect(calls.map((c) => c.argv.slice(0, 2))).toEqual([
      ['app', 'undo_boot'],
      ['lock', 'release'],
    ]);
    expect(calls[0]!.deps.env).toMatchObject({ KAMAL_LOCK: 'true' });
    expect(calls[0]!.deps.loadConfig).toBeTypeOf('function');
    expect(calls[0]!.deps.loadConfig).toBe(calls[1]!.deps.loadConfig);
  });

  it('does not touch the lock when this run did not leave it held', async () => {
    const core = postCore({}, { 'lock-held': 'false', 'main-done': 'true' });
    const { runCli, calls } = cli();
    await runPost({ core, env: env(), runCli });
    expect(calls).toEqual([]);
  });

  it('a failed release is a warning naming the fix', async () => {
    const core = postCore({ secrets: 'X=secret-value-77' }, { 'lock-held': 'true' });
    const { runCli } = cli({ exitCode: 1, error: new LockError('cannot reach host with secret-value-77') });
    await expect(runPost({ core, env: env(), runCli })).resolves.toBeUndefined();
    const w = core.of('warning').map((e) => e.value);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('Could not release the deploy lock: Lock error: cannot reach host with [REDACTED]');
    expect(w[0]).toContain('kamal-action lock release');
  });

  it('gives an unfinished deployment its failure status', async () => {
    const core = postCore({ 'github-token': 'ghs_post' }, { 'deployment-id': '77' });
    await runPost({ core, env: env(), runCli: cli().runCli });
    expect(gh.requests).toEqual([
      {
        method: 'POST',
        path: '/repos/acme/shop/deployments/77/statuses',
        authorization: 'token ghs_post',
        body: {
          state: 'failure',
          log_url: 'https://github.example/acme/shop/actions/runs/9',
          description: 'The job was cancelled or stopped before the rollout finished',
        },
      },
    ]);
  });

  it('leaves a finished deployment alone', async () => {
    const core = postCore({ 'github-token': 'ghs_post' }, { 'deployment-id': '77', 'deployment-done': 'true', 'main-done': 'true' });
    await runPost({ core, env: env(), runCli: cli().runCli });
    expect(gh.requests).toEqual([]);
  });

  it('logs out of the registry it logged in to; failures are warnings', async () => {
    const logouts: string[] = [];
    const core = postCore({}, { 'registry-login': 'ghcr.io' });
    await runPost({ core, env: env(), runCli: cli().runCli, dockerLogout: async (s) => void logouts.push(s) });
    expect(logouts).toEqual(['ghcr.io']);

    const core2 = postCore({}, { 'registry-login': 'ghcr.io' });
    await runPost({
      core: core2,
      env: env(),
      runCli: cli().runCli,
      dockerLogout: async () => {
        throw new Error('docker logout failed: no docker');
      },
    });
    expect(core2.of('warning').map((e) => e.value)).toEqual(['docker logout failed: no docker']);
  });

  it('bad inputs in the post step are a warning, and a held lock is reported', async () => {
    const core = postCore({ 'lock-wait': 'perhaps' }, { 'lock-held': 'true' });
    const { runCli, calls } = cli();
    await runPost({ core, env: env(), runCli });
    expect(calls).toEqual([]);
    expect(core.of('warning').map((e) => e.value)).toEqual([
      "Post step: Input 'lock-wait' must be true or false",
      'The deploy lock taken by this run may still be held: run `kamal-action lock release`',
    ]);
  });

  it('only removes folders it created', async () => {
    const core = postCore({}, { 'ssh-dir': workspace });
    await runPost({ core, env: env(), runCli: cli().runCli });
    expect(existsSync(workspace)).toBe(true);
    expect(core.of('warning')[0]!.value).toContain('not a kamal-action SSH folder');
  });
});
