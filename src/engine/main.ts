/** The top-level flows (Kamal::Cli::Main): setup, deploy, redeploy, rollback; prune, server, registry. */
import { LOCAL } from '../exec/types.js';
import { cmd, raw } from '../shell.js';
import type { Kamal } from './kamal.js';
import { withLock } from './lock.js';
import { appBoot, containerAvailable, staleContainers } from './app.js';
import { buildDeliver, buildPull, ensureDockerInstalled } from './build.js';
import { proxyBoot, proxyUpgrade } from './proxy.js';
import { accessoryBoot, accessoryUpgrade } from './accessory.js';
import { UsageError } from '../errors.js';
import { preflight } from './preflight.js';
import { runInteractive } from './interactive.js';

export interface DeployOptions {
  skipPush?: boolean;
  noCache?: boolean;
}

async function timed<T>(k: Kamal, fn: () => Promise<T>): Promise<number> {
  const started = k.now();
  try {
    await fn();
  } finally {
    k.say(`  Finished all in ${((k.now() - started) / 1000).toFixed(1)} seconds`);
  }
  return (k.now() - started) / 1000;
}

async function deliverOrPull(k: Kamal, opts: DeployOptions): Promise<void> {
  if (opts.skipPush) {
    k.say('Pull app image...');
    await buildPull(k);
  } else {
    k.say('Build and push app image...');
    await buildDeliver(k, { noCache: opts.noCache });
  }
}

export async function deploy(k: Kamal, opts: DeployOptions & { bootAccessories?: boolean } = {}): Promise<void> {
  preflight(k, { version: true, build: !opts.skipPush, accessories: opts.bootAccessories });
  const runtime = await timed(k, async () => {
    await deliverOrPull(k, opts);
    await withLock(k, async () => {
      await k.runHook('pre-deploy', { secrets: true });
      k.say('Ensure kamal-proxy is running...');
      await proxyBoot(k);
      if (opts.bootAccessories) await accessoryBoot(k, 'all');
      k.say('Detect stale containers...');
      await k.step('stale containers', () => staleContainers(k, { stop: true }));
      await appBoot(k, { version: k.config.version });
      k.say('Prune old containers and images...');
      await k.step('prune', () => pruneAll(k));
    });
  });
  await k.runHook('post-deploy', { secrets: true, runtime: String(Math.round(runtime)) });
}

export async function redeploy(k: Kamal, opts: DeployOptions = {}): Promise<void> {
  preflight(k, { version: true, build: !opts.skipPush });
  const runtime = await timed(k, async () => {
    await deliverOrPull(k, opts);
    await withLock(k, async () => {
      await k.runHook('pre-deploy', { secrets: true });
      k.say('Detect stale containers...');
      await k.step('stale containers', () => staleContainers(k, { stop: true }));
      await appBoot(k, { version: k.config.version });
    });
  });
  await k.runHook('post-deploy', { secrets: true, runtime: String(Math.round(runtime)) });
}

export async function rollback(k: Kamal, version: string): Promise<boolean> {
  if (!version) throw new UsageError('rollback needs a VERSION (see `kamal-action app containers` for the versions kept on the hosts)');
  preflight(k);
  let rolledBack = false;
  const runtime = await timed(k, async () => {
    await withLock(k, async () => {
      k.config.version = version;
      if (await containerAvailable(k, version)) {
        await k.runHook('pre-deploy', { secrets: true });
        await appBoot(k, { version });
        rolledBack = true;
      } else {
        throw new UsageError(
          `The app version '${version}' is not available as a container (use 'kamal-action app containers' for available versions)`,
        );
      }
    });
  });
  if (rolledBack) await k.runHook('post-deploy', { secrets: true, runtime: String(Math.round(runtime)) });
  return rolledBack;
}

export async function setup(k: Kamal, opts: DeployOptions = {}): Promise<void> {
  preflight(k, { version: true, build: !opts.skipPush, accessories: true });
  await withLock(k, async () => {
    k.say('Ensure Docker is installed...');
    await serverBootstrap(k);
    await deploy(k, { ...opts, bootAccessories: true });
  });
}

/** `upgrade` from Kamal 1.x: kamal-proxy instead of Traefik on the app hosts, accessories restarted (Kamal::Cli::Main#upgrade). */
export async function upgrade(k: Kamal, opts: { rolling?: boolean } = {}): Promise<void> {
  if (!(await k.confirm('This will replace Traefik with kamal-proxy and restart all accessories'))) {
    k.say('Aborted', 'error');
    return;
  }
  await withLock(k, async () => {
    k.options.confirmed = true;
    if (opts.rolling) {
      for (const host of k.hosts) {
        await k.withSpecificHosts([host], async () => {
          k.say(`Upgrading ${host}...`);
          if (k.appHosts.includes(host)) await proxyUpgrade(k);
          if (k.accessoryHosts.includes(host)) await accessoryUpgrade(k, 'all');
          k.say(`Upgraded ${host}`);
        });
      }
    } else {
      k.say('Upgrading all hosts...');
      await proxyUpgrade(k);
      await accessoryUpgrade(k, 'all');
      k.say('Upgraded all hosts');
    }
  });
}

// ---- prune ----

