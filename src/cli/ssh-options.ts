/** Maps the `ssh:` and `sshkit:` configuration (and CLI/action trust settings) onto the SSH pool. */
import type { Configuration } from '../model/index.js';
import { SshPool, type SshPoolOptions } from '../ssh/pool.js';
import { cachedLookup, localConfigFs, sshConfigFiles, type ConfigFs } from '../ssh/ssh-config.js';

export interface TrustOptions {
  hostKeyChecking?: 'strict' | 'accept-new' | 'off';
  knownHostsFile?: string;
  sshKeyFile?: string;
}

export function sshPoolOptions(
  config: Configuration,
  trust: TrustOptions,
  env: Record<string, string | undefined>,
  /** Where `ssh.config` files are read from: the machine's files (relative paths from `cwd`), or an injected reader. */
  files: ConfigFs = localConfigFs(process.cwd()),
): SshPoolOptions {
  const ssh = config.ssh;
  const proxy = ssh.proxy;
  const checking = trust.hostKeyChecking ?? (env.KAMAL_ACTION_HOST_KEY_CHECKING as TrustOptions['hostKeyChecking'] | undefined) ?? 'strict';
  const knownHosts = trust.knownHostsFile ?? env.KAMAL_ACTION_KNOWN_HOSTS;
  // The action's ssh-private-key input (a key file it wrote) comes before the config's keys.
  const actionKey = trust.sshKeyFile ?? env.KAMAL_ACTION_SSH_KEY;
  const keys = actionKey ? [actionKey, ...(ssh.keys ?? [])] : ssh.keys;
  return {
    user: ssh.user,
    port: Number(ssh.port),
    keys,
    keyData: ssh.keyData,
    keysOnly: ssh.keysOnly,
    forwardAgent: ssh.forwardAgent,
    proxy: proxy?.type === 'jump' ? proxy.jumpProxies : undefined,
    proxyCommand: proxy?.type === 'command' ? proxy.commandLineTemplate : undefined,
    hostConfig: cachedLookup(sshConfigFiles(ssh.config), files),
    logLevel: ssh.logLevel,
    maxConcurrentStarts: config.sshkit.maxConcurrentStarts,
    idleTimeoutMs: config.sshkit.poolIdleTimeout * 1000,
    dnsRetries: config.sshkit.dnsRetries,
    hostKeyChecking: checking,
    knownHostsFiles: knownHosts ? [knownHosts] : undefined,
  };
}

export function sshPoolFor(config: Configuration, trust: TrustOptions, env: Record<string, string | undefined>, cwd = process.cwd()): SshPool {
  return new SshPool(sshPoolOptions(config, trust, env, localConfigFs(cwd, env.HOME || undefined)));
}
