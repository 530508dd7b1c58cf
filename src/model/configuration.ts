/**
 * The deploy configuration object graph, following Kamal's
 * Kamal::Configuration. Before anything is built, the raw configuration goes
 * through config/validate.ts, the one place Kamal's rules live (its
 * validators and Configuration's ensure_* checks): a ConfigError lists every
 * problem, in the order Kamal meets them.
 */
import { ConfigError } from '../errors.js';
import { defaultLocalArch, type HooksOutputLevel } from '../config/constants.js';
import { roleNames } from '../config/hosts.js';
import { validateConfig } from '../config/validate.js';
import { MapSecretStore, type SecretStore } from '../secret.js';
import type { Word } from '../shell.js';
import { Accessory } from './accessory.js';
import { Alias } from './alias.js';
import { Boot } from './boot.js';
import { Builder } from './builder.js';
import { Env, EnvTag } from './env.js';
import { Logging } from './logging.js';
import { Proxy, ProxyBoot, type ProxyRun } from './proxy.js';
import { Registry } from './registry.js';
import { Role } from './role.js';
import { Ssh } from './ssh.js';
import { Sshkit } from './sshkit.js';
import { argumentize, isPlainObject, isPresent, type RawObject } from './utils.js';

export { KAMAL_VERSION, HOOKS_OUTPUT_LEVELS, type HooksOutputLevel } from '../config/constants.js';

export interface ConfigurationOptions {
  destination?: string;
  /** The version to deploy; the caller supplies the git-derived default. */
  version?: string;
  /**
   * Supplies the version the first time it is needed when none was given (Kamal's
   * git_version): commands that never read the version never fail for want of one.
   */
  resolveVersion?: () => string;
  secrets?: SecretStore;
  /** The local Docker architecture (`amd64`/`arm64`), used to split local and remote builds. Defaults to this machine's. */
  localArch?: string;
  /** Checks that a local file exists (hooks dir); when absent such checks are skipped. */
  fileExists?: (path: string) => boolean;
  /** Directory that relative local paths (accessory files) resolve against. Defaults to process.cwd(). */
  cwd?: string;
  /**
   * The raw configuration has already been through validateConfig with these options (the
   * loader does that, so that a file is checked once): the checks are not run again.
   */
  validated?: boolean;
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

export class Configuration {
  readonly rawConfig: RawObject;
  readonly destination: string | undefined;
  readonly secrets: SecretStore;
  readonly localArch: string;
  readonly fileExists: ((path: string) => boolean) | undefined;
  #declaredVersion: string | undefined;
  #resolveVersion: (() => string) | undefined;

  readonly roles: Role[];
  readonly registry: Registry;
  readonly accessories: Accessory[];
  readonly aliases: Record<string, Alias>;
  readonly boot: Boot;
  readonly builder: Builder;
  readonly env: Env;
  readonly logging: Logging;
  readonly proxy: Proxy;
  readonly proxyBoot: ProxyBoot;
  readonly ssh: Ssh;
  readonly sshkit: Sshkit;
  #envTags: EnvTag[] | undefined;
  #allHosts: string[] | undefined;
  #appHosts: string[] | undefined;
  #proxyHosts: string[] | undefined;
  #hostRoles: Map<string, Role[]> | undefined;
  #hostAccessories: Map<string, Accessory[]> | undefined;

  constructor(raw: RawObject, opts: ConfigurationOptions = {}) {
    this.rawConfig = raw;
    this.destination = opts.destination ?? undefined;
    this.#declaredVersion = opts.version;
    this.#resolveVersion = opts.resolveVersion;
    this.secrets = opts.secrets ?? new MapSecretStore();
    this.localArch = opts.localArch ?? defaultLocalArch();
    this.fileExists = opts.fileExists;

    if (!opts.validated) {
      const issues = validateConfig(raw, { destination: this.destination ?? null, localArch: this.localArch, fileExists: this.fileExists });
      if (issues.length > 0) throw new ConfigError(issues);
    }

    const servers = raw.servers;
    this.roles = roleNames(servers).map((name) => new Role(name, { config: this }));
    this.registry = new Registry({ config: raw, secrets: this.secrets });

    this.accessories = isPlainObject(raw.accessories) ? Object.keys(raw.accessories).map((name) => new Accessory(name, { config: this, cwd: opts.cwd })) : [];
    this.aliases = {};
    if (isPlainObject(raw.aliases)) for (const [name, command] of Object.entries(raw.aliases)) this.aliases[name] = new Alias(name, String(command));
    this.boot = new Boot({ bootConfig: raw.boot, hostCount: this.allHosts.length });
    this.builder = new Builder({ config: this });
    this.env = new Env({ config: isPlainObject(raw.env) ? raw.env : {}, secrets: this.secrets });
    this.logging = new Logging({ loggingConfig: raw.logging });
    this.proxy = new Proxy({ config: this, proxyConfig: raw.proxy, secrets: this.secrets });
    this.proxyBoot = new ProxyBoot({ config: this });
    this.ssh = new Ssh({ sshConfig: raw.ssh, secrets: this.secrets });
    this.sshkit = new Sshkit({ sshkitConfig: raw.sshkit });
  }

