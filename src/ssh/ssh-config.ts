/**
 * OpenSSH client configuration files (`ssh.config`), read and applied as net-ssh does for Kamal.
 *
 * - `ssh.config` unset or `true`: ~/.ssh/config, /etc/ssh_config and /etc/ssh/ssh_config;
 *   `false`: none; a path or a list of paths: those files (missing files are skipped).
 * - Files are read in order; for each key the first value found wins, across files too.
 *   Lines before the first Host/Match block apply to every host, but a matching block's value
 *   beats them. IdentityFile (and CertificateFile) accumulate: the global ones first, then those
 *   of every matching block. ProxyJump and ProxyCommand compete for one slot: the first one seen
 *   wins (`ProxyCommand none` takes it and means no proxy).
 * - Host patterns: `*`, `?`, several patterns per line, `!pattern` vetoes the block; matched
 *   without regard to case. Match blocks understand `all` and `host` (with `!` on the patterns).
 *   Include loads files (wildcards allowed) relative to the including top-level file's folder.
 * - HostName may use %h (the host as written).
 *
 * The values are defaults: what the connection options set explicitly wins (net-ssh merges
 * `configuration_for(host)` under the options). Kamal always passes `user` and `port` (root and 22
 * unless `ssh.user`/`ssh.port` say otherwise), so a file's User and Port never change a Kamal
 * connection to a server; HostName, IdentityFile (when `ssh.keys` is unset), IdentitiesOnly (when
 * `ssh.keys_only` is unset), ProxyJump/ProxyCommand (when `ssh.proxy`/`ssh.proxy_command` are
 * unset) and ConnectTimeout do. Jump hosts are resolved through the same files, where their User
 * and Port apply as for `ssh -J`.
 *
 * Everything here is pure: file contents come through the injected ConfigFs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse, type Line } from 'ssh-config';
import { parseHostSpec, type SshTarget } from './host.js';

/** Kamal's `ssh.config`: `true` (the default files), `false` (none), a file or files. */
export type SshConfigSetting = boolean | string | readonly string[] | null | undefined;

/** net-ssh's default files, in the order it reads them. */
export const DEFAULT_SSH_CONFIG_FILES: readonly string[] = ['~/.ssh/config', '/etc/ssh_config', '/etc/ssh/ssh_config'];

/** The files `ssh.config` names (unexpanded). */
export function sshConfigFiles(setting: SshConfigSetting): string[] {
  if (setting === undefined || setting === null || setting === true) return [...DEFAULT_SSH_CONFIG_FILES];
  if (setting === false) return [];
  return typeof setting === 'string' ? [setting] : [...setting];
}

/** File access for reading config files; injected so resolution is testable. */
export interface ConfigFs {
  /** Home folder for `~`. */
  home: string;
  /** Folder relative paths are taken from. */
  cwd: string;
  /** The file's text, or undefined when it does not exist or cannot be read. */
  read(path: string): string | undefined;
  /** Regular files matching an absolute path whose last part may hold `*` and `?` (for Include). */
  glob(pattern: string): string[];
}

export type ConfigProxy = { type: 'jump'; jumps: string } | { type: 'command'; command: string } | { type: 'none' };

/** What the files say about one host, in net-ssh's terms. */
export interface HostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  /** IdentityFile values, `~` and relative paths expanded. */
  identityFiles?: string[];
  identitiesOnly?: boolean;
  proxy?: ConfigProxy;
  connectTimeoutSeconds?: number;
}

/** Expands `~` and makes a path absolute (Ruby's File.expand_path). */
export function expandPath(path: string, fs: Pick<ConfigFs, 'home' | 'cwd'>, base = fs.cwd): string {
  if (path === '~') return fs.home;
  if (path.startsWith('~/')) return resolve(fs.home, path.slice(2));
  return isAbsolute(path) ? resolve(path) : resolve(base, path);
}

type Value = string | number | boolean;
interface Settings {
  values: Map<string, Value>;
  lists: Map<string, string[]>;
  proxy?: [kind: 'proxyjump' | 'proxycommand', value: string];
}

const LIST_KEYS = new Set(['identityfile', 'certificatefile']);

function emptySettings(): Settings {
  return { values: new Map(), lists: new Map() };
}

function tokensText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    return (value as { val: string; separator: string; quoted?: boolean }[])
      .map((t, i) => `${i > 0 ? t.separator || ' ' : ''}${t.quoted ? `"${t.val}"` : t.val}`)
      .join('');
  }
  return String(value);
}

function tokens(value: unknown): string[] {
  if (Array.isArray(value)) return (value as { val: string }[]).map((t) => t.val);
  return String(value).split(/\s+/).filter(Boolean);
}

/** yes/no become booleans and digits numbers, as net-ssh reads values. */
function typed(text: string): Value {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s);
  if (/^no$/i.test(s)) return false;
  if (/^yes$/i.test(s)) return true;
  return text;
}

/** One ssh_config pattern (`*`, `?`), whole-string and case-insensitive. */
export function patternMatches(pattern: string, host: string): boolean {
  return new RegExp(`^${patternSource(pattern)}$`, 'i').test(host);
}

