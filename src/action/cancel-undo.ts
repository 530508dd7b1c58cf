/**
 * The action's part in undoing a cancelled rollout. The engine undoes what it started when the
 * main step is cancelled (src/engine/cancel.ts says what undoing each phase of a boot means) and,
 * as it goes, hands the boots still to undo to the main step, which keeps them in its (signed)
 * state. When the runner kills the main step before the undo is done, the post step finishes it
 * with `app undo_boot`, under the lock this run still holds, before the lock is released.
 */
import { parsePendingUndo, type PendingUndo } from '../engine/cancel.js';

/** What the post step runs through the CLI, in a log group. */
export interface PostCliRun {
  title: string;
  /** The command line, given the config flags of the inputs and the version for the context. */
  argv: (flags: string[], version: string | undefined) => string[];
}

/** The state value for the boots still to undo: empty when none. */
export function pendingUndoState(pending: readonly PendingUndo[]): string {
  return pending.length > 0 ? JSON.stringify(pending) : '';
}

/** The boots to undo from the state value; a malformed value is a problem to report, never run. */
export function readPendingUndo(value: string | undefined): { pending: PendingUndo[]; problem?: string } {
  if (!value) return { pending: [] };
  try {
    return { pending: parsePendingUndo(value) };
  } catch (e) {
    return { pending: [], problem: `the boots to undo in the saved state are ignored: ${(e as Error).message}` };
  }
}

/** `app undo_boot` for the boots left: the version they started is the context's version. */
export function undoRun(pending: readonly PendingUndo[]): PostCliRun {
  return {
    title: 'Putting the previous version back where the cancelled rollout started the new one',
    argv: (flags) => ['app', 'undo_boot', JSON.stringify(pending), ...flags, '--version', pending[0]!.version],
  };
}

export const UNDO_BY_HAND =
  'The cancelled rollout may have left the new version running on some hosts: check with `kamal-action app details` and `kamal-action rollback`';
