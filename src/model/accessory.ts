import { resolve as resolvePath } from 'node:path';
import { hostsWithTag } from '../config/hosts.js';
import type { Secret, SecretStore } from '../secret.js';
import type { Word } from '../shell.js';
import type { Role } from './role.js';
import { Env } from './env.js';
import { Proxy, type ProxyConfiguration } from './proxy.js';
import { Registry } from './registry.js';
import { argumentize, isPlainObject, isPresent, optionize, type RawObject } from './utils.js';
import { Volume } from './volume.js';

export const DEFAULT_NETWORK = 'kamal';

/** A file uploaded for an accessory (`files:`). */
export interface AccessoryFile {
  /** The local file, as an absolute path. */
  local: string;
  /** True for `.erb` files, which are rendered (with the accessory env) before upload. */
  dynamic: boolean;
  /** Remote path relative to the SSH user's home directory (`<service>/<remote>`). */
  hostPath: string;
  containerPath: string;
  options: string | undefined;
  mode: string;
  owner: string | undefined;
}

/** A directory created for an accessory (`directories:`). */
export interface AccessoryDirectory {
  /** The directory to create on the host; relative ones start with `$PWD/`. */
  path: string;
  /** The host side of the bind mount (relative to the home directory when not absolute). */
  hostPath: string;
  containerPath: string;
  options: string | undefined;
  mode: string | undefined;
  owner: string | undefined;
}

/** What an accessory reads from the configuration it belongs to. */
export interface AccessoryConfiguration extends ProxyConfiguration {
  readonly envDirectory: string;
  readonly rawConfig: RawObject;
  role(name: string): Role | undefined;
  readonly secrets: SecretStore;
  readonly service: string;
}

export class Accessory {
  readonly name: string;
  readonly config: AccessoryConfiguration;
  readonly accessoryConfig: RawObject;
  readonly env: Env;
  readonly proxy: Proxy | undefined;
  readonly registry: Registry | undefined;
  readonly #cwd: string;
  #hosts: string[] | undefined;

  constructor(name: string, opts: { config: AccessoryConfiguration; cwd?: string }) {
    this.name = name;
    this.config = opts.config;
    const raw = this.config.rawConfig.accessories?.[name];
    this.accessoryConfig = isPlainObject(raw) ? raw : {};
    this.#cwd = opts.cwd ?? process.cwd();

    this.env = new Env({ config: this.accessoryConfig.env ?? {}, secrets: this.config.secrets, context: `accessories/${name}/env` });
    if (this.runningProxy) {
      this.proxy = new Proxy({
        config: this.config,
        proxyConfig: this.accessoryConfig.proxy,
        context: `accessories/${name}/proxy`,
        secrets: this.config.secrets,
      });
    }
    if (isPresent(this.accessoryConfig.registry)) {
      this.registry = new Registry({ config: this.accessoryConfig, secrets: this.config.secrets, context: `accessories/${name}/registry` });
    }
  }

  toString(): string {
    return this.name;
  }

  get serviceName(): string {
    return this.accessoryConfig.service ?? `${this.config.service}-${this.name}`;
  }

  get image(): string {
    return [this.registry?.server, this.accessoryConfig.image].filter((x) => x !== undefined && x !== null).join('/');
  }

