/**
 * What a deploy would change, computed from facts read on the hosts and the configuration.
 * Pure: the facts come from diff-gather.ts (read-only commands over SSH), the desired state from
 * the command builders (`App#run`, `Accessory#run`, the role's kamal-proxy deploy options).
 * Secret values never enter the report: env file keys are compared by value but reported by name.
 */
import { createHash } from 'node:crypto';
import type { Configuration, Role } from '../model/index.js';
import { App } from '../commands/app.js';
import { Accessory } from '../commands/accessory.js';
import { toWords } from '../commands/words.js';
import { Secret, REDACTED, type SecretRegistry } from '../secret.js';
import type { Word } from '../shell.js';

// ---------------------------------------------------------------- facts (what the hosts have)

/** The parts of `docker inspect` a diff reads. */
export interface ContainerInspect {
  Name?: string;
  Image?: string;
  State?: { Status?: string; Running?: boolean };
  Config?: {
    Image?: string;
    Labels?: Record<string, string> | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    User?: string;
    Hostname?: string;
    WorkingDir?: string;
    StopSignal?: string;
  };
  HostConfig?: Record<string, unknown> & {
    Binds?: string[] | null;
    RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
    LogConfig?: { Type?: string; Config?: Record<string, string> | null };
    NetworkMode?: string;
    PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
  };
}

/** The parts of `docker image inspect` a diff reads (what the image itself sets). */
export interface ImageConfig {
  Env?: string[] | null;
  Labels?: Record<string, string> | null;
  Cmd?: string[] | null;
}

/** One container of the service on a host (`docker ps -a`). */
export interface ServiceContainer {
  name: string;
  role: string;
  state: string;
}

/** The running container of a role (or an accessory) with its image and env file. */
export interface RunningContainer {
  version?: string;
  /** `docker inspect` without the env (which holds secrets). */
  inspect: ContainerInspect;
  /** key → SHA-256 of each `KEY=value` line of the container's env. */
  env: Record<string, string>;
  image?: ImageConfig;
  /** key → SHA-256 of each line of the env file on the host; null when it could not be read. */
  envFile: Record<string, string> | null;
}

/** A kamal-proxy service as its state file keeps it. */
export interface ProxyServiceState {
  name: string;
  options?: Record<string, unknown>;
  target_options?: Record<string, unknown>;
}

export interface HostFacts {
  host: string;
  /** Set when the host could not be read; nothing else is then known. */
  error?: string;
  /** The SSH user's working directory (`$PWD` of relative volume paths). */
  home?: string;
  /** Every container of the service (all roles, running or not). */
  containers: ServiceContainer[];
  /** The running container of each role found on the host. */
  roles: Record<string, RunningContainer | undefined>;
  /** kamal-proxy's services; undefined when the proxy or its state could not be read. */
  proxy?: ProxyServiceState[];
  /** Accessory containers by accessory name; null when there is none. */
  accessories: Record<string, RunningContainer | null>;
}

// ---------------------------------------------------------------- the report

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface KeyChange {
  key: string;
  change: ChangeKind;
  /** Values are left out for secrets. */
  from?: string;
  to?: string;
  secret?: boolean;
}

export interface VolumeChange {
  volume: string;
  change: 'added' | 'removed';
}

export interface ContainerDiff {
  image: { running?: string; desired: string };
  env: KeyChange[];
  labels: KeyChange[];
  options: KeyChange[];
  volumes: VolumeChange[];
}

export type RoleHostStatus = 'new' | 'changed' | 'unchanged' | 'unreachable';

export interface RoleHostDiff extends ContainerDiff {
  role: string;
  host: string;
  status: RoleHostStatus;
  runningVersion?: string;
  version: string;
  proxy: KeyChange[];
  error?: string;
}

export interface AccessoryDiff extends ContainerDiff {
  accessory: string;
  host: string;
  status: RoleHostStatus;
  error?: string;
}

export interface DiffReport {
  service: string;
  destination?: string;
  version: string;
  image: string;
  changed: boolean;
  roles: RoleHostDiff[];
  /** Configured app hosts where no container of the service exists yet. */
  hostsAdded: string[];
  /** Role containers running on a host the role is no longer configured on. */
  leftOut: { host: string; role: string; version?: string }[];
  accessories: AccessoryDiff[];
}

// ---------------------------------------------------------------- docker run words

