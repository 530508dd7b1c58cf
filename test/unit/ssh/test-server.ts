/**
 * A real SSH server for tests, in process, on 127.0.0.1 and a random port.
 * Exec requests run with the local /bin/sh and report real exit codes.
 * Counts connections and concurrently open session channels per connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import ssh2, { type Connection, type ParsedKey, type Server as SshServer } from 'ssh2';

const { Server, utils } = ssh2;

export interface TestServerOptions {
  /** Login user. Default `deploy`. */
  user?: string;
  /** Accepted client public keys (OpenSSH format). */
  authorizedKeys: string[];
  /** Host key (private, OpenSSH format). Default: a new ed25519 key. */
  hostKey?: string;
  /** Refuse session channels beyond this many per connection (like OpenSSH MaxSessions). */
  maxSessions?: number;
  /** Accept direct-tcpip (jump host). */
  allowForwarding?: boolean;
  /** Shared across servers: logins in progress (TCP accepted, not yet authenticated) and the most at once. */
  logins?: { inProgress: number; max: number };
}

export interface KeyPair {
  private: string;
  public: string;
}

export function newKeyPair(type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519'): KeyPair {
  // ssh2 now and then generates a key its own parser rejects ("Malformed OpenSSH private key"): draw again
  for (let attempt = 0; ; attempt++) {
    const pair =
      type === 'rsa'
        ? utils.generateKeyPairSync('rsa', { bits: 2048 })
        : type === 'ecdsa'
          ? utils.generateKeyPairSync('ecdsa', { bits: 256 })
          : utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
    if (attempt >= 10) throw new Error(`ssh2 generated no usable ${type} key in ${attempt + 1} tries`);
  }
}

export class TestSshServer {
  readonly server: SshServer;
  readonly hostKey: KeyPair;
  port = 0;
  /** Successful logins. */
  connections = 0;
  /** Connections currently open. */
  openConnections = 0;
  authFailures = 0;
  /** Highest number of session channels open at once on one connection. */
  maxConcurrentSessions = 0;
  refusedSessions = 0;
  forwards = 0;
  readonly commands: string[] = [];
  /** Pseudo-terminal requests and window changes, in order. */
  readonly ptys: { term: string; rows: number; cols: number }[] = [];
  readonly windowChanges: { rows: number; cols: number }[] = [];
  readonly children = new Set<ChildProcess>();
  readonly #clients = new Set<Connection>();

  private constructor(
    readonly options: TestServerOptions,
    hostKey: KeyPair,
  ) {
    this.hostKey = hostKey;
    const allowed: ParsedKey[] = options.authorizedKeys.map((k) => {
      const p = utils.parseKey(k);
      if (p instanceof Error) throw p;
      return p;
    });
    const user = options.user ?? 'deploy';

    this.server = new Server({ hostKeys: [hostKey.private] }, (client) => {
      this.#clients.add(client);
      this.openConnections++;
      let sessions = 0;
      const logins = options.logins;
      let loggingIn = true;
      const loginDone = (): void => {
        if (!loggingIn || !logins) return;
        loggingIn = false;
        logins.inProgress--;
      };
      if (logins) {
        logins.inProgress++;
        logins.max = Math.max(logins.max, logins.inProgress);
      }
      client.on('close', () => {
        loginDone();
        this.#clients.delete(client);
        this.openConnections--;
      });
      client.on('error', () => {});
      client.on('authentication', (ctx) => {
        if (ctx.method !== 'publickey' || ctx.username !== user) {
          this.authFailures++;
          return ctx.reject(['publickey']);
        }
        const match = allowed.find((k) => {
          const pub = k.getPublicSSH();
          return k.type === ctx.key.algo && pub.length === ctx.key.data.length && timingSafeEqual(pub, ctx.key.data);
        });
        if (!match) {
          this.authFailures++;
          return ctx.reject(['publickey']);
        }
        if (ctx.signature && ctx.blob) {
          if (match.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
          this.authFailures++;
          return ctx.reject(['publickey']);
        }
        return ctx.accept();
      });
      client.on('ready', () => {
        loginDone();
        this.connections++;
        client.on('session', (accept, reject) => {
          if (options.maxSessions !== undefined && sessions >= options.maxSessions) {
            this.refusedSessions++;
            reject();
            return;
          }
          sessions++;
          this.maxConcurrentSessions = Math.max(this.maxConcurrentSessions, sessions);
          let counted = true;
          const uncount = (): void => {
            if (!counted) return;
            counted = false;
            sessions--;
          };
          const session = accept();
          session.on('close', uncount);
          let child: ChildProcess | undefined;
          session.on('pty', (acc, _rej, info) => {
            this.ptys.push({ term: info.term, rows: info.rows, cols: info.cols });
            acc?.();
          });
          session.on('window-change', (acc, _rej, info) => {
            this.windowChanges.push({ rows: info.rows, cols: info.cols });
            acc?.();
          });
          session.on('env', (acc) => acc?.());
          session.on('auth-agent', (_acc, rej) => rej?.());
          session.on('signal', (acc, _rej, info) => {
            acc?.();
            child?.kill(`SIG${info.name}` as NodeJS.Signals);
          });
          session.on('exec', (acc, _rej, info) => {
            const stream = acc();
            this.commands.push(info.command);
            if (info.command === '__drop_connection__') {
              client.end();
              return;
            }
            const c = spawn('/bin/sh', ['-c', info.command], { stdio: ['pipe', 'pipe', 'pipe'] });
            child = c;
            this.children.add(c);
            c.stdout!.on('data', (d: Buffer) => stream.write(d));
            c.stderr!.on('data', (d: Buffer) => stream.stderr.write(d));
            c.stdin!.on('error', () => {});
            stream.on('data', (d: Buffer) => c.stdin!.write(d));
            stream.on('end', () => c.stdin!.end());
            stream.on('error', () => {});
            stream.on('close', () => {
              uncount();
              if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
            });
            c.on('close', (code, signal) => {
              this.children.delete(c);
              try {
                if (code !== null) stream.exit(code);
                else if (signal) stream.exit(signal.replace(/^SIG/, ''), false, '');
                stream.end();
              } catch {
                // channel already gone
              }
            });
          });
        });
        if (options.allowForwarding) {
          client.on('tcpip', (accept, reject, info) => {
            const sock = netConnect(info.destPort, info.destIP);
            sock.once('error', () => reject());
            sock.once('connect', () => {
              this.forwards++;
              const stream = accept();
              stream.on('error', () => {});
              sock.on('error', () => stream.destroy());
              stream.pipe(sock).pipe(stream);
            });
          });
        }
      });
    });
  }

  static async start(options: TestServerOptions): Promise<TestSshServer> {
    const s = new TestSshServer(options, options.hostKey ? keyPairFromPrivate(options.hostKey) : newKeyPair());
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', () => resolve()));
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** A known_hosts line for this server. */
  knownHostsLine(): string {
    return `[127.0.0.1]:${this.port} ${this.hostKey.public}`;
  }

  /** Drops every client connection. */
  dropClients(): void {
    for (const c of this.#clients) c.end();
  }

  async close(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    for (const c of this.#clients) c.end();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function keyPairFromPrivate(priv: string): KeyPair {
  const p = utils.parseKey(priv);
  if (p instanceof Error) throw p;
  return { private: priv, public: `${p.type} ${p.getPublicSSH().toString('base64')}` };
}

export function tempDir(prefix = 'kamal-ssh-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeKnownHosts(dir: string, lines: string[], name = 'known_hosts'): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
