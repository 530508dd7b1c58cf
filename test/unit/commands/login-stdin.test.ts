/** `docker login` takes the password on stdin: never in an argv, on the hosts and locally. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { display, render, type Command } from '../../../src/shell.js';
import type { RunOptions, RunResult, Runner } from '../../../src/exec/types.js';
import { stdinOf } from '../../../src/exec/stdin.js';
import { LocalRunner } from '../../../src/exec/local.js';
import { cmd } from '../../../src/shell.js';
import { stdinWord } from '../../../src/exec/stdin.js';
import { Secret } from '../../../src/secret.js';

class Recorder implements Runner {
  readonly runs: { host: string; rendered: string; shown: string; stdin?: string }[] = [];
  async run(host: string, command: Command, opts: RunOptions = {}): Promise<RunResult> {
    this.runs.push({ host, rendered: render(command), shown: display(command), stdin: opts.stdin?.toString() });
    return { host, command: display(command), exitCode: 0, stdout: '', stderr: '', durationMs: 0 };
  }
  async upload(): Promise<void> {}
  async close(): Promise<void> {}
}

describe('registry login', () => {
  it('on the hosts and locally: --password-stdin in the command, the password on stdin only', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'login-stdin-'));
    mkdirSync(join(cwd, 'config'));
    mkdirSync(join(cwd, '.kamal'));
    writeFileSync(
      join(cwd, 'config/deploy.yml'),
      'service: app\nimage: acme/app\nregistry:\n  server: registry.example.com\n  username: deployer\n  password:\n    - KAMAL_REGISTRY_PASSWORD\nbuilder:\n  arch: amd64\nservers:\n  - 10.0.0.1\n',
    );
    writeFileSync(join(cwd, '.kamal/secrets'), "KAMAL_REGISTRY_PASSWORD='pw-s3cret-42'\n");
    const remote = new Recorder();
    const local = new Recorder();
    const r = await runCli(['registry', 'login', '--version', 'v1'], { cwd, env: {}, runner: remote, local, reporter: new MemoryReporter() });
    expect(r.exitCode).toBe(0);
    const logins = [...local.runs, ...remote.runs].filter((x) => x.shown.startsWith('docker login'));
    expect(logins.map((x) => [x.host, x.shown, x.rendered, x.stdin])).toEqual([
      [
        'local',
        'docker login registry.example.com -u "deployer" --password-stdin',
        'docker login registry.example.com -u "deployer" --password-stdin',
        'pw-s3cret-42',
      ],
      [
        '10.0.0.1',
        'docker login registry.example.com -u "deployer" --password-stdin',
        'docker login registry.example.com -u "deployer" --password-stdin',
        'pw-s3cret-42',
      ],
    ]);
  });

  it('the password word travels with the command when its words are copied (docker --context x login ...)', () => {
    const login = cmd('docker', 'login', 'r', stdinWord('--password-stdin', new Secret('pw')));
    const copied = cmd(login.words[0]!, '--context', 'x', ...login.words.slice(1));
    expect(stdinOf(copied)?.reveal()).toBe('pw');
    expect(stdinOf(cmd('docker', 'ps'))).toBeUndefined();
  });

  it('a local command with stdin reads it', async () => {
    const r = await new LocalRunner().run('local', cmd('cat'), { stdin: 'from-stdin' });
    expect(r.stdout).toBe('from-stdin');
  });
});
