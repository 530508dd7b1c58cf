/** kamal-proxy container commands (Kamal::Commands::Proxy). */
import type { Configuration } from '../model/configuration.js';
import { PROXY_MINIMUM_VERSION, type ProxyRun } from '../model/proxy.js';
import { any, cat, chain, cmd, combine, dq, pipe, raw, sub, type Command, type SimpleCommand } from '../shell.js';
import { Base, REDIRECT_STDERR_TO_STDOUT, docker, xargsOf } from './base.js';
import { grepOptionWords, type CommandWords } from './words.js';

export class Proxy extends Base {
  readonly proxyRunConfig: ProxyRun | undefined;

  constructor(config: Configuration, opts: { host: string }) {
    super(config);
    this.proxyRunConfig = config.proxyRun(opts.host);
  }

  /** `docker run` of kamal-proxy: from `proxy/run` when configured, else from the boot_config files on the host. */
  run(): Command {
    const runConfig = this.proxyRunConfig;
    if (runConfig) {
      return docker(
        'run',
        '--name',
        this.containerName,
        '--network',
        'kamal',
        '--detach',
        '--restart',
        'unless-stopped',
        '--volume',
        'kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy',
        runConfig.dockerOptionsArgs(),
        runConfig.image,
        runConfig.runCommand(),
      );
    }
    return pipe(this.bootConfig(), xargsOf(this.dockerRun()));
  }

  start(): SimpleCommand {
    return docker('container', 'start', this.containerName);
  }

  stop(opts: { name?: string } = {}): SimpleCommand {
    return docker('container', 'stop', opts.name ?? this.containerName);
  }

  startOrRun(): Command {
    return any(this.start(), this.run());
  }

  info(): SimpleCommand {
    return docker('ps', '--filter', `name=^${this.containerName}$`);
  }

  version(): Command {
    return pipe(docker('inspect', this.containerName, '--format', '{{.Config.Image}}'), cmd('awk', '-F:', '{print $NF}'));
  }

  logs(opts: { timestamps?: boolean; since?: string; lines?: number | string; grep?: string; grepOptions?: CommandWords } = {}): Command {
    const timestamps = opts.timestamps ?? true;
    return pipe(
      docker(
        'logs',
        this.containerName,
        opts.since ? ['--since', opts.since] : null,
        opts.lines !== undefined && opts.lines !== null ? ['--tail', String(opts.lines)] : null,
        timestamps ? '--timestamps' : null,
        REDIRECT_STDERR_TO_STDOUT,
      ),
      opts.grep ? cmd('grep', opts.grep, grepOptionWords(opts.grepOptions)) : null,
    );
  }

  /** Kamal's follow_logs: the local `ssh -t` line running `followLogsOnHost` on the host. */
  followLogs(opts: { host: string; timestamps?: boolean; grep?: string; grepOptions?: CommandWords }): SimpleCommand {
    return this.runOverSsh(this.followLogsOnHost(opts), { host: opts.host });
  }

  /** What follow_logs runs on the host. */
  followLogsOnHost(opts: { timestamps?: boolean; grep?: string; grepOptions?: CommandWords } = {}): Command {
    const timestamps = opts.timestamps ?? true;
    return pipe(
      docker('logs', this.containerName, timestamps ? '--timestamps' : null, '--tail', '10', '--follow', REDIRECT_STDERR_TO_STDOUT),
      opts.grep ? cmd('grep', dq(opts.grep), grepOptionWords(opts.grepOptions)) : null,
    );
  }

  removeContainer(): SimpleCommand {
    return docker('container', 'prune', '--force', '--filter', 'label=org.opencontainers.image.title=kamal-proxy');
  }

  removeImage(): SimpleCommand {
    return docker('image', 'prune', '--all', '--force', '--filter', 'label=org.opencontainers.image.title=kamal-proxy');
  }

  cleanupTraefik(): Command {
    return chain(
      docker('container', 'stop', 'traefik'),
      combine(
        docker('container', 'prune', '--force', '--filter', 'label=org.opencontainers.image.title=Traefik'),
        docker('image', 'prune', '--all', '--force', '--filter', 'label=org.opencontainers.image.title=Traefik'),
      ),
    );
  }

  ensureProxyDirectory(): SimpleCommand {
    return this.makeDirectory(this.config.proxyBoot.hostDirectory);
  }

  removeProxyDirectory(): SimpleCommand {
    return this.removeDirectory(this.config.proxyBoot.hostDirectory);
  }

  ensureAppsConfigDirectory(): SimpleCommand {
    return this.makeDirectory(this.config.proxyBoot.appsDirectory);
  }

  /** `echo <options> <image>:<version> <run command>` read from the boot_config files (with defaults). */
  bootConfig(): SimpleCommand {
    return cmd('echo', sub(this.readBootOptions()), cat(sub(this.readImage()), ':', sub(this.readImageVersion())), sub(this.readRunCommand()));
  }

  readBootOptions(): Command {
    return this.readFile(this.config.proxyBoot.optionsFile, this.config.proxyBoot.defaultBootOptions().join(' '));
  }

  readImage(): Command {
    return this.readFile(this.config.proxyBoot.imageFile, this.config.proxyBoot.imageDefault);
  }

  readImageVersion(): Command {
    return this.readFile(this.config.proxyBoot.imageVersionFile, PROXY_MINIMUM_VERSION);
  }

  readRunCommand(): Command {
    return this.readFile(this.config.proxyBoot.runCommandFile);
  }

  resetBootOptions(): SimpleCommand {
    return this.removeFile(this.config.proxyBoot.optionsFile);
  }

  resetImage(): SimpleCommand {
    return this.removeFile(this.config.proxyBoot.imageFile);
  }

  resetImageVersion(): SimpleCommand {
    return this.removeFile(this.config.proxyBoot.imageVersionFile);
  }

  resetRunCommand(): SimpleCommand {
    return this.removeFile(this.config.proxyBoot.runCommandFile);
  }

  get containerName(): string {
    return this.config.proxyBoot.containerName;
  }

  private readFile(file: string, fallback = ''): Command {
    return any(cmd('cat', file, raw('2>'), '/dev/null'), cmd('echo', dq(fallback)));
  }

  private dockerRun(): SimpleCommand {
    return docker(
      'run',
      '--name',
      this.containerName,
      '--network',
      'kamal',
      '--detach',
      '--restart',
      'unless-stopped',
      '--volume',
      'kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy',
      this.config.proxyBoot.appsVolume.dockerArgs(),
    );
  }
}
