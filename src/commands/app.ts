/**
 * App container commands (Kamal::Commands::App with its Assets, Containers,
 * ErrorPages, Execution, Images, Logging and Proxy parts).
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Configuration } from '../model/configuration.js';
import type { Role } from '../model/role.js';
import { argumentize } from '../model/utils.js';
import { any, cat, chain, cmd, combine, dq, pipe, raw, shell, sub, type Command, type SimpleCommand, type WordInput } from '../shell.js';
import { Base, DOCKER_HEALTH_STATUS_FORMAT, REDIRECT_STDERR_TO_STDOUT, docker, dockerInteractiveArgs, xargsOf } from './base.js';
import { grepOptionWords, isCommand, toWords, type CommandWords } from './words.js';

export const ACTIVE_DOCKER_STATUSES = ['running', 'restarting'] as const;
export const DOCKER_HEALTH_LOG_FORMAT = '{{json .State.Health}}';

export interface LogsOptions {
  /** A container id, or a command printing one; defaults to the current running container. */
  containerId?: string | Command;
  timestamps?: boolean;
  since?: string;
  lines?: number | string;
  grep?: string;
  grepOptions?: CommandWords;
}

export interface ExecOptions {
  /** Attach stdin (`-i`); with `tty` also a terminal (`-it`). */
  interactive?: boolean;
  tty?: boolean;
  env?: Record<string, unknown>;
}

export class App extends Base {
  readonly role: Role | undefined;
  readonly host: string | undefined;

  constructor(config: Configuration, opts: { role?: Role; host?: string } = {}) {
    super(config);
    this.role = opts.role;
    this.host = opts.host;
  }

  /** The role, for the commands that act on one. */
  private get requiredRole(): Role {
    if (!this.role) throw new Error('This command needs a role');
    return this.role;
  }

  containerName(version?: string): string {
    return this.requiredRole.containerName(version);
  }

  run(opts: { hostname?: string } = {}): SimpleCommand {
    const role = this.requiredRole;
    const name = this.containerName();
    return docker(
      'run',
      '--detach',
      '--restart',
      role.restartPolicy,
      '--name',
      name,
      '--network',
      'kamal',
      opts.hostname ? ['--hostname', opts.hostname] : null,
      '--env',
      cat('KAMAL_CONTAINER_NAME=', dq(name)),
      '--env',
      cat('KAMAL_VERSION=', dq(this.config.version)),
      '--env',
      cat('KAMAL_HOST=', dq(this.host ?? '')),
      this.config.destination !== undefined ? ['--env', cat('KAMAL_DESTINATION=', dq(this.config.destination))] : null,
      role.envArgs(this.host ?? ''),
      role.loggingArgs(),
      this.config.volumeArgs(),
      role.assetVolumeArgs() ?? null,
      role.labelArgs(),
      role.optionArgs(),
      this.config.absoluteImage,
      toWords(role.cmd),
    );
  }

  start(): SimpleCommand {
    return docker('start', this.containerName());
  }

  status(opts: { version: string }): Command {
    return pipe(this.containerIdForVersion(opts.version), xargsOf(docker('inspect', '--format', DOCKER_HEALTH_STATUS_FORMAT)));
  }

  stop(opts: { version?: string } = {}): Command {
    return pipe(
      opts.version !== undefined ? this.containerIdForVersion(opts.version) : this.currentRunningContainerId(),
      xargsOf(docker('stop', this.requiredRole.stopArgs())),
    );
  }

  info(): SimpleCommand {
    return docker('ps', this.containerFilterArgs());
  }

  currentRunningContainerId(): Command {
    return this.currentRunningContainer(['--quiet']);
  }

  containerIdForVersion(version: string, opts: { onlyRunning?: boolean } = {}): SimpleCommand {
    return this.containerIdFor({ containerName: this.containerName(version), onlyRunning: opts.onlyRunning });
  }

  currentRunningVersion(): Command {
    return pipe(this.currentRunningContainer(['--format', '{{.Names}}']), this.extractVersionFromName());
  }

  listVersions(dockerArgs: readonly string[] = [], opts: { statuses?: readonly string[] } = {}): Command {
    return pipe(docker('ps', this.containerFilterArgs(opts.statuses), ...dockerArgs, '--format', dq('{{.Names}}')), this.extractVersionFromName());
  }

  ensureEnvDirectory(): SimpleCommand {
    return this.makeDirectory(this.requiredRole.envDirectory);
  }

  // --- assets ---

  extractAssets(): Command {
    const role = this.requiredRole;
    const assetContainer = `${role.containerPrefix}-assets`;
    return combine(
      this.makeDirectory(role.assetExtractedDirectory()),
      any(docker('container', 'rm', assetContainer, raw('2> /dev/null')), cmd('true')),
      docker('container', 'create', '--name', assetContainer, this.config.absoluteImage),
      docker('container', 'cp', '-L', `${assetContainer}:${role.assetPath}/.`, role.assetExtractedDirectory()),
      docker('container', 'rm', assetContainer),
    );
  }

