/** Accessory container commands (Kamal::Commands::Accessory). */
import type { Accessory as AccessoryConfig, AccessoryDirectory, AccessoryFile } from '../model/accessory.js';
import { hostPathWord } from '../model/utils.js';
import type { Configuration } from '../model/configuration.js';
import { cat, cmd, dq, pipe, type Command, type SimpleCommand, type WordInput } from '../shell.js';
import { Base, REDIRECT_STDERR_TO_STDOUT, docker, dockerInteractiveArgs } from './base.js';
import { grepOptionWords, toWords, type CommandWords } from './words.js';

export class Accessory extends Base {
  readonly accessoryConfig: AccessoryConfig;

  constructor(config: Configuration, opts: { name: string }) {
    super(config);
    const a = config.accessory(opts.name);
    if (!a) throw new Error(`No accessory by the name of '${opts.name}'`);
    this.accessoryConfig = a;
  }

  get serviceName(): string {
    return this.accessoryConfig.serviceName;
  }
  get image(): string {
    return this.accessoryConfig.image;
  }
  get hosts(): string[] {
    return this.accessoryConfig.hosts;
  }
  get secretsPath(): string {
    return this.accessoryConfig.secretsPath;
  }
  get runningProxy(): boolean {
    return this.accessoryConfig.runningProxy;
  }
  get registry() {
    return this.accessoryConfig.registry;
  }
  get files() {
    return this.accessoryConfig.files;
  }
  get directories() {
    return this.accessoryConfig.directories;
  }
  secretsIo() {
    return this.accessoryConfig.secretsIo();
  }

  run(opts: { host?: string } = {}): SimpleCommand {
    const a = this.accessoryConfig;
    return docker(
      'run',
      '--name',
      a.serviceName,
      '--detach',
      '--restart',
      a.restartPolicy,
      a.networkArgs(),
      this.config.loggingArgs(),
      a.publishArgs() ?? null,
      opts.host ? ['--env', cat('KAMAL_HOST=', dq(opts.host))] : null,
      a.envArgs(),
      a.volumeArgs(),
      a.labelArgs(),
      a.optionArgs(),
      a.image,
      toWords(a.cmd),
    );
  }

  start(): SimpleCommand {
    return docker('container', 'start', this.serviceName);
  }

  stop(): SimpleCommand {
    return docker('container', 'stop', this.serviceName);
  }

  info(opts: { all?: boolean; quiet?: boolean } = {}): SimpleCommand {
    return docker('ps', opts.all ? '-a' : null, opts.quiet ? '-q' : null, this.serviceFilter());
  }

  logs(opts: { timestamps?: boolean; since?: string; lines?: number | string; grep?: string; grepOptions?: CommandWords } = {}): Command {
    const timestamps = opts.timestamps ?? true;
    return pipe(
      docker(
        'logs',
        this.serviceName,
        opts.since ? ['--since', opts.since] : null,
        opts.lines !== undefined && opts.lines !== null ? ['--tail', String(opts.lines)] : null,
        timestamps ? '--timestamps' : null,
        REDIRECT_STDERR_TO_STDOUT,
      ),
      opts.grep ? cmd('grep', opts.grep, grepOptionWords(opts.grepOptions)) : null,
    );
  }

  /** Kamal's follow_logs: the local `ssh -t` line running `followLogsOnHost` on the first host. */
  followLogs(opts: { timestamps?: boolean; grep?: string; grepOptions?: CommandWords } = {}): SimpleCommand {
    return this.runOverSsh(this.followLogsOnHost(opts));
  }

  /** What follow_logs runs on the host. */
  followLogsOnHost(opts: { timestamps?: boolean; grep?: string; grepOptions?: CommandWords } = {}): Command {
    const timestamps = opts.timestamps ?? true;
    return pipe(
      docker('logs', this.serviceName, timestamps ? '--timestamps' : null, '--tail', '10', '--follow', REDIRECT_STDERR_TO_STDOUT),
      opts.grep ? cmd('grep', dq(opts.grep), grepOptionWords(opts.grepOptions)) : null,
    );
  }

