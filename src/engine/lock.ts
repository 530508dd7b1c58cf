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

export async function ensureRunDirectory(k: Kamal): Promise<void> {
  await k.on(k.hosts, async (host) => {
    await k.exec(host, k.cmds.server.ensureRunDirectory());
  });
}

/** The version for the lock details; a manual `lock acquire` outside a git checkout says `unknown`. */
function lockVersion(k: Kamal): string {
  return k.config.knownVersion ?? 'unknown';
}

export async function executeLockAcquire(k: Kamal, message: string): Promise<void> {
  await k.preConnect(); // Kamal runs these through `on(primary_host)`, which runs the pre-connect hook first
  try {
    await k.exec(k.primaryHost, k.cmds.lock.acquire(message, lockVersion(k), { lockedBy: k.cmds.source.lockedBy }), { verbosity: 'debug' });
  } catch (e) {
    if (e instanceof CommandFailedError && /cannot create directory/.test(e.stderr)) throw new LockHeldError();
    throw e;
  }
}

export async function executeLockRelease(k: Kamal): Promise<void> {
  await k.preConnect(); // Kamal runs these through `on(primary_host)`, which runs the pre-connect hook first
  try {
    await k.exec(k.primaryHost, k.cmds.lock.release(), { verbosity: 'debug' });
  } catch (e) {
    if (e instanceof CommandFailedError && /No such file or directory/.test(e.stderr)) throw new LockMissingError();
    throw e;
  }
}

export async function captureLockStatus(k: Kamal): Promise<string> {
  await k.preConnect(); // Kamal runs these through `on(primary_host)`, which runs the pre-connect hook first
  try {
    const r = await k.exec(k.primaryHost, k.cmds.lock.status(), { verbosity: 'debug' });
    return k.dryRun ? '<lock details>' : r.stdout.trim();
  } catch (e) {
    if (e instanceof CommandFailedError && /No such file or directory/.test(e.stderr)) throw new LockMissingError();
    throw e;
  }
}

async function raiseIfLocked(k: Kamal, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof LockHeldError)) throw e;
    k.say('Deploy lock already in place!', 'error');
    const status = await captureLockStatus(k).catch(() => '');
    throw new LockError(
      `Deploy lock found on ${k.primaryHost}. Run 'kamal-action lock status' for details and 'kamal-action lock release' to clear it` +
        (status ? `\n${withLockAge(status, k.now())}` : ''),
    );
  }
}

export async function acquireLock(k: Kamal): Promise<void> {
  await ensureRunDirectory(k);
  if (k.options.lockWait) await acquireLockWithWait(k);
  else {
    await raiseIfLocked(k, async () => {
      k.say('Acquiring the deploy lock...');
      await executeLockAcquire(k, AUTOMATIC_DEPLOY_LOCK_MESSAGE);
    });
  }
  k.holdingLock = true;
  k.onLockChange?.(true);
}

async function acquireLockWithWait(k: Kamal): Promise<void> {
  const timeout = k.options.lockWaitTimeout ?? 900;
  const interval = k.options.lockWaitInterval ?? 15;
  const deadline = k.now() + timeout * 1000;
  let detailsShown = false;
  k.say(`Acquiring the deploy lock (waiting up to ${timeout}s)...`);
  for (;;) {
    try {
      await executeLockAcquire(k, AUTOMATIC_DEPLOY_LOCK_MESSAGE);
      return;
    } catch (e) {
      if (!(e instanceof LockHeldError)) throw e;
    }
    if (!detailsShown) {
      const status = await captureLockStatus(k).catch(() => '');
      k.say('Deploy lock is held by:');
      k.say(withLockAge(status, k.now()));
      if (!status.includes(AUTOMATIC_DEPLOY_LOCK_MESSAGE)) {
        throw new LockError(`Deploy lock held manually, not waiting. Run 'kamal-action lock status' for details\n${withLockAge(status, k.now())}`);
      }
      detailsShown = true;
    }
    const remaining = Math.floor((deadline - k.now()) / 1000);
    if (remaining <= 0) {
      k.say(`Timed out after ${timeout}s waiting for the deploy lock`, 'error');
      throw new LockError('Timed out waiting for deploy lock');
    }
    k.say(`Retrying in ${interval}s (${remaining}s remaining)...`);
    await sleep(Math.min(interval, remaining) * 1000, k.signal);
  }
}

export async function releaseLock(k: Kamal): Promise<void> {
  k.say('Releasing the deploy lock...');
  await executeLockRelease(k);
  k.holdingLock = false;
  k.onLockChange?.(false);
}

/** Kamal's with_lock: acquire unless held, run, release; a failed release never hides the original error. */
export async function withLock<T>(k: Kamal, fn: () => Promise<T>): Promise<T> {
  if (k.holdingLock) return fn();
  await k.step('acquire lock', () => acquireLock(k));
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    try {
      await releaseLockEvenIfCancelled(k);
    } catch (releaseError) {
      k.say(`Error releasing the deploy lock: ${(releaseError as Error).message}`, 'error');
    }
    throw e;
  }
  // a cancel that arrives once the work is done must not leave the lock behind either
  await k.step('release lock', () => releaseLockEvenIfCancelled(k));
  return result;
}

/** Releases the lock through a context whose cancellation is ignored (cleanup after a cancel). */
async function releaseLockEvenIfCancelled(k: Kamal): Promise<void> {
  const saved = k.signal;
  k.signal = undefined;
  try {
    await releaseLock(k);
  } finally {
    k.signal = saved;
  }
}