  syncAssetVolumes(opts: { oldVersion?: string | number } = {}): Command {
    const role = this.requiredRole;
    const newExtracted = role.assetExtractedDirectory(this.config.version);
    const newVolume = role.assetVolume()!.hostPath;
    const commands: Command[] = [this.makeDirectory(newVolume), copyContents(newExtracted, newVolume)];
    if (opts.oldVersion !== undefined && opts.oldVersion !== null && String(opts.oldVersion) !== '') {
      const old = String(opts.oldVersion);
      const oldExtracted = role.assetExtractedDirectory(old);
      const oldVolume = role.assetVolume(old)!.hostPath;
      commands.push(copyContents(newExtracted, oldVolume, true));
      commands.push(copyContents(oldExtracted, newVolume, true));
    }
    return chain(...commands);
  }

  cleanUpAssets(): Command {
    const role = this.requiredRole;
    return chain(this.findAndRemoveOlderSiblings(role.assetExtractedDirectory()), this.findAndRemoveOlderSiblings(role.assetVolumeDirectory()));
  }

  private findAndRemoveOlderSiblings(path: string): SimpleCommand {
    return cmd(
      'find',
      posix.dirname(path),
      '-maxdepth',
      '1',
      '-name',
      `${this.requiredRole.name}-*`,
      raw('!'),
      '-name',
      posix.basename(path),
      '-exec',
      'rm',
      '-rf',
      dq('{}'),
      '+',
    );
  }

  // --- containers ---

  listContainers(): SimpleCommand {
    return docker('container', 'ls', '--all', this.containerFilterArgs());
  }

  listContainerNames(): SimpleCommand {
    return cmd(...this.listContainers().words, '--format', '{{ .Names }}');
  }

  removeContainer(opts: { version: string }): Command {
    return pipe(this.containerIdFor({ containerName: this.containerName(opts.version) }), xargsOf(docker('container', 'rm')));
  }

  renameContainer(opts: { version: string; newVersion: string }): SimpleCommand {
    return docker('rename', this.containerName(opts.version), this.containerName(opts.newVersion));
  }

  removeContainers(): SimpleCommand {
    return docker('container', 'prune', '--force', this.containerFilterArgs());
  }

  containerHealthLog(opts: { version: string }): Command {
    return pipe(this.containerIdFor({ containerName: this.containerName(opts.version) }), xargsOf(docker('inspect', '--format', DOCKER_HEALTH_LOG_FORMAT)));
  }

  // --- error pages ---

  createErrorPagesDirectory(): SimpleCommand {
    return this.makeDirectory(this.config.proxyBoot.errorPagesDirectory);
  }

  cleanUpErrorPages(): SimpleCommand {
    return cmd(
      'find',
      this.config.proxyBoot.errorPagesDirectory,
      '-mindepth',
      '1',
      '-maxdepth',
      '1',
      raw('!'),
      '-name',
      this.config.version,
      '-exec',
      'rm',
      '-rf',
      raw('{} +'),
    );
  }

  // --- execution ---

  executeInExistingContainer(command: CommandWords, opts: ExecOptions = {}): SimpleCommand {
    return docker(
      'exec',
      opts.interactive ? dockerInteractiveArgs(opts.tty ?? false) : null,
      argumentize('--env', opts.env ?? {}),
      this.containerName(),
      toWords(command),
    );
  }

  executeInNewContainer(command: CommandWords, opts: ExecOptions & { detach?: boolean; execId?: string } = {}): SimpleCommand {
    const role = this.requiredRole;
    return docker(
      'run',
      opts.interactive ? dockerInteractiveArgs(opts.tty ?? false) : null,
      opts.detach ? '--detach' : null,
      opts.detach ? null : '--rm',
      '--name',
      this.containerNameForExec(opts.execId),
      '--network',
      'kamal',
      role.envArgs(this.host ?? ''),
      argumentize('--env', opts.env ?? {}),
      role.loggingArgs(),
      this.config.volumeArgs(),
      role.optionArgs(),
      this.config.absoluteImage,
      toWords(command),
    );
  }

  executeInExistingContainerOverSsh(command: CommandWords, opts: { env?: Record<string, unknown>; tty?: boolean } = {}): SimpleCommand {
    return this.runOverSsh(this.executeInExistingContainer(command, { interactive: true, tty: opts.tty ?? true, env: opts.env }), { host: this.host! });
  }

  executeInNewContainerOverSsh(command: CommandWords, opts: { env?: Record<string, unknown>; tty?: boolean; execId?: string } = {}): SimpleCommand {
    return this.runOverSsh(this.executeInNewContainer(command, { interactive: true, tty: opts.tty ?? true, env: opts.env, execId: opts.execId }), {
      host: this.host!,
    });
  }

  private containerNameForExec(execId?: string): string {
    return [this.requiredRole.containerPrefix, 'exec', this.config.version, execId ?? randomBytes(3).toString('hex')].join('-');
  }

  // --- images ---

  listImages(): SimpleCommand {
    return docker('image', 'ls', this.config.repository);
  }

  removeImages(): SimpleCommand {
    return docker('image', 'prune', '--all', '--force', argumentize('--filter', this.imageFilters()));
  }