/** A `docker run` command line as the builders produce it, split into its parts. */
export interface RunSpec {
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  volumes: string[];
  /** Other options as flag → values (`true` for a bare flag). */
  options: Map<string, (string | true)[]>;
  cmd: string[];
}

/** The literal text of a builder word; `$PWD/` stays a marker, a secret stays redacted. */
export function wordText(w: Word): string {
  if (typeof w === 'string') return w;
  if (w instanceof Secret) return REDACTED;
  switch (w.t) {
    case 'raw':
      return w.text;
    case 'dq':
      return w.value instanceof Secret ? REDACTED : w.value;
    case 'cat':
      return w.parts.map(wordText).join('');
    default:
      return '';
  }
}

/** Flags compared elsewhere (the env file by its lines) or that name the container. */
const SKIPPED_FLAGS = new Set(['--name', '--detach', '--env-file']);

/** Splits the words of `docker run ... IMAGE CMD...` (the image and command words given by the caller). */
export function parseRunWords(words: readonly Word[], image: string, cmdLength: number): RunSpec {
  const texts = words.map(wordText);
  const start = texts[0] === 'docker' && texts[1] === 'run' ? 2 : 0;
  const imageAt = texts.length - 1 - cmdLength;
  if (texts[imageAt] !== image) throw new Error(`docker run words do not end with the image ${image} and ${cmdLength} command words`);
  const spec: RunSpec = { image, env: {}, labels: {}, volumes: [], options: new Map(), cmd: texts.slice(imageAt + 1) };
  for (let i = start; i < imageAt; i++) {
    const word = texts[i]!;
    let flag = word;
    let value: string | true = true;
    const eq = word.indexOf('=');
    if (word.startsWith('--') && eq > 0) {
      flag = word.slice(0, eq);
      value = word.slice(eq + 1);
    } else if (i + 1 < imageAt && !texts[i + 1]!.startsWith('-')) {
      value = texts[++i]!;
    }
    if (SKIPPED_FLAGS.has(flag)) continue;
    if (flag === '--env' || flag === '-e') {
      const [k, v] = splitPair(String(value));
      spec.env[k] = v ?? '';
    } else if (flag === '--label' || flag === '-l') {
      const [k, v] = splitPair(String(value));
      spec.labels[k] = v ?? '';
    } else if (flag === '--volume' || flag === '-v') spec.volumes.push(String(value));
    else {
      const list = spec.options.get(flag) ?? [];
      list.push(value);
      spec.options.set(flag, list);
    }
  }
  return spec;
}

function splitPair(s: string): [string, string | undefined] {
  const i = s.indexOf('=');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

// ---------------------------------------------------------------- env files

/** Reads an env file written by Kamal (`KEY=value` lines, Ruby-dump escapes) into key → line. */
export function envFileLines(content: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of content.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0 || line.startsWith('#')) continue;
    out.set(line.slice(0, i), line);
  }
  return out;
}

/** The SHA-256 of one env line (`KEY=value`) as the hosts print it: values never leave a host. */
export function envLineHash(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex');
}

/** key → hash of each `KEY=value` line of a text (an env file, or a container's env one per line). */
export function envHashes(lines: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = envLineHash(line);
  }
  return out;
}

/** Variables that change with every version or container; the version is reported on its own. */
const VOLATILE_ENV = new Set(['KAMAL_CONTAINER_NAME', 'KAMAL_VERSION']);

/**
 * The env a deploy would change. The host side is known only as hashes of `KEY=value` lines (the
 * env file and the container's env), so no value read on a host is ever shown. Secret keys (the
 * env file) are reported by name only; clear keys (`--env`) show the value the deploy would set.
 */
