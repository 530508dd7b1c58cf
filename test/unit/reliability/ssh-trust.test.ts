/**
 * Trust, end to end through runCli against the in-process SSH server
 * (test/unit/ssh/test-server.ts): a changed host key is refused by default,
 * naming the host, both fingerprints and the known_hosts line; accept-new
 * trusts an unknown host once and records it, but still refuses a changed
 * key (the host "rebuilt" behind the same address); hashed known_hosts
 * entries match. The command is `lock status`, which only reads on the host.
 *
 * Then a stale lock left by a crashed run: `deploy` refuses it, naming the
 * holder and how long it has been held; `lock release` clears it and the
 * next deploy goes through.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { RecordingRunner } from '../../../test/support/recording.js';
import { fingerprint, hashHostName } from '../../../src/ssh/known-hosts.js';
import { TestSshServer, newKeyPair, tempDir, writeKnownHosts, type KeyPair } from '../ssh/test-server.js';
import { Fleet, LOCK_RELEASE, STACK_FRAME, WEB1, WEB2, copyApp, isLockAcquire, removeDirs, testEnv } from './fleet.js';

const dirs: string[] = [];
afterAll(() => removeDirs(dirs));

/** A key pair whose private half ssh2 parses back (a generated key now and then does not). */
function keyPair(): KeyPair {
  for (let i = 0; i < 10; i++) {
    const kp = newKeyPair();
    if (!(ssh2.utils.parseKey(kp.private) instanceof Error)) return kp;
  }
  throw new Error('could not generate a usable key pair');
}

const blobOf = (publicKey: string): Buffer => Buffer.from(publicKey.trim().split(/\s+/)[1]!, 'base64');

let client: KeyPair;
const servers: TestSshServer[] = [];
let project: string;

async function sshServer(hostKey = keyPair()): Promise<TestSshServer> {
  const s = await TestSshServer.start({ authorizedKeys: [client.public], hostKey: hostKey.private });
  servers.push(s);
  return s;
}

