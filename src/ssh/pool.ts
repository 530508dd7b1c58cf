/**
 * SshPool: the Runner that executes commands on remote hosts over SSH.
 *
 * One connection per host, opened on first use and reused for every command
 * until it has been idle for `idleTimeoutMs`. Connection starts across hosts
 * are bounded (`maxConcurrentStarts`), and each connection opens at most
 * `maxSessions` channels at once (OpenSSH refuses more than MaxSessions,
 * default 10). If a server refuses a channel anyway, the pool lowers that
 * connection's limit and retries once another channel has closed.
 *
 * Success is decided by the exit code only. Every output text that leaves
 * this module has the command's secret values redacted.
 */
import { constants as osConstants, userInfo } from 'node:os';
import { posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2, { type AnyAuthMethod, type Client, type ClientChannel, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import { Secret } from '../secret.js';
import { any, cat, cmd, combine, display, group, raw, render, secretsOf, type Command } from '../shell.js';
import {
  CommandAbortedError,
  CommandFailedError,
  CommandTimeoutError,
  ConnectionError,
  type RunOptions,
  type RunResult,
  type Runner,
} from '../exec/types.js';
import { formatTarget, type SshTarget } from './host.js';
import { loadIdentities, type LoadedIdentities } from './keys.js';
import { KnownHosts, type HostKeyChecking, type HostKeyVerdict } from './known-hosts.js';
import { OutputCollector } from './output.js';
import { expandProxyCommand, spawnProxyCommand } from './proxy.js';
import { resolveHost, type HostConfig, type JumpHop } from './ssh-config.js';
import { Semaphore } from './semaphore.js';

export interface SshPoolOptions {
  /** Login user when the host string has none. Default: the ssh config's User, else `root`. */
  user?: string;
  /** Port when the host string has none. Default: the ssh config's Port, else 22. */
  port?: number;
  /** Private key files (`~` is expanded). When neither keys nor keyData is given, OpenSSH's default identity files are tried. */
  keys?: readonly string[];
  /** Private keys as text (OpenSSH or PEM format). */
  keyData?: readonly (string | Secret)[];
  /** Passphrase for encrypted keys. */
  passphrase?: string | Secret;
  /** Use only `keys`/`keyData`, never the agent. */
  keysOnly?: boolean;
  /** ssh-agent socket. Default `SSH_AUTH_SOCK` when set (and not keysOnly). `false` disables the agent. */
  agent?: string | false;
  /** Forward the agent to the remote hosts. Default false; ignored without an agent. */
  forwardAgent?: boolean;
  /**
   * Jump host, `user@host:port` or `host` (user defaults to root and port to 22, as in Kamal).
   * Several, comma-separated, are passed through in order, like `ssh -J a,b`.
   */
  proxy?: string;
  /** Command whose stdin/stdout carry the connection; `%h`, `%p`, `%r` and `%%` are substituted. Ignored when `proxy` is set. */
  proxyCommand?: string;
  /**
   * What OpenSSH client config files say about a host (`ssh.config`): HostName, IdentityFile,
   * IdentitiesOnly, ProxyJump/ProxyCommand and ConnectTimeout fill in what the options above leave
   * unset (see ssh-config.ts). Default: no files.
   */
  hostConfig?: (host: string) => HostConfig;
  /** Login name for jump hosts from a config file's ProxyJump that name no user. Default: this process's user. */
  localUser?: string;
  /** Accepted for configuration compatibility; not used. */
  logLevel?: string;
  /** Limit for TCP connect, key exchange and login together. Default 30000. */
  connectTimeoutMs?: number;
  /** SSH keepalive interval. Default 30000 (Kamal's keepalive_interval); 0 disables. */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the connection is dropped. Default 3. */
  keepaliveCountMax?: number;
  /** Close a connection after this long without commands. Default 900000 (Kamal's pool_idle_timeout). */
  idleTimeoutMs?: number;
  /** Connections being started at the same time, across all hosts. Default 30. */
  maxConcurrentStarts?: number;
  /** Channels open at the same time on one connection. Default 9. */
  maxSessions?: number;
  /** Retries of a connection when the host name does not resolve. Default 3. */
  dnsRetries?: number;
  /** Default `strict`. */
  hostKeyChecking?: HostKeyChecking;
  /** known_hosts files; the first gets new keys in accept-new mode. Default `~/.ssh/known_hosts`, `/etc/ssh/ssh_known_hosts`. */
  knownHostsFiles?: string[];
  /** Use this checker instead of building one from hostKeyChecking/knownHostsFiles. */
  knownHosts?: KnownHosts;
  /** Receives short diagnostic lines (retries, lowered session limits, new host keys). */
  debug?: (line: string) => void;
}

const DEFAULT_HOST_KEY_ALGOS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

type Hop = JumpHop;

/** Per-connection settings resolved from the options and the ssh config files. */
interface Route {
  keys?: readonly string[];
  keysOnly?: boolean;
  proxyCommand?: string;
  connectTimeoutMs?: number;
}

interface Conn {
  key: string;
  /** For closing order: targets are deepest, then jump hosts from the last hop back to the first. */
  depth: number;
  label: string;
  target: SshTarget;
  client: Client;
  sessions: Semaphore;
  /** Open channels plus connections tunnelled through this one. */
  users: number;
  /** Session channels open now, and the most that were open at once. */
  open: number;
  peakOpen: number;
  idleTimer: NodeJS.Timeout | undefined;
  closed: boolean;
  lastError: Error | undefined;
  closedPromise: Promise<void>;
  onClose: (() => void)[];
  /** The pool's map entry for this connection. */
  entry?: Promise<Conn>;
}

/** Attempts to open a session channel before giving up (with backoff, a few seconds in all). */
const MAX_OPEN_RETRIES = 16;

type ExecOutcome = { exitCode: number; stdout: string; stderr: string };

export class SshPool implements Runner {
  readonly options: Readonly<SshPoolOptions>;
  readonly knownHosts: KnownHosts;
  readonly #conns = new Map<string, Promise<Conn>>();
  readonly #starts: Semaphore;
  readonly #identities = new Map<string, Promise<LoadedIdentities>>();

  constructor(options: SshPoolOptions = {}) {
    this.options = { ...options };
    this.knownHosts =
      options.knownHosts ?? new KnownHosts({ mode: options.hostKeyChecking ?? 'strict', files: options.knownHostsFiles });
    this.#starts = new Semaphore(options.maxConcurrentStarts ?? 30);
  }

  get #connectTimeout(): number {
    return this.options.connectTimeoutMs ?? 30_000;
  }
  #agent(keysOnly = this.options.keysOnly): string | undefined {
    if (keysOnly || this.options.agent === false) return undefined;
    const a = this.options.agent ?? process.env.SSH_AUTH_SOCK;
    return a ? a : undefined;
  }

  /** Number of open (or opening) connections, jump hosts included. */
  get connectionCount(): number {
    return this.#conns.size;
  }

  /** Opens the connection to `host` now (it is otherwise opened by the first command). */
  async connect(host: string, signal?: AbortSignal): Promise<void> {
    await this.#connection(host, signal);
  }

  async run(host: string, command: Command, opts: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const full = withEnv(command, opts.env);
    const shown = display(full);
    const secrets = secretsOf(full).map((s) => s.reveal());
    const { signal } = opts;
    if (signal?.aborted) throw new CommandAbortedError(host, shown, { cause: signal.reason });

    let conn: Conn;
    try {
      conn = await this.#connection(host, signal);
      // dropped since (and already forgotten): open a new one
      if (conn.closed) conn = await this.#connection(host, signal);
    } catch (e) {
      if (signal?.aborted) throw new CommandAbortedError(host, shown, { cause: signal.reason });
      throw e;
    }
    const outcome = await this.#exec(conn, host, render(full), shown, secrets, opts);
    const result: RunResult = {
      host,
      command: shown,
      exitCode: outcome.exitCode,
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      durationMs: Math.round(performance.now() - started),
    };
    if (result.exitCode !== 0 && !opts.allowFailure) throw new CommandFailedError(result);
    return result;
  }

  /**
   * Writes `content` to `remotePath` through the command's stdin. With `mode`,
   * the data goes to a temporary file created under umask 077 next to the
   * target, gets its mode, then is renamed over the target: the file is never
   * readable by others, even briefly, and never half-written. Without `mode`,
   * the file is written in place and keeps an existing file's mode.
   */
  async upload(host: string, content: string | Buffer, remotePath: string, opts: { mode?: string } = {}): Promise<void> {
    await this.run(host, uploadCommand(remotePath, opts.mode), { stdin: content });
  }

  /**
   * Reverse tunnel on the host's connection (`ssh -R 127.0.0.1:PORT:localhost:PORT`): the host
   * listens on 127.0.0.1:`port` and each connection there is piped to `localhost:port` here.
   * The connection stays open while the tunnel is; the returned function closes the tunnel.
   */
  async forwardRemotePort(host: string, port: number, signal?: AbortSignal): Promise<() => Promise<void>> {
    const conn = await this.#connection(host, signal);
    const { client } = conn;
    const sockets = new Set<Socket>();
    const onConnection = (
      details: { destIP: string; destPort: number },
      accept: () => ClientChannel,
      reject: () => void,
    ): void => {
      if (details.destPort !== port) return reject();
      const channel = accept();
      const local = netConnect({ host: 'localhost', port });
      sockets.add(local);
      local.on('close', () => sockets.delete(local));
      local.on('error', () => channel.destroy());
      channel.on('error', () => local.destroy());
      local.pipe(channel).pipe(local);
    };
    client.on('tcp connection', onConnection);
    conn.users++;
    clearIdle(conn);
    const release = (): void => {
      client.removeListener('tcp connection', onConnection);
      for (const sock of sockets) sock.destroy();
      conn.users--;
      this.#touch(conn);
    };
    try {
      await new Promise<void>((resolve, reject) => {
        client.forwardIn('127.0.0.1', port, (err) => (err ? reject(err) : resolve()));
      });
    } catch (e) {
      release();
      throw new ConnectionError(host, `failed to establish port forward of 127.0.0.1:${port}: ${(e as Error).message}`, { cause: e });
    }
    this.options.debug?.(`forwarding 127.0.0.1:${port} on ${conn.label} to localhost:${port}`);
    let closed = false;
    return async () => {
      if (closed) return;
      closed = true;
      if (!conn.closed) {
        await new Promise<void>((resolve) => {
          try {
            client.unforwardIn('127.0.0.1', port, () => resolve());
          } catch {
            resolve();
          }
        });
      }
      release();
    };
  }

  async close(): Promise<void> {
    const pending = [...this.#conns.values()];
    this.#conns.clear();
    const settled = await Promise.allSettled(pending);
    const conns = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    // targets first, then the jump hosts they tunnel through, innermost hop first
    conns.sort((a, b) => b.depth - a.depth);
    for (const c of conns) await endConn(c);
  }

  // ---------------------------------------------------------------- connections

  #connection(host: string, signal?: AbortSignal): Promise<Conn> {
    let target: SshTarget;
    let hops: Hop[];
    let route: Route;
    try {
      const o = this.options;
      const resolved = resolveHost(
        host,
        { user: o.user, port: o.port, keys: o.keys, keysOnly: o.keysOnly, proxy: o.proxy, proxyCommand: o.proxyCommand, connectTimeoutMs: o.connectTimeoutMs },
        o.hostConfig ?? (() => ({})),
        { localUser: o.localUser ?? localUserName() },
      );
      target = resolved.target;
      hops = resolved.jumps;
      route = { keys: resolved.keys, keysOnly: resolved.keysOnly, proxyCommand: resolved.proxyCommand, connectTimeoutMs: resolved.connectTimeoutMs };
    } catch (e) {
      return Promise.reject(new ConnectionError(host, (e as Error).message));
    }
    const key = hops.length ? `${formatTarget(target)} via ${hops.map((h) => formatTarget(h.target)).join(' > ')}` : formatTarget(target);
    return raceAbort(this.#shared(key, host, target, hops, route), signal);
  }

  /** The connection for `key`, opened once and shared. `via` are the jump hosts to go through. */
  #shared(key: string, label: string, target: SshTarget, via: Hop[], route: Route): Promise<Conn> {
    let p = this.#conns.get(key);
    if (!p) {
      p = this.#open(key, label, target, via, route);
      this.#conns.set(key, p);
      const mine = p;
      p.then(
        (c) => {
          c.entry = mine;
          if (c.closed) this.#forget(c);
        },
        () => {
          if (this.#conns.get(key) === mine) this.#conns.delete(key);
        },
      );
    }
    return p;
  }

  async #open(key: string, label: string, target: SshTarget, via: Hop[], route: Route): Promise<Conn> {
    const onClose: (() => void)[] = [];
    let sock: Duplex | undefined;
    let proxyStderr: (() => string) | undefined;
    const cleanup = (): void => {
      for (const f of onClose.splice(0)) f();
    };
    const isJump = key.startsWith('jump ');

    try {
      if (via.length > 0) {
        const hop = via[via.length - 1]!;
        const before = via.slice(0, -1);
        const jumpKey = `jump ${via.map((h) => formatTarget(h.target)).join(' > ')}`;
        let jump: Conn;
        try {
          // a jump host's own IdentityFile (ssh config) comes before the connection's keys
          const keys = hop.keys ? [...hop.keys, ...(this.options.keys ?? [])] : this.options.keys;
          jump = await this.#shared(jumpKey, hop.spec, hop.target, before, { keys });
        } catch (e) {
          throw new ConnectionError(label, `cannot reach jump host: ${(e as Error).message}`, { cause: e });
        }
        jump.users++;
        clearIdle(jump);
        onClose.push(() => {
          jump.users--;
          this.#touch(jump);
        });
        try {
          sock = await forwardOut(jump.client, target.host, target.port);
        } catch (e) {
          throw new ConnectionError(
            label,
            `jump host ${hop.spec} could not open a connection to ${target.host}:${target.port}: ${plainChannelError(e)}`,
            { cause: e },
          );
        }
      } else if (!isJump && route.proxyCommand) {
        let line: string;
        try {
          line = expandProxyCommand(route.proxyCommand, target.host, target.port, target.user);
        } catch (e) {
          throw new ConnectionError(label, (e as Error).message);
        }
        const pc = spawnProxyCommand(line);
        sock = pc.sock;
        proxyStderr = pc.stderr;
        onClose.push(pc.kill);
      }

      const release = await this.#starts.acquire();
      let client: Client;
      try {
        client = await this.#login(label, target, sock, route, proxyStderr);
      } finally {
        release();
      }
      return this.#adopt(key, label, target, client, onClose, isJump ? via.length : via.length + 1000);
    } catch (e) {
      cleanup();
      throw e;
    }
  }

  #adopt(key: string, label: string, target: SshTarget, client: Client, onClose: (() => void)[], depth: number): Conn {
    let resolveClosed!: () => void;
    const conn: Conn = {
      key,
      depth,
      label,
      target,
      client,
      sessions: new Semaphore(this.options.maxSessions ?? 9),
      users: 0,
      open: 0,
      peakOpen: 0,
      idleTimer: undefined,
      closed: false,
      lastError: undefined,
      closedPromise: new Promise<void>((r) => (resolveClosed = r)),
      onClose,
    };
    client.on('error', (err: Error) => {
      conn.lastError = err;
    });
    client.on('close', () => {
      conn.closed = true;
      clearIdle(conn);
      this.#forget(conn);
      conn.sessions.failAll(new ConnectionError(label, `connection lost${conn.lastError ? ` (${conn.lastError.message})` : ''}`));
      for (const f of conn.onClose.splice(0)) f();
      resolveClosed();
    });
    this.#touch(conn);
    return conn;
  }

  #forget(conn: Conn): void {
    // only drop the entry when it is this connection (a reconnect may have replaced it)
    if (conn.entry && this.#conns.get(conn.key) === conn.entry) this.#conns.delete(conn.key);
  }

  #touch(conn: Conn): void {
    clearIdle(conn);
    if (conn.closed || conn.users > 0) return;
    const idle = this.options.idleTimeoutMs ?? 900_000;
    conn.idleTimer = setTimeout(() => {
      if (conn.users > 0 || conn.closed) return;
      this.options.debug?.(`closing idle connection to ${conn.label}`);
      this.#forget(conn);
      void endConn(conn);
    }, idle);
    conn.idleTimer.unref();
  }

  /** The keys of a key list (the options' keys, or a host's IdentityFile from ssh config), loaded once per list. */
  #identitiesFor(keys: readonly string[] | undefined): Promise<LoadedIdentities> {
    const cacheKey = JSON.stringify(keys ?? null);
    let ids = this.#identities.get(cacheKey);
    if (!ids) {
      ids = loadIdentities({ keys, keyData: this.options.keyData, passphrase: this.options.passphrase });
      this.#identities.set(cacheKey, ids);
    }
    return ids;
  }

  async #login(label: string, target: SshTarget, sock: Duplex | undefined, route: Route, proxyStderr?: () => string): Promise<Client> {
    const ids = await this.#identitiesFor(route.keys ?? this.options.keys);
    const retries = sock ? 0 : (this.options.dnsRetries ?? 3);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#loginOnce(label, target, sock, ids, route, proxyStderr);
      } catch (e) {
        const code = (e as { cause?: { code?: string } }).cause?.code;
        const dns = code === 'ENOTFOUND' || code === 'EAI_AGAIN';
        if (!dns || attempt >= retries) throw e;
        const delay = Math.min(100 * 2 ** attempt, 2000) + Math.random() * 100;
        this.options.debug?.(`retrying DNS for ${target.host} (attempt ${attempt + 1}/${retries}) in ${Math.round(delay)} ms`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  #loginOnce(
    label: string,
    target: SshTarget,
    sock: Duplex | undefined,
    ids: LoadedIdentities,
    route: Route,
    proxyStderr?: () => string,
  ): Promise<Client> {
    const where = `${target.host}:${target.port}`;
    const timeoutMs = route.connectTimeoutMs ?? this.#connectTimeout;
    const agent = this.#agent(route.keysOnly);
    const knownHosts = this.knownHosts;

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

      const timer = setTimeout(
        () => fail(`connection to ${where} timed out after ${formatMs(timeoutMs)}${verdict ? ' (during login)' : ''}`),
        timeoutMs,
      );

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
            this.options.debug?.(`added host key for ${target.host}:${target.port} to ${knownHosts.files[0]}`);
          } catch (e) {
            this.options.debug?.(`could not record host key for ${where}: ${(e as Error).message}`);
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
        keepaliveInterval: this.options.keepaliveIntervalMs ?? 30_000,
        keepaliveCountMax: this.options.keepaliveCountMax ?? 3,
        agent,
        agentForward: !!(agent && this.options.forwardAgent),
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

  // ---------------------------------------------------------------- commands

  async #exec(conn: Conn, host: string, line: string, shown: string, secrets: string[], opts: RunOptions): Promise<ExecOutcome> {
    const { signal } = opts;
    for (let attempt = 0; ; attempt++) {
      let release: () => void;
      try {
        release = await conn.sessions.acquire(signal);
      } catch (e) {
        if (signal?.aborted) throw new CommandAbortedError(host, shown, { cause: signal.reason });
        throw e;
      }
      conn.users++;
      clearIdle(conn);
      const done = (): void => {
        release();
        conn.users--;
        this.#touch(conn);
      };

      let running: { outcome: Promise<ExecOutcome> };
      try {
        if (conn.closed) throw new Error('connection closed');
        // drive() attaches its listeners inside the exec callback: exit status
        // and close can arrive in the same packet batch as the exec reply.
        running = await openExec(conn.client, line, opts.interactive?.pty, (channel) => {
          conn.open++;
          if (conn.open > conn.peakOpen) {
            conn.peakOpen = conn.open;
            if (conn.peakOpen > conn.sessions.limit) conn.sessions.setLimit(conn.peakOpen);
          }
          return drive(channel, conn, host, shown, secrets, opts).finally(() => conn.open--);
        });
      } catch (e) {
        done();
        if (signal?.aborted) throw new CommandAbortedError(host, shown, { cause: signal.reason });
        if (!conn.closed && isChannelOpenFailure(e) && attempt < MAX_OPEN_RETRIES) {
          // The server allows fewer sessions than maxSessions (OpenSSH
          // MaxSessions), or has not yet freed a session that just closed.
          // Drop to what it has demonstrably allowed at once; the limit rises
          // again as more channels succeed.
          const limit = Math.max(1, conn.peakOpen);
          if (limit < conn.sessions.limit) {
            this.options.debug?.(`${host} refused a session channel; limiting this connection to ${limit} concurrent channels for now`);
            conn.sessions.setLimit(limit);
          }
          await delay(Math.min(20 * 2 ** attempt, 500), signal).catch(() => undefined);
          continue;
        }
        if (conn.closed) {
          throw new ConnectionError(host, `connection lost${conn.lastError ? ` (${conn.lastError.message})` : ''}`, { cause: e });
        }
        throw new ConnectionError(
          host,
          isChannelOpenFailure(e)
            ? `the server refused to open a session channel (${plainChannelError(e)}); check MaxSessions in its sshd_config`
            : `cannot open a session: ${plainChannelError(e)}`,
          { cause: e },
        );
      }

      try {
        return await running.outcome;
      } finally {
        done();
      }
    }
  }
}

