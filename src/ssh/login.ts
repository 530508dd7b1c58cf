/**
 * Logging in to one SSH server: TCP (or a given socket), key exchange with the host key checked
 * against known_hosts, then the keys and the agent tried in turn. Failures name the server and
 * say what was tried.
 */
import type { Duplex } from 'node:stream';
import ssh2, { type AnyAuthMethod, type Client, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import { ConnectionError } from '../exec/types.js';
import type { SshTarget } from './host.js';
import type { LoadedIdentities } from './keys.js';
import type { HostKeyVerdict, KnownHosts } from './known-hosts.js';

const DEFAULT_HOST_KEY_ALGOS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export interface LoginSettings {
  /** The name the errors give the connection (the host as written, or a jump host's spec). */
  label: string;
  target: SshTarget;
  /** The stream to talk SSH over (a jump host's channel, a proxy command); default a TCP connection. */
  sock?: Duplex;
  identities: LoadedIdentities;
  /** Limit for TCP connect, key exchange and login together. */
  timeoutMs: number;
  /** ssh-agent socket, when the agent is to be used. */
  agent?: string;
  forwardAgent?: boolean;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Retries when the host name does not resolve (none through a given socket). Default 3. */
  dnsRetries?: number;
  knownHosts: KnownHosts;
  /** The proxy command's stderr so far, added to a failure's message. */
  proxyStderr?: () => string;
  debug?: (line: string) => void;
}

/** Logs in, retrying a host name that does not resolve (yet) a few times with backoff. */
export async function login(settings: LoginSettings): Promise<Client> {
  const { target, sock, debug } = settings;
  const retries = sock ? 0 : (settings.dnsRetries ?? 3);
  for (let attempt = 0; ; attempt++) {
    try {
      return await loginOnce(settings);
    } catch (e) {
      const code = (e as { cause?: { code?: string } }).cause?.code;
      const dns = code === 'ENOTFOUND' || code === 'EAI_AGAIN';
      if (!dns || attempt >= retries) throw e;
      const delay = Math.min(100 * 2 ** attempt, 2000) + Math.random() * 100;
      debug?.(`retrying DNS for ${target.host} (attempt ${attempt + 1}/${retries}) in ${Math.round(delay)} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function loginOnce(settings: LoginSettings): Promise<Client> {
  const { label, target, sock, identities: ids, timeoutMs, agent, knownHosts, proxyStderr, debug } = settings;
  const where = `${target.host}:${target.port}`;

  return new Promise<Client>((resolve, reject) => {
    const client = new ssh2.Client();
    let settled = false;
    let verdict: HostKeyVerdict | undefined;
    let presented: Buffer | undefined;
    let authsLeft: string[] | null = null;
    const tried: string[] = [];
    const problems = [...ids.problems];

    const fail = (message: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.on('error', () => {});
      client.destroy();
      const extra = proxyStderr?.();
      reject(new ConnectionError(label, message + (extra ? ` (proxy command said: ${extra.split('\n').slice(-3).join(' / ')})` : ''), { cause }));
    };

    const timer = setTimeout(() => fail(`connection to ${where} timed out after ${formatMs(timeoutMs)}${verdict ? ' (during login)' : ''}`), timeoutMs);

    const methods: { label: string; method: AnyAuthMethod }[] = ids.identities.map((id) => ({
      label: `key ${id.label} (${id.key.type})`,
      method: { type: 'publickey', username: target.user, key: id.key },
    }));
    if (agent) methods.push({ label: 'ssh-agent', method: { type: 'agent', username: target.user, agent } });
    let next = 0;

    client.on('handshake', () => {
      if (verdict?.ok && verdict.status === 'added' && presented) {
        try {
          knownHosts.add(target.host, target.port, presented);
          debug?.(`added host key for ${target.host}:${target.port} to ${knownHosts.files[0]}`);
        } catch (e) {
          debug?.(`could not record host key for ${where}: ${(e as Error).message}`);
        }
        verdict = { ok: true, status: 'known' };
      }
    });
    client.on('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Commands are small request/response exchanges: don't let Nagle hold them back.
      client.setNoDelay(true);
      resolve(client);
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      if (err.level === 'agent') {
        problems.push(`ssh-agent at ${agent} is not usable (${err.message})`);
        return;
      }
      if (/^Error while signing/.test(err.message)) {
        problems.push(err.message);
        return;
      }
      if (verdict && !verdict.ok) return fail(verdict.message, err);
      if (err.level === 'client-authentication') {
        const parts = [`tried ${tried.length ? tried.join(', ') : 'no keys (none configured or found, and no ssh-agent)'}`];
        if (authsLeft) parts.push(`server accepts: ${authsLeft.join(', ') || 'nothing'}`);
        parts.push(...problems);
        return fail(`authentication failed for user "${target.user}" at ${where} (${parts.join('; ')})`, err);
      }
      if (err.level === 'client-timeout') return fail(`connection to ${where} timed out after ${formatMs(timeoutMs)} during the SSH handshake`, err);
      return fail(describeSocketError(err, target), err);
    });
    client.on('close', () => {
      if (verdict && !verdict.ok) return fail(verdict.message);
      fail(`connection to ${where} was closed by the remote side before login completed`);
    });

    const knownTypes = knownHosts.mode === 'off' ? [] : knownHosts.knownKeyTypes(target.host, target.port);
    const preferred: ServerHostKeyAlgorithm[] = [];
    for (const t of knownTypes) {
      const algos = t === 'ssh-rsa' ? (['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] as const) : [t];
      for (const a of algos) {
        if ((DEFAULT_HOST_KEY_ALGOS as string[]).includes(a) && !preferred.includes(a as ServerHostKeyAlgorithm)) {
          preferred.push(a as ServerHostKeyAlgorithm);
        }
      }
    }

    const cfg: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      sock: sock as ConnectConfig['sock'],
      readyTimeout: timeoutMs,
      keepaliveInterval: settings.keepaliveIntervalMs ?? 30_000,
      keepaliveCountMax: settings.keepaliveCountMax ?? 3,
      agent,
      agentForward: !!(agent && settings.forwardAgent),
      hostVerifier: (key: Buffer): boolean => {
        presented = Buffer.from(key);
        verdict = knownHosts.check(target.host, target.port, presented);
        return verdict.ok;
      },
      authHandler: ((left: string[] | null, _partial: boolean | null, cb: (m: AnyAuthMethod | false) => void) => {
        authsLeft = left;
        while (next < methods.length) {
          const m = methods[next++]!;
          const needs = m.method.type === 'agent' ? 'publickey' : m.method.type;
          if (left && !left.includes(needs)) continue;
          tried.push(m.label);
          cb(m.method);
          return;
        }
        cb(false);
      }) as unknown as ConnectConfig['authHandler'],
    };
    if (preferred.length) {
      cfg.algorithms = { serverHostKey: [...preferred, ...DEFAULT_HOST_KEY_ALGOS.filter((a) => !preferred.includes(a))] };
    }
    try {
      client.connect(cfg);
    } catch (e) {
      fail(`cannot connect to ${where}: ${(e as Error).message}`, e);
    }
  });
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`;
}

function describeSocketError(err: Error & { code?: string }, target: SshTarget): string {
  const where = `${target.host}:${target.port}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where} (is sshd running and listening on port ${target.port}?)`;
    case 'ETIMEDOUT':
      return `connection to ${where} timed out`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `cannot resolve host name "${target.host}"`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable (no route to host)`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `connection reset by ${where}`;
  }
  if (/Handshake failed|no matching/i.test(err.message)) return `SSH handshake with ${where} failed: ${err.message}`;
  return `cannot connect to ${where}: ${err.message}`;
}
