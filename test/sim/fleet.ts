/**
 * A fleet of simulated hosts: one SSH server (ssh2's server side) per loopback address
 * 127.0.x.y, port 22, each answering with its own SimHost. One host key serves every address
 * (written to a known_hosts file), and one client key is accepted (written as id_ed25519).
 *
 * Commands arrive as exec requests; an exec of `scp -t PATH` is an SCP upload sink (how Kamal,
 * through net-scp, uploads files); everything else runs through the host's shell, with the
 * channel's data as stdin (how our uploads and `docker login --password-stdin` send data).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2, { type Connection, type ServerChannel } from 'ssh2';
import { scpTarget, SimHost, type Latency, type LatencyKind, type Registry, type ScpFile } from './host.js';
import { Input } from './shell.js';

const { Server, utils } = ssh2;

/** Latencies measured on the lab (ms): docker run 600-900, other docker calls 60-200. */
export const LAB_LATENCY: Record<LatencyKind, [number, number]> = {
  'docker-run': [600, 900],
  docker: [60, 200],
  // kamal-proxy deploy returns once the new target passed a health check (interval 1 s)
  'proxy-deploy': [300, 900],
  // sshd starting the session's shell
  shell: [3, 10],
};

export interface FleetOptions {
  hosts: number;
  /** Third octet of the first address (127.0.BASE.1); addresses go on in the next octet after 250 hosts. Default 100. */
  base?: number;
  /** Folder for keys and known_hosts. */
  dir: string;
  registry: Registry;
  /** Multiplies LAB_LATENCY; 0 disables every wait. Default 1. */
  latencyScale?: number;
  /** Seed of the latency draws (the same seed gives the same latencies per host). Default 1. */
  seed?: number;
  /** Sessions open at once per connection before sshd refuses more (OpenSSH's MaxSessions). Default 10. */
  maxSessions?: number;
}

