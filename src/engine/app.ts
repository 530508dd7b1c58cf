/** App operations (Kamal::Cli::App and Kamal::Cli::App::Boot). */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BootError, UsageError } from '../errors.js';
import { CommandFailedError } from '../exec/types.js';
import type { Role } from '../model/index.js';
import type { Kamal } from './kamal.js';
import { withLock } from './lock.js';
import { CANCEL_STOP_TIMEOUT, throwIfCancelled, undoSteps, unlessCancelled, type BootPhase, type PendingUndo } from './cancel.js';
import { preflight } from './preflight.js';
import { Barrier, BarrierClosedError, sleep } from './parallel.js';
import { lastLines } from '../exec/types.js';
import { cmd, xargs } from '../shell.js';
import { explainProxyConflict } from './proxy-conflict.js';
import type { BootRecord } from './run-context.js';

export type { BootRecord } from './run-context.js';

/** Boots started by this run that are neither kept nor undone yet. */
export function pendingUndo(k: Kamal): PendingUndo[] {
  return (k.boots ?? [])
    .filter((r) => r.phase && !r.reverted && !r.settled)
    .map((r) => ({
      host: r.host,
      role: r.role,
      version: r.version,
      ...(r.previousVersion !== undefined ? { previousVersion: r.previousVersion } : {}),
      phase: r.phase!,
    }));
}

function setPhase(k: Kamal, record: BootRecord | undefined, phase: BootPhase): void {
  if (!record || record.phase === phase) return;
  record.phase = phase;
  if (phase === 'started') record.started = true;
  k.onUndoChange?.(pendingUndo(k));
}