// ------------------------------------------------------------------ helpers

function drive(channel: ClientChannel, conn: Conn, host: string, shown: string, secrets: string[], opts: RunOptions): Promise<ExecOutcome> {
  return new Promise<ExecOutcome>((resolve, reject) => {
    const out = new OutputCollector(secrets, opts.onStdout);
    const err = new OutputCollector(secrets, opts.onStderr);
    let exitCode: number | undefined;
    let exitSignal: string | undefined;
    let stopped: 'timeout' | 'abort' | undefined;
    let finished = false;

    // An interactive command's output goes to the session as it comes, uncollected (a shell or a
    // log can run for hours); everything else is collected and redacted.
    const session = opts.interactive;
    if (session) {
      channel.on('data', (d: Buffer) => {
        if (!finished) session.stdout(d);
      });
      channel.stderr.on('data', (d: Buffer) => {
        if (!finished) session.stderr(d);
      });
    } else {
      channel.on('data', (d: Buffer) => out.write(d));
      channel.stderr.on('data', (d: Buffer) => err.write(d));
    }
    let detach: (() => void) | undefined;
    channel.on('exit', (code: number | null, sig?: string) => {
      if (typeof code === 'number') exitCode = code;
      else if (sig) {
        exitSignal = sig.replace(/^SIG/, '');
        const num = (osConstants.signals as Record<string, number>)[`SIG${exitSignal}`];
        exitCode = 128 + (num ?? 0);
      }
    });
    channel.on('error', () => {});

    const stop = (why: 'timeout' | 'abort'): void => {
      if (finished || stopped) return;
      stopped = why;
      try {
        channel.signal('KILL');
      } catch {
        // not all servers accept signals; closing the channel is what counts
      }
      try {
        channel.close();
      } catch {
        // already closed
      }
      // OpenSSH ignores the signal and keeps a session without a pty open until its command
      // exits; an interactive session ends here at once, as `ssh` does when interrupted (the
      // remote command then meets its closed output).
      if (session) finish();
    };
    const timer = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? setTimeout(() => stop('timeout'), opts.timeoutMs) : undefined;
    const onAbort = (): void => stop('abort');
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (): void => {
      if (finished) return;
      finished = true;
      try {
        detach?.();
      } catch {
        // the session's own clean-up failing must not hide the command's outcome
      }
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      out.end();
      err.end();
      const stdout = out.text();
      const stderr = err.text();
      if (stopped === 'timeout') return reject(new CommandTimeoutError({ host, command: shown, stdout, stderr }, opts.timeoutMs!));
      if (stopped === 'abort') return reject(new CommandAbortedError(host, shown, { cause: opts.signal?.reason }));
      if (exitCode === undefined) {
        if (conn.closed || !isWritableClient(conn)) {
          return reject(
            new ConnectionError(host, `connection lost while running: ${shown}${conn.lastError ? ` (${conn.lastError.message})` : ''}`),
          );
        }
        // The server closed the channel without an exit status.
        return resolve({ exitCode: 255, stdout, stderr: stderr || 'the server closed the session without an exit status' });
      }
      if (exitSignal && !stderr) return resolve({ exitCode, stdout, stderr: `killed by signal ${exitSignal}` });
      resolve({ exitCode, stdout, stderr });
    };
    channel.on('close', finish);

    if (opts.signal?.aborted) {
      stop('abort');
      return;
    }
    if (session) {
      detach = session.attach({
        write: (data) => {
          if (!finished) channel.write(data);
        },
        end: () => {
          if (!finished) channel.end();
        },
        resize: (rows, cols) => {
          if (!finished && session.pty) channel.setWindow(rows, cols, 0, 0);
        },
      });
      return;
    }
    try {
      if (opts.stdin !== undefined) channel.end(opts.stdin);
      else channel.end();
    } catch {
      // the channel closed already; 'close' reports it
    }
  });
}