/** An app whose only server is 127.0.0.1 on `port`, reached with the client key only. */
function app(port: number): string {
  const dir = join(project, `app-${port}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(join(dir, 'config'), { recursive: true });
  const key = join(dir, 'id_ed25519');
  writeFileSync(key, client.private);
  chmodSync(key, 0o600);
  writeFileSync(
    join(dir, 'config/deploy.yml'),
    [
      'service: app',
      'image: acme/app',
      'servers:',
      '  - 127.0.0.1',
      'registry:',
      '  username: deployer',
      '  password: not-used',
      'builder:',
      '  arch: amd64',
      'ssh:',
      '  user: deploy',
      `  port: ${port}`,
      `  keys: [${key}]`,
      '  keys_only: true',
      '',
    ].join('\n'),
  );
  return dir;
}

async function lockStatus(dir: string, args: string[], env: Record<string, string> = {}) {
  const reporter = new MemoryReporter();
  const local = new RecordingRunner();
  let err = '';
  let out = '';
  const result = await runCli(['lock', 'status', ...args], {
    cwd: dir,
    env: { ...testEnv(), ...env },
    out: (s) => (out += s),
    err: (s) => (err += s),
    reporter,
    local,
  });
  expect(local.lines()).toEqual([]);
  expect(err + out).not.toMatch(STACK_FRAME);
  return { exitCode: result.exitCode, err, text: reporter.text };
}

const STATUS = 'stat .kamal/lock-app > /dev/null && cat .kamal/lock-app/details | base64 -d';

beforeAll(() => {
  client = keyPair();
  project = tempDir('kamal-trust-');
  dirs.push(project);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('host key trust through the CLI', () => {
  it('a changed host key is refused by default: host, both fingerprints, the known_hosts line, nothing run', async () => {
    const server = await sshServer();
    const old = keyPair();
    const file = writeKnownHosts(project, ['# hosts of the deploy job', `[127.0.0.1]:${server.port} ${old.public}`], `known_hosts_changed_${server.port}`);
    const r = await lockStatus(app(server.port), ['--known-hosts', file]);
    expect(r.exitCode).toBe(1);
    expect(r.err).toBe(
      `Connection failed: 127.0.0.1: HOST KEY CHANGED for [127.0.0.1]:${server.port}: ` +
        `the server presented ssh-ed25519 key ${fingerprint(blobOf(server.hostKey.public))}, ` +
        `but ${file} line 2 records a different ssh-ed25519 key (${fingerprint(blobOf(old.public))}). ` +
        'Someone could be intercepting the connection, or the host was rebuilt. ' +
        `If you are sure the new key is right, remove the old one with \`ssh-keygen -R '[127.0.0.1]:${server.port}' -f ${file}\` and connect again\n`,
    );
    expect(server.commands).toEqual([]);
  });

  it('an unknown host is refused by default, with the ssh-keyscan line to add it', async () => {
    const server = await sshServer();
    const file = writeKnownHosts(project, [], `known_hosts_empty_${server.port}`);
    const r = await lockStatus(app(server.port), ['--known-hosts', file]);
    expect(r.exitCode).toBe(1);
    expect(r.err).toBe(
      `Connection failed: 127.0.0.1: unknown host [127.0.0.1]:${server.port}: its ssh-ed25519 key ${fingerprint(blobOf(server.hostKey.public))} ` +
        `is not in ${file}. Check the fingerprint, then add it with \`ssh-keyscan -p ${server.port} -t ed25519 127.0.0.1 >> ${file}\`, ` +
        'or use host key checking "accept-new" to trust hosts on first connection\n',
    );
    expect(server.commands).toEqual([]);
  });

  it('accept-new trusts an unknown host once and records it; the rebuilt host behind the same address is refused', async () => {
    const first = await sshServer();
    const port = first.port;
    const dir = app(port);
    const file = join(project, `known_hosts_accept_new_${port}`);

    const trusted = await lockStatus(dir, ['--known-hosts', file, '--host-key-checking', 'accept-new']);
    expect(trusted.err).toBe('');
    expect(trusted.exitCode).toBe(0);
    expect(trusted.text).toBe('There is no deploy lock\n');
    expect(first.commands).toEqual([STATUS]);
    expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:${port} ${first.hostKey.public}\n`);

    // recorded: strict checking now accepts it too
    const strict = await lockStatus(dir, ['--known-hosts', file]);
    expect(strict.exitCode).toBe(0);

    // the host is rebuilt with a new key behind the same address
    await first.close();
    const rebuilt = await sshServer();
    await new Promise<void>((resolve) => rebuilt.server.close(() => resolve()));
    await new Promise<void>((resolve) => rebuilt.server.listen(port, '127.0.0.1', () => resolve()));
    rebuilt.port = port;
    // the action sets the mode through the environment
    const refused = await lockStatus(dir, ['--known-hosts', file], { KAMAL_ACTION_HOST_KEY_CHECKING: 'accept-new' });
    expect(refused.exitCode).toBe(1);
    expect(refused.err).toContain(
      `HOST KEY CHANGED for [127.0.0.1]:${port}: the server presented ssh-ed25519 key ${fingerprint(blobOf(rebuilt.hostKey.public))}`,
    );
    expect(refused.err).toContain(`${file} line 1 records a different ssh-ed25519 key (${fingerprint(blobOf(first.hostKey.public))})`);
    expect(rebuilt.commands).toEqual([]);
    // and the file is left as it was
    expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:${port} ${first.hostKey.public}\n`);
  });

  it('hashed known_hosts entries (ssh-keygen -H) are matched, for a known key and a changed one', async () => {
    const server = await sshServer();
    const name = `[127.0.0.1]:${server.port}`;
    const good = writeKnownHosts(
      project,
      [`${hashHostName('10.9.9.9')} ${keyPair().public}`, `${hashHostName(name)} ${server.hostKey.public}`],
      `known_hosts_hashed_${server.port}`,
    );
    const ok = await lockStatus(app(server.port), [], { KAMAL_ACTION_KNOWN_HOSTS: good });
    expect(ok.err).toBe('');
    expect(ok.exitCode).toBe(0);
    expect(ok.text).toBe('There is no deploy lock\n');
    expect(server.commands).toEqual([STATUS]);

    const changed = writeKnownHosts(project, [`${hashHostName(name)} ${keyPair().public}`], `known_hosts_hashed_changed_${server.port}`);
    const refused = await lockStatus(app(server.port), ['--known-hosts', changed]);
    expect(refused.exitCode).toBe(1);
    expect(refused.err).toContain(`HOST KEY CHANGED for ${name}:`);
    expect(refused.err).toContain(`${changed} line 1 records a different ssh-ed25519 key`);
    expect(server.commands).toEqual([STATUS]);
  });
});

// ---- a stale lock ----

const NOW = new Date('2026-03-02T10:00:05Z');
const STALE = 'Locked by: Deploy Bot at 2026-03-02T06:48:00Z\nVersion: 0f3e1a2\nMessage: Automatic deploy lock';