function settle(k: Kamal, records: readonly BootRecord[]): void {
  for (const r of records) r.settled = true;
  k.onUndoChange?.(pendingUndo(k));
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export async function usingVersion<T>(k: Kamal, version: string | undefined, fn: (v: string) => Promise<T>): Promise<T> {
  if (!version) return fn(k.config.version);
  const old = k.config.declaredVersion;
  k.config.version = version;
  try {
    return await fn(version);
  } finally {
    if (old !== undefined) k.config.version = old;
  }
}

export function hostBootGroups(k: Kamal): string[][] {
  const limit = k.config.boot.limit;
  const hosts = k.appHosts;
  if (!limit) return [hosts];
  const groups: string[][] = [];
  for (let i = 0; i < hosts.length; i += limit) groups.push(hosts.slice(i, i + limit));
  return groups;
}

/** `kamal app boot`: start the version on every host and role, primary role first behind a barrier. */
export async function appBoot(k: Kamal, opts: { version?: string; latest?: boolean } = {}): Promise<void> {
  preflight(k);
  await withLock(k, async () => {
    if (!opts.version || opts.latest) k.say('Get most recent version available as an image...');
    await usingVersion(k, opts.version ?? (opts.version === undefined && k.options.version ? k.options.version : undefined), async (version) => {
      k.say(`Start container with version ${version} (or reboot if already running)...`);

      await k.on(k.appHosts, async (host) => {
        await errorPages(k, host);
        for (const role of k.rolesOn(host)) {
          await assets(k, host, role);
          await sslCertificates(k, host, role);
        }
      });

      const barrier = new Barrier();
      const firstRecord = k.boots?.length ?? 0;
      const records = (): BootRecord[] => (k.boots ?? []).slice(firstRecord);
      try {
        for (const hosts of hostBootGroups(k)) {
          const hostList = hosts.join(',');
          // a hook may start or stop containers: what the stale check saw no longer holds
          if (k.hookExists('pre-app-boot')) k.runningVersions = undefined;
          await k.runHook('pre-app-boot', { hosts: hostList });
          await k.onRoles(k.roles, hosts, (host, role) => bootOne(k, host, role, version, barrier), !!k.config.boot.parallelRoles);
          await k.runHook('post-app-boot', { hosts: hostList });
          if (k.config.boot.wait) await sleep(k.config.boot.wait * 1000, k.signal);
        }
      } catch (e) {
        const cancelled = k.signal?.aborted ?? false;
        if ((cancelled || k.options.allOrNothing) && !k.dryRun) {
          // after a cancel a pending proxy deploy may still land, so every started boot is undone;
          // otherwise only the boots that switched (a failed boot already stopped its container)
          const undo = records().filter((r) => (cancelled ? r.phase !== undefined : r.ok));
          if (undo.length > 0 || !cancelled) {
            k.say(
              cancelled
                ? 'Cancelled: putting the previous version back where this run started the new one...'
                : 'All-or-nothing: putting the previous version back on every host...',
              'warn',
            );
          }
          await revertBoots(k, undo, { cancelled });
        }
        // a cancelled run leaves what it could not undo pending (the action's post step tries again)
        settle(k, cancelled ? records().filter((r) => r.phase === undefined) : records());
        throw e;
      }
      // the rollout is complete: a cancel from here on keeps the new version everywhere
      settle(k, records());

      await k.on(k.appHosts, async (host) => {
        await k.exec(host, k.cmds.auditor().record(`Tagging ${k.config.absoluteImage} as the latest image`));
        await k.exec(host, k.cmds.app().tagLatestImage());
      });
    });
  });
}

async function bootOne(k: Kamal, host: string, role: Role, version: string, barrier: Barrier): Promise<void> {
  const app = k.cmds.app(role, host);
  const record: BootRecord = { host, role: role.name, version, ok: false, startedAt: k.now() };
  (k.boots ??= []).push(record);
  const gatekeeper = role.name === k.primaryRole?.name;
  const audit = (line: string) => k.exec(host, k.cmds.auditor({ role }).record(line));

  await k
    .step(
      `boot ${role.name}`,
      async () => {
        // Rename a container that clashes with the version being booted.
        const clash = await k.capture(host, app.containerIdForVersion(version), { allowFailure: true, placeholder: '' });
        if (clash) {
          const renamed = `${version}_replaced_${hex(8)}`;
          k.log(`Renaming container ${version} to ${renamed} as already deployed on ${host}`, 'info', host);
          await audit(`Renaming container ${version} to ${renamed}`);
          await k.exec(host, app.renameContainer({ version, newVersion: renamed }));
        }
        const known = knownRunningVersion(k, host, role, clash ? version : undefined);
        const oldVersion =
          (known ?? (await k.capture(host, app.currentRunningVersion(), { allowFailure: true, placeholder: '<current-version>' }))) || undefined;
        // a dry run knows no version on the host (the capture answers a placeholder)
        record.previousVersion = k.dryRun ? undefined : oldVersion;

        if (!gatekeeper) {
          // a dry run boots nothing and checks no health: it says what the rollout would wait for
          if (k.dryRun) k.log(`Would wait for the first ${k.primaryRole?.name} container before starting ${role.name} on ${host}`, 'info', host);
          else k.log(`Waiting for the first healthy ${k.primaryRole?.name} container before booting ${role.name} on ${host}...`, 'info', host);
          try {
            await barrier.wait();
          } catch (e) {
            if (e instanceof BarrierClosedError) {
              k.log(`First ${k.primaryRole?.name} container is unhealthy, not booting ${role.name} on ${host}`, 'info', host);
            }
            throw e;
          }
          if (!k.dryRun) k.log(`First ${k.primaryRole?.name} container is healthy, booting ${role.name} on ${host}...`, 'info', host);
        }

        try {
          await startNewVersion(k, host, role, version, audit);
        } catch (e) {
          const closed = gatekeeper && barrier.close();
          if (closed && !k.signal?.aborted) {
            k.log(`First ${k.primaryRole?.name} container is unhealthy on ${host}, not booting any other roles`, 'info', host);
          }
          // the barrier's host reads the logs with Kamal's close_barrier command (whole logs); others only their tail
          record.logs = await containerLogs(k, host, role, version, closed ? undefined : 20);
          // Kamal's close_barrier also shows the container's health log
          if (closed && !k.dryRun) {
            const health = await k.capture(host, app.containerHealthLog({ version }), { allowFailure: true }).catch(() => '');
            if (health) k.log(health, 'error', host);
          }
          await k.exec(host, app.stop({ version }), { allowFailure: true }).catch(() => undefined);
          throw withLogs(e, host, role, record.logs);
        }

        if (gatekeeper && barrier.open() && !k.dryRun) {
          k.log(`First ${k.primaryRole?.name} container is healthy on ${host}, booting any other roles`, 'info', host);
        }

        if (oldVersion && oldVersion !== version) {
          throwIfCancelled(k.signal);
          setPhase(k, record, 'done');
          await k.exec(host, app.stop({ version: oldVersion }), { allowFailure: true });
          if (role.assets) await k.exec(host, app.cleanUpAssets());
          if (k.config.errorPagesPath) await k.exec(host, app.cleanUpErrorPages());
        }
        setPhase(k, record, 'done');
        record.ok = true;
      },
      { host, role: role.name },
    )
    .catch((e) => {
      record.error = e instanceof Error ? e.message : String(e);
      throw e;
    })
    .finally(() => {
      record.finishedAt = k.now();
    });
}

async function startNewVersion(k: Kamal, host: string, role: Role, version: string, audit: (line: string) => Promise<unknown>): Promise<void> {
  const app = k.cmds.app(role, host);
  try {
    await audit(`Booted app version ${version}`);
    const hostname = `${host.slice(0, 51).replace(/\.$/, '')}-${hex(6)}`;
    await k.exec(host, app.ensureEnvDirectory());
    await k.upload(host, role.secretsIo(host), role.secretsPath, { mode: '600' });
    // Counted as started once `docker run` is sent. A cancel does not cut it short (it takes a
    // second or so), so the container's state is known when the undo starts.
    throwIfCancelled(k.signal);
    const record = k.boots?.findLast((r) => r.host === host && r.role === role.name && r.version === version);
    setPhase(k, record, 'started');
    const started = await k.exec(host, app.run({ hostname }), { signal: undefined });
    if (role.runningProxy) {
      // `docker run --detach` prints the new container's id: its first 12 characters are what
      // `docker container ls --quiet` (Kamal's way to find the endpoint) answers for it
      const id = /^[0-9a-f]{64}$/.exec(started.stdout.trim().split('\n').at(-1) ?? '')?.[0];
      const endpoint = id ? id.slice(0, 12) : await k.capture(host, app.containerIdForVersion(version), { placeholder: '<container-id>' });
      if (!endpoint) throw new BootError(`Failed to get endpoint for ${role.name} on ${host}, did the container boot?`);
      // once sent, the proxy may switch to the new container even if this command is cut short; a
      // cancel does not wait for the proxy's answer (it comes when the health check passes or times out)
      throwIfCancelled(k.signal);
      setPhase(k, record, 'deploying');
      await unlessCancelled(k.exec(host, app.deploy({ target: endpoint })), k.signal).catch((e: unknown) =>
        explainProxyConflict(k, host, role.containerPrefix, role.proxy?.hosts ?? [], e),
      );
      setPhase(k, record, 'switched');
    } else {
      await waitForHealthy(k, host, () => k.capture(host, app.status({ version }), { placeholder: 'running' }));
    }
  } catch (e) {
    if (!k.signal?.aborted) k.log(`Failed to boot ${role.name} on ${host}`, 'error', host);
    throw e;
  }
}

/**
 * The version `role` runs on `host` as this deploy's stale-container check found it (then forgotten:
 * used once). Nothing in between changes which container `current_running_version` picks: that
 * check only stops containers of other versions, and a rename of the container named after the
 * version being booted (`renamed`) matters only when that container was the running one, in which
 * case the answer is unknown and Kamal's query runs again. Roles with assets ask again too (their
 * extraction runs a container first).
 */
function knownRunningVersion(k: Kamal, host: string, role: Role, renamed: string | undefined): string | undefined {
  const key = `${host} ${role.name}`;
  const known = k.runningVersions?.get(key);
  k.runningVersions?.delete(key);
  if (known === undefined || role.assets || (renamed !== undefined && known === renamed)) return undefined;
  return known;
}

/** Kamal::Cli::Healthcheck::Poller for roles without a proxy. */
async function waitForHealthy(k: Kamal, host: string, status: () => Promise<string>): Promise<void> {
  const timeoutAt = k.now() + k.config.deployTimeout * 1000;
  const readinessDelay = k.config.readinessDelay;
  let attempt = 1;
  for (;;) {
    let s = await status();
    if (s === 'running' && readinessDelay > 0 && !k.dryRun) {
      k.log(`Container is running, waiting for readiness delay of ${readinessDelay} seconds`, 'info', host);
      await sleep(readinessDelay * 1000, k.signal);
      s = await status();
    }
    if (s === 'running' || s === 'healthy' || k.dryRun) break;
    const left = timeoutAt - k.now();
    if (left <= 0) throw new BootError(`container not ready after ${k.config.deployTimeout} seconds (${s})`);
    await sleep(Math.min(attempt * 1000, left), k.signal);
    attempt++;
  }
  if (!k.dryRun) k.log('Container is healthy!', 'info', host);
}

async function containerLogs(k: Kamal, host: string, role: Role, version: string, lines: number | undefined): Promise<string | undefined> {
  if (k.dryRun) return undefined;
  const app = k.cmds.app(role, host);
  try {
    const r = await k.exec(host, app.logs({ containerId: app.containerIdForVersion(version), ...(lines ? { lines } : {}) }), {
      allowFailure: true,
    });
    const text = `${r.stdout}${r.stderr}`.trim();
    return text ? lastLines(k.secrets.redact(text), 20) : undefined;
  } catch {
    return undefined;
  }
}

function withLogs(e: unknown, host: string, role: Role, logs: string | undefined): unknown {
  if (!(e instanceof Error) || !logs) return e;
  const err = e instanceof CommandFailedError ? e : e;
  err.message = `${err.message}\nLast log lines of ${role.name} on ${host}:\n${logs
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}`;
  return err;
}

async function errorPages(k: Kamal, host: string): Promise<void> {
  const path = k.config.errorPagesPath;
  if (!path) return;
  const dir = resolve(k.cwd, path);
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => /^[45]\d\d\.html$/.test(f));
  } catch {
    return;
  }
  if (files.length === 0) return;
  await k.exec(host, k.cmds.app().createErrorPagesDirectory());
  const remoteDir = `${k.config.proxyBoot.errorPagesDirectory}/${k.config.version}`;
  await k.exec(host, k.cmds.server.makeDirectory(remoteDir));
  for (const f of files) await k.upload(host, readFileSync(join(dir, f)), `${remoteDir}/${f}`, { mode: '700' });
}

