/**
 * Image build commands (Kamal::Commands::Builder): the configuration's build target (builder/local,
 * remote, hybrid, cloud or pack, each on builder/base) plus the git clone steps.
 */
import type { Configuration } from '../model/configuration.js';
import type { Command, SimpleCommand } from '../shell.js';
import { Base, git } from './base.js';
import type { BuilderBase, BuilderCommandOptions, BuilderName, PushOptions } from './builder/base.js';
import { CloudBuilder } from './builder/cloud.js';
import { HybridBuilder } from './builder/hybrid.js';
import { LocalBuilder } from './builder/local.js';
import { PackBuilder } from './builder/pack.js';
import { RemoteBuilder } from './builder/remote.js';

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
      const builder = this.config.builder;
      if (builder.isRemote) this.#target = builder.isLocal ? new HybridBuilder(this.config, this.options) : new RemoteBuilder(this.config, this.options);
      else if (builder.isPack) this.#target = new PackBuilder(this.config, this.options);
      else if (builder.isCloud) this.#target = new CloudBuilder(this.config, this.options);
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
