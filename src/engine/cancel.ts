import { CommandAbortedError } from '../exec/types.js';
import { MultiError } from './parallel.js';

/** The run was cancelled (SIGINT/SIGTERM, a cancelled CI job). */
export class CancelledError extends Error {
  constructor(message = 'Cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw signal.reason instanceof Error ? signal.reason : new CancelledError();
  }
}

/**
 * Whether an error only says the run was cancelled: a CancelledError, a
 * command stopped through the abort signal, or several hosts failing with
 * nothing but those.
 */
export function isCancellation(e: unknown): boolean {
  if (e instanceof CancelledError || e instanceof CommandAbortedError) return true;
  return e instanceof MultiError && e.errors.length > 0 && e.errors.every(isCancellation);
}