  /** The accessory's hosts (worked out once; do not change the list). */
  get hosts(): string[] {
    return (this.#hosts ??= this.hostsFromHost() ?? this.hostsFromHosts() ?? this.hostsFromRoles() ?? this.hostsFromTags() ?? []);
  }

  get port(): string | undefined {
    const p = this.accessoryConfig.port;
    if (p === undefined || p === null) return undefined;
    const s = String(p);
    return s.includes(':') ? s : `${s}:${s}`;
  }

  networkArgs(): Word[] {
    return argumentize('--network', this.network);
  }

  publishArgs(): Word[] | undefined {
    return this.port ? argumentize('--publish', this.port) : undefined;
  }

  get labels(): Map<string, unknown> {
    const out = new Map<string, unknown>([['service', this.serviceName]]);
    for (const [k, v] of Object.entries(this.accessoryConfig.labels ?? {})) out.set(k, v);
    return out;
  }

  labelArgs(): Word[] {
    return argumentize('--label', this.labels);
  }

  envArgs(): Word[] {
    return [...this.env.clearArgs(), ...argumentize('--env-file', this.secretsPath)];
  }

  get envDirectory(): string {
    return `${this.config.envDirectory}/accessories`;
  }

  secretsIo(): Secret {
    return this.env.secretsIo();
  }

  get secretsPath(): string {
    return `${this.config.envDirectory}/accessories/${this.name}.env`;
  }

  /** Files to upload, in configuration order (string form `local:remote[:options]` or a hash). */
  get files(): AccessoryFile[] {
    const list = this.accessoryConfig.files;
    if (!Array.isArray(list)) return [];
    return list.map((entry: unknown) => {
      const p = parsePathConfig(entry, '755');
      return {
        local: resolvePath(this.#cwd, p.local),
        dynamic: p.local.endsWith('erb'),
        hostPath: this.expandRemoteFile(p.remote),
        containerPath: p.remote,
        options: p.options,
        mode: p.mode!,
        owner: p.owner,
      };
    });
  }

  /** Directories to create, in configuration order. */
  get directories(): AccessoryDirectory[] {
    const list = this.accessoryConfig.directories;
    if (!Array.isArray(list)) return [];
    return list.map((entry: unknown) => {
      const p = parsePathConfig(entry, undefined);
      return {
        path: this.expandHostPath(p.local),
        hostPath: this.expandHostPathForVolume(p.local),
        containerPath: p.remote,
        options: p.options,
        mode: p.mode,
        owner: p.owner,
      };
    });
  }

  volumeArgs(): Word[] {
    const specific = argumentize('--volume', this.specificVolumes);
    const paths = [
      ...this.files.map((f) => new Volume({ hostPath: f.hostPath, containerPath: f.containerPath, options: f.options })),
      ...this.directories.map((d) => new Volume({ hostPath: d.hostPath, containerPath: d.containerPath, options: d.options })),
    ];
    return [...specific, ...paths.flatMap((v) => v.dockerArgs())];
  }

  optionArgs(): Word[] {
    return optionize(Object.fromEntries(Object.entries(this.dockerOptions).filter(([k]) => k !== 'restart')));
  }

  get restartPolicy(): string {
    const entry = Object.entries(this.dockerOptions).find(([k]) => k === 'restart');
    return entry?.[1] ?? 'unless-stopped';
  }

  get cmd(): string | undefined {
    return this.accessoryConfig.cmd ?? undefined;
  }

  get runningProxy(): boolean {
    return isPresent(this.accessoryConfig.proxy);
  }

  get network(): string {
    return this.accessoryConfig.network ?? DEFAULT_NETWORK;
  }

  private get specificVolumes(): string[] {
    return Array.isArray(this.accessoryConfig.volumes) ? this.accessoryConfig.volumes.map(String) : [];
  }

  private get dockerOptions(): RawObject {
    return isPlainObject(this.accessoryConfig.options) ? this.accessoryConfig.options : {};
  }

  private expandRemoteFile(remote: string): string {
    return this.serviceName + remote;
  }

  private expandHostPath(hostPath: string): string {
    return hostPath.startsWith('/') ? hostPath : `$PWD/${this.serviceName}/${hostPath}`;
  }

  private expandHostPathForVolume(hostPath: string): string {
    return hostPath.startsWith('/') ? hostPath : `${this.serviceName}/${hostPath}`;
  }

  private hostsFromHost(): string[] | undefined {
    return 'host' in this.accessoryConfig ? [this.accessoryConfig.host] : undefined;
  }

  private hostsFromHosts(): string[] | undefined {
    return 'hosts' in this.accessoryConfig ? this.accessoryConfig.hosts : undefined;
  }

  private hostsFromRoles(): string[] | undefined {
    if ('role' in this.accessoryConfig) return this.config.role(this.accessoryConfig.role)?.hosts;
    if ('roles' in this.accessoryConfig) return (this.accessoryConfig.roles as string[]).flatMap((r) => this.config.role(r)?.hosts ?? []);
    return undefined;
  }

  private hostsFromTags(): string[] | undefined {
    const servers = this.config.rawConfig.servers;
    if ('tag' in this.accessoryConfig) return hostsWithTag(servers, this.accessoryConfig.tag);
    if ('tags' in this.accessoryConfig) return (this.accessoryConfig.tags as string[]).flatMap((t) => hostsWithTag(servers, t));
    return undefined;
  }
}

function parsePathConfig(
  entry: unknown,
  defaultMode: string | undefined,
): { local: string; remote: string; options: string | undefined; mode: string | undefined; owner: string | undefined } {
  if (isPlainObject(entry)) {
    return {
      local: String(entry.local ?? ''),
      remote: String(entry.remote ?? ''),
      options: entry.options ?? undefined,
      mode: entry.mode ?? defaultMode,
      owner: entry.owner ?? undefined,
    };
  }
  const s = String(entry);
  const parts = s.split(':');
  const local = parts[0] ?? '';
  const remote = parts[1] ?? '';
  const options = parts.length > 2 ? parts.slice(2).join(':') : undefined;
  return { local, remote, options, mode: defaultMode, owner: undefined };
}
