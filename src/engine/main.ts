/** The top-level flows (Kamal::Cli::Main): setup, deploy, redeploy, rollback, upgrade, audit. */
import type { Kamal } from './kamal.js';
import { withLock } from './lock.js';
import { appBoot, containerAvailable, staleContainers } from './app.js';
import { buildDeliver, buildPull } from './build.js';
import { proxyBoot, proxyUpgrade } from './proxy.js';
import { accessoryBoot, accessoryUpgrade } from './accessory.js';
import { UsageError } from '../errors.js';
import { preflight } from './preflight.js';
import { pruneAll } from './prune.js';
import { serverBootstrap } from './server.js';

export interface DeployOptions {
  skipPush?: boolean;
  noCache?: boolean;
}

async function timed<T>(kamal: Kamal, fn: () => Promise<T>): Promise<number> {
  const started = kamal.now();
  try {
    await fn();
  } finally {
    kamal.say(`  Finished all in ${((kamal.now() - started) / 1000).toFixed(1)} seconds`);
  }
  return (kamal.now() - started) / 1000;
}

async function deliverOrPull(kamal: Kamal, opts: DeployOptions): Promise<void> {
  if (opts.skipPush) {
    kamal.say('Pull app image...');
    await buildPull(kamal);
  } else {
    kamal.say('Build and push app image...');
    await buildDeliver(kamal, { noCache: opts.noCache });
  }
}

export async function deploy(kamal: Kamal, opts: DeployOptions & { bootAccessories?: boolean } = {}): Promise<void> {
  preflight(kamal, { version: true, build: !opts.skipPush, accessories: opts.bootAccessories });
  const runtime = await timed(kamal, async () => {
    await deliverOrPull(kamal, opts);
    await withLock(kamal, async () => {
      await kamal.runHook('pre-deploy', { secrets: true });
      kamal.say('Ensure kamal-proxy is running...');
      await proxyBoot(kamal);
      if (opts.bootAccessories) await accessoryBoot(kamal, 'all');
      kamal.say('Detect stale containers...');
      await kamal.step('stale containers', () => staleContainers(kamal, { stop: true }));
      await appBoot(kamal, { version: kamal.config.version });
      kamal.say('Prune old containers and images...');
      await kamal.step('prune', () => pruneAll(kamal));
    });
  });
  await kamal.runHook('post-deploy', { secrets: true, runtime: String(Math.round(runtime)) });
}

export async function redeploy(kamal: Kamal, opts: DeployOptions = {}): Promise<void> {
  preflight(kamal, { version: true, build: !opts.skipPush });
  const runtime = await timed(kamal, async () => {
    await deliverOrPull(kamal, opts);
    await withLock(kamal, async () => {
      await kamal.runHook('pre-deploy', { secrets: true });
      kamal.say('Detect stale containers...');
      await kamal.step('stale containers', () => staleContainers(kamal, { stop: true }));
      await appBoot(kamal, { version: kamal.config.version });
    });
  });
  await kamal.runHook('post-deploy', { secrets: true, runtime: String(Math.round(runtime)) });
}

export async function rollback(kamal: Kamal, version: string): Promise<boolean> {
  if (!version) throw new UsageError('rollback needs a VERSION (see `kamal-action app containers` for the versions kept on the hosts)');
  preflight(kamal);
  let rolledBack = false;
  const runtime = await timed(kamal, async () => {
    await withLock(kamal, async () => {
      kamal.config.version = version;
      if (await containerAvailable(kamal, version)) {
        await kamal.runHook('pre-deploy', { secrets: true });
        await appBoot(kamal, { version });
        rolledBack = true;
      } else {
        throw new UsageError(`The app version '${version}' is not available as a container (use 'kamal-action app containers' for available versions)`);
      }
    });
  });
  if (rolledBack) await kamal.runHook('post-deploy', { secrets: true, runtime: String(Math.round(runtime)) });
  return rolledBack;
}

export async function setup(kamal: Kamal, opts: DeployOptions = {}): Promise<void> {
  preflight(kamal, { version: true, build: !opts.skipPush, accessories: true });
  await withLock(kamal, async () => {
    kamal.say('Ensure Docker is installed...');
    await serverBootstrap(kamal);
    await deploy(kamal, { ...opts, bootAccessories: true });
  });
}

/** `upgrade` from Kamal 1.x: kamal-proxy instead of Traefik on the app hosts, accessories restarted (Kamal::Cli::Main#upgrade). */
export async function upgrade(kamal: Kamal, opts: { rolling?: boolean } = {}): Promise<void> {
  if (!(await kamal.confirm('This will replace Traefik with kamal-proxy and restart all accessories'))) {
    kamal.say('Aborted', 'error');
    return;
  }
  await withLock(kamal, async () => {
    kamal.options.confirmed = true;
    if (opts.rolling) {
      for (const host of kamal.hosts) {
        await kamal.withSpecificHosts([host], async () => {
          kamal.say(`Upgrading ${host}...`);
          if (kamal.appHosts.includes(host)) await proxyUpgrade(kamal);
          if (kamal.accessoryHosts.includes(host)) await accessoryUpgrade(kamal, 'all');
          kamal.say(`Upgraded ${host}`);
        });
      }
    } else {
      kamal.say('Upgrading all hosts...');
      await proxyUpgrade(kamal);
      await accessoryUpgrade(kamal, 'all');
      kamal.say('Upgraded all hosts');
    }
  });
}

// ---- audit / details ----

export async function audit(kamal: Kamal): Promise<void> {
  await kamal.on(kamal.hosts, async (host) => {
    kamal.reporter.hostOutput(host, await kamal.capture(host, kamal.cmds.auditor().reveal(), { allowFailure: true }));
  });
}
