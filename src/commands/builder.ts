/**
 * Image build commands (Kamal::Commands::Builder and its local, remote,
 * hybrid, cloud and pack targets), plus a plain `docker build` + `docker
 * push` fallback for machines without buildx.
 */
import { ConfigError } from '../errors.js';
import type { Builder as BuilderConfig } from '../model/builder.js';
import type { Configuration } from '../model/configuration.js';
import { argumentize, isPresent } from '../model/utils.js';
import { any, cat, chain, cmd, combine, dq, group, pipe, raw, type Command, type SimpleCommand, type Word, type WordInput } from '../shell.js';
import { Base, REDIRECT_STDERR_TO_STDOUT, docker, git } from './base.js';

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
      return ['builder/arch', `building for ${arches.map((a) => `linux/${a}`).join(' and ')} needs docker buildx, which is not installed here (build one platform, or install the buildx plugin)`];
    }
    if (arches.length === 1 && arches[0] !== localArch) {
      return ['builder/arch', `building for linux/${arches[0]} on this linux/${localArch} machine needs docker buildx, which is not installed here (or use builder.remote on a linux/${arches[0]} host)`];
    }
    return undefined;
  }

  /** What the fallback leaves out, said once in the log. */
  withoutBuildxNotes(): string[] {
    const notes: string[] = [];
    if (this.builderConfig.isCached) notes.push(`builder.cache (${this.builderConfig.cacheType}) needs docker buildx: building without reading or exporting the cache`);
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
    const p = this.builderConfig.provenance;
    return p === undefined ? [] : ['--provenance', String(p)];
  }

  private builderSbom(): Word[] {
    const s = this.builderConfig.sbom;
    return s === undefined ? [] : ['--sbom', String(s)];
  }

  protected driverOptions(): WordInput[] {
    return this.config.registry.local ? ['--driver-opt', 'network=host'] : [];
  }

  protected platformOptions(arches: readonly string[]): WordInput[] {
    return arches.length > 0 ? ['--platform', arches.map((a) => `linux/${a}`).join(',')] : [];
  }
}

export class LocalBuilder extends BuilderBase {
  readonly name = 'local' as const;

  create(): Command | undefined {
    if (this.builderConfig.isDockerDriver) return undefined;
    return docker('buildx', 'create', '--name', this.builderName(), `--driver=${this.builderConfig.driver}`, this.driverOptions());
  }

  remove(): Command | undefined {
    return this.builderConfig.isDockerDriver ? undefined : docker('buildx', 'rm', this.builderName());
  }

  builderName(): string {
    return this.config.registry.local ? `kamal-local-registry-${this.builderConfig.driver}` : `kamal-local-${this.builderConfig.driver}`;
  }
}

export class RemoteBuilder extends BuilderBase {
  readonly name: BuilderName = 'remote';

  create(): Command | undefined {
    return chain(this.createRemoteContext(), this.createBuildx());
  }

  remove(): Command | undefined {
    return chain(this.removeRemoteContext(), this.removeBuildx());
  }

  override info(): Command {
    return chain(docker('context', 'ls'), docker('buildx', 'ls'));
  }

  override inspectBuilder(): Command {
    return any(combine(this.inspectBuildx(), this.inspectRemoteContext()), group(combine(cmd('echo', 'no', 'compatible', 'builder'), cmd('exit', '1'))));
  }

  override get loginToRegistryLocally(): boolean {
    return false;
  }

  override pushEnv(): Record<string, string> {
    return { BUILDKIT_NO_CLIENT_TOKEN: '1' };
  }

  builderName(): string {
    return `kamal-remote-${this.remoteBuilderNameSuffix()}`;
  }

  remoteContextName(): string {
    return `${this.builderName()}-context`;
  }

  protected get remote(): string {
    return this.builderConfig.remote ?? '';
  }

  protected remoteBuilderNameSuffix(): string {
    return `${this.remote.replace(/[^a-z0-9_-]/g, '-')}${this.config.registry.local ? '-local-registry' : ''}`;
  }

  private inspectBuildx(): Command {
    return pipe(docker('buildx', 'inspect', this.builderName()), cmd('grep', '-q', `Endpoint:.*${this.remoteContextName()}`));
  }

  private inspectRemoteContext(): Command {
    return pipe(docker('context', 'inspect', this.remoteContextName(), '--format', ENDPOINT_DOCKER_HOST_INSPECT), cmd('grep', '-xq', this.remote));
  }

  protected createRemoteContext(): SimpleCommand {
    return docker('context', 'create', this.remoteContextName(), '--description', `${this.builderName()} host`, '--docker', `host=${this.remote}`);
  }