export function diffEnv(opts: {
  desiredClear: Record<string, string>;
  /** The env file content the deploy would write. */
  desiredFile: string;
  /** Hashes of the running container's env lines. */
  runningEnv: Record<string, string>;
  /** Hashes of the host's env file lines; null when it could not be read. */
  runningFile: Record<string, string> | null;
  /** The image's own env (`docker image inspect`). */
  imageEnv?: readonly string[] | null;
}): KeyChange[] {
  const changes: KeyChange[] = [];
  const wantFile = envFileLines(opts.desiredFile);
  const hadFile = opts.runningFile ?? undefined;
  const running = opts.runningEnv;
  const image = envHashes(opts.imageEnv ?? []);

  if (hadFile) {
    for (const [k, line] of wantFile) {
      if (!(k in hadFile)) changes.push({ key: k, change: 'added', secret: true });
      else if (hadFile[k] !== envLineHash(line)) changes.push({ key: k, change: 'changed', secret: true });
    }
    for (const k of Object.keys(hadFile)) if (!wantFile.has(k)) changes.push({ key: k, change: 'removed', secret: true });
  } else {
    // no env file to compare with: the container's env has the values docker read from it
    for (const [k, line] of wantFile) {
      if (!(k in running)) changes.push({ key: k, change: 'added', secret: true });
      else if (running[k] !== envLineHash(`${k}=${unescapeEnvFileValue(line.slice(k.length + 1))}`)) changes.push({ key: k, change: 'changed', secret: true });
    }
  }

  const secretKeys = new Set([...wantFile.keys(), ...Object.keys(hadFile ?? {})]);
  for (const [k, v] of Object.entries(opts.desiredClear)) {
    if (VOLATILE_ENV.has(k) || secretKeys.has(k)) continue;
    if (!(k in running)) changes.push({ key: k, change: 'added', to: v });
    else if (running[k] !== envLineHash(`${k}=${v}`)) changes.push({ key: k, change: 'changed', to: v });
  }
  if (hadFile) {
    for (const [k, h] of Object.entries(running)) {
      if (k in opts.desiredClear || VOLATILE_ENV.has(k) || secretKeys.has(k) || image[k] === h) continue;
      changes.push({ key: k, change: 'removed' });
    }
  }
  return sortChanges(changes);
}

/** The value docker reads from an env file line written by Kamal (its escapes undone). */
export function unescapeEnvFileValue(v: string): string {
  return v.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[nrtfvabe0\\"#])/g, (_m, e: string) => {
    if (e.startsWith('u{')) return String.fromCodePoint(parseInt(e.slice(2, -1), 16));
    if (e.startsWith('u')) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (e.startsWith('x')) return String.fromCharCode(parseInt(e.slice(1), 16));
    const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v', a: '\x07', b: '\b', e: '\x1b', '0': '\0' };
    return map[e] ?? e;
  });
}

// ---------------------------------------------------------------- labels, volumes, options

export function diffLabels(
  desired: Record<string, string>,
  running: Record<string, string> | null | undefined,
  image?: Record<string, string> | null,
): KeyChange[] {
  const changes: KeyChange[] = [];
  const have = running ?? {};
  const own = image ?? {};
  for (const [k, v] of Object.entries(desired)) {
    if (!(k in have)) changes.push({ key: k, change: 'added', to: v });
    else if (have[k] !== v) changes.push({ key: k, change: 'changed', from: have[k], to: v });
  }
  for (const [k, v] of Object.entries(have)) {
    if (k in desired || own[k] === v) continue;
    changes.push({ key: k, change: 'removed', from: v });
  }
  return sortChanges(changes);
}

/** `--volume` values (with `$PWD/` for the home directory) against the container's binds. */
export function diffVolumes(desired: readonly string[], binds: readonly string[] | null | undefined, home: string | undefined): VolumeChange[] {
  const expand = (v: string) => (home && v.startsWith('$PWD/') ? `${home.replace(/\/$/, '')}/${v.slice(5)}` : v);
  const want = desired.map(expand);
  const have = [...(binds ?? [])];
  return [
    ...want.filter((v) => !have.includes(v)).map((volume) => ({ volume, change: 'added' as const })),
    ...have.filter((v) => !want.includes(v)).map((volume) => ({ volume, change: 'removed' as const })),
  ];
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

function bytes(v: string): string {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(v.trim());
  return m ? String(Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!)) : v;
}

function sortedList(values: readonly (string | true)[]): string {
  return values.map(String).sort().join(',');
}

function portBinding(v: string): string {
  // [ip:]hostPort:containerPort[/proto] or containerPort[/proto]
  const [spec, proto = 'tcp'] = v.split('/') as [string, string?];
  const parts = spec.startsWith('[') ? [spec.slice(0, spec.indexOf(']') + 1), ...spec.slice(spec.indexOf(']') + 2).split(':')] : spec.split(':');
  const container = parts.pop()!;
  const hostPort = parts.pop() ?? '';
  const ip = parts.pop() ?? '';
  return `${ip.replace(/^\[|\]$/g, '')}:${hostPort}:${container}/${proto}`;
}

