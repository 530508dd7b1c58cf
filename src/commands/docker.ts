/** Docker on the hosts: presence, install, permissions, network (Kamal::Commands::Docker). */
import { any, cmd, dq, pipe, raw, shell, type Command, type SimpleCommand } from '../shell.js';
import { Base, docker } from './base.js';

export class Docker extends Base {
  /** Installs Docker with the get.docker.com convenience script. */
  install(): Command {
    return pipe(this.getDocker(), cmd('sh'));
  }

  /** Fails when the Docker client is missing. */
  installed(): SimpleCommand {
    return docker('-v');
  }

  /** Fails when the Docker daemon is not running. */
  running(): SimpleCommand {
    return docker('version');
  }

  /** Root, or passwordless sudo allowed to run usermod. */
  superuser(): SimpleCommand {
    return cmd(raw('[ "${EUID:-$(id -u)}" -eq 0 ] || sudo -nl usermod >/dev/null'));
  }

  root(): SimpleCommand {
    return cmd(raw('[ "${EUID:-$(id -u)}" -eq 0 ]'));
  }

  inDockerGroup(): SimpleCommand {
    return cmd(raw('id -nG "${USER:-$(id -un)}" | grep -qw docker'));
  }

  addToDockerGroup(): SimpleCommand {
    return cmd(raw('sudo -n usermod -aG docker "${USER:-$(id -un)}"'));
  }

  refreshSession(): SimpleCommand {
    return cmd(raw('kill -HUP $PPID'));
  }

  createNetwork(): SimpleCommand {
    return docker('network', 'create', 'kamal');
  }

  private getDocker(): SimpleCommand {
    return shell(any(cmd('curl', '-fsSL', 'https://get.docker.com'), cmd('wget', '-O', '-', 'https://get.docker.com'), cmd('echo', dq('exit 1'))));
  }
}
