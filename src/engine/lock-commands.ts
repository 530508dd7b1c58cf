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

async function handleMissingLock(kamal: Kamal, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof LockMissingError) kamal.reporter.write('There is no deploy lock\n');
    else throw e;
  }
}

export async function lockStatus(kamal: Kamal): Promise<void> {
  await handleMissingLock(kamal, async () => {
    const status = await captureLockStatus(kamal);
    kamal.reporter.write(`${status}\n${lockAge(status, kamal.now())}`);
  });
}

export async function lockAcquire(kamal: Kamal, message: string): Promise<void> {
  await ensureRunDirectory(kamal);
  try {
    await executeLockAcquire(kamal, message);
  } catch (e) {
    if (!(e instanceof LockHeldError)) throw e;
    const status = await captureLockStatus(kamal).catch(() => '');
    throw new LockError(`Deploy lock found on ${kamal.primaryHost}.\n${withLockAge(status, kamal.now())}`);
  }
  kamal.say('Acquired the deploy lock');
}

export async function lockRelease(kamal: Kamal): Promise<void> {
  await handleMissingLock(kamal, async () => {
    await executeLockRelease(kamal);
    kamal.say('Released the deploy lock');
  });
}
