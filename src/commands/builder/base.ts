/** What every build target shares (Kamal::Commands::Builder::Base): buildx build and push, tags, cache, secrets, and the build without buildx. */
import { ConfigError } from '../../errors.js';
import type { Builder as BuilderConfig } from '../../model/builder.js';
import type { Configuration } from '../../model/configuration.js';
import { argumentize, isPresent } from '../../model/utils.js';
import { any, cat, cmd, combine, dq, group, pipe, raw, type Command, type SimpleCommand, type Word, type WordInput } from '../../shell.js';
import { Base, REDIRECT_STDERR_TO_STDOUT, docker } from '../base.js';

export const ENDPOINT_DOCKER_HOST_INSPECT = '{{.Endpoints.docker.Host}}';

export type BuilderName = 'local' | 'remote' | 'hybrid' | 'cloud' | 'pack';

export interface BuilderCommandOptions {
  /** Checks that the Dockerfile exists before building (Kamal raises "Missing <dockerfile>"); skipped when absent. */
  fileExists?: (path: string) => boolean;
}

export interface PushOptions {
  tagAsDirty?: boolean;
  noCache?: boolean;
}

/** Raised when the Dockerfile is missing. */
export class BuilderError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'BuilderError';
  }
}

/** A literal where `$NAME` and `${NAME}` stay environment references for the local shell. */
export function localShellValue(value: string): Word {
  const parts: Word[] = [];
  let last = 0;
  for (const m of value.matchAll(/\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})/g)) {
    if (m.index! > last) parts.push(value.slice(last, m.index));
    parts.push(raw(`"${m[0]}"`));
    last = m.index! + m[0].length;
  }
  if (parts.length === 0) return value;
  if (last < value.length) parts.push(value.slice(last));
  return cat(...parts);
}
export abstract class BuilderBase extends Base {
  readonly options: BuilderCommandOptions;

  constructor(config: Configuration, options: BuilderCommandOptions = {}) {
    super(config);
    this.options = options;
  }

  abstract readonly name: BuilderName;
  abstract builderName(): string;
  abstract create(): Command | undefined;
  abstract remove(): Command | undefined;

  protected get builderConfig(): BuilderConfig {
    return this.config.builder;
  }

  clean(): SimpleCommand {
    return docker('image', 'rm', '--force', this.config.absoluteImage);
  }

  push(exportAction = 'registry', opts: PushOptions = {}): Command {
    return docker(
      'buildx',
      'build',
      `--output=type=${exportAction}`,
      this.platformOptions(this.builderConfig.arches),
      this.builderConfig.isDockerDriver ? null : ['--builder', this.builderName()],
      this.buildTagOptions(opts.tagAsDirty),
      this.buildOptions(),
      opts.noCache ? '--no-cache' : null,
      this.buildContext(),
      REDIRECT_STDERR_TO_STDOUT,
    );
  }

  /**
   * Without buildx: `docker build ... && docker push <version> && docker push <latest>`, for one
   * platform. Build secrets and `--ssh` need BuildKit: the build then runs with `fallbackEnv()`
   * (`DOCKER_BUILDKIT=1`), which a docker client with BuildKit built in honours. A cache cannot be
   * exported or read this way (see `withoutBuildxNotes`).
   */
  pushWithoutBuildx(opts: PushOptions = {}): Command {
    const [image, latest] = this.buildTagNames(opts.tagAsDirty);
    const global = this.fallbackGlobalOptions();
    return combine(
      docker(
        global,
        'build',
        this.platformOptions(this.fallbackArches()),
        this.buildTagOptions(opts.tagAsDirty),
        this.buildLabels(),
        this.buildArgs(),
        this.buildSecrets(),
        this.buildDockerfile(),
        this.buildTarget(),
        this.buildSsh(),
        opts.noCache ? '--no-cache' : null,
        this.buildContext(),
      ),
      docker(global, 'push', image!),
      docker(global, 'push', latest!),
    );
  }

  /** Environment for the fallback build: BuildKit when secrets or ssh are forwarded into the build. */
  fallbackEnv(): Record<string, string> {
    return this.fallbackNeedsBuildKit ? { DOCKER_BUILDKIT: '1' } : {};
  }

  get fallbackNeedsBuildKit(): boolean {
    return this.builderConfig.secretNames.length > 0 || isPresent(this.builderConfig.ssh);
  }

  /** Commands to run before the fallback build (the remote builder's docker context). */
  fallbackPrepare(): { check: Command; create: Command } | undefined {
    return undefined;
  }

  /**
   * Why this build cannot run without buildx (undefined when it can), as [key path, message].
   * `localArch` is the local Docker engine's architecture.
   */
  withoutBuildxProblem(localArch: string): [string, string] | undefined {
    const arches = this.fallbackArches();
    if (arches.length > 1) {
      return [
        'builder/arch',
        `building for ${arches.map((a) => `linux/${a}`).join(' and ')} needs docker buildx, which is not installed here (build one platform, or install the buildx plugin)`,
      ];
    }
    if (arches.length === 1 && arches[0] !== localArch) {
      return [
        'builder/arch',
        `building for linux/${arches[0]} on this linux/${localArch} machine needs docker buildx, which is not installed here (or use builder.remote on a linux/${arches[0]} host)`,
      ];
    }
    return undefined;
  }

