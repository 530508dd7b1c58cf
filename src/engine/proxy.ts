/** kamal-proxy operations (Kamal::Cli::Proxy). */
import { UsageError } from '../errors.js';
import { PROXY_MINIMUM_VERSION } from '../config/constants.js';
import { CommandFailedError } from '../exec/types.js';
import type { Kamal } from './kamal.js';
import { withLock } from './lock.js';
import { appBoot } from './app.js';
import { pruneAll } from './prune.js';
import { runInteractive } from './interactive.js';
import { olderVersion } from '../model/utils.js';

export async function createNetwork(k: Kamal, hosts: string[]): Promise<void> {
  await k.on(hosts, async (host) => {
    const r = await k.exec(host, k.cmds.docker.createNetwork(), { allowFailure: true });
    if (r.exitCode !== 0 && !r.stderr.includes('already exists')) {
      throw new CommandFailedError({ host, command: r.command, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr });
    }
  });
}

export async function proxyBoot(k: Kamal): Promise<void> {
  await withLock(k, async () => {
    await k.step('proxy boot', async () => {
      // where this run already logged in, the proxy's version is read while the network is created
      // (a read that depends on neither): one round trip less before the boot
      const early = new Map<string, Promise<string>>();
      for (const host of k.proxyHosts) {
        if (!k.registryLogins?.has(host) || !k.hosts.includes(host)) continue;
        const reading = k.capture(host, k.cmds.proxy(host).version(), { allowFailure: true, placeholder: '' });
        reading.catch(() => undefined);
        early.set(host, reading);
      }
      await createNetwork(k, k.hosts);
      await k.on(k.proxyHosts, async (host) => {
        const proxy = k.cmds.proxy(host);
        if (!k.registryLogins?.has(host)) await k.exec(host, k.cmds.registry.login());
        const version = await (early.get(host) ?? k.capture(host, proxy.version(), { allowFailure: true, placeholder: '' }));
        if (version && olderVersion(version, PROXY_MINIMUM_VERSION)) {
          throw new UsageError(
            `kamal-proxy version ${version} is too old on ${host}, run \`kamal-action proxy reboot\` in order to update to at least ${PROXY_MINIMUM_VERSION}`,
          );
        }
        await k.exec(host, proxy.ensureAppsConfigDirectory());
        await k.exec(host, proxy.startOrRun());
      });
    });
  });
}

export async function proxyReboot(k: Kamal, opts: { rolling?: boolean } = {}): Promise<void> {
  if (!(await k.confirm('This will cause a brief outage on each host. Are you sure?'))) {
    k.say('Aborted', 'error');
    return;
  }
  await withLock(k, async () => {
    const groups = opts.rolling ? k.proxyHosts.map((h) => [h]) : [k.proxyHosts];
    for (const hosts of groups) {
      const hostList = hosts.join(',');
      await k.runHook('pre-proxy-reboot', { hosts: hostList });
      await k.on(hosts, async (host) => {
        const proxy = k.cmds.proxy(host);
        await k.exec(host, k.cmds.auditor().record('Rebooted proxy'));
        await k.exec(host, k.cmds.registry.login());
        await k.exec(host, proxy.stop(), { allowFailure: true });
        await k.exec(host, proxy.removeContainer());
        await k.exec(host, proxy.ensureAppsConfigDirectory());
        await k.exec(host, proxy.run());
      });
      await k.runHook('post-proxy-reboot', { hosts: hostList });
    }
  });
}

export async function proxyStart(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.on(k.proxyHosts, async (host) => {
      await k.exec(host, k.cmds.auditor().record('Started proxy'));
      await k.exec(host, k.cmds.proxy(host).start());
    }),
  );
}

export async function proxyStop(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.on(k.proxyHosts, async (host) => {
      await k.exec(host, k.cmds.auditor().record('Stopped proxy'));
      await k.exec(host, k.cmds.proxy(host).stop(), { allowFailure: true });
    }),
  );
}

/** `proxy restart`: stop and start under one lock. */
export async function proxyRestart(k: Kamal): Promise<void> {
  await withLock(k, async () => {
    await proxyStop(k);
    await proxyStart(k);
  });
}

