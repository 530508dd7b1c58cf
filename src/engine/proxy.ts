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

export async function createNetwork(kamal: Kamal, hosts: string[]): Promise<void> {
  await kamal.on(hosts, async (host) => {
    const r = await kamal.exec(host, kamal.cmds.docker.createNetwork(), { allowFailure: true });
    if (r.exitCode !== 0 && !r.stderr.includes('already exists')) {
      throw new CommandFailedError({ host, command: r.command, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr });
    }
  });
}

export async function proxyBoot(kamal: Kamal): Promise<void> {
  await withLock(kamal, async () => {
    await kamal.step('proxy boot', async () => {
      // where this run already logged in, the proxy's version is read while the network is created
      // (a read that depends on neither): one round trip less before the boot
      const early = new Map<string, Promise<string>>();
      for (const host of kamal.proxyHosts) {
        if (!kamal.registryLogins?.has(host) || !kamal.hosts.includes(host)) continue;
        const reading = kamal.capture(host, kamal.cmds.proxy(host).version(), { allowFailure: true, placeholder: '' });
        reading.catch(() => undefined);
        early.set(host, reading);
      }
      await createNetwork(kamal, kamal.hosts);
      await kamal.on(kamal.proxyHosts, async (host) => {
        const proxy = kamal.cmds.proxy(host);
        if (!kamal.registryLogins?.has(host)) await kamal.exec(host, kamal.cmds.registry.login());
        const version = await (early.get(host) ?? kamal.capture(host, proxy.version(), { allowFailure: true, placeholder: '' }));
        if (version && olderVersion(version, PROXY_MINIMUM_VERSION)) {
          throw new UsageError(
            `kamal-proxy version ${version} is too old on ${host}, run \`kamal-action proxy reboot\` in order to update to at least ${PROXY_MINIMUM_VERSION}`,
          );
        }
        await kamal.exec(host, proxy.ensureAppsConfigDirectory());
        await kamal.exec(host, proxy.startOrRun());
      });
    });
  });
}

export async function proxyReboot(kamal: Kamal, opts: { rolling?: boolean } = {}): Promise<void> {
  if (!(await kamal.confirm('This will cause a brief outage on each host. Are you sure?'))) {
    kamal.say('Aborted', 'error');
    return;
  }
  await withLock(kamal, async () => {
    const groups = opts.rolling ? kamal.proxyHosts.map((h) => [h]) : [kamal.proxyHosts];
    for (const hosts of groups) {
      const hostList = hosts.join(',');
      await kamal.runHook('pre-proxy-reboot', { hosts: hostList });
      await kamal.on(hosts, async (host) => {
        const proxy = kamal.cmds.proxy(host);
        await kamal.exec(host, kamal.cmds.auditor().record('Rebooted proxy'));
        await kamal.exec(host, kamal.cmds.registry.login());
        await kamal.exec(host, proxy.stop(), { allowFailure: true });
        await kamal.exec(host, proxy.removeContainer());
        await kamal.exec(host, proxy.ensureAppsConfigDirectory());
        await kamal.exec(host, proxy.run());
      });
      await kamal.runHook('post-proxy-reboot', { hosts: hostList });
    }
  });
}

export async function proxyStart(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.on(kamal.proxyHosts, async (host) => {
      await kamal.exec(host, kamal.cmds.auditor().record('Started proxy'));
      await kamal.exec(host, kamal.cmds.proxy(host).start());
    }),
  );
}

export async function proxyStop(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.on(kamal.proxyHosts, async (host) => {
      await kamal.exec(host, kamal.cmds.auditor().record('Stopped proxy'));
      await kamal.exec(host, kamal.cmds.proxy(host).stop(), { allowFailure: true });
    }),
  );
}

/** `proxy restart`: stop and start under one lock. */
export async function proxyRestart(kamal: Kamal): Promise<void> {
  await withLock(kamal, async () => {
    await proxyStop(kamal);
    await proxyStart(kamal);
  });
}

/**
 * `proxy upgrade` (hidden in Kamal): on all hosts (or one at a time), clean up Traefik and the old
 * kamal-proxy container and image, then boot the proxy, boot the app at the latest tag and prune.
 */
