/** The deploy lock: Kamal's `mkdir <run_dir>/lock-<service>[-<dest>]` on the primary host. */
import { LockError } from '../errors.js';
import { CommandFailedError } from '../exec/types.js';
import type { Kamal } from './kamal.js';
import { sleep } from './parallel.js';

export const AUTOMATIC_DEPLOY_LOCK_MESSAGE = 'Automatic deploy lock';

/** "Locked by: X at 2026-12-01T10:00:00Z" → "Held for 5m 3s\n". */
export function lockAge(status: string, now: number): string {
  const m = /Locked by: .* at (\S+)/.exec(status);
  if (!m) return '';
  const at = Date.parse(m[1]!);
  if (Number.isNaN(at)) return '';
  const secs = Math.max(0, Math.round((now - at) / 1000));
  const h = Math.floor(secs / 3600);
  const min = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  return `Held for ${h ? `${h}h ` : ''}${h || min ? `${min}m ` : ''}${s}s\n`;
}

/** The lock details with how long the lock has been held, as `lock status` shows them. */
export function withLockAge(status: string, now: number): string {
  const age = lockAge(status, now).trim();
  return age ? `${status}\n${age}` : status;
}

export class LockHeldError extends Error {}
export class LockMissingError extends Error {}

export async function ensureRunDirectory(kamal: Kamal): Promise<void> {
  await kamal.on(kamal.hosts, async (host) => {
    await kamal.exec(host, kamal.cmds.server.ensureRunDirectory());
  });
}

/** The version for the lock details; a manual `lock acquire` outside a git checkout says `unknown`. */
function lockVersion(kamal: Kamal): string {
  return kamal.config.knownVersion ?? 'unknown';
}

export async function executeLockAcquire(kamal: Kamal, message: string): Promise<void> {
  await kamal.preConnect(); // Kamal runs these through `on(primary_host)`, which runs the pre-connect hook first
  try {
    await kamal.exec(kamal.primaryHost, kamal.cmds.lock.acquire(message, lockVersion(kamal), { lockedBy: kamal.cmds.source.lockedBy }), { verbosity: 'debug' });
  } catch (e) {
    if (e instanceof CommandFailedError && /cannot create directory/.test(e.stderr)) throw new LockHeldError();
    throw e;
  }
}

export async function executeLockRelease(kamal: Kamal): Promise<void> {
  await kamal.preConnect(); // Kamal runs these through `on(primary_host)`, which runs the pre-connect hook first
  try {
    await kamal.exec(kamal.primaryHost, kamal.cmds.lock.release(), { verbosity: 'debug' });
  } catch (e) {
    if (e instanceof CommandFailedError && /No such file or directory/.test(e.stderr)) throw new LockMissingError();
    throw e;
  }
}

export async function captureLockStatus(kamal: Kamal): Promise<string> {
  await kamal.preConnect(); // Kamal runs these through `on(primary_host)`, which runs the pre-connect hook first
  try {
    const r = await kamal.exec(kamal.primaryHost, kamal.cmds.lock.status(), { verbosity: 'debug' });
    return kamal.dryRun ? '<lock details>' : r.stdout.trim();
  } catch (e) {
    if (e instanceof CommandFailedError && /No such file or directory/.test(e.stderr)) throw new LockMissingError();
    throw e;
  }
}

async function raiseIfLocked(kamal: Kamal, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof LockHeldError)) throw e;
    kamal.say('Deploy lock already in place!', 'error');
    const status = await captureLockStatus(kamal).catch(() => '');
    throw new LockError(
      `Deploy lock found on ${kamal.primaryHost}. Run 'kamal-action lock status' for details and 'kamal-action lock release' to clear it` +
        (status ? `\n${withLockAge(status, kamal.now())}` : ''),
    );
  }
}

export async function acquireLock(kamal: Kamal): Promise<void> {
  await ensureRunDirectory(kamal);
  if (kamal.options.lockWait) await acquireLockWithWait(kamal);
  else {
    await raiseIfLocked(kamal, async () => {
      kamal.say('Acquiring the deploy lock...');
      await executeLockAcquire(kamal, AUTOMATIC_DEPLOY_LOCK_MESSAGE);
    });
  }
  kamal.holdingLock = true;
  kamal.onLockChange?.(true);
}

async function acquireLockWithWait(kamal: Kamal): Promise<void> {
  const timeout = kamal.options.lockWaitTimeout ?? 900;
  const interval = kamal.options.lockWaitInterval ?? 15;
  const deadline = kamal.now() + timeout * 1000;
  let detailsShown = false;
  kamal.say(`Acquiring the deploy lock (waiting up to ${timeout}s)...`);
  for (;;) {
    try {
      await executeLockAcquire(kamal, AUTOMATIC_DEPLOY_LOCK_MESSAGE);
      return;
    } catch (e) {
      if (!(e instanceof LockHeldError)) throw e;
    }
    if (!detailsShown) {
      const status = await captureLockStatus(kamal).catch(() => '');
      kamal.say('Deploy lock is held by:');
      kamal.say(withLockAge(status, kamal.now()));
      if (!status.includes(AUTOMATIC_DEPLOY_LOCK_MESSAGE)) {
        throw new LockError(`Deploy lock held manually, not waiting. Run 'kamal-action lock status' for details\n${withLockAge(status, kamal.now())}`);
      }
      detailsShown = true;
    }
    const remaining = Math.floor((deadline - kamal.now()) / 1000);
    if (remaining <= 0) {
      kamal.say(`Timed out after ${timeout}s waiting for the deploy lock`, 'error');
      throw new LockError('Timed out waiting for deploy lock');
    }
    kamal.say(`Retrying in ${interval}s (${remaining}s remaining)...`);
    await sleep(Math.min(interval, remaining) * 1000, kamal.signal);
  }
}

export async function releaseLock(kamal: Kamal): Promise<void> {
  kamal.say('Releasing the deploy lock...');
  await executeLockRelease(kamal);
  kamal.holdingLock = false;
  kamal.onLockChange?.(false);
}

/** Kamal's with_lock: acquire unless held, run, release; a failed release never hides the original error. */
export async function withLock<T>(kamal: Kamal, fn: () => Promise<T>): Promise<T> {
  if (kamal.holdingLock) return fn();
  await kamal.step('acquire lock', () => acquireLock(kamal));
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    try {
      await releaseLockEvenIfCancelled(kamal);
    } catch (releaseError) {
      kamal.say(`Error releasing the deploy lock: ${(releaseError as Error).message}`, 'error');
    }
    throw e;
  }
  // a cancel that arrives once the work is done must not leave the lock behind either
  await kamal.step('release lock', () => releaseLockEvenIfCancelled(kamal));
  return result;
}

/** Releases the lock through a context whose cancellation is ignored (cleanup after a cancel). */
async function releaseLockEvenIfCancelled(kamal: Kamal): Promise<void> {
  const saved = kamal.signal;
  kamal.signal = undefined;
  try {
    await releaseLock(kamal);
  } finally {
    kamal.signal = saved;
  }
}
