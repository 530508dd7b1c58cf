import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMain } from '../../../src/action/run-main.js';
import type { CliDeps, CliResult } from '../../../src/cli/run.js';
import type { Kamal } from '../../../src/engine/kamal.js';
import { CancelledError } from '../../../src/engine/cancel.js';
import { CommandFailedError } from '../../../src/exec/types.js';
import { RecordingCore, fakeKamal } from './fakes.js';
import { startFakeGithub, type FakeGithub } from './github-server.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

function listing(rows: [string, string][]): string {
  const header = 'CONTAINER ID   IMAGE                          COMMAND                  CREATED          STATUS                     PORTS     NAMES';
  return [
    header,
    ...rows.map(
      ([name, status], i) =>
        `abc${i}   registry.example.com/app:${name.split('-').pop()}   "/usr/local/bin/app-…"   ${i + 1} minutes ago   ${status}   80/tcp   ${name}`,
    ),
  ].join('\n');
}

type Scenario = (argv: string[], deps: CliDeps, k: Kamal & { boots: unknown[] }) => Promise<CliResult> | CliResult;

function fakeCli(opts: { containers?: string; run?: Scenario; kamal?: () => ReturnType<typeof fakeKamal> }) {
  const calls: { argv: string[]; deps: CliDeps }[] = [];
  const runCli = async (argv: string[], deps: CliDeps): Promise<CliResult> => {
    calls.push({ argv, deps });
    const k = opts.kamal?.() ?? fakeKamal();
    deps.onContext?.(k);
    if (argv[0] === 'app' && argv[1] === 'containers') {
      deps.reporter!.hostOutput('10.0.0.1', opts.containers ?? '');
      return { exitCode: 0, kamal: k };
    }
    if (opts.run) return opts.run(argv, deps, k);
    k.boots.push({ host: '10.0.0.1', role: 'web', version: 'v2', previousVersion: 'v1', ok: true, startedAt: 1, finishedAt: 2 });
    return { exitCode: 0, kamal: k };
  };
  return { runCli, calls };
}

let gh: FakeGithub;
let workspace: string;
beforeEach(async () => {
  gh = await startFakeGithub({ firstDeploymentId: 42 });
  workspace = mkdtempSync(join(tmpdir(), 'action-ws-'));
});
afterEach(async () => {
  await gh.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SHA: SHA,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_RUN_ID: '777',
    GITHUB_API_URL: gh.url,
    RUNNER_TEMP: workspace,
    ...extra,
  };
}

