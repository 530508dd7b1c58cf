// `kamal` for the job's later steps: the scripts written into RUNNER_TEMP, the runner's PATH
// file, a real Kamal left first on PATH, and the settings the main step hands on.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as real from '@actions/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as ours from '../../../src/action/workflow-commands.js';
import { addKamalToPath, laterStepSettings } from '../../../src/action/kamal-path.js';
import { getInputs } from '../../../src/action/inputs.js';
import { runMain } from '../../../src/action/run-main.js';
import { writeShims, type CliEntry } from '../../../src/exec/kamal-shim.js';
import type { CliResult } from '../../../src/cli/run.js';
import { RecordingCore, fakeKamal } from './fakes.js';

const tmp = mkdtempSync(join(tmpdir(), 'kamal-path-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PRINTER = join(tmp, 'printer.sh');
writeFileSync(PRINTER, '#!/bin/sh\necho "args=$*"\nenv | grep ^KAMAL_ACTION_ | grep -v DEPTH | sort\n');
chmodSync(PRINTER, 0o755);
const printer: CliEntry = { command: '/bin/sh', args: [PRINTER] };

function recorder() {
  const paths: string[] = [];
  const lines: string[] = [];
  return { paths, lines, core: { addPath: (d: string) => void paths.push(d), info: (m: string) => void lines.push(m) } };
}

function folder(name: string, files: Record<string, string> = {}): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  for (const [f, body] of Object.entries(files)) {
    writeFileSync(join(d, f), body);
    chmodSync(join(d, f), 0o755);
  }
  return d;
}

describe('addKamalToPath', () => {
  it('writes kamal and kamal-action into RUNNER_TEMP and adds the folder to PATH', () => {
    const runnerTemp = folder('rt1');
    const r = recorder();
    const added = addKamalToPath(
      r.core,
      { RUNNER_TEMP: runnerTemp, PATH: '/usr/bin:/bin' },
      { configFile: '/ws/config/deploy.yml', destination: 'production', sshKey: '/rt/ssh/id_key' },
      printer,
    )!;
    expect(added.names).toEqual(['kamal', 'kamal-action']);
    expect(added.dir.startsWith(join(runnerTemp, 'kamal-action-bin-'))).toBe(true);
    expect(statSync(added.dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(added.dir).sort()).toEqual(['kamal', 'kamal-action']);
    expect(r.paths).toEqual([added.dir]);
    expect(r.lines).toEqual([
      "Later steps of this job can run kamal (and kamal-action): this action's CLI, with this step's config file, destination and SSH settings",
    ]);
    expect(execFileSync(join(added.dir, 'kamal'), ['app', 'exec', 'bin/rails db:migrate'], { env: { PATH: '/usr/bin:/bin' } }).toString()).toBe(
      'args=app exec bin/rails db:migrate\nKAMAL_ACTION_CONFIG_FILE=/ws/config/deploy.yml\nKAMAL_ACTION_DESTINATION=production\nKAMAL_ACTION_SSH_KEY=/rt/ssh/id_key\n',
    );
  });

  it('never hides a kamal already on PATH: only kamal-action is added, and the log says so once', () => {
    const real = folder('gems/bin', { kamal: '#!/bin/sh\necho real\n' });
    const r = recorder();
    const added = addKamalToPath(r.core, { RUNNER_TEMP: folder('rt2'), PATH: `${real}:/usr/bin` }, {}, printer)!;
    expect(added.names).toEqual(['kamal-action']);
    expect(added.other).toBe(join(real, 'kamal'));
    expect(readdirSync(added.dir)).toEqual(['kamal-action']);
    expect(r.paths).toEqual([added.dir]);
    expect(r.lines).toEqual([
      `kamal is already on PATH (${join(real, 'kamal')}), so later steps keep running it; this action's CLI is on PATH for them as kamal-action`,
    ]);
  });

  it('an earlier step of this action on PATH is not a real Kamal: the newer kamal goes first', () => {
    const earlier = folder('earlier');
    writeShims(earlier, { destination: 'staging' }, ['kamal'], printer);
    const r = recorder();
    const added = addKamalToPath(r.core, { RUNNER_TEMP: folder('rt3'), PATH: `${earlier}:/usr/bin` }, { destination: 'production' }, printer)!;
    expect(added.names).toEqual(['kamal', 'kamal-action']);
    expect(added.other).toBeUndefined();
  });

  it('does nothing where the core cannot add to PATH', () => {
    const runnerTemp = folder('rt4');
    expect(addKamalToPath({ info: () => undefined }, { RUNNER_TEMP: runnerTemp }, {}, printer)).toBeUndefined();
    expect(readdirSync(runnerTemp)).toEqual([]);
  });
});

describe('laterStepSettings', () => {
  it("the step's config file (absolute), destination, checking mode and the key and known_hosts files", () => {
    const inputs = getInputs((n) => ({ destination: 'staging', 'config-file': 'deploy/kamal.yml', 'ssh-host-key-checking': 'accept-new' })[n] ?? '');
    expect(laterStepSettings(inputs, '/ws/app', { dir: '/rt/s', key: '/rt/s/id_key', knownHosts: '/rt/s/known_hosts' })).toEqual({
      configFile: '/ws/app/deploy/kamal.yml',
      destination: 'staging',
      hostKeyChecking: 'accept-new',
      knownHosts: '/rt/s/known_hosts',
      sshKey: '/rt/s/id_key',
    });
    expect(
      laterStepSettings(
        getInputs(() => ''),
        '/ws',
        undefined,
      ),
    ).toEqual({
      configFile: '/ws/config/deploy.yml',
      destination: undefined,
      hostKeyChecking: 'strict',
      knownHosts: undefined,
      sshKey: undefined,
    });
  });
});

describe('runMain', () => {
  it("puts kamal on PATH for later steps with the step's settings; the key file it names is the one the post step removes", async () => {
    const workspace = mkdtempSync(join(tmp, 'ws-'));
    const runnerTemp = mkdtempSync(join(tmp, 'rt-'));
    class PathCore extends RecordingCore {
      readonly paths: string[] = [];
      addPath(dir: string): void {
        this.paths.push(dir);
      }
    }
    const core = new PathCore({
      destination: 'staging',
      'ssh-private-key': '-----BEGIN OPENSSH PRIVATE KEY-----\nKEY-TEXT\n-----END OPENSSH PRIVATE KEY-----\n',
      'ssh-known-hosts': '1.2.3.4 ssh-ed25519 AAAA',
    });
    const runCli = async (): Promise<CliResult> => ({ exitCode: 0, kamal: fakeKamal() });
    const r = await runMain({ core, env: { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: runnerTemp, PATH: '/usr/bin:/bin' }, runCli });
    expect(core.events.filter((e) => e.kind === 'failed' || e.kind === 'error')).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(core.paths).toHaveLength(1);
    const script = execFileSync('cat', [join(core.paths[0]!, 'kamal')]).toString();
    const sshDir = core.state['ssh-dir']!;
    expect(sshDir.startsWith(join(runnerTemp, 'kamal-action-ssh-'))).toBe(true);
    expect(script).toContain(`export KAMAL_ACTION_CONFIG_FILE=${join(workspace, 'config/deploy.yml')}\n`);
    expect(script).toContain('export KAMAL_ACTION_DESTINATION=staging\n');
    expect(script).toContain('export KAMAL_ACTION_HOST_KEY_CHECKING=strict\n');
    expect(script).toContain(`export KAMAL_ACTION_KNOWN_HOSTS=${join(sshDir, 'known_hosts')}\n`);
    expect(script).toContain(`export KAMAL_ACTION_SSH_KEY=${join(sshDir, 'id_key')}\n`);
    expect(script).not.toContain('KEY-TEXT');
    expect(existsSync(join(sshDir, 'id_key'))).toBe(true);
  });
});

describe('addPath (workflow commands)', () => {
  it('writes what @actions/core writes: the PATH file line, or ::add-path:: without one, and PATH for this process', () => {
    const saved = { PATH: process.env.PATH, GITHUB_PATH: process.env.GITHUB_PATH };
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const results = [ours.addPath, real.addPath].map((addPath) => {
        const file = join(mkdtempSync(join(tmp, 'gp-')), 'path');
        writeFileSync(file, 'earlier\n');
        Object.assign(process.env, { PATH: '/usr/bin', GITHUB_PATH: file });
        addPath('/rt/kamal-action-bin-x');
        const withFile = { file: readFileSync(file, 'utf8'), PATH: process.env.PATH };
        delete process.env.GITHUB_PATH;
        process.env.PATH = '/usr/bin';
        write.mockClear();
        addPath('/rt/b');
        return { withFile, stdout: write.mock.calls.map((c) => String(c[0])).join(''), PATH: process.env.PATH };
      });
      expect(results[0]).toEqual(results[1]);
      expect(results[0]!.withFile).toEqual({ file: 'earlier\n/rt/kamal-action-bin-x\n', PATH: '/rt/kamal-action-bin-x:/usr/bin' });
      expect(results[0]!.stdout).toBe('::add-path::/rt/b\n');
    } finally {
      write.mockRestore();
      process.env.PATH = saved.PATH;
      if (saved.GITHUB_PATH === undefined) delete process.env.GITHUB_PATH;
      else process.env.GITHUB_PATH = saved.GITHUB_PATH;
    }
  });
});
