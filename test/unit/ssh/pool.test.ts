import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CommandAbortedError, CommandFailedError, CommandTimeoutError, ConnectionError } from '../../../src/exec/types.js';
import { Secret } from '../../../src/secret.js';
import { chain, cmd, raw } from '../../../src/shell.js';
import { SshPool, type SshPoolOptions } from '../../../src/ssh/pool.js';
import { hashHostName } from '../../../src/ssh/known-hosts.js';
import { newKeyPair, tempDir, TestSshServer, writeKnownHosts, type KeyPair } from './test-server.js';

const NASTY = `it's "quoted" $(touch /tmp/pwned) \`id\`; rm -rf / \n second line\ttab  spaces ünïcødé ✓ 日本 \\ !bang *`;

let clientKey: KeyPair;
let server: TestSshServer;
let dir: string;
let knownHostsFile: string;
const pools: SshPool[] = [];

function pool(extra: SshPoolOptions = {}): SshPool {
  const p = new SshPool({
    user: 'deploy',
    keyData: [new Secret(clientKey.private, 'SSH_PRIVATE_KEY')],
    agent: false,
    knownHostsFiles: [knownHostsFile],
    connectTimeoutMs: 10_000,
    ...extra,
  });
  pools.push(p);
  return p;
}

beforeAll(async () => {
  clientKey = newKeyPair();
  server = await TestSshServer.start({ authorizedKeys: [clientKey.public] });
  dir = tempDir();
  knownHostsFile = writeKnownHosts(dir, [server.knownHostsLine()]);
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await server.close();
});

