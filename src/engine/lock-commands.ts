/** `lock status|acquire|release` (Kamal::Cli::Lock). */
import type { Kamal } from './kamal.js';
import {
  LockMissingError,
  captureLockStatus,
  ensureRunDirectory,
  executeLockAcquire,
  executeLockRelease,
  LockHeldError,
  lockAge,
  withLockAge,
} from './lock.js';
import { LockError } from '../errors.js';

export { lockAge };

async function handleMissingLock(k: Kamal, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof LockMissingError) k.reporter.write('There is no deploy lock\n');
    else throw e;
  }
}

export async function lockStatus(k: Kamal): Promise<void> {
  await handleMissingLock(k, async () => {
    const status = await captureLockStatus(k);
    k.reporter.write(`${status}\n${lockAge(status, k.now())}`);
  });
}

export async function lockAcquire(k: Kamal, message: string): Promise<void> {
  await ensureRunDirectory(k);
  try {
    await executeLockAcquire(k, message);
  } catch (e) {
    if (!(e instanceof LockHeldError)) throw e;
    const status = await captureLockStatus(k).catch(() => '');
    throw new LockError(`Deploy lock found on ${k.primaryHost}.\n${withLockAge(status, k.now())}`);
  }
  k.say('Acquired the deploy lock');
}

export async function lockRelease(k: Kamal): Promise<void> {
  await handleMissingLock(k, async () => {
    await executeLockRelease(k);
    k.say('Released the deploy lock');
  });
}
