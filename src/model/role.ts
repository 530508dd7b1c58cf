import { roleHostList, taggedHosts } from '../config/hosts.js';
import type { Secret, SecretStore } from '../secret.js';
import type { Word } from '../shell.js';
import { Env, type EnvTag } from './env.js';
import { Logging } from './logging.js';
import { Proxy, type ProxyConfiguration } from './proxy.js';
import { argumentize, isPlainObject, isPresent, optionize, type RawObject } from './utils.js';
import { Volume } from './volume.js';

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/** A server role (`web`, `workers`, ...): its hosts and how its containers run. */
/** What a role reads from the configuration it belongs to. */
export interface RoleConfiguration extends ProxyConfiguration {
  readonly assetPath: string | undefined;
  readonly assetsDirectory: string;
  readonly destination: string | undefined;
  readonly env: Env;
  readonly envDirectory: string;
  envTag(name: string): EnvTag | undefined;
  readonly labels: RawObject | undefined;
  readonly logging: Logging;
  readonly primaryRoleName: string;
  readonly proxy: Proxy;
  readonly rawConfig: RawObject;
  readonly secrets: SecretStore;
  readonly service: string;
  readonly stopTimeout: number | undefined;
}

export class Role {
  readonly name: string;
  readonly config: RoleConfiguration;
  readonly specializedEnv: Env;
  readonly specializedLogging: Logging;
  readonly specializedProxy: Proxy | undefined;
  readonly #runningProxy: boolean;
  #proxy: Proxy | undefined;
  #logging: Logging | undefined;
  readonly #envs = new Map<string, Env>();
  #tagged: Map<string, string[]> | undefined;
  #hosts: string[] | undefined;

  constructor(name: string, opts: { config: RoleConfiguration }) {
    this.name = name;
    this.config = opts.config;
    this.specializedEnv = new Env({ config: this.specializations.env ?? {}, secrets: this.config.secrets, context: `servers/${name}/env` });
    this.specializedLogging = new Logging({ loggingConfig: this.specializations.logging ?? {}, context: `servers/${name}/logging` });

    const proxySpecializations = this.specializations.proxy;
    if (this.primary) {
      // only false means no proxy for the primary role
      this.#runningProxy = proxySpecializations !== false;
    } else {
      // false and nil both mean no proxy for other roles
      this.#runningProxy = !!proxySpecializations;
    }
    if (this.#runningProxy) {
      const proxyConfig = proxySpecializations === true || proxySpecializations === undefined || proxySpecializations === null ? {} : proxySpecializations;
      this.specializedProxy = new Proxy({ config: this.config, proxyConfig, secrets: this.config.secrets, roleName: name, context: `servers/${name}/proxy` });
    }
  }

  toString(): string {
    return this.name;
  }

  get primaryHost(): string | undefined {
    return this.hosts[0];
  }

