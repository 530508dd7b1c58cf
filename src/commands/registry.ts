/** Registry login/logout and the local registry container (Kamal::Commands::Registry). */
import type { Registry as RegistryConfig } from '../model/registry.js';
import { Secret } from '../secret.js';
import { any, combine, dq, type Command, type SimpleCommand, type Word } from '../shell.js';
import { Base, docker } from './base.js';
import { stdinWord } from '../exec/stdin.js';

export const LOCAL_REGISTRY_CONTAINER = 'kamal-docker-registry';
export const LOCAL_REGISTRY_IMAGE = 'registry:3';

export class Registry extends Base {
  /**
   * `docker login <server> -u <user> --password-stdin`, the password given on the command's
   * stdin (over the SSH channel on a host), never in an argv; nothing for a local registry.
   * Kamal passes `-p <password>`.
   */
  login(registryConfig?: RegistryConfig): SimpleCommand | undefined {
    const rc = registryConfig ?? this.config.registry;
    if (rc.local) return undefined;
    const username = rc.username;
    const user: Word = username instanceof Secret ? username : dq(username ?? '');
    return docker('login', rc.server ?? null, '-u', user, stdinWord('--password-stdin', rc.password ?? new Secret('')));
  }

  logout(registryConfig?: RegistryConfig): SimpleCommand {
    const rc = registryConfig ?? this.config.registry;
    return docker('logout', rc.server ?? null);
  }

  /** Starts (or runs) the local registry container on 127.0.0.1:<port>. */
  setup(registryConfig?: RegistryConfig): Command {
    const rc = registryConfig ?? this.config.registry;
    return any(
      docker('start', LOCAL_REGISTRY_CONTAINER),
      docker('run', '--detach', '-p', `127.0.0.1:${rc.localPort}:5000`, '--name', LOCAL_REGISTRY_CONTAINER, LOCAL_REGISTRY_IMAGE),
    );
  }

  remove(): Command {
    return combine(docker('stop', LOCAL_REGISTRY_CONTAINER), docker('rm', LOCAL_REGISTRY_CONTAINER));
  }

  get local(): boolean {
    return this.config.registry.local;
  }
}