describe('runMain: deployments', () => {
  it('creates a deployment, then in_progress and success statuses (exact REST calls)', async () => {
    const core = new RecordingCore({ environment: 'production', 'environment-url': 'https://shop.example', 'github-token': 'ghs_tok123' });
    const { runCli, calls } = fakeCli({
      containers: listing([
        ['app-web-v2', 'Up 3 minutes'],
        ['app-web-v1', 'Exited (0) 3 minutes ago'],
      ]),
    });
    const r = await runMain({ core, env: env(), runCli });
    expect(r.exitCode).toBe(0);
    expect(calls.map((c) => c.argv)).toEqual([['app', 'containers', '--primary'], ['deploy']]);
    // the config file and version are options, not words to parse
    expect(calls[0]!.deps.options).toMatchObject({ configFile: 'config/deploy.yml', version: SHA });
    expect(calls[1]!.deps.options).toEqual({ hostKeyChecking: 'strict', knownHostsFile: undefined, sshKeyFile: undefined, configFile: 'config/deploy.yml' });
    // one loader for both: the configuration and its secrets are loaded once in the step
    expect(calls[0]!.deps.loadConfig).toBe(calls[1]!.deps.loadConfig);
    expect(gh.requests).toEqual([
      {
        method: 'POST',
        path: '/repos/acme/shop/deployments',
        authorization: 'token ghs_tok123',
        body: {
          ref: SHA,
          task: 'deploy',
          environment: 'production',
          auto_merge: false,
          required_contexts: [],
          transient_environment: false,
          payload: { version: SHA, command: 'deploy --config-file config/deploy.yml', previous: 'v2' },
          description: 'kamal-action deploy',
        },
      },
      {
        method: 'POST',
        path: '/repos/acme/shop/deployments/42/statuses',
        authorization: 'token ghs_tok123',
        body: { state: 'in_progress', log_url: 'https://github.example/acme/shop/actions/runs/777', description: 'deploy started' },
      },
      {
        method: 'POST',
        path: '/repos/acme/shop/deployments/42/statuses',
        authorization: 'token ghs_tok123',
        body: {
          state: 'success',
          log_url: 'https://github.example/acme/shop/actions/runs/777',
          environment_url: 'https://shop.example',
          description: 'v2 deployed (was v1)',
        },
      },
    ]);
    expect(core.outputs['deployment-id']).toBe('42');
    expect(core.state).toMatchObject({ 'deployment-id': '42', 'deployment-done': 'true', 'main-done': 'true' });
    expect(JSON.parse(core.outputs.report!).deployment).toEqual({ id: 42, environment: 'production', url: 'https://shop.example' });
  });

  it('marks the deployment failed, annotates the failure and fails the step', async () => {
    const core = new RecordingCore({ environment: 'staging', 'github-token': 'ghs_tok123', version: 'bad' });
    const { runCli } = fakeCli({
      containers: listing([['app-web-v2', 'Up 1 second']]),
      run: (_argv, deps, k) => {
        k.onLockChange?.(true);
        k.boots.push({
          host: '10.0.0.1',
          role: 'web',
          version: 'bad',
          previousVersion: 'v2',
          ok: false,
          startedAt: 1,
          finishedAt: 2,
          error: 'e',
          logs: 'GET /up 404',
        });
        k.onLockChange?.(false);
        const error = new CommandFailedError({
          host: '10.0.0.1',
          command: 'docker exec kamal-proxy kamal-proxy deploy',
          exitCode: 1,
          stdout: '',
          stderr: 'target failed to become healthy',
        });
        return { exitCode: 1, error, kamal: k };
      },
      kamal: () => fakeKamal({ version: 'bad' }),
    });
    const r = await runMain({ core, env: env(), runCli });
    expect(r.exitCode).toBe(1);
    expect(core.failed).toBe(true);
    expect(gh.requests.map((q) => `${q.method} ${q.path} ${(q.body as { state?: string }).state ?? ''}`)).toEqual([
      'POST /repos/acme/shop/deployments ',
      'POST /repos/acme/shop/deployments/42/statuses in_progress',
      'POST /repos/acme/shop/deployments/42/statuses failure',
    ]);
    expect(gh.requests[0]!.body).toMatchObject({ payload: { version: 'bad', previous: 'v2' } });
    const failure = gh.requests[2]!.body as Record<string, unknown>;
    expect(failure).toEqual({
      state: 'failure',
      log_url: 'https://github.example/acme/shop/actions/runs/777',
      description: 'Command failed: command failed on 10.0.0.1 (exit 1): docker exec kamal-proxy kamal-proxy deploy',
    });
    const errors = core.of('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.props?.title).toBe('kamal-action deploy failed on 10.0.0.1');
    expect(errors[0]!.value).toContain('target failed to become healthy');
    expect(errors[0]!.value).toContain('GET /up 404');
    expect(core.of('failed')).toHaveLength(0); // one annotation, not two
    expect(core.outputs['previous-version']).toBe('v2');
    expect(core.summary).toContain('### Failure');
    expect(core.state['lock-held']).toBe('false');
  });

  it('a failing deployments API is a warning, not a failed deploy', async () => {
    gh.failNext('POST', /deployments$/, 403, { message: 'Resource not accessible by integration' });
    const core = new RecordingCore({ environment: 'production', 'github-token': 'ghs_tok123' });
    const { runCli } = fakeCli({});
    const r = await runMain({ core, env: env(), runCli });
    expect(r.exitCode).toBe(0);
    expect(gh.requests).toHaveLength(1);
    expect(
      core
        .of('warning')
        .map((w) => w.value)
        .join('\n'),
    ).toContain('Could not record the GitHub deployment');
    expect(core.outputs['deployment-id']).toBe('');
  });

  it('records no deployment without a token, for other commands or in a dry run', async () => {
    const cases: Record<string, string>[] = [
      { environment: 'production' },
      { environment: 'production', 'github-token': 't0k3n-x', command: 'app exec --reuse "bin/rails db:migrate"' },
      { environment: 'production', 'github-token': 't0k3n-x', 'dry-run': 'true' },
    ];
    for (const inputs of cases) {
      const core = new RecordingCore(inputs);
      const { runCli, calls } = fakeCli({});
      expect((await runMain({ core, env: env(), runCli })).exitCode).toBe(0);
      expect(calls).toHaveLength(1);
    }
    expect(gh.requests).toEqual([]);
  });

  it('a cancelled run marks the deployment failed with "Cancelled"', async () => {
    const core = new RecordingCore({ environment: 'production', 'github-token': 'ghs_tok123' });
    const controller = new AbortController();
    const { runCli } = fakeCli({
      run: (_a, _d, k) => {
        k.onLockChange?.(true);
        controller.abort(new CancelledError('Cancelled by SIGINT'));
        return { exitCode: 130, error: new CancelledError('Cancelled by SIGINT'), kamal: k };
      },
    });
    const r = await runMain({ core, env: env(), runCli, signal: controller.signal });
    expect(r.exitCode).toBe(130);
    expect(r.report?.result).toBe('cancelled');
    expect(gh.requests.at(-1)!.body).toMatchObject({ state: 'failure', description: 'Cancelled' });
    expect(core.of('error')[0]!.props?.title).toBe('kamal-action deploy cancelled');
    // The engine did not get to release it: the post step will.
    expect(core.state['lock-held']).toBe('true');
  });
});

describe('runMain: rollback', () => {
  it('without a version goes back to the newest stopped version and records deploy:rollback', async () => {
    const core = new RecordingCore({ command: 'rollback', environment: 'production', 'github-token': 'ghs_tok123' });
    const { runCli, calls } = fakeCli({
      containers: listing([
        ['app-web-v3', 'Up 2 minutes'],
        ['app-web-v2_replaced_0123456789abcdef', 'Exited (0) 5 minutes ago'],
        ['app-web-v2', 'Exited (0) 2 minutes ago'],
        ['app-web-v1', 'Exited (0) 9 minutes ago'],
        ['app-worker-v1', 'Exited (0) 9 minutes ago'],
      ]),
      kamal: () => fakeKamal({ version: 'v2' }),
      run: (_a, _d, k) => {
        k.boots.push({ host: '10.0.0.1', role: 'web', version: 'v2', previousVersion: 'v3', ok: true, startedAt: 1, finishedAt: 2 });
        return { exitCode: 0, kamal: k };
      },
    });
    const r = await runMain({ core, env: env(), runCli });
    expect(r.exitCode).toBe(0);
    expect(calls[0]!.argv).toEqual(['app', 'containers', '--primary']);
    expect(calls[0]!.deps.options).toEqual({
      hostKeyChecking: 'strict',
      knownHostsFile: undefined,
      sshKeyFile: undefined,
      configFile: 'config/deploy.yml',
      destination: undefined,
      version: SHA,
    });
    expect(calls[1]!.argv).toEqual(['rollback', 'v2']);
    expect(calls[1]!.deps.options).toMatchObject({ configFile: 'config/deploy.yml', version: 'v2' });
    expect(gh.requests[0]!.body).toMatchObject({ task: 'deploy:rollback', payload: { version: 'v2', previous: 'v3' }, description: 'Rollback to v2' });
    expect(core.outputs).toMatchObject({ version: 'v2', 'previous-version': 'v3' });
  });

  it('with the version input does not need to look (no deployment)', async () => {
    const core = new RecordingCore({ command: 'rollback', version: 'v1' });
    const { runCli, calls } = fakeCli({});
    await runMain({ core, env: env(), runCli });
    expect(calls.map((c) => c.argv)).toEqual([['rollback', 'v1']]);
    expect(calls[0]!.deps.options).toMatchObject({ configFile: 'config/deploy.yml', version: 'v1' });
  });

  it('fails clearly when no earlier version is left', async () => {
    const core = new RecordingCore({ command: 'rollback' });
    const { runCli, calls } = fakeCli({ containers: listing([['app-web-v3', 'Up 2 minutes']]) });
    const r = await runMain({ core, env: env(), runCli });
    expect(r.exitCode).toBe(1);
    expect(calls).toHaveLength(1);
    expect(core.of('failed')[0]!.value).toContain('No previous version to roll back to');
  });

  it('a dry-run rollback needs the version input', async () => {
    const core = new RecordingCore({ command: 'rollback', 'dry-run': 'true' });
    const { runCli, calls } = fakeCli({});
    expect((await runMain({ core, env: env(), runCli })).exitCode).toBe(1);
    expect(calls).toHaveLength(0);
    expect(core.of('failed')[0]!.value).toBe("Input 'version' is required for a dry-run rollback (the versions on the hosts are not looked up)");
  });
});

describe('runMain: inputs, state and outputs', () => {
  it('a bad input fails the step naming it, before anything runs', async () => {
    const core = new RecordingCore({ 'lock-wait': 'sometimes' });
    const { runCli, calls } = fakeCli({});
    expect((await runMain({ core, env: env(), runCli })).exitCode).toBe(1);
    expect(calls).toHaveLength(0);
    expect(core.of('failed').map((e) => e.value)).toEqual(["Input 'lock-wait' must be true or false"]);
  });

  it('a missing working directory fails naming the input', async () => {
    const core = new RecordingCore({ 'working-directory': 'nope/not-here' });
    const { runCli } = fakeCli({});
    await runMain({ core, env: env(), runCli });
    expect(core.of('failed')[0]!.value).toBe("Input 'working-directory' is not a folder: nope/not-here");
  });

  it('runs in the working directory with the secrets as extra secrets and env', async () => {
    mkdirSync(join(workspace, 'config'));
    writeFileSync(join(workspace, 'config/deploy.yml'), 'registry:\n  password:\n    - KAMAL_REGISTRY_PASSWORD\n');
    const core = new RecordingCore({
      secrets: 'KAMAL_REGISTRY_PASSWORD=pw-abc-123\nUNUSED_SECRET=unused-456',
      'ssh-known-hosts': '1.2.3.4 ssh-ed25519 AAAA',
      'ssh-host-key-checking': 'accept-new',
    });
    const { runCli, calls } = fakeCli({});
    await runMain({
      core,
      env: env({ ACTIONS_RESULTS_URL: 'https://results.example/', ACTIONS_CACHE_URL: 'https://cache.example/', ACTIONS_RUNTIME_TOKEN: 'rt-1234' }),
      runCli,
    });
    const deps = calls[0]!.deps;
    expect(deps.cwd).toBe(workspace);
    // only the secrets the config names; the runner's cache variables go to a gha-cache build only
    expect(deps.extraSecrets).toEqual({ KAMAL_REGISTRY_PASSWORD: 'pw-abc-123' });
    expect(deps.env).toMatchObject({ KAMAL_REGISTRY_PASSWORD: 'pw-abc-123' });
    for (const name of ['UNUSED_SECRET', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_RUNTIME_TOKEN']) expect(deps.env).not.toHaveProperty(name);
    // the SSH settings are options of the run, not variables of its environment
    expect(Object.keys(deps.env!).filter((n) => n.startsWith('KAMAL_ACTION_'))).toEqual([]);
    expect(deps.options).toEqual({
      hostKeyChecking: 'accept-new',
      knownHostsFile: expect.stringMatching(/known_hosts$/),
      sshKeyFile: undefined,
      configFile: 'config/deploy.yml',
    });
    expect(core.state['ssh-dir']).toMatch(/kamal-action-ssh-/);
  });

  it('records a local registry login for the post step, and lock changes', async () => {
    const core = new RecordingCore({});
    const { runCli } = fakeCli({
      run: (_a, deps, k) => {
        deps.reporter!.command('local', 'docker login registry.example.com -u me -p [REDACTED]');
        k.onLockChange?.(true);
        k.onLockChange?.(false);
        return { exitCode: 0, kamal: k };
      },
    });
    await runMain({ core, env: env(), runCli });
    expect(core.of('state').map((e) => (e.name === 'state-dir' ? e.name : `${e.name}=${e.value}`))).toEqual([
      'state-dir',
      'registry-login=registry.example.com',
      'lock-held=true',
      'lock-held=false',
      'main-done=true',
    ]);
  });

  it('a dry run does not track the lock', async () => {
    const core = new RecordingCore({ 'dry-run': 'true' });
    const { runCli, calls } = fakeCli({
      kamal: () => fakeKamal({ dryRun: true }),
      run: (_a, _d, k) => {
        k.onLockChange?.(true);
        return { exitCode: 0, kamal: k };
      },
    });
    await runMain({ core, env: env(), runCli });
    expect(calls[0]!.deps.options?.plan).toBe(true);
    expect(core.state['lock-held']).toBeUndefined();
  });

  it('sets every output, redacted', async () => {
    const core = new RecordingCore({ secrets: 'TOKEN=tok-secret-999' });
    const { runCli } = fakeCli({
      run: (_a, _d, k) => {
        k.timeline.push({ step: 'hook pre-deploy', startedAt: 1, finishedAt: 2, ok: false, detail: 'hook printed tok-secret-999' });
        return { exitCode: 1, error: new Error('failed with tok-secret-999'), kamal: k };
      },
    });
    await runMain({
      core,
      env: env(),
      runCli,
      now: (() => {
        let t = 1000;
        return () => (t += 1500);
      })(),
    });
    expect(Object.keys(core.outputs).sort()).toEqual(
      ['deployment-id', 'duration-seconds', 'hosts', 'image', 'previous-version', 'report', 'roles', 'version'].sort(),
    );
    expect(core.outputs).toMatchObject({
      version: 'v2',
      image: 'registry.example.com/app:v2',
      hosts: '10.0.0.1,10.0.0.2',
      roles: 'web',
      'duration-seconds': '1.5',
    });
    expect(core.visible()).not.toContain('tok-secret-999');
    const report = JSON.parse(core.outputs.report!);
    expect(report.result).toBe('failure');
    expect(report.error.message).toBe('Error: failed with [REDACTED]');
    expect(report.timeline[0].detail).toBe('hook printed [REDACTED]');
  });
});
