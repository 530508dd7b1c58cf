/** `lock status|acquire|release` (Kamal::Cli::Lock). */
import type { Kamal } from './kamal.js';
import {
  LockMissingError,
  captureLockStatus,
  ensureRunDirectory,
  executeLockAcquire,
  executeLockRelease,
  LockHeldError,
} from './lock.js';
import { LockError } from '../errors.js';

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

export async function lockAcquire(k: Kamal, message: string): Promise<void> {
  await ensureRunDirectory(k);
  try {
    await executeLockAcquire(k, message);
  } catch (e) {
    if (!(e instanceof LockHeldError)) throw e;
    const status = await captureLockStatus(k).catch(() => '');
    throw new LockError(`Deploy lock found on ${k.primaryHost}.\n${status}`);
  }
  k.say('Acquired the deploy lock');
}

export async function lockRelease(k: Kamal): Promise<void> {
  await handleMissingLock(k, async () => {
    await executeLockRelease(k);
    k.say('Released the deploy lock');
  });
}