async function assets(k: Kamal, host: string, role: Role): Promise<void> {
  if (!role.assets) return;
  const app = k.cmds.app(role, host);
  await k.exec(host, app.extractAssets());
  const oldVersion = await k.capture(host, app.currentRunningVersion(), { allowFailure: true, placeholder: '<current-version>' });
  await k.exec(host, app.syncAssetVolumes({ oldVersion: oldVersion || undefined }));
}

async function sslCertificates(k: Kamal, host: string, role: Role): Promise<void> {
  if (!(role.runningProxy && role.proxy?.customSslCertificate)) return;
  k.log(`Writing SSL certificates for ${role.name} on ${host}`, 'info', host);
  const app = k.cmds.app(role, host);
  await k.exec(host, app.createSslDirectory());
  const cert = role.proxy.certificatePemContent;
  if (cert && role.proxy.hostTlsCert) await k.upload(host, cert, role.proxy.hostTlsCert, { mode: '644' });
  const key = role.proxy.privateKeyPemContent;
  if (key && role.proxy.hostTlsKey) await k.upload(host, key, role.proxy.hostTlsKey, { mode: '644' });
}

/**
 * Puts the previous version back for each record, with the steps its phase needs (cancel.ts,
 * undoSteps): stop the new container, start the old one, route the proxy to it. Runs even after a
 * cancel (cleanup ignores the abort signal) and keeps going past a failing host; a record whose
 * undo failed is not marked reverted. After a cancel the new containers get CANCEL_STOP_TIMEOUT
 * seconds to stop (the role's stop_timeout if shorter) instead of the role's usual stop.
 */