export function addressOf(i: number, base = 100): string {
  return `127.0.${base + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function labLatency(scale: number, seed: number): Latency {
  if (scale <= 0) return () => 0;
  const r = rng(seed);
  return (kind) => {
    const [lo, hi] = LAB_LATENCY[kind];
    return (lo + r() * (hi - lo)) * scale;
  };
}

export interface FleetStats {
  host: string;
  connections: number;
  commands: number;
}

/** One SSH connection: when its TCP connection arrived, when it was logged in, when it closed (ms since the fleet started). */
export interface ConnectionRecord {
  host: string;
  accepted: number;
  ready?: number;
  closed?: number;
  /** The error that ended the connection on the server's side, if one did. */
  error?: string;
}

export class Fleet {
  readonly hosts: SimHost[] = [];
  readonly connections: ConnectionRecord[] = [];
  readonly addresses: string[] = [];
  readonly keyFile: string;
  readonly knownHostsFile: string;
  readonly #servers: InstanceType<typeof Server>[] = [];
  readonly #connections = new Map<string, number>();
  readonly #clients = new Set<Connection>();
  readonly epoch = performance.now();

  private constructor(readonly options: FleetOptions) {
    this.keyFile = join(options.dir, 'id_ed25519');
    this.knownHostsFile = join(options.dir, 'known_hosts');
  }

  /**
   * Starts the fleet on 127.0.BASE.1 onwards; when an address is taken (another fleet runs), moves on
   * to the next free block of third octets (see `base` of the fleet returned).
   */
  static async start(options: FleetOptions): Promise<Fleet> {
    const octets = Math.ceil(options.hosts / 250);
    for (let base = options.base ?? 100; base + octets - 1 <= 254; base += octets) {
      const fleet = new Fleet({ ...options, base });
      try {
        await fleet.#start();
        return fleet;
      } catch (e) {
        await fleet.stop();
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      }
    }
    throw new Error(`no free block of ${octets} third octet(s) in 127.0.x.y for ${options.hosts} simulated hosts`);
  }

  /** The third octet of the first address. */
  get base(): number {
    return this.options.base ?? 100;
  }

  host(address: string): SimHost {
    const h = this.hosts.find((x) => x.name === address);
    if (!h) throw new Error(`no simulated host ${address}`);
    return h;
  }

  stats(): FleetStats[] {
    return this.hosts.map((h) => ({ host: h.name, connections: this.#connections.get(h.name) ?? 0, commands: h.records.length }));
  }

  /** The most connections that were between TCP accept and login at the same moment. */
  peakConcurrentStarts(): number {
    const events = this.connections.flatMap((c) => [
      [c.accepted, 1],
      [c.ready ?? c.closed ?? Number.POSITIVE_INFINITY, -1],
    ]) as [number, number][];
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let cur = 0;
    let peak = 0;
    for (const [, d] of events) peak = Math.max(peak, (cur += d));
    return peak;
  }

  /** Every command the fleet could not model, on every host. */
  unmodelled(): { host: string; command: string; reason: string }[] {
    return this.hosts.flatMap((h) => h.unmodelled);
  }

  async #start(): Promise<void> {
    const { dir, hosts, base = 100, latencyScale = 1, seed = 1, maxSessions = 10 } = this.options;
    mkdirSync(dir, { recursive: true });
    const hostKey = utils.generateKeyPairSync('ed25519');
    const clientKey = utils.generateKeyPairSync('ed25519', { comment: 'sim-client' });
    writeFileSync(this.keyFile, clientKey.private, { mode: 0o600 });
    writeFileSync(`${this.keyFile}.pub`, `${clientKey.public}\n`);
    const allowed = utils.parseKey(clientKey.public);
    if (allowed instanceof Error) throw allowed;
    const allowedPub = allowed.getPublicSSH();
    const hostPub = hostKey.public.split(' ').slice(0, 2).join(' ');
    for (let i = 0; i < hosts; i++) this.addresses.push(addressOf(i, base));
    writeFileSync(this.knownHostsFile, this.addresses.map((a) => `${a} ${hostPub}\n`).join(''));

    const started = await Promise.allSettled(
      this.addresses.map(async (address, i) => {
        const host = new SimHost(address, this.options.registry, labLatency(latencyScale, seed * 100_003 + i), this.epoch);
        this.hosts.push(host);
        const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
          this.#clients.add(client);
          const rec: ConnectionRecord = { host: address, accepted: performance.now() - this.epoch };
          this.connections.push(rec);
          client.on('close', () => {
            rec.closed = performance.now() - this.epoch;
            this.#clients.delete(client);
          });
          client.on('error', (e) => {
            rec.error = e.message;
          });
          const connection = (this.#connections.get(address) ?? 0) + 1;
          this.#connections.set(address, connection);
          client.on('authentication', (ctx) => {
            if (ctx.method === 'publickey' && ctx.key.algo === allowed.type && ctx.key.data.equals(allowedPub)) {
              if (!ctx.signature || allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)) return ctx.accept();
            }
            ctx.reject(['publickey']);
          });
          let open = 0;
          client.on('ready', () => {
            rec.ready = performance.now() - this.epoch;
            client.on('session', (accept, reject) => {
              if (open >= maxSessions) return reject();
              open++;
              const session = accept();
              let closed = false;
              const done = (): void => {
                if (!closed) open--;
                closed = true;
              };
              session.on('close', done);
              session.on('env', (acc) => acc?.());
              session.on('pty', (_acc, rej) => rej?.());
              session.on('exec', (acc, _rej, info) => {
                const stream = acc();
                stream.on('close', done);
                void this.#exec(host, connection, info.command, stream);
              });
            });
          });
        });
        this.#servers.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(22, address, () => resolve());
        });
      }),
    );
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.hosts.sort((a, b) => this.addresses.indexOf(a.name) - this.addresses.indexOf(b.name));
  }

  async #exec(host: SimHost, connection: number, command: string, stream: ServerChannel): Promise<void> {
    if (/^scp /.test(command)) return this.#scp(host, connection, command, stream);
    const chunks: Buffer[] = [];
    let ended = false;
    let onEnd: (() => void) | undefined;
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      ended = true;
      onEnd?.();
    });
    const stdin = new Input(
      () =>
        new Promise<string>((resolve) => {
          const finish = (): void => resolve(Buffer.concat(chunks).toString('utf8'));
          if (ended) finish();
          else onEnd = finish;
        }),
    );
    const wait = host.latency('shell');
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const r = await host.exec(command, stdin, connection);
    if (stream.destroyed) return;
    if (r.stdout) stream.write(r.stdout);
    if (r.stderr) stream.stderr.write(r.stderr);
    stream.exit(r.exitCode);
    stream.end();
  }

  /** The receiving end of `scp -t`: acknowledges, reads `C<mode> <size> <name>` records and their data, writes the files. */
  async #scp(host: SimHost, connection: number, command: string, stream: ServerChannel): Promise<void> {
    const start = performance.now() - this.epoch;
    const target = scpTarget(command);
    let buf = Buffer.alloc(0);
    let pending: { mode: number; size: number; name: string } | undefined;
    const files: ScpFile[] = [];
    let finished = false;
    const finish = (code: number, stderr: string): void => {
      if (finished) return;
      finished = true;
      host.records.push({ host: host.name, connection, start, end: performance.now() - this.epoch, command, exitCode: code, stderr, scp: files });
      if (stream.destroyed) return;
      if (stderr) stream.stderr.write(`${stderr}\n`);
      stream.exit(code);
      stream.end();
    };
    if (target === undefined) {
      host.unmodelled.push({ host: host.name, command, reason: 'scp other than a sink (-t) to one literal path' });
      return finish(1, `sim: unmodelled command: ${command}`);
    }
    const wait = host.latency('shell');
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    stream.write(Buffer.from([0]));
    stream.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (!pending) {
          const nl = buf.indexOf(10);
          if (nl < 0) return;
          const line = buf.subarray(0, nl).toString('utf8');
          buf = buf.subarray(nl + 1);
          const m = /^C([0-7]{4}) (\d+) (.+)$/.exec(line);
          if (m) {
            pending = { mode: parseInt(m[1]!, 8), size: Number(m[2]), name: m[3]! };
            stream.write(Buffer.from([0]));
            continue;
          }
          if (/^T\d+ \d+ \d+ \d+$/.test(line)) {
            stream.write(Buffer.from([0]));
            continue;
          }
          host.unmodelled.push({ host: host.name, command, reason: `scp record ${line}` });
          stream.write(`\x01sim: unmodelled scp record ${line}\n`);
          return finish(1, `sim: unmodelled scp record ${line}`);
        }
        if (buf.length < pending.size + 1) return;
        const file = { name: pending.name, mode: pending.mode, content: buf.subarray(0, pending.size).toString('utf8') };
        files.push(file);
        buf = buf.subarray(pending.size + 1);
        pending = undefined;
        const errors = host.scpReceive(target, [file]);
        if (errors.length) {
          stream.write(`\x01${errors.join(' ')}\n`);
          return finish(1, errors.join('\n'));
        }
        stream.write(Buffer.from([0]));
      }
    });
    stream.on('end', () => finish(0, ''));
  }

  async stop(): Promise<void> {
    for (const c of this.#clients) c.end();
    // close calls back (with an error) also for a server that never listened
    await Promise.all(this.#servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
