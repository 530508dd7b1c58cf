import { createHash } from 'node:crypto';
import { basename, join as joinPath } from 'node:path';
import type { Secret, SecretStore } from '../secret.js';
import type { Registry } from './registry.js';
import { fetchSecret } from './env.js';
import { isPlainObject, type RawObject } from './utils.js';

/** Image build settings (`builder:`). */
/** What the builder section reads from the configuration it belongs to. */
export interface BuilderConfiguration {
  readonly image: string | undefined;
  readonly localArch: string;
  readonly rawConfig: RawObject;
  readonly registry: Registry;
  readonly secrets: SecretStore;
  readonly service: string;
}

export class Builder {
  readonly config: BuilderConfiguration;
  readonly builderConfig: RawObject;
  #localArches: string[] | undefined;

  constructor(opts: { config: BuilderConfiguration }) {
    this.config = opts.config;
    this.builderConfig = isPlainObject(opts.config.rawConfig.builder) ? opts.config.rawConfig.builder : {};
  }

  toH(): RawObject {
    return this.builderConfig;
  }

  get remote(): string | undefined {
    return this.builderConfig.remote ?? undefined;
  }

  get arches(): string[] {
    const arch = 'arch' in this.builderConfig ? this.builderConfig.arch : this.defaultArch;
    if (arch === undefined || arch === null) return [];
    return Array.isArray(arch) ? arch.map(String) : [String(arch)];
  }

  /** Arches built on this machine (needs the local Docker arch when a remote builder is set). */
  get localArches(): string[] {
    if (this.#localArches === undefined) {
      if (this.isLocalDisabled) this.#localArches = [];
      else if (this.remote) this.#localArches = this.arches.filter((a) => a === this.config.localArch);
      else this.#localArches = this.arches;
    }
    return this.#localArches;
  }

  get remoteArches(): string[] {
    if (!this.remote) return [];
    const local = this.localArches;
    return this.arches.filter((a) => !local.includes(a));
  }

  get isRemote(): boolean {
    return this.remoteArches.length > 0;
  }

  get isLocal(): boolean {
    return !this.isLocalDisabled && (this.arches.length === 0 || this.localArches.length > 0);
  }

  get isCloud(): boolean {
    return this.driver.startsWith('cloud');
  }

  /** `builder.cache.type` (`gha` or `registry`) when a cache is configured. */
  get cacheType(): string | undefined {
    const cache = this.builderConfig.cache;
    return isPlainObject(cache) && typeof cache.type === 'string' ? cache.type : undefined;
  }

  get isCached(): boolean {
    return !!this.builderConfig.cache;
  }

  get isPack(): boolean {
    return !!this.builderConfig.pack;
  }

  get args(): RawObject {
    return isPlainObject(this.builderConfig.args) ? this.builderConfig.args : {};
  }

  /** Secret names passed to the build (`--secret id=NAME`). */
  get secretNames(): string[] {
    return Array.isArray(this.builderConfig.secrets) ? this.builderConfig.secrets.map(String) : [];
  }

  /** Build secrets by name; the values are given to the local docker process as env. */
  get secrets(): Map<string, Secret> {
    return new Map(this.secretNames.map((k) => [k, fetchSecret(this.config.secrets, k)]));
  }

  get dockerfile(): string {
    return this.builderConfig.dockerfile ?? 'Dockerfile';
  }

  get target(): string | undefined {
    return this.builderConfig.target ?? undefined;
  }

  get context(): string {
    return this.builderConfig.context ?? '.';
  }

  get driver(): string {
    return 'driver' in this.builderConfig ? String(this.builderConfig.driver) : 'docker-container';
  }

  get packBuilder(): string | undefined {
    return this.isPack ? this.builderConfig.pack.builder : undefined;
  }

  get packBuildpacks(): string[] | undefined {
    return this.isPack ? [...(this.builderConfig.pack.buildpacks ?? [])] : undefined;
  }

  get isLocalDisabled(): boolean {
    return this.builderConfig.local === false;
  }

  get cacheFrom(): string | undefined {
    if (!this.isCached) return undefined;
    switch (this.builderConfig.cache.type) {
      case 'gha': {
        const individual = this.cacheOptions?.split(',') ?? [];
        const allowed = individual.filter((o) => /^(url|url_v2|token|scope|timeout)=/.test(o));
        return ['type=gha', ...allowed].join(',');
      }
      case 'registry':
        return ['type=registry', `ref=${this.cacheImageRef}`].join(',');
      default:
        return undefined;
    }
  }

  get cacheTo(): string | undefined {
    if (!this.isCached) return undefined;
    switch (this.builderConfig.cache.type) {
      case 'gha':
        return ['type=gha', this.cacheOptions].filter((x) => x !== undefined).join(',');
      case 'registry':
        return ['type=registry', `ref=${this.cacheImageRef}`, this.cacheOptions].filter((x) => x !== undefined).join(',');
      default:
        return undefined;
    }
  }

  get ssh(): string | undefined {
    return this.builderConfig.ssh ?? undefined;
  }

  get provenance(): string | boolean | undefined {
    return this.builderConfig.provenance ?? undefined;
  }

  get sbom(): string | boolean | undefined {
    return this.builderConfig.sbom ?? undefined;
  }

  /** Kamal builds from a clean git clone unless a context is set (and the directory is a git repository). */
  isGitClone(gitUsed = true): boolean {
    return gitUsed && (this.builderConfig.context === undefined || this.builderConfig.context === null);
  }

  /** `<tmpdir>/kamal-clones/<service>-<sha256(pwd)[0..12]>`. */
  cloneDirectory(opts: { tmpdir: string; pwd: string }): string {
    const sha = createHash('sha256').update(opts.pwd).digest('hex').slice(0, 13);
    return joinPath(opts.tmpdir, 'kamal-clones', [this.config.service, sha].filter(Boolean).join('-'));
  }

  /** Where the build runs: inside the clone when cloning, else `.`. */
  buildDirectory(opts: { tmpdir: string; pwd: string; gitUsed: boolean; gitRoot: string }): string {
    if (!this.isGitClone(opts.gitUsed)) return '.';
    const relative = opts.pwd.startsWith(opts.gitRoot) ? opts.pwd.slice(opts.gitRoot.length) : '';
    // Ruby's File.join keeps the trailing separator of an empty last part: `<clone>/<repo>/`
    const dir = joinPath(this.cloneDirectory(opts), basename(opts.gitRoot), relative);
    return relative === '' ? `${dir}/` : dir;
  }

  get isDockerDriver(): boolean {
    return this.driver === 'docker';
  }

  private get cacheImage(): string {
    const cache = this.builderConfig.cache;
    return (isPlainObject(cache) ? cache.image : undefined) ?? `${this.config.image}-build-cache`;
  }

  private get cacheImageRef(): string {
    return [this.config.registry.server, this.cacheImage].filter((x) => x !== undefined && x !== null).join('/');
  }

  private get cacheOptions(): string | undefined {
    const cache = this.builderConfig.cache;
    return isPlainObject(cache) ? (cache.options ?? undefined) : undefined;
  }

  private get defaultArch(): string[] {
    return this.isDockerDriver ? [] : ['amd64', 'arm64'];
  }
}