export async function pruneImages(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.on(k.hosts, async (host) => {
      await k.exec(host, k.cmds.auditor().record('Pruned images'));
      await k.exec(host, k.cmds.prune.danglingImages());
      await k.exec(host, k.cmds.prune.taggedImages());
    }),
  );
}

export async function pruneContainers(k: Kamal, retain?: number): Promise<void> {
  const keep = retain ?? k.config.retainContainers;
  if (keep < 1) throw new UsageError('retain must be at least 1');
  await withLock(k, () =>
    k.on(k.hosts, async (host) => {
      await k.exec(host, k.cmds.auditor().record('Pruned containers'));
      await k.exec(host, k.cmds.prune.appContainers(keep));
    }),
  );
}

export async function pruneAll(k: Kamal): Promise<void> {
  await withLock(k, async () => {
    await pruneContainers(k);
    await pruneImages(k);
  });
}

// ---- server ----

export async function serverBootstrap(k: Kamal): Promise<void> {
  await withLock(k, async () => {
    const missing: string[] = [];
    await k.step('server bootstrap', () =>
      k.on(k.hosts, async (host) => {
        const d = k.cmds.docker;
        if (await k.test(host, d.installed())) return;
        if (await k.test(host, d.superuser())) {
          k.say(`Missing Docker on ${host}. Installing…`);
          await k.exec(host, d.install());
          if (!(await k.test(host, d.root())) && !(await k.test(host, d.inDockerGroup()))) {
            await k.exec(host, d.addToDockerGroup());
            // the refresh ends the session (Kamal rescues the IOError of the closed stream)
            const refresh = await k.exec(host, d.refreshSession(), { allowFailure: true });
            if (refresh.exitCode !== 0) k.say('Session refreshed due to group change.');
          }
        } else missing.push(host);
      }),
    );
    if (missing.length > 0) {
      throw new UsageError(
        `Docker is not installed on ${missing.join(', ')} and can't be automatically installed without having root access and either \`wget\` or \`curl\`. Install Docker manually: https://docs.docker.com/engine/install/`,
      );
    }
    await k.runHook('docker-setup');
  });
}

export async function serverExec(k: Kamal, command: string, opts: { interactive?: boolean; raw?: boolean } = {}): Promise<void> {
  if (opts.raw && opts.interactive) throw new UsageError('Raw is not compatible with interactive');
  await k.preConnect();
  if (opts.interactive) {
    const host = k.primaryHost;
    k.say(`Running '${command}' on ${host} interactively...`);
    await runInteractive(k, host, cmd(raw(command)));
    return;
  }
  if (!opts.raw) k.say(`Running '${command}' on ${k.hosts.join(', ')}...`);
  await k.on(k.hosts, async (host) => {
    await k.exec(host, k.cmds.auditor().record(`Executed cmd '${command}' on ${host}`));
    const r = await k.exec(host, cmd(raw(command)));
    if (opts.raw) k.reporter.write(r.stdout);
    else k.reporter.hostOutput(host, r.stdout.trim(), 'App');
  });
}

// ---- registry ----

/** `registry setup`: starts the local registry container, or logs in locally and on every host (Kamal::Cli::Registry). */
export async function registrySetup(k: Kamal, opts: { skipLocal?: boolean; skipRemote?: boolean } = {}): Promise<void> {
  if (!opts.skipLocal) await ensureDockerInstalled(k);
  if (k.config.registry.local) {
    if (!opts.skipLocal) await k.exec(LOCAL, k.cmds.registry.setup());
    return;
  }
  if (!opts.skipLocal) await k.exec(LOCAL, k.cmds.registry.login());
  if (!opts.skipRemote) await k.on(k.hosts, async (host) => void (await k.exec(host, k.cmds.registry.login())));
}

/** `registry remove`: removes the local registry container, or logs out locally and on every host. */
export async function registryRemove(k: Kamal, opts: { skipLocal?: boolean; skipRemote?: boolean } = {}): Promise<void> {
  if (k.config.registry.local) {
    if (!opts.skipLocal) await k.exec(LOCAL, k.cmds.registry.remove(), { allowFailure: true });
    return;
  }
  if (!opts.skipLocal) await k.exec(LOCAL, k.cmds.registry.logout());
  if (!opts.skipRemote) await k.on(k.hosts, async (host) => void (await k.exec(host, k.cmds.registry.logout())));
}

export async function registryLogin(k: Kamal, opts: { skipLocal?: boolean; skipRemote?: boolean } = {}): Promise<void> {
  if (k.config.registry.local) throw new UsageError('Cannot use login command with a local registry. Use `kamal registry setup` instead.');
  await registrySetup(k, opts);
}

export async function registryLogout(k: Kamal, opts: { skipLocal?: boolean; skipRemote?: boolean } = {}): Promise<void> {
  if (k.config.registry.local) throw new UsageError('Cannot use logout command with a local registry. Use `kamal registry remove` instead.');
  await registryRemove(k, opts);
}

// ---- audit / details ----

export async function audit(k: Kamal): Promise<void> {
  await k.on(k.hosts, async (host) => {
    k.reporter.hostOutput(host, await k.capture(host, k.cmds.auditor().reveal(), { allowFailure: true }));
  });
}