export async function revertBoots(k: Kamal, records: BootRecord[], opts: { cancelled?: boolean } = {}): Promise<void> {
  const saved = k.signal;
  k.signal = undefined;
  try {
    await Promise.all(
      records.map(async (r) => {
        const role = k.config.role(r.role);
        if (!role) return;
        const app = k.cmds.app(role, r.host);
        const previous = r.previousVersion && r.previousVersion !== r.version ? r.previousVersion : undefined;
        const phase = r.phase ?? (r.ok ? 'done' : 'started');
        try {
          for (const step of undoSteps(phase, { previous: !!previous, proxy: role.runningProxy })) {
            if (step === 'stop-new') {
              const seconds = Math.min(role.stopTimeout ?? CANCEL_STOP_TIMEOUT, CANCEL_STOP_TIMEOUT);
              const stop = opts.cancelled
                ? xargs(app.containerIdForVersion(r.version), cmd('docker', 'stop', '-t', String(seconds)))
                : app.stop({ version: r.version });
              await k.exec(r.host, stop, { allowFailure: true });
            } else if (step === 'start-old') {
              await k.exec(r.host, xargs(app.containerIdForVersion(previous!), cmd('docker', 'start')), { allowFailure: true });
            } else {
              const target = await k.capture(r.host, app.containerIdForVersion(previous!, { onlyRunning: true }), {
                placeholder: '<container-id>',
              });
              if (!target) throw new Error(`no running container of version ${previous} to route the proxy to`);
              await k.exec(r.host, app.deploy({ target }));
            }
          }
          r.reverted = true;
          k.onUndoChange?.(pendingUndo(k));
          k.say(`Reverted ${r.role} on ${r.host} to ${r.previousVersion ?? 'nothing (first deploy)'}`, 'warn');
        } catch (e) {
          k.say(`Could not revert ${r.role} on ${r.host}: ${e instanceof Error ? e.message : String(e)}`, 'error');
        }
      }),
    );
  } finally {
    k.signal = saved;
  }
}