export async function proxyUpgrade(kamal: Kamal, opts: { rolling?: boolean } = {}): Promise<void> {
  const version = kamal.options.version || kamal.config.latestTag;
  if (!(await kamal.confirm('This will cause a brief outage on each host. Are you sure?'))) {
    kamal.say('Aborted', 'error');
    return;
  }
  const groups = opts.rolling ? kamal.hosts.map((h) => [h]) : [kamal.hosts];
  for (const hosts of groups) {
    const hostList = hosts.join(',');
    kamal.say(`Upgrading proxy on ${hostList}...`);
    await kamal.runHook('pre-proxy-reboot', { hosts: hostList });
    await kamal.on(hosts, async (host) => {
      const proxy = kamal.cmds.proxy(host);
      await kamal.exec(host, kamal.cmds.auditor().record('Rebooted proxy'));
      await kamal.exec(host, kamal.cmds.registry.login());
      await kamal.exec(host, proxy.cleanupTraefik());
      await kamal.exec(host, proxy.stop(), { allowFailure: true });
      await kamal.exec(host, proxy.removeContainer());
      await kamal.exec(host, proxy.removeImage());
    });
    await kamal.withSpecificHosts(hosts, async () => {
      await proxyBoot(kamal);
      await appBoot(kamal, { version });
      await pruneAll(kamal);
    });
    await kamal.runHook('post-proxy-reboot', { hosts: hostList });
    kamal.say(`Upgraded proxy on ${hostList}`);
  }
}

export async function proxyDetails(kamal: Kamal): Promise<void> {
  await kamal.on(kamal.proxyHosts, async (host) => {
    kamal.reporter.hostOutput(host, await kamal.capture(host, kamal.cmds.proxy(host).info(), { allowFailure: true }), 'Proxy');
  });
}

export async function proxyLogs(kamal: Kamal, opts: { since?: string; lines?: number; grep?: string; timestamps?: boolean; follow?: boolean }): Promise<void> {
  if (opts.follow) {
    const host = kamal.primaryHost;
    kamal.say(`Following logs on ${host}...`);
    await runInteractive(kamal, host, kamal.cmds.proxy(host).followLogsOnHost({ timestamps: opts.timestamps ?? true, grep: opts.grep }), { announce: true });
    return;
  }
  const lines = opts.lines ?? (opts.since || opts.grep ? undefined : 100);
  await kamal.on(kamal.proxyHosts, async (host) => {
    const r = await kamal.exec(host, kamal.cmds.proxy(host).logs({ timestamps: opts.timestamps ?? true, since: opts.since, lines, grep: opts.grep }), {
      allowFailure: true,
    });
    kamal.reporter.hostOutput(host, `${r.stdout}${r.stderr}`.trim(), 'Proxy');
  });
}

export async function proxyRemove(kamal: Kamal, opts: { force?: boolean } = {}): Promise<void> {
  await withLock(kamal, async () => {
    let others = false;
    await kamal.on(kamal.proxyHosts, async (host) => {
      const count = Number(await kamal.capture(host, kamal.cmds.server.appDirectoryCount(), { placeholder: '0' })) || 0;
      if (count > 0) others = true;
    });
    if (others && !opts.force) {
      kamal.say('Not removing the proxy, as other apps are installed, ignore this check with kamal-action proxy remove --force');
      return;
    }
    if (others) kamal.say('Forcing, so removing the proxy, even though other apps are installed');
    await proxyStop(kamal);
    await proxyRemoveContainer(kamal);
    await proxyRemoveImage(kamal);
    await proxyRemoveProxyDirectory(kamal);
  });
}

export async function proxyRemoveContainer(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.on(kamal.proxyHosts, async (host) => {
      await kamal.exec(host, kamal.cmds.auditor().record('Removed proxy container'));
      await kamal.exec(host, kamal.cmds.proxy(host).removeContainer());
    }),
  );
}

export async function proxyRemoveImage(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.on(kamal.proxyHosts, async (host) => {
      await kamal.exec(host, kamal.cmds.auditor().record('Removed proxy image'));
      await kamal.exec(host, kamal.cmds.proxy(host).removeImage());
    }),
  );
}

export async function proxyRemoveProxyDirectory(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.on(kamal.proxyHosts, async (host) => {
      await kamal.exec(host, kamal.cmds.proxy(host).removeProxyDirectory(), { allowFailure: true });
    }),
  );
}
