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
 * Logging in is login.ts, running a command on a channel channel.ts, tunnels forwarding.ts.
 *
 * Success is decided by the exit code only. Every output text that leaves
 * this module has the command's secret values redacted.
 */
import { userInfo } from 'node:os';
import { posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import type { Secret } from '../secret.js';
import { any, cat, cmd, combine, display, group, raw, render, secretsOf, type Command } from '../shell.js';
import { CommandAbortedError, CommandFailedError, ConnectionError, type RunOptions, type RunResult, type Runner } from '../exec/types.js';
import { execOnConnection } from './channel.js';
import { clearIdle, endConn, holdConnection, plainChannelError, releaseConnection, type Conn, type ConnectionKeeper } from './connection.js';
import { forwardOut, forwardRemotePort } from './forwarding.js';
import { formatTarget, type SshTarget } from './host.js';
import { loadIdentities, type LoadedIdentities } from './keys.js';
import { KnownHosts, type HostKeyChecking } from './known-hosts.js';
import { login } from './login.js';
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

type Hop = JumpHop;

/** Per-connection settings resolved from the options and the ssh config files. */
interface Route {
  keys?: readonly string[];
  keysOnly?: boolean;
  proxyCommand?: string;
  connectTimeoutMs?: number;
}

export class SshPool implements Runner {
  readonly options: Readonly<SshPoolOptions>;
  readonly knownHosts: KnownHosts;
  readonly #conns = new Map<string, Promise<Conn>>();
  readonly #starts: Semaphore;
  readonly #identities = new Map<string, Promise<LoadedIdentities>>();
  readonly #keeper: ConnectionKeeper = {
    touch: (conn) => this.#touch(conn),
    debug: (line) => this.options.debug?.(line),
  };

  constructor(options: SshPoolOptions = {}) {
    this.options = { ...options };
    this.knownHosts = options.knownHosts ?? new KnownHosts({ mode: options.hostKeyChecking ?? 'strict', files: options.knownHostsFiles });
    this.#starts = new Semaphore(options.maxConcurrentStarts ?? 30);
  }

  #agent(keysOnly = this.options.keysOnly): string | undefined {
    if (keysOnly || this.options.agent === false) return undefined;
    const socket = this.options.agent ?? process.env.SSH_AUTH_SOCK;
    return socket ? socket : undefined;
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
    const outcome = await execOnConnection(conn, this.#keeper, host, render(full), shown, secrets, opts);
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
    return forwardRemotePort(conn, this.#keeper, host, port);
  }

  async close(): Promise<void> {
    const pending = [...this.#conns.values()];
    this.#conns.clear();
    const settled = await Promise.allSettled(pending);
    const conns = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    // targets first, then the jump hosts they tunnel through, innermost hop first
    conns.sort((a, b) => b.depth - a.depth);
    for (const conn of conns) await endConn(conn);
  }

  // ---------------------------------------------------------------- connections

  #connection(host: string, signal?: AbortSignal): Promise<Conn> {
    let target: SshTarget;
    let hops: Hop[];
    let route: Route;
    try {
      const options = this.options;
      const resolved = resolveHost(
        host,
        {
          user: options.user,
          port: options.port,
          keys: options.keys,
          keysOnly: options.keysOnly,
          proxy: options.proxy,
          proxyCommand: options.proxyCommand,
          connectTimeoutMs: options.connectTimeoutMs,
        },
        options.hostConfig ?? (() => ({})),
        { localUser: options.localUser ?? localUserName() },
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
        holdConnection(jump);
        onClose.push(() => releaseConnection(jump, this.#keeper));
        try {
          sock = await forwardOut(jump.client, target.host, target.port);
        } catch (e) {
          throw new ConnectionError(label, `jump host ${hop.spec} could not open a connection to ${target.host}:${target.port}: ${plainChannelError(e)}`, {
            cause: e,
          });
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
    const options = this.options;
    return login({
      label,
      target,
      sock,
      identities: await this.#identitiesFor(route.keys ?? options.keys),
      timeoutMs: route.connectTimeoutMs ?? options.connectTimeoutMs ?? 30_000,
      agent: this.#agent(route.keysOnly),
      forwardAgent: options.forwardAgent,
      keepaliveIntervalMs: options.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax,
      dnsRetries: options.dnsRetries,
      knownHosts: this.knownHosts,
      proxyStderr,
      debug: options.debug,
    });
  }
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

function localUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
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