describe('SshPool: commands', () => {
  it('decides success by the exit code only: stderr output with exit 0 succeeds', async () => {
    const r = await pool().run(server.address, chain(cmd('echo', 'progress', raw('>&2')), cmd('echo', 'done')));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('done\n');
    expect(r.stderr).toBe('progress\n');
    expect(r.host).toBe(server.address);
    expect(r.command).toBe('echo progress >&2 ; echo done');
  });

  it('throws CommandFailedError naming host, command, exit code and the stderr tail, never the secret', async () => {
    const secret = new Secret('s3cr3t-passw0rd', 'DB_PASSWORD');
    const c = chain(cmd('echo', 'boom', raw('>&2')), cmd('echo', secret, raw('>&2')), cmd('exit', '3'));
    const err = await pool()
      .run(server.address, c)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    const e = err as CommandFailedError;
    expect(e.exitCode).toBe(3);
    expect(e.host).toBe(server.address);
    expect(e.message).toContain(server.address);
    expect(e.message).toContain('exit 3');
    expect(e.message).toContain('echo boom >&2');
    expect(e.message).toContain('boom');
    expect(e.message).toContain('[REDACTED]');
    expect(e.message).not.toContain('s3cr3t-passw0rd');
    expect(e.stderr).not.toContain('s3cr3t-passw0rd');
    expect(e.command).not.toContain('s3cr3t-passw0rd');
  });

  it('returns instead of throwing with allowFailure', async () => {
    const r = await pool().run(server.address, cmd('sh', '-c', 'exit 7'), { allowFailure: true });
    expect(r.exitCode).toBe(7);
  });

  it('reports a command killed by a signal as 128 + signal number', async () => {
    const r = await pool().run(server.address, cmd('kill', '-9', raw('$$')), { allowFailure: true });
    expect(r.exitCode).toBe(137);
    expect(r.stderr).toContain('KILL');
  });

  it('redacts secret values from stdout, in the result and in streamed chunks', async () => {
    const secret = new Secret('tok-1234567890', 'TOKEN');
    const chunks: string[] = [];
    const r = await pool().run(server.address, cmd('echo', 'value:', secret), { onStdout: (c) => chunks.push(c) });
    expect(r.stdout).toBe('value: [REDACTED]\n');
    expect(chunks.join('')).toBe('value: [REDACTED]\n');
    expect(r.command).toBe('echo value: [REDACTED]');
  });

  it('passes stdin and streams output', async () => {
    const chunks: string[] = [];
    const r = await pool().run(server.address, cmd('cat'), { stdin: 'hello\nworld\n', onStdout: (c) => chunks.push(c) });
    expect(r.stdout).toBe('hello\nworld\n');
    expect(chunks.join('')).toBe('hello\nworld\n');
  });

  it('exports env for the command', async () => {
    const r = await pool().run(server.address, cmd('sh', '-c', 'printf %s "$GREETING"'), { env: { GREETING: `a b 'c' $x` } });
    expect(r.stdout).toBe(`a b 'c' $x`);
  });

  it('delivers any value byte-exact as a word', async () => {
    const r = await pool().run(server.address, cmd('printf', '%s', NASTY));
    expect(r.stdout).toBe(NASTY);
    for (const v of [`'`, `"`, '$HOME', '`', '\n', ' ', 'ü', '']) {
      expect((await pool().run(server.address, cmd('printf', '%s', v))).stdout).toBe(v);
    }
  });

  it('stops a command at timeoutMs and fails clearly; the connection stays usable', async () => {
    const p = pool();
    const err = await p.run(server.address, cmd('sleep', '30'), { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandTimeoutError);
    expect((err as Error).message).toContain('timed out after 300 ms');
    expect((err as Error).message).toContain(server.address);
    expect((err as Error).message).toContain('sleep 30');
    expect((await p.run(server.address, cmd('echo', 'ok'))).stdout).toBe('ok\n');
  });

  it('cancels a command through an AbortSignal', async () => {
    const ac = new AbortController();
    const running = pool().run(server.address, cmd('sleep', '30'), { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await expect(running).rejects.toBeInstanceOf(CommandAbortedError);
  });

  it('reports a dropped connection as ConnectionError and reconnects afterwards', async () => {
    const p = pool();
    await p.run(server.address, cmd('true'));
    const err = await p.run(server.address, cmd('__drop_connection__')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain(server.address);
    expect((await p.run(server.address, cmd('echo', 'back'))).stdout).toBe('back\n');
  });
});

describe('SshPool: connections and channels', () => {
  it('opens one connection per host and reuses it for every command', async () => {
    const before = server.connections;
    const p = pool();
    for (let i = 0; i < 5; i++) await p.run(server.address, cmd('true'));
    await Promise.all(Array.from({ length: 20 }, () => p.run(server.address, cmd('true'))));
    expect(server.connections - before).toBe(1);
  });

  it('treats user@host:port and host:port with the default user as the same connection', async () => {
    const before = server.connections;
    const p = pool();
    await p.run(server.address, cmd('true'));
    await p.run(`deploy@${server.address}`, cmd('true'));
    expect(server.connections - before).toBe(1);
  });

  it('never opens more than maxSessions channels at once on one connection', async () => {
    const s = await TestSshServer.start({ authorizedKeys: [clientKey.public] });
    try {
      writeFileSync(knownHostsFile, `${server.knownHostsLine()}\n${s.knownHostsLine()}\n`);
      const p = pool();
      const results = await Promise.all(Array.from({ length: 30 }, () => p.run(s.address, cmd('sleep', '0.2'))));
      expect(results.every((r) => r.exitCode === 0)).toBe(true);
      expect(s.connections).toBe(1);
      expect(s.maxConcurrentSessions).toBeLessThanOrEqual(9);
      expect(s.maxConcurrentSessions).toBeGreaterThan(1);
    } finally {
      writeFileSync(knownHostsFile, `${server.knownHostsLine()}\n`);
      await s.close();
    }
  });

  it('adapts when the server allows fewer sessions than maxSessions', async () => {
    const s = await TestSshServer.start({ authorizedKeys: [clientKey.public], maxSessions: 3 });
    try {
      const p = pool({ hostKeyChecking: 'off' });
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => p.run(s.address, cmd('echo', String(i)))));
      expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 12 }, (_, i) => `${i}\n`));
      expect(s.maxConcurrentSessions).toBeLessThanOrEqual(3);
    } finally {
      await s.close();
    }
  });

  it('reconnects transparently when an idle connection was dropped by the server', async () => {
    const s = await TestSshServer.start({ authorizedKeys: [clientKey.public] });
    try {
      const p = pool({ hostKeyChecking: 'off' });
      await p.run(s.address, cmd('true'));
      s.dropClients();
      for (let i = 0; i < 200 && s.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 10));
      for (let i = 0; i < 20 && p.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect((await p.run(s.address, cmd('echo', 'again'))).stdout).toBe('again\n');
      expect(s.connections).toBe(2);
    } finally {
      await s.close();
    }
  });

  it('bounds connection starts across hosts with maxConcurrentStarts', async () => {
    const logins = { inProgress: 0, max: 0 };
    const servers = await Promise.all(Array.from({ length: 5 }, () => TestSshServer.start({ authorizedKeys: [clientKey.public], logins })));
    try {
      const p = pool({ hostKeyChecking: 'off', maxConcurrentStarts: 2 });
      const results = await Promise.all(servers.map((s) => p.run(s.address, cmd('echo', 'up'))));
      expect(results.every((r) => r.stdout === 'up\n')).toBe(true);
      expect(logins.max).toBeLessThanOrEqual(2);
      expect(p.connectionCount).toBe(5);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  it('closes idle connections and reconnects on the next command', async () => {
    const s = await TestSshServer.start({ authorizedKeys: [clientKey.public] });
    try {
      const p = pool({ hostKeyChecking: 'off', idleTimeoutMs: 50 });
      await p.run(s.address, cmd('true'));
      for (let i = 0; i < 200 && s.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(s.openConnections).toBe(0);
      await p.run(s.address, cmd('true'));
      expect(s.connections).toBe(2);
    } finally {
      await s.close();
    }
  });

  it('close() ends every connection', async () => {
    const s = await TestSshServer.start({ authorizedKeys: [clientKey.public] });
    try {
      const p = pool({ hostKeyChecking: 'off' });
      await p.run(s.address, cmd('true'));
      expect(s.openConnections).toBe(1);
      await p.close();
      for (let i = 0; i < 200 && s.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(s.openConnections).toBe(0);
    } finally {
      await s.close();
    }
  });
});

describe('SshPool: authentication and connection errors', () => {
  it('logs in with a key file', async () => {
    const keyFile = join(dir, 'id_test');
    writeFileSync(keyFile, clientKey.private, { mode: 0o600 });
    const r = await pool({ keyData: undefined, keys: [keyFile] }).run(server.address, cmd('echo', 'file'));
    expect(r.stdout).toBe('file\n');
  });

  it('logs in with key data given as a plain string, after an unusable key', async () => {
    const other = newKeyPair();
    const r = await pool({ keyData: [other.private, clientKey.private] }).run(server.address, cmd('echo', 'data'));
    expect(r.stdout).toBe('data\n');
  });

  it('logs in with an RSA key', async () => {
    const rsa = newKeyPair('rsa');
    const s = await TestSshServer.start({ authorizedKeys: [rsa.public] });
    try {
      const r = await pool({ keyData: [rsa.private], hostKeyChecking: 'off' }).run(s.address, cmd('echo', 'rsa'));
      expect(r.stdout).toBe('rsa\n');
    } finally {
      await s.close();
    }
  });

  it('fails authentication with a ConnectionError naming the host and what was tried', async () => {
    const wrong = newKeyPair();
    const err = await pool({ keyData: [new Secret(wrong.private, 'SSH_PRIVATE_KEY')] })
      .run(server.address, cmd('true'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    const e = err as ConnectionError;
    expect(e.host).toBe(server.address);
    expect(e.message).toContain(server.address);
    expect(e.message).toContain('authentication failed for user "deploy"');
    expect(e.message).toContain('key_data SSH_PRIVATE_KEY');
    expect(e.message).not.toContain('PRIVATE KEY-----');
  });

  it('reports a missing key file and no usable keys', async () => {
    const err = await pool({ keyData: undefined, keys: [join(dir, 'nope')] })
      .run(server.address, cmd('true'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain('does not exist');
  });

  it('reports a refused connection in plain words', async () => {
    const s = await TestSshServer.start({ authorizedKeys: [clientKey.public] });
    const addr = s.address;
    await s.close();
    const err = await pool()
      .run(addr, cmd('true'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain(addr);
    expect((err as Error).message).toMatch(/connection refused/);
  });

  it('reports a host name that does not resolve, after the configured retries', async () => {
    const lines: string[] = [];
    const err = await pool({ dnsRetries: 1, debug: (l) => lines.push(l) })
      .run('nonexistent.invalid', cmd('true'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain('nonexistent.invalid: cannot resolve host name "nonexistent.invalid"');
    expect(lines.filter((l) => l.startsWith('retrying DNS')).length).toBe(1);
  });

  it('gives up on a server that never answers after connectTimeoutMs', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const addr = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const err = await pool({ connectTimeoutMs: 300 })
        .run(addr, cmd('true'))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as Error).message).toContain(addr);
      expect((err as Error).message).toMatch(/timed out/);
    } finally {
      silent.close();
    }
  });

  it('rejects an invalid host string as a ConnectionError', async () => {
    await expect(pool().run('deploy@host:notaport', cmd('true'))).rejects.toBeInstanceOf(ConnectionError);
  });
});

describe('SshPool: host key checking', () => {
  it('accepts a host recorded as [host]:port', async () => {
    const r = await pool().run(server.address, cmd('echo', 'ok'));
    expect(r.stdout).toBe('ok\n');
  });

  it('accepts a hashed entry', async () => {
    const file = writeKnownHosts(dir, [`# hashed`, `${hashHostName(`[127.0.0.1]:${server.port}`)} ${server.hostKey.public}`], 'hashed_known_hosts');
    const r = await pool({ knownHostsFiles: [file] }).run(server.address, cmd('echo', 'ok'));
    expect(r.stdout).toBe('ok\n');
  });

  it('refuses an unknown host in strict mode, saying how to add it', async () => {
    const file = writeKnownHosts(dir, [], 'empty_known_hosts');
    const err = await pool({ knownHostsFiles: [file] })
      .run(server.address, cmd('true'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    const m = (err as Error).message;
    expect(m).toContain('unknown host [127.0.0.1]:' + server.port);
    expect(m).toContain(`ssh-keyscan -p ${server.port} -t ed25519 127.0.0.1`);
  });

  it('refuses a changed host key, naming the file and line', async () => {
    const other = newKeyPair();
    const file = writeKnownHosts(dir, ['# first line', `[127.0.0.1]:${server.port} ${other.public}`], 'changed_known_hosts');
    const before = server.commands.length;
    const err = await pool({ knownHostsFiles: [file] })
      .run(server.address, cmd('echo', 'must-not-run'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    const m = (err as Error).message;
    expect(m).toContain(`HOST KEY CHANGED for [127.0.0.1]:${server.port}`);
    expect(m).toContain(`${file} line 2`);
    expect(m).toContain('ssh-keygen -R');
    expect(server.commands.length).toBe(before);
  });

  it('accept-new trusts a new host, records it, and later connections check against it', async () => {
    const sub = join(dir, 'fresh', '.ssh');
    const file = join(sub, 'known_hosts');
    const r = await pool({ knownHostsFiles: [file], hostKeyChecking: 'accept-new' }).run(server.address, cmd('echo', 'first'));
    expect(r.stdout).toBe('first\n');
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(`${server.knownHostsLine()}\n`);
    expect(statSync(sub).mode & 0o777).toBe(0o700);
    const again = await pool({ knownHostsFiles: [file], hostKeyChecking: 'strict' }).run(server.address, cmd('echo', 'again'));
    expect(again.stdout).toBe('again\n');
  });

  it('accept-new still refuses a changed key', async () => {
    const other = newKeyPair();
    const file = writeKnownHosts(dir, [`[127.0.0.1]:${server.port} ${other.public}`], 'changed2_known_hosts');
    const err = await pool({ knownHostsFiles: [file], hostKeyChecking: 'accept-new' })
      .run(server.address, cmd('true'))
      .catch((e: unknown) => e);
    expect((err as Error).message).toContain('HOST KEY CHANGED');
    expect(readFileSync(file, 'utf8')).not.toContain(server.hostKey.public);
  });

  it('off skips the check', async () => {
    const file = writeKnownHosts(dir, [], 'off_known_hosts');
    const r = await pool({ knownHostsFiles: [file], hostKeyChecking: 'off' }).run(server.address, cmd('echo', 'off'));
    expect(r.stdout).toBe('off\n');
    expect(readFileSync(file, 'utf8')).toBe('\n');
  });
});

describe('SshPool: proxies', () => {
  it('reaches a host through a jump host (direct-tcpip), one jump connection for many commands', async () => {
    const jump = await TestSshServer.start({ authorizedKeys: [clientKey.public], allowForwarding: true, user: 'root' });
    try {
      const file = writeKnownHosts(dir, [server.knownHostsLine(), jump.knownHostsLine()], 'jump_known_hosts');
      const p = pool({ knownHostsFiles: [file], proxy: jump.address });
      const before = server.connections;
      const r = await p.run(server.address, cmd('echo', 'via-jump'));
      expect(r.stdout).toBe('via-jump\n');
      await Promise.all(Array.from({ length: 5 }, () => p.run(server.address, cmd('true'))));
      expect(jump.connections).toBe(1);
      expect(jump.forwards).toBe(1);
      expect(server.connections - before).toBe(1);
      expect(jump.commands).toEqual([]);
    } finally {
      await jump.close();
    }
  });

  it('goes through several jump hosts in order (a,b)', async () => {
    const j1 = await TestSshServer.start({ authorizedKeys: [clientKey.public], allowForwarding: true, user: 'root' });
    const j2 = await TestSshServer.start({ authorizedKeys: [clientKey.public], allowForwarding: true, user: 'root' });
    try {
      const file = writeKnownHosts(dir, [server.knownHostsLine(), j1.knownHostsLine(), j2.knownHostsLine()], 'chain_known_hosts');
      const p = pool({ knownHostsFiles: [file], proxy: `${j1.address},root@${j2.address}` });
      expect((await p.run(server.address, cmd('echo', 'two hops'))).stdout).toBe('two hops\n');
      expect([j1.connections, j1.forwards, j2.connections, j2.forwards]).toEqual([1, 1, 1, 1]);
      await p.close();
      for (let i = 0; i < 200 && j1.openConnections + j2.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(j1.openConnections + j2.openConnections).toBe(0);
    } finally {
      await j1.close();
      await j2.close();
    }
  });

  it('names the jump host when it cannot be reached', async () => {
    const jump = await TestSshServer.start({ authorizedKeys: [clientKey.public], allowForwarding: true });
    const addr = jump.address;
    await jump.close();
    const err = await pool({ proxy: `deploy@${addr}` })
      .run(server.address, cmd('true'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain('jump host');
    expect((err as Error).message).toContain(addr);
  });

  it('connects through a proxy command', async () => {
    const script = join(dir, 'proxy.mjs');
    writeFileSync(
      script,
      `import { connect } from 'node:net';\nconst [host, port] = process.argv.slice(2);\nconst s = connect(Number(port), host);\nprocess.stdin.pipe(s).pipe(process.stdout);\n`,
    );
    const p = pool({ proxyCommand: `${process.execPath} ${script} %h %p` });
    const r = await p.run(server.address, cmd('echo', 'via-command'));
    expect(r.stdout).toBe('via-command\n');
  });
});

describe('SshPool: upload', () => {
  it('writes a file with mode 600, replacing an existing world-readable one', async () => {
    const target = join(dir, 'uploads', 'secret.env');
    mkdirSync(join(dir, 'uploads'), { recursive: true });
    writeFileSync(target, 'old', { mode: 0o644 });
    const content = `KEY=value\nOTHER='x y'\n`;
    await pool().upload(server.address, content, target, { mode: '600' });
    expect(readFileSync(target, 'utf8')).toBe(content);
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it('writes binary content byte-exact without a mode', async () => {
    const target = join(dir, 'uploads', 'blob.bin');
    mkdirSync(join(dir, 'uploads'), { recursive: true });
    const content = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await pool().upload(server.address, content, target);
    expect(readFileSync(target).equals(content)).toBe(true);
  });

  it('fails with CommandFailedError when the directory is missing', async () => {
    await expect(pool().upload(server.address, 'x', join(dir, 'missing', 'f'), { mode: '600' })).rejects.toBeInstanceOf(CommandFailedError);
  });
});
