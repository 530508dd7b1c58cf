/**
 * One step loads the configuration and resolves `.kamal/secrets` once, even when it runs the
 * engine twice (the versions lookup before a deployment record, then the command itself): a
 * `$(...)` line of the secrets file runs once. The real CLI entry runs; only the runners are
 * stand-ins that fail every command, so nothing is reached.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOnce, runMain } from '../../../src/action/run-main.js';
import { runCli, type CliDeps } from '../../../src/cli/run.js';
import { CommandFailedError, type Runner } from '../../../src/exec/types.js';
import { loadConfig } from '../../../src/config/index.js';
import { RecordingCore } from './fakes.js';

const failing: Runner = {
  run: async (host, command) => {
    throw new CommandFailedError({ host, command: JSON.stringify(command), exitCode: 255, stdout: '', stderr: 'unreachable' });
  },
  upload: async () => undefined,
  close: async () => undefined,
};

function workspace(): { dir: string; counter: string } {
  const dir = mkdtempSync(join(tmpdir(), 'load-once-'));
  const counter = join(dir, 'secret-runs');
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, '.kamal'));
  writeFileSync(
    join(dir, 'config/deploy.yml'),
    'service: shop\nimage: acme/shop\nservers:\n  - 10.0.0.1\nregistry:\n  server: registry.example.com\n  username: me\n  password:\n    - KAMAL_REGISTRY_PASSWORD\nbuilder:\n  arch: amd64\n',
  );
  writeFileSync(join(dir, '.kamal/secrets'), `KAMAL_REGISTRY_PASSWORD=$(echo run >> '${counter}'; echo pw-from-command)\n`);
  return { dir, counter };
}

describe('the action step loads the configuration once', () => {
  it('runs a $(...) line of .kamal/secrets once for the versions lookup and the deploy together', async () => {
    const ws = workspace();
    const core = new RecordingCore({ version: 'v9', 'skip-push': 'true', environment: 'production', 'github-token': 'ghs_tok' });
    const engineRuns: string[][] = [];
    const cli = (argv: string[], deps: CliDeps) => {
      engineRuns.push(argv);
      return runCli(argv, { ...deps, runner: failing, local: failing });
    };
    const r = await runMain({
      core,
      env: { GITHUB_WORKSPACE: ws.dir, RUNNER_TEMP: ws.dir, GITHUB_REPOSITORY: 'acme/shop', GITHUB_SHA: 'a'.repeat(40), PATH: process.env.PATH },
      runCli: cli,
      deployments: () => undefined,
    });
    expect(r.exitCode).toBe(1);
    expect(engineRuns).toEqual([
      ['app', 'containers', '--primary'],
      ['deploy', '--skip-push'],
    ]);
    expect(readFileSync(ws.counter, 'utf8')).toBe('run\n');
    // the value reached the run, and was masked
    expect(core.of('mask').map((e) => e.value)).toContain('pw-from-command');
  });

  it('loadOnce loads again for another config file or destination, never for the same one', async () => {
    const ws = workspace();
    const load = loadOnce(loadConfig);
    const a = await load({ cwd: ws.dir, env: { PATH: process.env.PATH }, configFile: 'config/deploy.yml' });
    expect(await load({ cwd: ws.dir, env: {}, configFile: 'config/deploy.yml' })).toBe(a);
    a.secrets.keys();
    expect(readFileSync(ws.counter, 'utf8')).toBe('run\n');
    const other = await load({ cwd: ws.dir, env: { PATH: process.env.PATH }, configFile: 'config/deploy.yml', destination: undefined, extraSecrets: {} });
    expect(other).toBe(a);
    writeFileSync(join(ws.dir, 'config/deploy.staging.yml'), 'servers:\n  - 10.0.0.2\n');
    const staging = await load({ cwd: ws.dir, env: { PATH: process.env.PATH }, configFile: 'config/deploy.yml', destination: 'staging' });
    expect(staging).not.toBe(a);
  });
});