describe('a stale lock left by a crashed run', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  const dir = copyApp(dirs);
  async function cli(fleet: Fleet, args: string[]) {
    const runner = new RecordingRunner(fleet.respond);
    const reporter = new MemoryReporter();
    let err = '';
    const result = await runCli(args, { cwd: dir, env: testEnv(), out: () => undefined, err: (s) => (err += s), runner, local: runner, reporter });
    expect(err).not.toMatch(STACK_FRAME);
    return { exitCode: result.exitCode, err, runner, reporter };
  }
  const crashed = (): Fleet => new Fleet().deployed(WEB1, 'web', 'v1').deployed(WEB2, 'web', 'v1').leaveLock(WEB1, STALE);
  const DEPLOY = ['deploy', '--version', 'v2', '--skip-push', '-r', 'web'];

  it('deploy refuses it, naming the holder, the version, the message and how long it has been held; the lock stays', async () => {
    const fleet = crashed();
    const r = await cli(fleet, DEPLOY);
    expect(r.exitCode).toBe(1);
    expect(r.err).toBe(
      [
        "Lock error: Deploy lock found on 10.0.0.1. Run 'kamal-action lock status' for details and 'kamal-action lock release' to clear it",
        'Locked by: Deploy Bot at 2026-03-02T06:48:00Z',
        'Version: 0f3e1a2',
        'Message: Automatic deploy lock',
        'Held for 3h 12m 5s',
        '',
      ].join('\n'),
    );
    const t = r.runner.commandsFor(WEB1);
    // the failed acquire is followed by the status read, and nothing touches the lock or the app
    expect(isLockAcquire(t.at(-2)!)).toBe(true);
    expect(t.at(-1)).toBe(STATUS);
    expect(r.runner.transcript.some((c) => c.command === LOCK_RELEASE || c.command.startsWith('docker run'))).toBe(false);
    expect(fleet.locks.get(`${WEB1}:.kamal/lock-app`)).toBe(STALE);
    expect(fleet.routedVersion(WEB1, 'web')).toBe('v1');
  });

  it('--lock-wait shows the holder with the age, and gives up at the timeout', async () => {
    const fleet = crashed();
    const r = await cli(fleet, [...DEPLOY, '--lock-wait', '--lock-wait-timeout', '0']);
    expect(r.exitCode).toBe(1);
    expect(r.err).toBe('Lock error: Timed out waiting for deploy lock\n');
    const said = r.reporter.messages.map((m) => m.message);
    expect(said).toContain('Deploy lock is held by:');
    expect(said).toContain(`${STALE}\nHeld for 3h 12m 5s`);
    expect(said).toContain('Timed out after 0s waiting for the deploy lock');
    expect(fleet.locks.size).toBe(1);
  });

  it('lock status shows the details and the age', async () => {
    const r = await cli(crashed(), ['lock', 'status']);
    expect(r.exitCode).toBe(0);
    expect(r.reporter.text).toBe(`${STALE}\nHeld for 3h 12m 5s\n`);
    expect(r.runner.lines()).toEqual([`${WEB1}: ${STATUS}`]);
  });

  it('lock release clears it, and the next deploy goes through', async () => {
    const fleet = crashed();
    const released = await cli(fleet, ['lock', 'release']);
    expect(released.err).toBe('');
    expect(released.exitCode).toBe(0);
    expect(released.runner.lines()).toEqual([`${WEB1}: ${LOCK_RELEASE}`]);
    expect(released.reporter.messages.map((m) => m.message)).toContain('Released the deploy lock');
    expect(fleet.locks.size).toBe(0);

    // a second release finds nothing to clear
    const again = await cli(fleet, ['lock', 'release']);
    expect(again.exitCode).toBe(0);
    expect(again.reporter.text).toBe('There is no deploy lock\n');

    const deployed = await cli(fleet, DEPLOY);
    expect(deployed.err).toBe('');
    expect(deployed.exitCode).toBe(0);
    expect([fleet.routedVersion(WEB1, 'web'), fleet.routedVersion(WEB2, 'web')]).toEqual(['v2', 'v2']);
    expect(fleet.locks.size).toBe(0);
  });

  it('lock details without a time (written by hand) are shown as they are, without an age', async () => {
    const fleet = new Fleet().leaveLock(WEB1, 'held for the database migration');
    const r = await cli(fleet, DEPLOY);
    expect(r.exitCode).toBe(1);
    expect(r.err).toBe(
      "Lock error: Deploy lock found on 10.0.0.1. Run 'kamal-action lock status' for details and 'kamal-action lock release' to clear it\nheld for the database migration\n",
    );
  });
});