/**
 * `proxy upgrade` (hidden in Kamal): on all hosts (or one at a time), clean up Traefik and the old
 * kamal-proxy container and image, then boot the proxy, boot the app at the latest tag and prune.
 */
export async function proxyUpgrade(k: Kamal, opts: { rolling?: boolean } = {}): Promise<void> {
  const version = k.options.version || k.config.latestTag;
  if (!(await k.confirm('This will cause a brief outage on each host. Are you sure?'))) {
    k.say('Aborted', 'error');
    return;
  }
  const groups = opts.rolling ? k.hosts.map((h) => [h]) : [k.hosts];
  for (const hosts of groups) {
    const hostList = hosts.join(',');
    k.say(`Upgrading proxy on ${hostList}...`);
    await k.runHook('pre-proxy-reboot', { hosts: hostList });
    await k.on(hosts, async (host) => {
      const proxy = k.cmds.proxy(host);
      await k.exec(host, k.cmds.auditor().record('Rebooted proxy'));
      await k.exec(host, k.cmds.registry.login());
      await k.exec(host, proxy.cleanupTraefik());
      await k.exec(host, proxy.stop(), { allowFailure: true });
      await k.exec(host, proxy.removeContainer());
      await k.exec(host, proxy.removeImage());
    });
    await k.withSpecificHosts(hosts, async () => {
      await proxyBoot(k);
      await appBoot(k, { version });
      await pruneAll(k);
    });
    await k.runHook('post-proxy-reboot', { hosts: hostList });
    k.say(`Upgraded proxy on ${hostList}`);
  }
}

export async function proxyDetails(k: Kamal): Promise<void> {
  await k.on(k.proxyHosts, async (host) => {
    k.reporter.hostOutput(host, await k.capture(host, k.cmds.proxy(host).info(), { allowFailure: true }), 'Proxy');
  });
}

export async function proxyLogs(
  k: Kamal,
  opts: { since?: string; lines?: number; grep?: string; timestamps?: boolean; follow?: boolean },
): Promise<void> {
  if (opts.follow) {
    const host = k.primaryHost;
    k.say(`Following logs on ${host}...`);
    await runInteractive(k, host, k.cmds.proxy(host).followLogsOnHost({ timestamps: opts.timestamps ?? true, grep: opts.grep }), { announce: true });
    return;
  }
  const lines = opts.lines ?? (opts.since || opts.grep ? undefined : 100);
  await k.on(k.proxyHosts, async (host) => {
    const r = await k.exec(
      host,
      k.cmds.proxy(host).logs({ timestamps: opts.timestamps ?? true, since: opts.since, lines, grep: opts.grep }),
      { allowFailure: true },
    );
    k.reporter.hostOutput(host, `${r.stdout}${r.stderr}`.trim(), 'Proxy');
  });
}

export async function proxyRemove(k: Kamal, opts: { force?: boolean } = {}): Promise<void> {
  await withLock(k, async () => {
    let others = false;
    await k.on(k.proxyHosts, async (host) => {
      const count = Number(await k.capture(host, k.cmds.server.appDirectoryCount(), { placeholder: '0' })) || 0;
      if (count > 0) others = true;
    });
    if (others && !opts.force) {
      k.say('Not removing the proxy, as other apps are installed, ignore this check with kamal-action proxy remove --force');
      return;
    }
    if (others) k.say('Forcing, so removing the proxy, even though other apps are installed');
    await proxyStop(k);
    await proxyRemoveContainer(k);
    await proxyRemoveImage(k);
    await proxyRemoveProxyDirectory(k);
  });
}

export async function proxyRemoveContainer(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.on(k.proxyHosts, async (host) => {
      await k.exec(host, k.cmds.auditor().record('Removed proxy container'));
      await k.exec(host, k.cmds.proxy(host).removeContainer());
    }),
  );
}

export async function proxyRemoveImage(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.on(k.proxyHosts, async (host) => {
      await k.exec(host, k.cmds.auditor().record('Removed proxy image'));
      await k.exec(host, k.cmds.proxy(host).removeImage());
    }),
  );
}

export async function proxyRemoveProxyDirectory(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.on(k.proxyHosts, async (host) => {
      await k.exec(host, k.cmds.proxy(host).removeProxyDirectory(), { allowFailure: true });
    }),
  );
}