  /** The role's hosts in configuration order (worked out once; do not change the list). */
  get hosts(): string[] {
    return (this.#hosts ??= [...this.taggedHosts().keys()]);
  }

  /** Whether `host` is one of the role's hosts (constant time). */
  hasHost(host: string): boolean {
    return this.taggedHosts().has(host);
  }

  /** The env tags configured for `host` (unknown tags are ignored). */
  envTags(host: string): EnvTag[] {
    return (this.taggedHosts().get(host) ?? []).map((t) => this.config.envTag(t)).filter((t): t is EnvTag => t !== undefined);
  }

  /** Tags of each host, in configuration order. */
  get hostTags(): Map<string, string[]> {
    return this.taggedHosts();
  }

  get cmd(): string | undefined {
    return this.specializations.cmd ?? undefined;
  }

  optionArgs(): Word[] {
    return optionize(Object.fromEntries(Object.entries(this.dockerOptions).filter(([k]) => k !== 'restart')));
  }

  get restartPolicy(): string {
    return this.restartPolicyOption ?? 'unless-stopped';
  }

  get labels(): Map<string, unknown> {
    const out = new Map<string, unknown>([
      ['service', this.config.service],
      ['role', this.name],
      ['destination', this.config.destination],
    ]);
    if (isPresent(this.config.labels)) for (const [k, v] of Object.entries(this.config.labels!)) out.set(k, v);
    if (isPresent(this.specializations.labels)) for (const [k, v] of Object.entries(this.specializations.labels)) out.set(k, v);
    return out;
  }

  labelArgs(): Word[] {
    return argumentize('--label', this.labels);
  }

  loggingArgs(): Word[] {
    return this.logging.args();
  }

  get logging(): Logging {
    return (this.#logging ??= this.config.logging.merge(this.specializedLogging));
  }

  /** The proxy settings (root proxy overridden by the role's), when this role runs behind kamal-proxy. */
  get proxy(): Proxy | undefined {
    if (!this.#runningProxy) return undefined;
    return (this.#proxy ??= this.specializedProxy!.merge(this.config.proxy));
  }

  get runningProxy(): boolean {
    return this.#runningProxy;
  }

  get ssl(): boolean {
    return this.runningProxy && this.proxy!.ssl;
  }

  /** `docker stop` args: an explicit stop_timeout, else the drain timeout for roles without the proxy. */
  stopArgs(): Word[] {
    const timeout = this.stopTimeout ?? (this.runningProxy ? undefined : this.config.drainTimeout);
    return timeout === undefined || timeout === null ? [] : argumentize('-t', timeout);
  }

  get stopTimeout(): number | undefined {
    return this.specializations.stop_timeout ?? this.config.stopTimeout;
  }

  env(host: string): Env {
    let env = this.#envs.get(host);
    if (!env) {
      env = [this.config.env, this.specializedEnv, ...this.envTags(host).map((t) => t.env)].reduce((a, b) => a.merge(b));
      this.#envs.set(host, env);
    }
    return env;
  }

  envArgs(host: string): Word[] {
    return [...this.env(host).clearArgs(), ...argumentize('--env-file', this.secretsPath)];
  }

  get envDirectory(): string {
    return join(this.config.envDirectory, 'roles');
  }

  /** The content of the role's secrets env file for `host`. */
  secretsIo(host: string): Secret {
    return this.env(host).secretsIo();
  }

  get secretsPath(): string {
    return join(this.config.envDirectory, 'roles', `${this.name}.env`);
  }

  assetVolumeArgs(): Word[] | undefined {
    return this.assetVolume()?.dockerArgs();
  }

  get primary(): boolean {
    return this.name === this.config.primaryRoleName;
  }

  containerName(version?: string): string {
    return [this.containerPrefix, version ?? this.config.version].filter((x) => x !== undefined && x !== null).join('-');
  }

  get containerPrefix(): string {
    return [this.config.service, this.name, this.config.destination].filter((x) => x !== undefined && x !== null).join('-');
  }

  get assetPath(): string | undefined {
    return this.assetPathConfig()?.[0];
  }

  get assets(): boolean {
    return isPresent(this.assetPath) && this.runningProxy;
  }

  assetVolume(version?: string): Volume | undefined {
    if (!this.assets) return undefined;
    return new Volume({ hostPath: this.assetVolumeDirectory(version), containerPath: this.assetPath!, options: this.assetPathOptions });
  }

  get assetPathOptions(): string | undefined {
    return this.assetPathConfig()?.[1];
  }

  assetExtractedDirectory(version?: string): string {
    return join(this.config.assetsDirectory, 'extracted', `${this.name}-${version ?? this.config.version}`);
  }

  assetVolumeDirectory(version?: string): string {
    return join(this.config.assetsDirectory, 'volumes', `${this.name}-${version ?? this.config.version}`);
  }

  private taggedHosts(): Map<string, string[]> {
    return (this.#tagged ??= taggedHosts(roleHostList(this.config.rawConfig.servers, this.name)));
  }

  get specializations(): RawObject {
    const rc = this.roleConfig;
    return isPlainObject(rc) ? rc : {};
  }

  private get roleConfig(): unknown {
    const servers = this.config.rawConfig.servers;
    return Array.isArray(servers) ? {} : servers?.[this.name];
  }

  private get dockerOptions(): RawObject {
    return isPlainObject(this.specializations.options) ? this.specializations.options : {};
  }

  private get restartPolicyOption(): string | undefined {
    const entry = Object.entries(this.dockerOptions).find(([k]) => k === 'restart');
    return entry?.[1];
  }

  private assetPathConfig(): [string, string | undefined] | undefined {
    const rawPath = this.specializations.asset_path ?? this.config.assetPath;
    if (!isPresent(rawPath)) return undefined;
    const s = String(rawPath);
    const idx = s.indexOf(':');
    return idx >= 0 ? [s.slice(0, idx), s.slice(idx + 1)] : [s, undefined];
  }
}