function patternSource(pattern: string): string {
  return pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
}

/** A Host line: any positive pattern matches and no negated one does. */
export function hostLineMatches(patterns: readonly string[], host: string): boolean {
  const negated = patterns.filter((p) => p.startsWith('!'));
  if (negated.some((p) => patternMatches(p.slice(1), host))) return false;
  return patterns.filter((p) => !p.startsWith('!')).some((p) => patternMatches(p, host));
}

/** A Match line: `all`, or `host` conditions (`host a,b`, `host !c`); other criteria are not evaluated. */
export function matchLineMatches(words: readonly string[], host: string): boolean {
  if (words.length === 1 && words[0]!.toLowerCase() === 'all') return true;
  const results: boolean[] = [];
  for (let i = 0; i < words.length; i += 2) {
    const kind = words[i]!.toLowerCase();
    let expr = words[i + 1] ?? '';
    if (kind === 'all') throw new Error('ssh config: Match all cannot be mixed with other conditions');
    if (kind !== 'host') continue;
    const negated = expr.startsWith('!');
    if (negated) expr = expr.slice(1);
    const met = expr.split(',').some((p) => patternMatches(p, host));
    results.push(negated !== met);
  }
  return results.length > 0 && results.every(Boolean);
}

function put(settings: Settings, key: string, value: Value, force: boolean): void {
  if (LIST_KEYS.has(key)) {
    const list = settings.lists.get(key) ?? [];
    list.push(String(value));
    settings.lists.set(key, list);
    return;
  }
  if (key === 'proxyjump' || key === 'proxycommand') {
    if (force || !settings.proxy) settings.proxy = [key, String(value)];
    return;
  }
  if (force || !settings.values.has(key)) settings.values.set(key, value);
}

function has(settings: Settings, key: string): boolean {
  if (key === 'proxyjump' || key === 'proxycommand') return settings.proxy !== undefined;
  return settings.values.has(key);
}

function loadFile(path: string, host: string, into: Settings, fs: ConfigFs, baseDir: string | undefined, depth: number): Settings {
  if (depth > 16) throw new Error(`ssh config: Include nested too deeply at ${path}`);
  const file = expandPath(path, fs);
  const text = fs.read(file);
  if (text === undefined) return into;
  const base = baseDir ?? dirname(file);
  const globals = emptySettings();
  const settings = into;

  const apply = (line: Line, target: 'globals' | 'block'): void => {
    if (line.type !== 1) return;
    const key = line.param.toLowerCase();
    const raw = tokensText(line.value);
    if (key === 'include') {
      for (const pattern of tokens(line.value)) {
        for (const included of fs.glob(expandPath(pattern, fs, base)).sort()) {
          loadFile(included, host, target === 'globals' ? globals : settings, fs, base, depth + 1);
        }
      }
      return;
    }
    const value = typed(raw);
    if (target === 'globals') {
      // a later global replaces an earlier one, but never what a previous file settled
      if (!has(settings, key)) put(globals, key, value, true);
    } else put(settings, key, value, false);
  };

  let lines: Line[];
  try {
    lines = parse(text);
  } catch (e) {
    throw new Error(`cannot read ssh config ${file}: ${(e as Error).message}`);
  }
  for (const line of lines) {
    if (line.type !== 1) continue;
    const param = line.param.toLowerCase();
    if ((param === 'host' || param === 'match') && 'config' in line) {
      const words = tokens(line.value);
      const matched = param === 'host' ? hostLineMatches(words, host) : matchLineMatches(words, host);
      if (matched) for (const inner of line.config) apply(inner, 'block');
    } else apply(line, 'globals');
  }

  // blocks beat globals; list values: globals first
  for (const [k, v] of globals.values) if (!settings.values.has(k)) settings.values.set(k, v);
  for (const [k, list] of globals.lists) settings.lists.set(k, [...list, ...(settings.lists.get(k) ?? [])]);
  if (globals.proxy && !settings.proxy) settings.proxy = globals.proxy;
  return settings;
}

/** What `files` (in order) configure for `host`, the host as written in the deploy config. */
export function hostConfig(host: string, files: readonly string[], fs: ConfigFs): HostConfig {
  const settings = emptySettings();
  for (const f of files) loadFile(f, host, settings, fs, undefined, 0);
  const out: HostConfig = {};
  const v = settings.values;
  const hostName = v.get('hostname');
  if (hostName !== undefined && hostName !== false) out.hostName = String(hostName).replace(/%h/g, host);
  const user = v.get('user');
  if (user !== undefined && typeof user !== 'boolean') out.user = String(user);
  const port = v.get('port');
  if (typeof port === 'number') out.port = port;
  const ids = settings.lists.get('identityfile');
  if (ids?.length) out.identityFiles = ids.map((p) => expandPath(p, fs));
  const only = v.get('identitiesonly');
  if (typeof only === 'boolean') out.identitiesOnly = only;
  const timeout = v.get('connecttimeout');
  if (typeof timeout === 'number' && timeout > 0) out.connectTimeoutSeconds = timeout;
  if (settings.proxy) {
    const [kind, value] = settings.proxy;
    if (kind === 'proxyjump') out.proxy = /^none$/i.test(value.trim()) ? { type: 'none' } : { type: 'jump', jumps: value.trim() };
    else out.proxy = /^none$/i.test(value.trim()) ? { type: 'none' } : { type: 'command', command: value };
  }
  return out;
}