function isWritableClient(conn: Conn): boolean {
  const sock = (conn.client as unknown as { _sock?: { writable?: boolean } })._sock;
  return !!sock?.writable;
}

function openExec(
  client: Client,
  line: string,
  pty: { term: string; rows: number; cols: number } | undefined,
  start: (channel: ClientChannel) => Promise<ExecOutcome>,
): Promise<{ outcome: Promise<ExecOutcome> }> {
  return new Promise((resolve, reject) => {
    try {
      const options = pty ? { pty: { term: pty.term, rows: pty.rows, cols: pty.cols, width: 0, height: 0 } } : {};
      client.exec(line, options, (err, stream) => (err ? reject(err) : resolve({ outcome: start(stream) })));
    } catch (e) {
      reject(e);
    }
  });
}

function forwardOut(client: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream)));
    } catch (e) {
      reject(e);
    }
  });
}

function isChannelOpenFailure(e: unknown): boolean {
  return e instanceof Error && /Channel open failure/i.test(e.message);
}

function plainChannelError(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/^\(SSH\) /, '');
}

function clearIdle(conn: Conn): void {
  if (conn.idleTimer) clearTimeout(conn.idleTimer);
  conn.idleTimer = undefined;
}

async function endConn(conn: Conn): Promise<void> {
  clearIdle(conn);
  if (conn.closed) return;
  try {
    conn.client.end();
  } catch {
    // ignore
  }
  const t = setTimeout(() => conn.client.destroy(), 2000);
  t.unref();
  await conn.closedPromise;
  clearTimeout(t);
}

function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function localUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
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

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Prefixes `export NAME=value &&` for each entry of `env`. */
function withEnv(command: Command, env: Record<string, string> | undefined): Command {
  if (!env) return command;
  const entries = Object.entries(env);
  if (entries.length === 0) return command;
  for (const [k] of entries) if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name: ${JSON.stringify(k)}`);
  return combine(cmd('export', ...entries.map(([k, v]) => cat(raw(`${k}=`), v))), command);
}

/** The command `upload` runs; the content arrives on stdin. */
export function uploadCommand(remotePath: string, mode?: string): Command {
  if (mode === undefined) return cmd('cat', raw('>'), remotePath);
  if (!/^[0-7]{3,4}$/.test(mode)) throw new Error(`invalid file mode "${mode}" (expected octal, e.g. "600")`);
  const tmp = posix.join(posix.dirname(remotePath), `.${posix.basename(remotePath)}.tmp-${randomBytes(6).toString('hex')}`);
  return any(
    group(combine(cmd('umask', '077'), cmd('cat', raw('>'), tmp), cmd('chmod', mode, tmp), cmd('mv', '-f', tmp, remotePath))),
    group(combine(cmd('rm', '-f', tmp), cmd('false'))),
  );
}