  private removeRemoteContext(): SimpleCommand {
    return docker('context', 'rm', this.remoteContextName());
  }

  private createBuildx(): SimpleCommand {
    return docker('buildx', 'create', '--name', this.builderName(), this.driverOptions(), this.remoteContextName());
  }

  private removeBuildx(): SimpleCommand {
    return docker('buildx', 'rm', this.builderName());
  }

  /** Without buildx, the build runs on the remote engine through the same docker context Kamal creates. */
  override fallbackPrepare(): { check: Command; create: Command } {
    return { check: this.inspectRemoteContext(), create: this.createRemoteContext() };
  }

  protected override fallbackGlobalOptions(): string[] {
    return ['--context', this.remoteContextName()];
  }

  protected override fallbackArches(): string[] {
    return this.builderConfig.remoteArches;
  }

  override withoutBuildxProblem(localArch: string): [string, string] | undefined {
    const arches = this.fallbackArches();
    if (arches.length > 1) return super.withoutBuildxProblem(localArch);
    return undefined;
  }
}

export class HybridBuilder extends RemoteBuilder {
  override readonly name: BuilderName = 'hybrid';

  override create(): Command {
    return combine(this.createLocalBuildx(), this.createRemoteContext(), this.appendRemoteBuildx());
  }

  override builderName(): string {
    return `kamal-hybrid-${this.builderConfig.driver}-${this.remoteBuilderNameSuffix()}`;
  }

  override withoutBuildxProblem(): [string, string] {
    const local = this.builderConfig.localArches.map((a) => `linux/${a}`).join(', ');
    const remote = this.builderConfig.remoteArches.map((a) => `linux/${a}`).join(', ');
    return ['builder/remote', `building ${local} here and ${remote} on ${this.remote} into one image needs docker buildx, which is not installed here (or set builder.local: false to build on the remote host only)`];
  }

  private createLocalBuildx(): SimpleCommand {
    return docker(
      'buildx',
      'create',
      this.platformOptions(this.builderConfig.localArches),
      '--name',
      this.builderName(),
      `--driver=${this.builderConfig.driver}`,
      this.driverOptions(),
    );
  }

  private appendRemoteBuildx(): SimpleCommand {
    return docker(
      'buildx',
      'create',
      this.platformOptions(this.builderConfig.remoteArches),
      '--append',
      '--name',
      this.builderName(),
      this.driverOptions(),
      this.remoteContextName(),
    );
  }
}

/** Docker Build Cloud; `driver` is `cloud <org>/<builder>`. */
export class CloudBuilder extends BuilderBase {
  readonly name = 'cloud' as const;

  // Kamal passes the driver unquoted: `--driver cloud <org>/<builder>`, the endpoint being its own argument
  create(): Command {
    return docker('buildx', 'create', '--driver', ...this.builderConfig.driver.split(/\s+/).filter(Boolean));
  }

  remove(): Command {
    return docker('buildx', 'rm', this.builderName());
  }

  builderName(): string {
    return this.builderConfig.driver.replace(/[ /]/g, '-');
  }

  override withoutBuildxProblem(): [string, string] {
    return ['builder/driver', `${this.builderConfig.driver} builds through docker buildx, which is not installed here`];
  }
}

/** Cloud Native Buildpacks (`pack build`). */
export class PackBuilder extends BuilderBase {
  readonly name = 'pack' as const;

  override push(exportAction = 'registry', opts: PushOptions = {}): Command {
    return combine(this.build(opts), this.export(exportAction));
  }

  create(): Command | undefined {
    return undefined;
  }

  remove(): Command | undefined {
    return undefined;
  }

  builderName(): string {
    return this.builderConfig.packBuilder ?? '';
  }

  override info(): Command {
    return cmd('pack', 'builder', 'inspect', this.builderConfig.packBuilder ?? '');
  }

  override inspectBuilder(): Command {
    return this.info();
  }

  private build(opts: PushOptions): SimpleCommand {
    const buildpacks = [...(this.builderConfig.packBuildpacks ?? []), 'paketo-buildpacks/image-labels'];
    return cmd(
      'pack',
      'build',
      this.config.repository,
      '--platform',
      `linux/${this.builderConfig.localArches[0]}`,
      '--creation-time',
      'now',
      '--builder',
      this.builderConfig.packBuilder ?? '',
      buildpacks.flatMap((b) => ['--buildpack', b]),
      this.buildTagOptions(opts.tagAsDirty),
      opts.noCache ? '--clear-cache' : null,
      '--env',
      `BP_IMAGE_LABELS=service=${this.config.service}`,
      argumentize('--env', this.builderConfig.args),
      argumentize('--env', this.builderConfig.secrets, { sensitive: true }),
      '--path',
      this.buildContext(),
    );
  }