  tagLatestImage(): SimpleCommand {
    return docker('tag', this.config.absoluteImage, this.config.latestImage);
  }

  // --- logging ---

  logs(opts: LogsOptions = {}): Command {
    const timestamps = opts.timestamps ?? true;
    return pipe(
      this.containerIdCommand(opts.containerId),
      cmd(
        'xargs',
        'docker',
        'logs',
        timestamps ? '--timestamps' : null,
        opts.since ? ['--since', opts.since] : null,
        opts.lines !== undefined && opts.lines !== null ? ['--tail', String(opts.lines)] : null,
        REDIRECT_STDERR_TO_STDOUT,
      ),
      opts.grep ? cmd('grep', opts.grep, grepOptionWords(opts.grepOptions)) : null,
    );
  }

  /** Kamal's follow_logs: the local `ssh -t` line running `followLogsOnHost` on the host. */
  followLogs(opts: LogsOptions & { host: string }): SimpleCommand {
    return this.runOverSsh(this.followLogsOnHost(opts), { host: opts.host });
  }

  /** What follow_logs runs on the host. */
  followLogsOnHost(opts: LogsOptions): Command {
    const timestamps = opts.timestamps ?? true;
    return pipe(
      this.containerIdCommand(opts.containerId),
      cmd(
        'xargs',
        'docker',
        'logs',
        timestamps ? '--timestamps' : null,
        opts.lines !== undefined && opts.lines !== null ? ['--tail', String(opts.lines)] : null,
        '--follow',
        REDIRECT_STDERR_TO_STDOUT,
      ),
      opts.grep ? cmd('grep', dq(opts.grep), grepOptionWords(opts.grepOptions)) : null,
    );
  }

  private containerIdCommand(containerId: string | Command | undefined): Command {
    if (containerId === undefined || containerId === null) return this.currentRunningContainerId();
    if (isCommand(containerId)) return containerId;
    return shell(cmd('echo', containerId));
  }

  // --- proxy ---

  deploy(opts: { target: string }): SimpleCommand {
    const role = this.requiredRole;
    return this.proxyExec('deploy', role.containerPrefix, role.proxy!.deployCommandArgs({ target: opts.target }));
  }

  remove(): SimpleCommand {
    return this.proxyExec('remove', this.requiredRole.containerPrefix);
  }

  live(): SimpleCommand {
    return this.proxyExec('resume', this.requiredRole.containerPrefix);
  }

  maintenance(opts: { drainTimeout?: number | string; message?: string } = {}): SimpleCommand {
    const role = this.requiredRole;
    return this.proxyExec('stop', role.containerPrefix, role.proxy!.stopCommandArgs(opts));
  }

  removeProxyAppDirectory(): SimpleCommand {
    return this.removeDirectory(this.config.proxyBoot.appDirectory);
  }

  createSslDirectory(): SimpleCommand {
    return this.makeDirectory(posix.join(this.config.proxyBoot.tlsDirectory, this.requiredRole.name));
  }

  private proxyExec(...command: WordInput[]): SimpleCommand {
    return docker('exec', this.config.proxyBoot.containerName, 'kamal-proxy', ...command);
  }

  // --- internals ---

  private latestImageId(): SimpleCommand {
    return docker('image', 'ls', argumentize('--filter', `reference=${this.config.latestImage}`), '--format', '{{.ID}}');
  }

  private currentRunningContainer(format: WordInput[]): Command {
    return pipe(shell(chain(this.latestImageContainer(format), this.latestContainer(format))), cmd('head', '-1'));
  }

  private latestImageContainer(format: WordInput[]): SimpleCommand {
    return this.latestContainer(format, [cat('ancestor=', sub(this.latestImageId()))]);
  }

  private latestContainer(format: WordInput[], filters: WordInput[] = []): SimpleCommand {
    return docker(
      'ps',
      '--latest',
      ...format,
      this.containerFilterArgs(ACTIVE_DOCKER_STATUSES),
      filters.flatMap((f) => ['--filter', f]),
    );
  }

  private containerFilterArgs(statuses?: readonly string[]): WordInput[] {
    return argumentize('--filter', this.containerFilters(statuses));
  }

  private extractVersionFromName(): SimpleCommand {
    // Extract the version from "service-role-destination-version"
    return cmd(raw('while read line; do echo'), cat(raw('${line#'), `${this.requiredRole.containerPrefix}-`, raw('}; done')));
  }

  private containerFilters(statuses?: readonly string[]): string[] {
    const filters = [`label=service=${this.config.service}`, `label=destination=${this.config.destination ?? ''}`];
    if (this.role) filters.push(`label=role=${this.role.name}`);
    for (const s of statuses ?? []) filters.push(`status=${s}`);
    return filters;
  }

  private imageFilters(): string[] {
    return [`label=service=${this.config.service}`];
  }
}

function copyContents(source: string, destination: string, continueOnError = false): Command {
  const copy = cmd('cp', '-rnT', source, destination);
  return continueOnError ? any(copy, cmd('true')) : copy;
}