  /** What the fallback leaves out, said once in the log. */
  withoutBuildxNotes(): string[] {
    const notes: string[] = [];
    if (this.builderConfig.isCached)
      notes.push(`builder.cache (${this.builderConfig.cacheType}) needs docker buildx: building without reading or exporting the cache`);
    if (this.builderConfig.provenance !== undefined) notes.push('builder.provenance needs docker buildx: no provenance attestation is attached');
    if (this.builderConfig.sbom !== undefined) notes.push('builder.sbom needs docker buildx: no SBOM attestation is attached');
    return notes;
  }

  /** The registry login the fallback's push relies on (the client's credentials, through the fallback's context). */
  fallbackLogin(login: SimpleCommand): SimpleCommand {
    const global = this.fallbackGlobalOptions();
    return global.length === 0 ? login : cmd(login.words[0]!, ...global, ...login.words.slice(1));
  }

  /** Global docker options of the fallback (`--context` for a remote builder). */
  protected fallbackGlobalOptions(): string[] {
    return [];
  }

  protected fallbackArches(): string[] {
    return this.builderConfig.localArches;
  }

  pull(): SimpleCommand {
    return docker('pull', this.config.absoluteImage);
  }

  info(): Command {
    return combine(docker('context', 'ls'), docker('buildx', 'ls'));
  }

  inspectBuilder(): Command | undefined {
    return this.builderConfig.isDockerDriver ? undefined : docker('buildx', 'inspect', this.builderName());
  }

  buildOptions(): Word[] {
    return [
      ...this.buildCache(),
      ...this.buildLabels(),
      ...this.buildArgs(),
      ...this.buildSecrets(),
      ...this.buildDockerfile(),
      ...this.buildTarget(),
      ...this.buildSsh(),
      ...this.builderProvenance(),
      ...this.builderSbom(),
    ];
  }

  buildContext(): string {
    return this.builderConfig.context;
  }

  validateImage(): Command {
    const image = this.config.absoluteImage;
    return pipe(
      docker('inspect', '-f', '{{ .Config.Labels.service }}', image),
      any(cmd('grep', '-x', this.config.service), group(combine(cmd('echo', dq(`Image ${image} is missing the 'service' label`)), cmd('exit', '1')))),
    );
  }

  firstMirror(): SimpleCommand {
    return docker('info', '--format', '{{index .RegistryConfig.Mirrors 0}}');
  }

  get loginToRegistryLocally(): boolean {
    return true;
  }

  /** Extra environment for the local push command. */
  pushEnv(): Record<string, string> {
    return {};
  }

  /** Local `docker version` (the server must answer). */
  dockerVersion(): SimpleCommand {
    return docker('version');
  }

  /** Local `docker buildx version`. */
  buildxVersion(): SimpleCommand {
    return docker('buildx', 'version');
  }

  protected buildTagNames(tagAsDirty = false): string[] {
    const names = [this.config.absoluteImage, this.config.latestImage];
    return tagAsDirty ? names.map((n) => `${n}-dirty`) : names;
  }

  protected buildTagOptions(tagAsDirty = false): string[] {
    return this.buildTagNames(tagAsDirty).flatMap((n) => ['-t', n]);
  }

  private buildCache(): Word[] {
    const { cacheTo, cacheFrom } = this.builderConfig;
    return cacheTo && cacheFrom ? ['--cache-to', cacheTo, '--cache-from', cacheFrom] : [];
  }

  protected buildLabels(): Word[] {
    return argumentize('--label', { service: this.config.service });
  }

  protected buildArgs(): Word[] {
    return argumentize('--build-arg', this.builderConfig.args, { sensitive: true });
  }

  private buildSecrets(): Word[] {
    return argumentize(
      '--secret',
      this.builderConfig.secretNames.map((s) => ['id', s] as const),
    );
  }

  protected buildDockerfile(): Word[] {
    const dockerfile = this.builderConfig.dockerfile;
    if (this.options.fileExists && !this.options.fileExists(dockerfile)) throw new BuilderError(`Missing ${dockerfile}`);
    return argumentize('--file', dockerfile);
  }

  protected buildTarget(): Word[] {
    return isPresent(this.builderConfig.target) ? argumentize('--target', this.builderConfig.target!) : [];
  }

  // `default=$SSH_AUTH_SOCK`: environment references are expanded by the local shell, like Kamal.
  private buildSsh(): Word[] {
    return isPresent(this.builderConfig.ssh) ? ['--ssh', localShellValue(this.builderConfig.ssh!)] : [];
  }

  private builderProvenance(): Word[] {
    const provenance = this.builderConfig.provenance;
    return provenance === undefined ? [] : ['--provenance', String(provenance)];
  }

  private builderSbom(): Word[] {
    const sbom = this.builderConfig.sbom;
    return sbom === undefined ? [] : ['--sbom', String(sbom)];
  }

  protected driverOptions(): WordInput[] {
    return this.config.registry.local ? ['--driver-opt', 'network=host'] : [];
  }

  protected platformOptions(arches: readonly string[]): WordInput[] {
    return arches.length > 0 ? ['--platform', arches.map((a) => `linux/${a}`).join(',')] : [];
  }
}