type Inspect = ContainerInspect;
type OptionRule = {
  flags: string[];
  /** The desired value from the flag's values. */
  want: (values: (string | true)[]) => string;
  /** The running value; undefined when the container has the default. */
  have: (c: Inspect) => string | undefined;
  /** The running value is what docker sets when the option is not given. */
  implied?: (c: Inspect) => boolean;
};

const hc = (c: Inspect, key: string): unknown => c.HostConfig?.[key];
const nonEmptyList = (v: unknown): string | undefined => (Array.isArray(v) && v.length > 0 ? v.map(String).sort().join(',') : undefined);
const nonZero = (v: unknown): string | undefined => (typeof v === 'number' && v !== 0 ? String(v) : undefined);
const last = (values: (string | true)[]): string => String(values[values.length - 1]);

/** Options of `docker run` that a container's inspect data shows, and how to read each. */
const OPTION_RULES: OptionRule[] = [
  { flags: ['--memory', '-m'], want: (v) => bytes(last(v)), have: (c) => nonZero(hc(c, 'Memory')) },
  { flags: ['--memory-reservation'], want: (v) => bytes(last(v)), have: (c) => nonZero(hc(c, 'MemoryReservation')) },
  {
    flags: ['--memory-swap'],
    want: (v) => (last(v) === '-1' ? '-1' : bytes(last(v))),
    have: (c) => nonZero(hc(c, 'MemorySwap')),
    // with --memory alone, docker sets the swap limit to twice the memory
    implied: (c) => hc(c, 'MemorySwap') === 2 * Number(hc(c, 'Memory')),
  },
  { flags: ['--shm-size'], want: (v) => bytes(last(v)), have: (c) => (hc(c, 'ShmSize') === 67108864 ? undefined : nonZero(hc(c, 'ShmSize'))) },
  { flags: ['--cpus'], want: (v) => String(Math.round(Number(last(v)) * 1e9)), have: (c) => nonZero(hc(c, 'NanoCpus')) },
  { flags: ['--cpu-shares', '-c'], want: last, have: (c) => nonZero(hc(c, 'CpuShares')) },
  { flags: ['--pids-limit'], want: last, have: (c) => nonZero(hc(c, 'PidsLimit')) },
  { flags: ['--cap-add'], want: sortedList, have: (c) => nonEmptyList(hc(c, 'CapAdd')) },
  { flags: ['--cap-drop'], want: sortedList, have: (c) => nonEmptyList(hc(c, 'CapDrop')) },
  {
    flags: ['--add-host'],
    want: (v) =>
      v
        .map((x) => String(x).replace(/=/, ':'))
        .sort()
        .join(','),
    have: (c) => nonEmptyList(hc(c, 'ExtraHosts')),
  },
  { flags: ['--dns'], want: sortedList, have: (c) => nonEmptyList(hc(c, 'Dns')) },
  { flags: ['--group-add'], want: sortedList, have: (c) => nonEmptyList(hc(c, 'GroupAdd')) },
  { flags: ['--security-opt'], want: sortedList, have: (c) => nonEmptyList(hc(c, 'SecurityOpt')) },
  {
    flags: ['--device'],
    want: (v) =>
      v
        .map((d) => {
          const [h, ct = h, p = 'rwm'] = String(d).split(':');
          return `${h}:${ct}:${p}`;
        })
        .sort()
        .join(','),
    have: (c) => {
      const d = hc(c, 'Devices') as { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[] | null | undefined;
      return d && d.length > 0
        ? d
            .map((x) => `${x.PathOnHost}:${x.PathInContainer}:${x.CgroupPermissions}`)
            .sort()
            .join(',')
        : undefined;
    },
  },
  {
    flags: ['--ulimit'],
    want: (v) =>
      v
        .map((u) => {
          const [n, lim] = String(u).split('=');
          const [s, h = s] = String(lim).split(':');
          return `${n}=${s}:${h}`;
        })
        .sort()
        .join(','),
    have: (c) => {
      const u = hc(c, 'Ulimits') as { Name: string; Soft: number; Hard: number }[] | null | undefined;
      return u && u.length > 0
        ? u
            .map((x) => `${x.Name}=${x.Soft}:${x.Hard}`)
            .sort()
            .join(',')
        : undefined;
    },
  },
  {
    flags: ['--tmpfs'],
    want: (v) =>
      v
        .map((t) => String(t).split(':')[0])
        .sort()
        .join(','),
    have: (c) => {
      const t = hc(c, 'Tmpfs') as Record<string, string> | null | undefined;
      return t && Object.keys(t).length > 0 ? Object.keys(t).sort().join(',') : undefined;
    },
  },
  { flags: ['--privileged'], want: (v) => (last(v) === 'false' ? 'false' : 'true'), have: (c) => (hc(c, 'Privileged') ? 'true' : undefined) },
  { flags: ['--read-only'], want: (v) => (last(v) === 'false' ? 'false' : 'true'), have: (c) => (hc(c, 'ReadonlyRootfs') ? 'true' : undefined) },
  { flags: ['--init'], want: (v) => (last(v) === 'false' ? 'false' : 'true'), have: (c) => (hc(c, 'Init') ? 'true' : undefined) },
  { flags: ['--user', '-u'], want: last, have: (c) => c.Config?.User || undefined },
  { flags: ['--workdir', '-w'], want: last, have: () => undefined },
  { flags: ['--stop-signal'], want: last, have: (c) => c.Config?.StopSignal || undefined },
  { flags: ['--hostname', '-h'], want: last, have: (c) => c.Config?.Hostname || undefined },
  { flags: ['--network', '--net'], want: last, have: (c) => c.HostConfig?.NetworkMode || undefined },
  {
    flags: ['--publish', '-p'],
    want: (v) =>
      v
        .map((x) => portBinding(String(x)))
        .sort()
        .join(','),
    have: (c) => {
      const out: string[] = [];
      for (const [port, list] of Object.entries(c.HostConfig?.PortBindings ?? {})) {
        for (const b of list ?? []) out.push(`${b.HostIp ?? ''}:${b.HostPort ?? ''}:${port}`);
      }
      return out.length > 0 ? out.sort().join(',') : undefined;
    },
  },
  {
    flags: ['--restart'],
    want: last,
    have: (c) => {
      const p = c.HostConfig?.RestartPolicy;
      if (!p?.Name || p.Name === 'no') return undefined;
      return p.Name === 'on-failure' && p.MaximumRetryCount ? `on-failure:${p.MaximumRetryCount}` : p.Name;
    },
  },
  { flags: ['--log-driver'], want: last, have: (c) => c.HostConfig?.LogConfig?.Type || undefined },
];

/** Flags only compared when given (the container always shows some value for them). */
const ONLY_WHEN_GIVEN = new Set(['--user', '-u', '--workdir', '-w', '--stop-signal', '--log-driver', '--hostname', '-h']);

/**
 * The options of `docker run` (other than env, labels and volumes) against the container's
 * inspect data. An option the inspect data does not show is reported as `not comparable`.
 */
export function diffOptions(desired: Map<string, (string | true)[]>, running: Inspect, opts: { cmd?: string[]; imageCmd?: string[] | null } = {}): KeyChange[] {
  const changes: KeyChange[] = [];
  const seen = new Set<string>();
  for (const rule of OPTION_RULES) {
    const values = rule.flags.flatMap((f) => desired.get(f) ?? []);
    for (const f of rule.flags) seen.add(f);
    const name = rule.flags[0]!;
    const have = rule.have(running);
    if (values.length === 0) {
      if (ONLY_WHEN_GIVEN.has(name) || have === undefined || rule.implied?.(running)) continue;
      changes.push({ key: name, change: 'removed', from: have });
      continue;
    }
    const want = rule.want(values);
    if (name === '--workdir' || name === '-w') {
      if ((running.Config?.WorkingDir ?? '') !== want) changes.push({ key: name, change: 'changed', from: running.Config?.WorkingDir ?? '', to: want });
      continue;
    }
    if (have === undefined) {
      if (want !== 'false') changes.push({ key: name, change: 'added', to: want });
    } else if (have !== want) changes.push({ key: name, change: 'changed', from: have, to: want });
  }
  // --log-opt: compared key by key when any is given
  const logOpts = Object.fromEntries((desired.get('--log-opt') ?? []).map((v) => splitPair(String(v)) as [string, string]));
  seen.add('--log-opt');
  if (Object.keys(logOpts).length > 0) {
    const have = running.HostConfig?.LogConfig?.Config ?? {};
    for (const [k, v] of Object.entries(logOpts)) {
      if (!(k in have)) changes.push({ key: `--log-opt ${k}`, change: 'added', to: v });
      else if (have[k] !== v) changes.push({ key: `--log-opt ${k}`, change: 'changed', from: have[k], to: v });
    }
  }
  for (const [flag, values] of desired) {
    if (seen.has(flag)) continue;
    changes.push({ key: flag, change: 'changed', to: `${values.map(String).join(',')} (not comparable with the running container)` });
  }
  // the command: compared when given, else the image's own
  if (opts.cmd !== undefined) {
    const have = running.Config?.Cmd ?? [];
    const want = opts.cmd.length > 0 ? opts.cmd : (opts.imageCmd ?? have);
    if (JSON.stringify(have) !== JSON.stringify(want)) changes.push({ key: 'cmd', change: 'changed', from: have.join(' '), to: want.join(' ') });
  }
  return sortChanges(changes);
}

// ---------------------------------------------------------------- proxy

const NS = 1e9;

function durationNs(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: NS, m: 60 * NS, h: 3600 * NS };
  let total = 0;
  let matched = false;
  for (const m of v.matchAll(re)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched = true;
  }
  return matched ? Math.round(total) : /^\d+$/.test(v) ? Number(v) * NS : undefined;
}