  executeInExistingContainer(command: CommandWords, opts: { interactive?: boolean; tty?: boolean } = {}): SimpleCommand {
    return docker('exec', opts.interactive ? dockerInteractiveArgs(opts.tty ?? false) : null, this.serviceName, toWords(command));
  }

  executeInNewContainer(command: CommandWords, opts: { interactive?: boolean; tty?: boolean } = {}): SimpleCommand {
    const a = this.accessoryConfig;
    return docker(
      'run',
      opts.interactive ? dockerInteractiveArgs(opts.tty ?? false) : null,
      '--rm',
      a.networkArgs(),
      a.envArgs(),
      a.volumeArgs(),
      a.optionArgs(),
      a.image,
      toWords(command),
    );
  }

  executeInExistingContainerOverSsh(command: CommandWords, opts: { tty?: boolean } = {}): SimpleCommand {
    return this.runOverSsh(this.executeInExistingContainer(command, { interactive: true, tty: opts.tty ?? true }));
  }

  executeInNewContainerOverSsh(command: CommandWords, opts: { tty?: boolean } = {}): SimpleCommand {
    return this.runOverSsh(this.executeInNewContainer(command, { interactive: true, tty: opts.tty ?? true }));
  }

  /** An interactive ssh session on the accessory's first host. */
  override runOverSsh(command: Command, opts?: { host: string }): SimpleCommand {
    return super.runOverSsh(command, { host: opts?.host ?? this.hosts[0]! });
  }

  pullImage(): SimpleCommand {
    return docker('image', 'pull', this.image);
  }

  /**
   * A `directories:` entry created on the host as Kamal creates it: relative ones under
   * `$PWD/<service>/` (the login directory, expanded by the host's shell), absolute ones as written.
   */
  makeDataDirectory(dir: AccessoryDirectory): SimpleCommand {
    return this.makeDirectory(dir.path);
  }

  /** Its mode and owner when the entry sets them (`chmod MODE $PWD/<service>/<dir>`, `chown OWNER ...`). */
  dataDirectoryPermissions(dir: AccessoryDirectory): SimpleCommand[] {
    return [...(dir.mode ? [cmd('chmod', dir.mode, hostPathWord(dir.path))] : []), ...(dir.owner ? [cmd('chown', dir.owner, hostPathWord(dir.path))] : [])];
  }

  /** The folder an uploaded `files:` entry goes in (`mkdir -p <service>/<dir of remote>`). */
  makeFileDirectory(file: AccessoryFile): SimpleCommand {
    return this.makeDirectoryFor(file.hostPath);
  }

  /** Mode and owner of an uploaded file (`chmod 755 <service>/<remote>`, `chown OWNER ...`). */
  filePermissions(file: AccessoryFile): SimpleCommand[] {
    return [cmd('chmod', file.mode, file.hostPath), ...(file.owner ? [cmd('chown', file.owner, file.hostPath)] : [])];
  }

  removeServiceDirectory(): SimpleCommand {
    return cmd('rm', '-rf', this.serviceName);
  }

  removeContainer(): SimpleCommand {
    return docker('container', 'prune', '--force', this.serviceFilter());
  }

  removeImage(): SimpleCommand {
    return docker('image', 'rm', '--force', this.image);
  }

  ensureEnvDirectory(): SimpleCommand {
    return this.makeDirectory(this.accessoryConfig.envDirectory);
  }

  deploy(opts: { target: string }): SimpleCommand {
    return this.proxyExec('deploy', this.serviceName, this.accessoryConfig.proxy!.deployCommandArgs({ target: opts.target }));
  }

  remove(): SimpleCommand {
    return this.proxyExec('remove', this.serviceName);
  }

  private proxyExec(...command: WordInput[]): SimpleCommand {
    return docker('exec', this.config.proxyBoot.containerName, 'kamal-proxy', ...command);
  }

  private serviceFilter(): WordInput[] {
    return ['--filter', `label=service=${this.serviceName}`];
  }
}
