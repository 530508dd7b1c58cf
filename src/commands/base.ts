/**
 * Shared command helpers (Kamal::Commands::Base): docker invocations,
 * directories and files on hosts, and `ssh` command lines for interactive
 * sessions.
 */
import { posix } from 'node:path';
import type { Configuration } from '../model/configuration.js';
import { hostPathWord, tildePathWord } from '../model/utils.js';
import { cat, cmd, combine, raw, script, type Command, type SimpleCommand, type WordInput } from '../shell.js';

export const DOCKER_HEALTH_STATUS_FORMAT = '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}';

/** `docker ...` */
export function docker(...args: WordInput[]): SimpleCommand {
  return cmd('docker', ...args);
}

/** `git [-C path] ...` */
export function git(args: WordInput[], opts: { path?: string } = {}): SimpleCommand {
  return cmd('git', opts.path !== undefined ? ['-C', opts.path] : null, ...args);
}

/** `xargs <command>` (the right-hand side of a pipe). */
export function xargsOf(command: SimpleCommand): SimpleCommand {
  return cmd('xargs', ...command.words);
}

/** Constant shell syntax used by several builders. */
export const REDIRECT_STDERR_TO_STDOUT = raw('2>&1');

export class Base {
  readonly config: Configuration;

  constructor(config: Configuration) {
    this.config = config;
  }

  /** `ssh ... -t user@host -p port '<command>'`: a local command opening an interactive session. */
  runOverSsh(command: Command, opts: { host: string }): SimpleCommand {
    const ssh = this.config.ssh;
    return cmd(
      'ssh',
      ...this.sshConfigArgs(),
      ...this.sshProxyArgs(),
      ...this.sshKeysArgs(),
      '-t',
      `${ssh.user}@${opts.host}`,
      '-p',
      String(ssh.port),
      script(command),
    );
  }

  containerIdFor(opts: { containerName: string; onlyRunning?: boolean }): SimpleCommand {
    return docker('container', 'ls', opts.onlyRunning ? null : '--all', '--filter', `name=^${opts.containerName}$`, '--quiet');
  }

  makeDirectoryFor(remoteFile: string): SimpleCommand {
    return this.makeDirectory(posix.dirname(remoteFile));
  }

  makeDirectory(path: string): SimpleCommand {
    return cmd('mkdir', '-p', hostPathWord(path));
  }

  removeDirectory(path: string): SimpleCommand {
    return cmd('rm', '-r', hostPathWord(path));
  }

  removeFile(path: string): SimpleCommand {
    return cmd('rm', hostPathWord(path));
  }

  chmod(mode: string, path: string): SimpleCommand {
    return cmd('chmod', mode, hostPathWord(path));
  }

  chown(owner: string, path: string): SimpleCommand {
    return cmd('chown', owner, hostPathWord(path));
  }

  /** Local check: `docker --version && docker buildx version`. */
  ensureDockerInstalled(): Command {
    return combine(this.ensureLocalDockerInstalled(), this.ensureLocalBuildxInstalled());
  }

  ensureLocalDockerInstalled(): SimpleCommand {
    return docker('--version');
  }

  ensureLocalBuildxInstalled(): SimpleCommand {
    return docker('buildx', 'version');
  }

  protected sshConfigArgs(): WordInput[] {
    const c = this.config.ssh.config;
    if (Array.isArray(c)) return c.flatMap((f) => ['-F', tildePathWord(f)]);
    if (typeof c === 'string') return ['-F', tildePathWord(c)];
    if (c === false) return ['-F', '/dev/null'];
    return [];
  }

  protected sshProxyArgs(): WordInput[] {
    const p = this.config.ssh.proxy;
    if (!p) return [];
    if (p.type === 'jump') return ['-J', p.jumpProxies];
    return ['-o', cat('ProxyCommand=', p.commandLineTemplate)];
  }

  protected sshKeysArgs(): WordInput[] {
    const keys = (this.config.ssh.keys ?? []).flatMap((k) => ['-i', tildePathWord(k)]);
    return [...keys, this.config.ssh.keysOnly ? ['-o', 'IdentitiesOnly=yes'] : null];
  }
}

/** `-it` for a terminal, `-i` for piped input. */
export function dockerInteractiveArgs(tty: boolean): string {
  return tty ? '-it' : '-i';
}
