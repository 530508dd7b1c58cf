/**
 * `ssh.config`: hosts named by aliases that only an OpenSSH config file defines. The deploy config
 * names no key: the file's IdentityFile is the only key offered (keys_only, no ~/.ssh here). Its
 * User and Port are wrong on purpose: Kamal always passes its own user and port (root and 22), which
 * win over the file's, so the deploy still reaches sshd on port 22 as root.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, kamal, lab, labProxyYaml, makeProject, onHost, resetHosts, type KamalRun, type LabHost } from './helpers.js';
import { Receiver } from '../unit/output/receiver.js';

const HOST = 'sshcfg.lab.test';
const SERVICE = 'sshcfg';

function ok(r: KamalRun): KamalRun {
  expect(r.exitCode, r.err).toBe(0);
  return r;
}

/** A project whose ssh section names only the config file (no keys). */
function project(servers: string[], sshConfig: string, extraYaml = ''): string {
  const l = lab();
  const dir = makeProject({ service: SERVICE, yaml: `servers:\n${servers.map((s) => `  - ${s}`).join('\n')}\n${labProxyYaml(HOST)}${extraYaml}` });
  const file = join(dir, 'config/deploy.yml');
  const yml = readFileSync(file, 'utf8');
  const preamble = `ssh:\n  keys: [${l.ssh.key}]\n  keys_only: true\n`;
  expect(yml).toContain(preamble);
  writeFileSync(file, yml.replace(preamble, 'ssh:\n  config: config/ssh_config\n  keys_only: true\n'));
  writeFileSync(join(dir, 'config/ssh_config'), sshConfig);
  return dir;
}

describe('ssh.config: hosts reached through aliases of an OpenSSH config file', () => {
  let h1: LabHost, h2: LabHost;

  beforeAll(() => {
    [h1, h2] = lab().hosts as [LabHost, LabHost];
    // no default identity could stand in for the file's IdentityFile
    for (const f of ['id_rsa', 'id_ecdsa', 'id_ed25519', 'id_dsa']) expect(existsSync(join(homedir(), '.ssh', f))).toBe(false);
    resetHosts([h1, h2]);
  });

  afterAll(() => {
    resetHosts([h1, h2]);
  });

  it('deploys to `web-alias`: HostName and IdentityFile from the file, user and port from Kamal; the run is logged to a file and OTel', async () => {
    const receiver = await Receiver.start();
    const dir = project(
      ['web-alias'],
      ['Host web-alias', `  HostName ${h1.ip}`, '  User nobody-such-user', '  Port 2222', `  IdentityFile ${lab().ssh.key}`, ''].join('\n'),
      `output:\n  file:\n    path: log/kamal\n  otel:\n    endpoint: ${receiver.endpoint}\n`,
    );
    const r = ok(await kamal(dir, ['deploy', '--version', 'sc1'], { VERSION: 'sc1' }));
    // output: one file for the deploy, with the commands run over SSH on the alias; start and complete events
    const logs = readdirSync(join(dir, 'log/kamal'));
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d_deploy\.log$/);
    const log = readFileSync(join(dir, 'log/kamal', logs[0]!), 'utf8');
    expect(log).toMatch(/^Build and push app image\.\.\.$/m);
    expect(log).toMatch(/^ {2}INFO \[[0-9a-f]{8}\] Running docker .* as \S+@localhost$/m);
    expect(log).toMatch(/^ {2}INFO \[[0-9a-f]{8}\] Running docker .* on web-alias$/m);
    expect(log).toMatch(/# Completed in \d+\.\ds\n$/);
    expect(log).not.toContain(lab().registry.password);
    expect(r.reporter.text).toContain(`Logs written to log/kamal/${logs[0]}\n`);
    await receiver.close();
    const events = receiver.records.filter((x) => x.eventName).map((x) => x.eventName);
    expect(events).toEqual(['kamal.start', 'kamal.complete']);
    expect(receiver.records.some((x) => (x.attributes as { value: { stringValue: string } }[] | undefined)?.[0]?.value.stringValue === 'web-alias')).toBe(true);
    expect(JSON.stringify(receiver.requests)).not.toContain(lab().registry.password);
    expect(r.reporter.commands.filter((c) => c.host !== 'local').map((c) => c.host)).toEqual(expect.arrayContaining(['web-alias']));
    expect(new Set(r.reporter.commands.filter((c) => c.host !== 'local').map((c) => c.host))).toEqual(new Set(['web-alias']));
    expect((await httpGet(h1.ip, '/', HOST)).body).toBe('sc1\n');
    expect(onHost(h1, `docker ps --filter label=service=${SERVICE} --filter label=role=web --format '{{.Names}}'`)).toBe(`${SERVICE}-web-sc1`);
    // the run's files on the host are root's: Kamal's user, not the file's User
    expect(onHost(h1, `stat -c %U /root/.kamal/apps/${SERVICE}`)).toBe('root');
  });

  it('without the file the alias does not resolve and the run names the host', async () => {
    const dir = project(['web-alias'], '# nothing here\n');
    const r = await kamal(dir, ['app', 'version']);
    expect(r.exitCode).toBe(1);
    expect(r.err).toMatch(/web-alias/);
    expect(r.err).toMatch(/cannot resolve host name "web-alias"|authentication failed/);
  });

  it('deploys to a host behind a jump host: ProxyJump names another alias of the file', async () => {
    // vm2 resolves only inside the lab network: only the jump host can reach it
    const dir = project(
      ['behind-alias'],
      [
        'Host behind-alias',
        `  HostName ${h2.internalName}`,
        '  ProxyJump jump-alias',
        `  IdentityFile ${lab().ssh.key}`,
        'Host jump-alias',
        `  HostName ${h1.ip}`,
        '  User root',
        `  IdentityFile ${lab().ssh.key}`,
        '',
      ].join('\n'),
    );
    // the image of the first test, pulled from the registry
    const r = ok(await kamal(dir, ['deploy', '--skip-push', '--version', 'sc1']));
    expect(new Set(r.reporter.commands.filter((c) => c.host !== 'local').map((c) => c.host))).toEqual(new Set(['behind-alias']));
    expect((await httpGet(h2.ip, '/', HOST)).body).toBe('sc1\n');
    // the SSH session on vm2 came from the jump host's address on the lab network, not from this machine
    const jumpAddress = onHost(h1, "hostname -i | awk '{print $1}'");
    const from = (await kamal(dir, ['server', 'exec', 'echo $SSH_CLIENT'])).reporter.outputs.map((o) => o.output.trim().split(' ')[0]);
    expect(from).toEqual([jumpAddress]);
  });
});