  get service(): string {
    return this.rawConfig.service;
  }

  get labels(): RawObject | undefined {
    return this.rawConfig.labels ?? undefined;
  }

  /** The version being deployed. Throws when none was given. */
  get version(): string {
    if (!isPresent(this.#declaredVersion) && this.#resolveVersion) this.#declaredVersion = this.#resolveVersion();
    if (!isPresent(this.#declaredVersion)) throw new Error('No version set: pass the version (e.g. the git revision) to the configuration');
    return this.#declaredVersion!;
  }

  set version(version: string) {
    this.#declaredVersion = version;
  }

  /**
   * Where a run's version comes from: the given one, else `resolve` the first time it is needed.
   * A configuration loaded once and used by several runs gets each run's version this way.
   */
  useVersion(version: string | undefined, resolve?: () => string): void {
    this.#declaredVersion = version;
    this.#resolveVersion = resolve;
  }

  get declaredVersion(): string | undefined {
    return this.#declaredVersion;
  }

  /** The version when one can be had (given, or worked out), else undefined: for tags and hook variables. */
  get knownVersion(): string | undefined {
    try {
      return this.version;
    } catch (e) {
      if (e instanceof ConfigError || !this.#resolveVersion) return undefined;
      throw e;
    }
  }

  get abbreviatedVersion(): string | undefined {
    const v = this.knownVersion;
    if (!isPresent(v)) return undefined;
    return v!.includes('_') ? v : v!.slice(0, 7);
  }

  get minimumVersion(): string | undefined {
    return this.rawConfig.minimum_version ?? undefined;
  }

  get serviceAndDestination(): string {
    return [this.service, this.destination].filter((x) => x !== undefined && x !== null).join('-');
  }

  role(name: string): Role | undefined {
    return this.roles.find((r) => r.name === String(name));
  }

  /** Same as `roles`. */
  get allRoles(): Role[] {
    return this.roles;
  }

  get roleNames(): string[] {
    return this.roles.map((r) => r.name);
  }

  accessory(name: string): Accessory | undefined {
    return this.accessories.find((a) => a.name === String(name));
  }

  get accessoryNames(): string[] {
    return this.accessories.map((a) => a.name);
  }

  /** Every host of the roles and accessories, each once, in configuration order (do not change the list). */
  get allHosts(): string[] {
    return (this.#allHosts ??= unique([...this.roles, ...this.accessories].flatMap((x) => x.hosts)));
  }

  /** The roles with a container on `host`. */
  hostRoles(host: string): Role[] {
    this.#hostRoles ??= indexByHost(this.roles);
    return this.#hostRoles.get(host) ?? [];
  }

  /** The accessories on `host`. */
  hostAccessories(host: string): Accessory[] {
    this.#hostAccessories ??= indexByHost(this.accessories);
    return this.#hostAccessories.get(host) ?? [];
  }

  /** Every host of the roles, each once (do not change the list). */
  get appHosts(): string[] {
    return (this.#appHosts ??= unique(this.roles.flatMap((r) => r.hosts)));
  }

  get primaryHost(): string | undefined {
    return this.primaryRole?.primaryHost;
  }

  get primaryRoleName(): string {
    return this.rawConfig.primary_role ?? 'web';
  }

  get primaryRole(): Role | undefined {
    return this.role(this.primaryRoleName);
  }

  get allowEmptyRoles(): boolean {
    return !!this.rawConfig.allow_empty_roles;
  }

  get proxyRoles(): Role[] {
    return this.roles.filter((r) => r.runningProxy);
  }

  get proxyRoleNames(): string[] {
    return this.proxyRoles.map((r) => r.name);
  }

  get proxyAccessories(): Accessory[] {
    return this.accessories.filter((a) => a.runningProxy);
  }

  get proxyHosts(): string[] {
    return (this.#proxyHosts ??= unique([...this.proxyRoles.flatMap((r) => r.hosts), ...this.proxyAccessories.flatMap((a) => a.hosts)]));
  }

  get image(): string | undefined {
    let name: string | undefined = isPresent(this.rawConfig.image) ? String(this.rawConfig.image) : undefined;
    if (name === undefined && this.registry.local) name = this.rawConfig.service;
    return name;
  }

  /** The `proxy/run` settings of the roles and accessories on `host` (they must agree). */
  proxyRun(host: string): ProxyRun | undefined {
    return this.proxyRuns(host)[0];
  }

  get repository(): string {
    return [this.registry.server, this.image].filter((x) => x !== undefined && x !== null).join('/');
  }

  get absoluteImage(): string {
    return `${this.repository}:${this.version}`;
  }

  get latestImage(): string {
    return `${this.repository}:${this.latestTag}`;
  }

  get latestTag(): string {
    return ['latest', this.destination].filter((x) => x !== undefined && x !== null).join('-');
  }

  get serviceWithVersion(): string {
    return `${this.service}-${this.version}`;
  }

  get requireDestination(): boolean {
    return !!this.rawConfig.require_destination;
  }

  get retainContainers(): number {
    return this.rawConfig.retain_containers ?? 5;
  }

  volumeArgs(): Word[] {
    return isPresent(this.rawConfig.volumes) ? argumentize('--volume', (this.rawConfig.volumes as unknown[]).map(String)) : [];
  }

  loggingArgs(): Word[] {
    return this.logging.args();
  }

  get readinessDelay(): number {
    return this.rawConfig.readiness_delay ?? 7;
  }

  get deployTimeout(): number {
    return this.rawConfig.deploy_timeout ?? 30;
  }

  get drainTimeout(): number {
    return this.rawConfig.drain_timeout ?? 30;
  }

  get stopTimeout(): number | undefined {
    return this.rawConfig.stop_timeout ?? undefined;
  }

  get runDirectory(): string {
    return '.kamal';
  }

  get appsDirectory(): string {
    return join(this.runDirectory, 'apps');
  }

  get appDirectory(): string {
    return join(this.appsDirectory, this.serviceAndDestination);
  }

  get envDirectory(): string {
    return join(this.appDirectory, 'env');
  }

  get assetsDirectory(): string {
    return join(this.appDirectory, 'assets');
  }

  get hooksPath(): string {
    return this.rawConfig.hooks_path ?? '.kamal/hooks';
  }

  get secretsPath(): string {
    return this.rawConfig.secrets_path ?? '.kamal/secrets';
  }

  get assetPath(): string | undefined {
    return this.rawConfig.asset_path ?? undefined;
  }

  get errorPagesPath(): string | undefined {
    return this.rawConfig.error_pages_path ?? undefined;
  }

  get envTags(): EnvTag[] {
    if (this.#envTags === undefined) {
      const env = this.rawConfig.env;
      const tags = isPlainObject(env) && isPlainObject(env.tags) ? env.tags : undefined;
      this.#envTags = tags ? Object.entries(tags).map(([name, config]) => new EnvTag(name, { config: config as RawObject, secrets: this.secrets })) : [];
    }
    return this.#envTags;
  }

  envTag(name: string): EnvTag | undefined {
    return this.envTags.find((t) => t.name === String(name));
  }

  /** Tags of every app host, merged over roles (for filtering hosts by tag). */
  get hostTags(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const role of this.roles) {
      for (const [host, tags] of role.hostTags) out.set(host, unique([...(out.get(host) ?? []), ...tags]));
    }
    return out;
  }

  /** The raw `hooks_output` setting: one level for every hook, or a level per hook. */
  get hooksOutput(): HooksOutputLevel | Record<string, HooksOutputLevel> | undefined {
    return this.rawConfig.hooks_output ?? undefined;
  }

  /** The output level configured for a hook (`hooks_output`), if any. */
  hooksOutputFor(hook: string): HooksOutputLevel | undefined {
    const ho = this.rawConfig.hooks_output;
    if (typeof ho === 'string') return ho as HooksOutputLevel;
    if (isPlainObject(ho)) return ho[hook] === undefined || ho[hook] === null ? undefined : (String(ho[hook]) as HooksOutputLevel);
    return undefined;
  }

  /** Kamal's `to_h` (used by `kamal config`). */
  toH(): RawObject {
    const out: RawObject = {
      roles: this.roleNames,
      hosts: this.allHosts,
      primary_host: this.primaryHost,
      version: this.#declaredVersion,
      repository: this.repository,
      absolute_image: isPresent(this.#declaredVersion) ? this.absoluteImage : undefined,
      service_with_version: isPresent(this.#declaredVersion) ? this.serviceWithVersion : undefined,
      volume_args: this.rawConfig.volumes ? (this.rawConfig.volumes as unknown[]).flatMap((v) => ['--volume', String(v)]) : [],
      ssh_options: this.ssh.options(),
      sshkit: this.sshkit.toH(),
      builder: this.builder.toH(),
      accessories: this.rawConfig.accessories,
      logging: this.rawConfig.logging,
    };
    for (const k of Object.keys(out)) if (out[k] === undefined || out[k] === null) delete out[k];
    return out;
  }

  private proxyRuns(host: string): ProxyRun[] {
    return [...this.hostRoles(host), ...this.hostAccessories(host)]
      .map((x) => x.proxy)
      .filter((p): p is Proxy => p !== undefined)
      .map((p) => p.run)
      .filter((r): r is ProxyRun => r !== undefined);
  }
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/** host → the roles (or accessories) on it, in their order, each once. */
function indexByHost<T extends { hosts: string[] }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    for (const host of new Set(item.hosts)) {
      const list = out.get(host);
      if (list) list.push(item);
      else out.set(host, [item]);
    }
  }
  return out;
}