/** What the connection options set explicitly (Kamal's `ssh:` section, the CLI, the action). */
export interface ExplicitSsh {
  user?: string;
  port?: number;
  keys?: readonly string[];
  keysOnly?: boolean;
  /** Jump hosts, `user@host:port,...` (Kamal's `ssh.proxy`). */
  proxy?: string;
  proxyCommand?: string;
  connectTimeoutMs?: number;
}

export interface JumpHop {
  spec: string;
  target: SshTarget;
  /** IdentityFile of the jump host's own block, tried before the connection's keys. */
  keys?: string[];
}

/** How to reach one host. */
export interface ResolvedHost {
  target: SshTarget;
  /** Key files; undefined when none are configured anywhere (default identities then). */
  keys?: string[];
  keysOnly?: boolean;
  jumps: JumpHop[];
  proxyCommand?: string;
  connectTimeoutMs?: number;
}

/** The user and port a host string carries itself (`user@host:port`), if any. */
function specParts(spec: string): { host: string; user?: string; port?: number } {
  const a = parseHostSpec(spec, { user: '', port: 1 });
  const b = parseHostSpec(spec, { user: '', port: 2 });
  return { host: a.host, user: a.user || undefined, port: a.port === b.port ? a.port : undefined };
}

/**
 * Resolves a host of the deploy config: the host string's own user/port first, then the
 * explicit options, then the config files, then root and 22.
 */
export function resolveHost(spec: string, explicit: ExplicitSsh, lookup: (host: string) => HostConfig, opts: { localUser: string }): ResolvedHost {
  const parts = specParts(spec);
  const cfg = lookup(parts.host);
  const target: SshTarget = {
    host: cfg.hostName ?? parts.host,
    user: parts.user ?? explicit.user ?? cfg.user ?? 'root',
    port: parts.port ?? explicit.port ?? cfg.port ?? 22,
  };
  const out: ResolvedHost = { target, jumps: [] };
  const keys = explicit.keys ?? cfg.identityFiles;
  if (keys !== undefined) out.keys = [...keys];
  const keysOnly = explicit.keysOnly ?? cfg.identitiesOnly;
  if (keysOnly !== undefined) out.keysOnly = keysOnly;
  const timeout = explicit.connectTimeoutMs ?? (cfg.connectTimeoutSeconds !== undefined ? cfg.connectTimeoutSeconds * 1000 : undefined);
  if (timeout !== undefined) out.connectTimeoutMs = timeout;

  if (explicit.proxy) out.jumps = jumpHops(explicit.proxy, lookup, 'root');
  else if (explicit.proxyCommand) out.proxyCommand = explicit.proxyCommand;
  else if (cfg.proxy?.type === 'jump') out.jumps = jumpHops(cfg.proxy.jumps, lookup, opts.localUser);
  else if (cfg.proxy?.type === 'command') out.proxyCommand = cfg.proxy.command;
  return out;
}

/**
 * Jump hosts in order (`a,b` reaches b through a, like `ssh -J`). Each is resolved through the
 * config files as `ssh` resolves it: its own user and port first, then the file's, then
 * `defaultUser` and 22.
 */
export function jumpHops(list: string, lookup: (host: string) => HostConfig, defaultUser: string): JumpHop[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((spec) => {
      let parts: ReturnType<typeof specParts>;
      try {
        parts = specParts(spec);
      } catch (e) {
        throw new Error(`invalid proxy "${list}": ${(e as Error).message}`);
      }
      const cfg = lookup(parts.host);
      const hop: JumpHop = {
        spec,
        target: { host: cfg.hostName ?? parts.host, user: parts.user ?? cfg.user ?? defaultUser, port: parts.port ?? cfg.port ?? 22 },
      };
      if (cfg.identityFiles?.length) hop.keys = [...cfg.identityFiles];
      return hop;
    });
}

/** A lookup that reads `files` through `fs` once per host. */
export function cachedLookup(files: readonly string[], fs: ConfigFs): (host: string) => HostConfig {
  const cache = new Map<string, HostConfig>();
  return (host) => {
    let c = cache.get(host);
    if (!c) {
      c = files.length ? hostConfig(host, files, fs) : {};
      cache.set(host, c);
    }
    return c;
  };
}

/** The machine's files, for the CLI and the action. */
export function localConfigFs(cwd: string, home = homedir()): ConfigFs {
  return {
    home,
    cwd,
    read(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    glob(pattern) {
      const name = basename(pattern);
      if (!/[*?]/.test(name)) return [pattern];
      const dir = dirname(pattern);
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        return [];
      }
      const re = new RegExp(`^${patternSource(name)}$`);
      return entries
        .filter((e) => re.test(e))
        .map((e) => join(dir, e))
        .filter((p) => {
          try {
            return statSync(p).isFile();
          } catch {
            return false;
          }
        });
    },
  };
}