function showDuration(ns: number | undefined): string {
  if (ns === undefined) return '';
  return ns % NS === 0 ? `${ns / NS}s` : `${ns / 1e6}ms`;
}

function list(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function bool(v: unknown, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  return String(v) === 'true';
}

function normPrefix(p: string): string {
  return `/${p.replace(/^\/+|\/+$/g, '')}`;
}

/** kamal-proxy's effective settings for a service from the options `kamal-proxy deploy` is given. */
export function proxySettingsFromDeployOptions(options: Map<string, unknown>): Record<string, string> {
  const o = (k: string) => options.get(k);
  const tls = bool(o('tls'), false);
  const prefixes = list(o('path-prefix'));
  return {
    hosts: list(o('host'))
      .map((h) => h.toLowerCase())
      .join(','),
    'path-prefix': (prefixes.length > 0 ? prefixes : ['/']).map(normPrefix).join(','),
    'strip-path-prefix': String(bool(o('strip-path-prefix'), true)),
    tls: String(tls),
    'tls-redirect': String(bool(o('tls-redirect'), true)),
    'tls-certificate-path': String(o('tls-certificate-path') ?? ''),
    'health-check-path': String(o('health-check-path') ?? '/up'),
    'health-check-interval': showDuration(durationNs(o('health-check-interval')) ?? NS),
    'health-check-timeout': showDuration(durationNs(o('health-check-timeout')) ?? 5 * NS),
    'target-timeout': showDuration(durationNs(o('target-timeout')) ?? 30 * NS),
    'buffer-requests': String(bool(o('buffer-requests'), false)),
    'buffer-responses': String(bool(o('buffer-responses'), false)),
    'buffer-memory': String(o('buffer-memory') ?? 1048576),
    'max-request-body': String(o('max-request-body') ?? 0),
    'max-response-body': String(o('max-response-body') ?? 0),
    'forward-headers': String(bool(o('forward-headers'), !tls)),
    'log-request-header': list(o('log-request-header')).join(','),
    'log-response-header': list(o('log-response-header')).join(','),
  };
}

/** The same settings read from a service of kamal-proxy's state file. */
export function proxySettingsFromState(s: ProxyServiceState): Record<string, string> {
  const o = s.options ?? {};
  const t = s.target_options ?? {};
  const h = (t.health_check_config ?? {}) as Record<string, unknown>;
  const prefixes = list(o.path_prefixes);
  return {
    hosts: list(o.hosts)
      .filter((x) => x !== '')
      .join(','),
    'path-prefix': (prefixes.length > 0 ? prefixes : ['/']).map(normPrefix).join(','),
    'strip-path-prefix': String(bool(o.strip_prefix, true)),
    tls: String(bool(o.tls_enabled, false)),
    'tls-redirect': String(bool(o.tls_redirect, true)),
    'tls-certificate-path': String(o.tls_certificate_path ?? ''),
    'health-check-path': String(h.path ?? '/up'),
    'health-check-interval': showDuration(durationNs(h.interval) ?? NS),
    'health-check-timeout': showDuration(durationNs(h.timeout) ?? 5 * NS),
    'target-timeout': showDuration(durationNs(t.response_timeout) ?? 30 * NS),
    'buffer-requests': String(bool(t.buffer_requests, false)),
    'buffer-responses': String(bool(t.buffer_responses, false)),
    'buffer-memory': String(t.max_memory_buffer_size ?? 1048576),
    'max-request-body': String(t.max_request_body_size ?? 0),
    'max-response-body': String(t.max_response_body_size ?? 0),
    'forward-headers': String(bool(t.forward_headers, !bool(o.tls_enabled, false))),
    'log-request-header': list(t.log_request_headers).join(','),
    'log-response-header': list(t.log_response_headers).join(','),
  };
}

/** The proxy settings a deploy would change for one service (everything is new when the proxy has no such service). */
export function diffProxy(desired: Map<string, unknown>, running: ProxyServiceState | undefined): KeyChange[] {
  const want = proxySettingsFromDeployOptions(desired);
  if (!running) return [];
  const have = proxySettingsFromState(running);
  const changes: KeyChange[] = [];
  for (const [k, v] of Object.entries(want)) if (have[k] !== v) changes.push({ key: k, change: 'changed', from: have[k], to: v });
  return changes;
}

// ---------------------------------------------------------------- the whole diff

function sortChanges(changes: KeyChange[]): KeyChange[] {
  const order: Record<ChangeKind, number> = { added: 0, changed: 1, removed: 2 };
  return changes.sort((a, b) => order[a.change] - order[b.change] || a.key.localeCompare(b.key));
}

function diffContainer(
  spec: RunSpec,
  desiredFile: string,
  running: RunningContainer,
  home: string | undefined,
  volumeRename?: [string, string],
): ContainerDiff {
  const inspect = running.inspect;
  const binds = (inspect.HostConfig?.Binds ?? []).map((b) => (volumeRename ? b.split(volumeRename[0]).join(volumeRename[1]) : b));
  return {
    image: { running: inspect.Config?.Image, desired: spec.image },
    env: diffEnv({ desiredClear: spec.env, desiredFile, runningEnv: running.env, runningFile: running.envFile, imageEnv: running.image?.Env }),
    labels: diffLabels(spec.labels, inspect.Config?.Labels, running.image?.Labels),
    options: diffOptions(spec.options, inspect, { cmd: spec.cmd, imageCmd: running.image?.Cmd }),
    volumes: diffVolumes(spec.volumes, binds, home),
  };
}

function emptyContainerDiff(spec: RunSpec): ContainerDiff {
  return { image: { desired: spec.image }, env: [], labels: [], options: [], volumes: [] };
}

function hasChanges(d: ContainerDiff & { proxy?: KeyChange[] }): boolean {
  return d.env.length + d.labels.length + d.options.length + d.volumes.length + (d.proxy?.length ?? 0) > 0 || d.image.running !== d.image.desired;
}

/** The run words of a role on a host, as `App#run` builds them. */
export function desiredAppSpec(config: Configuration, role: Role, host: string): RunSpec {
  // without --hostname: a deploy gives each container a hostname of its own
  const words = new App(config, { role, host }).run().words;
  return parseRunWords(words, config.absoluteImage, toWords(role.cmd).length);
}

export function desiredAccessorySpec(config: Configuration, name: string, host: string): RunSpec {
  const acc = new Accessory(config, { name });
  return parseRunWords(acc.run({ host }).words, acc.image, toWords(acc.accessoryConfig.cmd).length);
}

/**
 * The report: per role and host the running version against the one a deploy would start, the
 * image, env, labels, options, volumes and proxy settings that would change; hosts that get their
 * first container; role containers left running where the role is no longer configured; and
 * accessories whose container differs from what `accessory boot` would run.
 */
export function computeDiff(opts: {
  config: Configuration;
  roles: readonly Role[];
  /** Hosts in scope (the run's --hosts/--roles selection). */
  hosts: readonly string[];
  accessories: readonly string[];
  facts: readonly HostFacts[];
}): DiffReport {
  const { config } = opts;
  const facts = new Map(opts.facts.map((f) => [f.host, f]));
  const roles: RoleHostDiff[] = [];
  // the primary role first, as a deploy boots it
  const ordered = [...opts.roles].sort((a, b) => Number(b.primary) - Number(a.primary));
  for (const role of ordered) {
    for (const host of role.hosts.filter((h) => opts.hosts.includes(h))) {
      const f = facts.get(host);
      const spec = desiredAppSpec(config, role, host);
      const base = { role: role.name, host, version: config.version, proxy: [] as KeyChange[] };
      if (!f || f.error) {
        roles.push({ ...base, ...emptyContainerDiff(spec), status: 'unreachable', error: f?.error ?? 'not read' });
        continue;
      }
      const running = f.roles[role.name];
      if (!running) {
        roles.push({ ...base, ...emptyContainerDiff(spec), status: 'new' });
        continue;
      }
      const rename: [string, string] | undefined =
        role.assets && running.version ? [role.assetVolumeDirectory(running.version), role.assetVolumeDirectory(config.version)] : undefined;
      const d = diffContainer(spec, role.secretsIo(host).reveal(), running, f.home, rename);
      const svc = role.runningProxy ? f.proxy?.find((s) => s.name === role.containerPrefix) : undefined;
      const proxy = role.runningProxy && role.proxy ? diffProxy(role.proxy.deployOptions(), svc) : [];
      const entry: RoleHostDiff = { ...base, ...d, proxy, runningVersion: running.version, status: 'unchanged' };
      entry.status = hasChanges(entry) || running.version !== config.version ? 'changed' : 'unchanged';
      roles.push(entry);
    }
  }

  const configured = new Set(config.allRoles.flatMap((r) => r.hosts.map((h) => `${h} ${r.name}`)));
  const hostsAdded: string[] = [];
  const leftOut: DiffReport['leftOut'] = [];
  for (const host of opts.hosts) {
    const f = facts.get(host);
    if (!f || f.error) continue;
    if (config.hostRoles(host).length > 0 && f.containers.length === 0) hostsAdded.push(host);
    const seen = new Set<string>();
    for (const c of f.containers) {
      if (c.state !== 'running' || configured.has(`${host} ${c.role}`) || seen.has(c.role)) continue;
      seen.add(c.role);
      const prefix = [config.service, c.role, config.destination].filter((x) => x !== undefined && x !== null).join('-');
      leftOut.push({ host, role: c.role, ...(c.name.startsWith(`${prefix}-`) ? { version: c.name.slice(prefix.length + 1) } : {}) });
    }
  }

  const accessories: AccessoryDiff[] = [];
  for (const name of opts.accessories) {
    const acc = config.accessory(name);
    if (!acc) continue;
    for (const host of acc.hosts.filter((h) => opts.hosts.includes(h))) {
      const f = facts.get(host);
      const spec = desiredAccessorySpec(config, name, host);
      if (!f || f.error) {
        accessories.push({ accessory: name, host, ...emptyContainerDiff(spec), status: 'unreachable', error: f?.error ?? 'not read' });
        continue;
      }
      const running = f.accessories[name];
      if (!running) {
        accessories.push({ accessory: name, host, ...emptyContainerDiff(spec), status: 'new' });
        continue;
      }
      const d = diffContainer(spec, acc.secretsIo().reveal(), running, f.home);
      accessories.push({ accessory: name, host, ...d, status: hasChanges(d) ? 'changed' : 'unchanged' });
    }
  }

  const changed =
    roles.some((r) => r.status !== 'unchanged') || hostsAdded.length > 0 || leftOut.length > 0 || accessories.some((a) => a.status !== 'unchanged');
  return {
    service: config.service,
    ...(config.destination !== undefined && config.destination !== null ? { destination: config.destination } : {}),
    version: config.version,
    image: config.absoluteImage,
    changed,
    roles,
    hostsAdded,
    leftOut,
    accessories,
  };
}

/**
 * The report with every secret value of the run replaced, in each form secretForms gives
 * (JSON-escaped, base64, URL-encoded...). Values read on hosts never enter it (they are hashes).
 */
export function redactReport(report: DiffReport, secrets: SecretRegistry): DiffReport {
  return redactStrings(report, (s) => secrets.redact(s));
}

function redactStrings<T>(value: T, redact: (s: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactStrings(v, redact)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactStrings(v, redact)])) as T;
  }
  return value;
}
