/**
 * Host key checking against OpenSSH known_hosts files.
 *
 * Understands plain and hashed (`|1|salt|hash`, HMAC-SHA1) host fields,
 * comma-separated patterns with `*`, `?` and `!` negation, `[host]:port`
 * names for non-standard ports, and the `@revoked` marker. `@cert-authority`
 * lines are skipped (ssh2 does not support host certificates).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { patternMatches } from './ssh-config.js';

export type HostKeyChecking = 'strict' | 'accept-new' | 'off';

export interface KnownHostsOptions {
  /** Default `strict`. */
  mode?: HostKeyChecking;
  /**
   * Files to read, in order. The first one is the user file that
   * `accept-new` appends to. Default: `~/.ssh/known_hosts`, `/etc/ssh/ssh_known_hosts`.
   */
  files?: string[];
  /** Write new entries hashed (`|1|...`), like `HashKnownHosts yes`. Default false. */
  hashNewEntries?: boolean;
}

export interface KnownHostEntry {
  file: string;
  /** 1-based line number. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field exactly as written (patterns or a hashed name). */
  hosts: string;
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { ok: true; status: 'known' | 'added' | 'unchecked'; entry?: KnownHostEntry }
  | { ok: false; status: 'unknown' | 'changed' | 'revoked'; message: string; entry?: KnownHostEntry };

export function defaultKnownHostsFiles(): string[] {
  return [resolve(homedir(), '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
}

/** The name a host is recorded under: `host` for port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port = 22): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** `SHA256:...` as printed by OpenSSH. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, ...). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  if (len <= 0 || len > 64 || 4 + len > key.length) return 'unknown';
  return key.subarray(4, 4 + len).toString('latin1');
}

/** A hashed host field for `name`, as `ssh-keygen -H` writes it. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const mac = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
}

export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '').trim();
    if (!raw || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    if (fields.length < 3) continue;
    const [hosts, keyType, blob] = fields as [string, string, string];
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) continue;
    const key = Buffer.from(blob, 'base64');
    if (key.length === 0) continue;
    out.push({ file, line: i + 1, marker, hosts, keyType, key });
  }
  return out;
}

/** Does the host field of a known_hosts line match `name` (already in `[host]:port` form when needed)? */
export function hostFieldMatches(field: string, name: string): boolean {
  const lname = name.toLowerCase();
  if (field.startsWith('|1|')) {
    const parts = field.split('|');
    if (parts.length !== 4) return false;
    const salt = Buffer.from(parts[2]!, 'base64');
    const want = Buffer.from(parts[3]!, 'base64');
    const got = createHmac('sha1', salt).update(lname).digest();
    return want.length === got.length && want.equals(got);
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (!pattern) continue;
    const negated = pattern.startsWith('!');
    const p = (negated ? pattern.slice(1) : pattern).toLowerCase();
    if (patternMatches(p, lname)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function displayPath(file: string): string {
  const home = homedir();
  return home && file.startsWith(home + '/') ? `~${file.slice(home.length)}` : file;
}

function shellArg(s: string): string {
  return /^[A-Za-z0-9_\-.,:/@%+=~]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export class KnownHosts {
  readonly mode: HostKeyChecking;
  readonly files: string[];
  readonly hashNewEntries: boolean;

  constructor(opts: KnownHostsOptions = {}) {
    this.mode = opts.mode ?? 'strict';
    this.files = (opts.files && opts.files.length > 0 ? opts.files : defaultKnownHostsFiles()).map((f) =>
      f.startsWith('~/') ? resolve(homedir(), f.slice(2)) : resolve(f),
    );
    this.hashNewEntries = opts.hashNewEntries ?? false;
  }

  /** Every line of every readable file (re-read on each call, so appended keys are seen). */
  entries(): KnownHostEntry[] {
    const out: KnownHostEntry[] = [];
    for (const f of this.files) {
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch {
        continue;
      }
      out.push(...parseKnownHosts(text, f));
    }
    return out;
  }

  /** Entries (not revoked, not CA) recorded for host:port. */
  lookup(host: string, port = 22): KnownHostEntry[] {
    const name = knownHostName(host, port);
    return this.entries().filter((e) => !e.marker && hostFieldMatches(e.hosts, name));
  }

  /** Key types already known for host:port, to offer them first in key exchange. */
  knownKeyTypes(host: string, port = 22): string[] {
    return [...new Set(this.lookup(host, port).map((e) => keyTypeOf(e.key)))];
  }

  /**
   * Checks the key a server presented. Does not write anything: on a new host
   * in `accept-new` mode it returns status `added` and the caller records the
   * key with `add()` once the key exchange has completed.
   */
  check(host: string, port: number, key: Buffer): HostKeyVerdict {
    if (this.mode === 'off') return { ok: true, status: 'unchecked' };
    const name = knownHostName(host, port);
    const type = keyTypeOf(key);
    const fp = fingerprint(key);
    const all = this.entries();

    const revoked = all.find((e) => e.marker === 'revoked' && e.key.equals(key) && (e.hosts === '*' || hostFieldMatches(e.hosts, name)));
    if (revoked) {
      return {
        ok: false,
        status: 'revoked',
        entry: revoked,
        message: `host key for ${name} is REVOKED (${type} ${fp}, marked @revoked in ${displayPath(revoked.file)} line ${revoked.line}); refusing to connect`,
      };
    }

    const forHost = all.filter((e) => !e.marker && hostFieldMatches(e.hosts, name));
    const exact = forHost.find((e) => e.key.equals(key));
    if (exact) return { ok: true, status: 'known', entry: exact };

    if (forHost.length > 0) {
      const sameType = forHost.find((e) => keyTypeOf(e.key) === type) ?? forHost[0]!;
      const where = `${displayPath(sameType.file)} line ${sameType.line}`;
      // ssh-keygen -R edits ~/.ssh/known_hosts unless told which file
      const fixFile = sameType.file === resolve(homedir(), '.ssh', 'known_hosts') ? '' : ` -f ${shellArg(displayPath(sameType.file))}`;
      const detail =
        keyTypeOf(sameType.key) === type
          ? `the server presented ${type} key ${fp}, but ${where} records a different ${type} key (${fingerprint(sameType.key)})`
          : `the server presented a ${type} key (${fp}), but ${where} records only a ${keyTypeOf(sameType.key)} key for it`;
      return {
        ok: false,
        status: 'changed',
        entry: sameType,
        message:
          `HOST KEY CHANGED for ${name}: ${detail}. Someone could be intercepting the connection, or the host was rebuilt. ` +
          `If you are sure the new key is right, remove the old one with \`ssh-keygen -R ${shellArg(name)}${fixFile}\` and connect again`,
      };
    }

    if (this.mode === 'accept-new') return { ok: true, status: 'added' };

    const userFile = displayPath(this.files[0]!);
    const scanType = type.startsWith('ssh-') ? type.slice(4) : type.startsWith('ecdsa') ? 'ecdsa' : type;
    return {
      ok: false,
      status: 'unknown',
      message:
        `unknown host ${name}: its ${type} key ${fp} is not in ${this.files.map(displayPath).join(' or ')}. ` +
        `Check the fingerprint, then add it with \`ssh-keyscan ${port === 22 ? '' : `-p ${port} `}-t ${scanType} ${shellArg(host)} >> ${userFile}\`, ` +
        `or use host key checking "accept-new" to trust hosts on first connection`,
    };
  }

  /** Appends host:port with `key` to the first (user) file, creating it (and its directory) if needed. */
  add(host: string, port: number, key: Buffer): void {
    const file = this.files[0]!;
    const name = knownHostName(host, port);
    const hostField = this.hashNewEntries ? hashHostName(name) : name;
    const line = `${hostField} ${keyTypeOf(key)} ${key.toString('base64')}\n`;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    let prefix = '';
    if (existsSync(file)) {
      const current = readFileSync(file);
      if (current.length > 0 && current[current.length - 1] !== 0x0a) prefix = '\n';
    }
    appendFileSync(file, prefix + line, { mode: 0o600 });
  }
}
