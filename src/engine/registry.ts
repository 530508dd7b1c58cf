/** `registry` (Kamal::Cli::Registry): the local registry container, or docker login/logout locally and on the hosts. */
import { UsageError } from '../errors.js';
import { LOCAL } from '../exec/types.js';
import { ensureDockerInstalled } from './build.js';
import type { Kamal } from './kamal.js';

export interface RegistryOptions {
  skipLocal?: boolean;
  skipRemote?: boolean;
}

/** `registry setup`: starts the local registry container, or logs in locally and on every host (Kamal::Cli::Registry). */
export async function registrySetup(kamal: Kamal, opts: RegistryOptions = {}): Promise<void> {
  if (!opts.skipLocal) await ensureDockerInstalled(kamal);
  if (kamal.config.registry.local) {
    if (!opts.skipLocal) await kamal.exec(LOCAL, kamal.cmds.registry.setup());
    return;
  }
  if (!opts.skipLocal) await kamal.exec(LOCAL, kamal.cmds.registry.login());
  if (!opts.skipRemote) await kamal.on(kamal.hosts, async (host) => void (await kamal.exec(host, kamal.cmds.registry.login())));
}

/** `registry remove`: removes the local registry container, or logs out locally and on every host. */
export async function registryRemove(kamal: Kamal, opts: RegistryOptions = {}): Promise<void> {
  if (kamal.config.registry.local) {
    if (!opts.skipLocal) await kamal.exec(LOCAL, kamal.cmds.registry.remove(), { allowFailure: true });
    return;
  }
  if (!opts.skipLocal) await kamal.exec(LOCAL, kamal.cmds.registry.logout());
  if (!opts.skipRemote) await kamal.on(kamal.hosts, async (host) => void (await kamal.exec(host, kamal.cmds.registry.logout())));
}

export async function registryLogin(kamal: Kamal, opts: RegistryOptions = {}): Promise<void> {
  if (kamal.config.registry.local) throw new UsageError('Cannot use login command with a local registry. Use `kamal registry setup` instead.');
  await registrySetup(kamal, opts);
}

export async function registryLogout(kamal: Kamal, opts: RegistryOptions = {}): Promise<void> {
  if (kamal.config.registry.local) throw new UsageError('Cannot use logout command with a local registry. Use `kamal registry remove` instead.');
  await registryRemove(kamal, opts);
}