/**
 * Finishes the undo of a cancelled rollout whose process was stopped before it could (the action's
 * post step): each boot is undone as its phase says, under the deploy lock (taken unless this run
 * still holds it). Hosts and roles must be the configuration's. Fails naming the boots it could
 * not undo.
 */
export async function undoBoots(k: Kamal, pending: readonly PendingUndo[]): Promise<void> {
  const records: BootRecord[] = pending.map((p) => {
    const role = k.config.role(p.role);
    if (!role) throw new UsageError(`No role ${p.role} in the configuration`);
    if (!role.hosts.includes(p.host)) throw new UsageError(`${p.host} is not a host of role ${p.role}`);
    return {
      host: p.host,
      role: p.role,
      version: p.version,
      previousVersion: p.previousVersion,
      ok: false,
      started: true,
      phase: p.phase,
      startedAt: k.now(),
    };
  });
  if (records.length === 0) return;
  await withLock(k, async () => {
    k.say('Putting the previous version back where a cancelled rollout started the new one...', 'warn');
    await revertBoots(k, records, { cancelled: true });
  });
  const left = records.filter((r) => !r.reverted);
  if (left.length > 0) throw new Error(`Could not put the previous version back for ${left.map((r) => `${r.role} on ${r.host}`).join(', ')}`);
}

/** `kamal app stale_containers [--stop]` */
export async function staleContainers(k: Kamal, opts: { stop?: boolean } = {}): Promise<void> {
  const run = async (): Promise<void> => {
    await k.onRoles(k.roles, k.appHosts, async (host, role) => {
      const app = k.cmds.app(role, host);
      // two reads, sent together
      const [listed, current] = await Promise.all([
        k.capture(host, app.listVersions(), { allowFailure: true }),
        k.capture(host, app.currentRunningVersion(), { allowFailure: true }),
      ]);
      const versions = listed.split('\n').filter(Boolean);
      // the boot that follows in a deploy reuses it (knownRunningVersion)
      if (opts.stop && !k.dryRun) (k.runningVersions ??= new Map()).set(`${host} ${role.name}`, current);
      for (const version of versions.filter((v) => v !== current)) {
        if (opts.stop) {
          k.reporter.hostOutput(host, `Stopping stale container for role ${role.name} with version ${version}`);
          await k.exec(host, app.stop({ version }), { allowFailure: true });
        } else {
          k.reporter.hostOutput(
            host,
            `Detected stale container for role ${role.name} with version ${version} (use \`kamal-action app stale_containers --stop\` to stop)`,
          );
        }
      }
    });
  };
  if (opts.stop) await withLock(k, run);
  else await run();
}

/** Whether every app host has a container for `version` (rollback precondition). */
export async function containerAvailable(k: Kamal, version: string): Promise<boolean> {
  const missing: string[] = [];
  await k.on(k.appHosts, async (host) => {
    for (const role of k.rolesOn(host)) {
      const id = await k.capture(host, k.cmds.app(role, host).containerIdForVersion(version), {
        allowFailure: true,
        placeholder: '<container-id>',
      });
      if (!id) missing.push(`${role.name} on ${host}`);
    }
  });
  if (missing.length > 0) {
    k.say(`Error looking for container version ${version}: Container not found (${missing.join(', ')})`);
    return false;
  }
  return true;
}

/** The version currently running on the primary host (Kamal's current_running_version). */
export async function currentRunningVersion(k: Kamal, host = k.primaryHost): Promise<string | undefined> {
  const role = k.rolesOn(host)[0];
  if (!role) return undefined;
  const v = await k.capture(host, k.cmds.app(role, host).currentRunningVersion(), {
    allowFailure: true,
    placeholder: '<current-version>',
  });
  return v || undefined;
}

export function isCommandFailed(e: unknown): e is CommandFailedError {
  return e instanceof CommandFailedError;
}