  private export(exportAction: string): Command | undefined {
    if (exportAction !== 'registry') return undefined;
    return combine(docker('push', this.config.absoluteImage), docker('push', this.config.latestImage));
  }
}

/**
 * The builder for the configuration (Kamal::Commands::Builder): delegates to
 * the local, remote, hybrid, pack or cloud target and adds the git clone steps.
 */
export class Builder extends Base {
  readonly options: BuilderCommandOptions;
  #target: BuilderBase | undefined;

  constructor(config: Configuration, options: BuilderCommandOptions = {}) {
    super(config);
    this.options = options;
  }

  get target(): BuilderBase {
    if (!this.#target) {
      const b = this.config.builder;
      if (b.isRemote) this.#target = b.isLocal ? new HybridBuilder(this.config, this.options) : new RemoteBuilder(this.config, this.options);
      else if (b.isPack) this.#target = new PackBuilder(this.config, this.options);
      else if (b.isCloud) this.#target = new CloudBuilder(this.config, this.options);
      else this.#target = new LocalBuilder(this.config, this.options);
    }
    return this.#target;
  }

  get name(): BuilderName {
    return this.target.name;
  }

  get isLocal(): boolean {
    return this.config.builder.isLocal;
  }
  get isRemote(): boolean {
    return this.config.builder.isRemote;
  }
  get isPack(): boolean {
    return this.config.builder.isPack;
  }
  get isCloud(): boolean {
    return this.config.builder.isCloud;
  }

  create(): Command | undefined {
    return this.target.create();
  }
  remove(): Command | undefined {
    return this.target.remove();
  }
  push(exportAction = 'registry', opts: PushOptions = {}): Command {
    return this.target.push(exportAction, opts);
  }
  pushWithoutBuildx(opts: PushOptions = {}): Command {
    return this.target.pushWithoutBuildx(opts);
  }
  fallbackEnv(): Record<string, string> {
    return this.target.fallbackEnv();
  }
  fallbackPrepare(): { check: Command; create: Command } | undefined {
    return this.target.fallbackPrepare();
  }
  fallbackLogin(login: SimpleCommand): SimpleCommand {
    return this.target.fallbackLogin(login);
  }
  withoutBuildxProblem(localArch: string): [string, string] | undefined {
    return this.target.withoutBuildxProblem(localArch);
  }
  withoutBuildxNotes(): string[] {
    return this.target.withoutBuildxNotes();
  }
  clean(): Command {
    return this.target.clean();
  }
  pull(): Command {
    return this.target.pull();
  }
  info(): Command {
    return this.target.info();
  }
  inspectBuilder(): Command | undefined {
    return this.target.inspectBuilder();
  }
  validateImage(): Command {
    return this.target.validateImage();
  }
  firstMirror(): Command {
    return this.target.firstMirror();
  }
  get loginToRegistryLocally(): boolean {
    return this.target.loginToRegistryLocally;
  }
  pushEnv(): Record<string, string> {
    return this.target.pushEnv();
  }
  dockerVersion(): SimpleCommand {
    return this.target.dockerVersion();
  }
  buildxVersion(): SimpleCommand {
    return this.target.buildxVersion();
  }

  // --- building from a clean git clone (Kamal::Commands::Builder::Clone) ---

  /** `git -C <cloneDirectory> clone <gitRoot> --recurse-submodules` */
  clone(opts: { gitRoot: string; cloneDirectory: string }): SimpleCommand {
    return git(['clone', opts.gitRoot, '--recurse-submodules'], { path: opts.cloneDirectory });
  }

  cloneResetSteps(opts: { gitRoot: string; buildDirectory: string; revision: string }): SimpleCommand[] {
    const path = opts.buildDirectory;
    return [
      git(['remote', 'set-url', 'origin', opts.gitRoot], { path }),
      git(['fetch', 'origin'], { path }),
      git(['reset', '--hard', opts.revision], { path }),
      git(['clean', '-fdx'], { path }),
      git(['submodule', 'update', '--init'], { path }),
      git(['gc', '--auto', '--quiet'], { path }),
    ];
  }

  cloneStatus(opts: { buildDirectory: string }): SimpleCommand {
    return git(['status', '--porcelain'], { path: opts.buildDirectory });
  }

  cloneRevision(opts: { buildDirectory: string }): SimpleCommand {
    return git(['rev-parse', 'HEAD'], { path: opts.buildDirectory });
  }
}

