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

/**
 * Settles like `work`, or rejects once `signal` aborts without waiting for `work` (an answer that
 * arrives in the same turn as the signal still wins: it was already on its way). An aborted
 * SSH command only settles once its remote process has exited (OpenSSH ignores the signal request
 * and keeps a session open while its process runs), and `kamal-proxy deploy` runs until the proxy
 * has finished waiting for the health check: up to the deploy timeout. The cancel must not wait
 * for that; `work` is left to finish on its own and its outcome is ignored.
 */
export function unlessCancelled<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(signal.reason instanceof Error ? signal.reason : new CancelledError());
      });
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Seconds that a container started by a cancelled rollout gets between SIGTERM and SIGKILL
 * (`docker stop -t`), unless the role's own stop_timeout is shorter. A CI runner kills a cancelled
 * job 10 s after its first signal (SIGINT, SIGTERM at 7.5 s, SIGKILL at 10 s), and an app that
 * ignores SIGTERM would otherwise hold `docker stop` for Docker's default 10 s.
 */
export const CANCEL_STOP_TIMEOUT = 2;

/**
 * How far a boot of the new version got on one host and role:
 * - `started`: `docker run` of the new container was sent (it may be running); the proxy was not
 *   asked to route to it, so the old container still gets every request.
 * - `deploying`: `kamal-proxy deploy` to the new container was sent and had not answered. The
 *   proxy goes on waiting for the container's health check after our client is gone, and switches
 *   to it once it passes, unless the container is stopped first (kamal-proxy has no way to call a
 *   pending deploy off; a stopped container has no DNS name and fails every check, so the deploy
 *   fails at its deploy timeout and the old target keeps serving).
 * - `switched`: the proxy answered: it routes to the new container; the old one still runs.
 * - `done`: the old container was stopped too (roles without the proxy: the new one is healthy and
 *   the old one stopped).
 */
export type BootPhase = 'started' | 'deploying' | 'switched' | 'done';

export const BOOT_PHASES: readonly BootPhase[] = ['started', 'deploying', 'switched', 'done'];

/**
 * One step of undoing a boot:
 * - `stop-new`: stop the new container (nothing else removes it; like a failed boot, it is left
 *   stopped for `prune` or a later boot of the same version to rename);
 * - `start-old`: start the previous version's container (a no-op while it still runs);
 * - `route-old`: `kamal-proxy deploy` to the previous version's running container (health-checked
 *   by the proxy like any deploy; a no-op for routing when the proxy never left it).
 */
export type UndoStep = 'stop-new' | 'start-old' | 'route-old';

/**
 * What undoing a boot means at each phase, in order. The new container is stopped before the
 * proxy is sent back to the old one whenever a deploy to the new one may still be pending, so that
 * deploy can never land after ours; once the proxy has switched, it is routed back first (draining
 * the new container) and the new container stopped after, so no request meets a stopped container.
 * Without a previous version (a first deploy) the new container is only stopped.
 */
export function undoSteps(phase: BootPhase, opts: { previous: boolean; proxy: boolean }): UndoStep[] {
  if (!opts.previous) return ['stop-new'];
  switch (phase) {
    case 'started':
      return ['stop-new'];
    case 'deploying':
      return opts.proxy ? ['stop-new', 'start-old', 'route-old'] : ['stop-new'];
    case 'switched':
    case 'done':
      return opts.proxy ? ['start-old', 'route-old', 'stop-new'] : ['start-old', 'stop-new'];
  }
}

/** A boot that a cancelled run has yet to undo (kept in the action's state for its post step). */
export interface PendingUndo {
  host: string;
  role: string;
  version: string;
  previousVersion?: string;
  phase: BootPhase;
}

const VERSION = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Reads a list of pending undos (JSON) and checks every field's shape; hosts and roles are checked
 * against the configuration by the engine. Throws a plain message naming what is wrong.
 */
export function parsePendingUndo(text: string): PendingUndo[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error('the boots to undo are not valid JSON');
  }
  if (!Array.isArray(data)) throw new Error('the boots to undo must be a list');
  return data.map((item, i) => {
    const where = `boot ${i + 1}`;
    if (typeof item !== 'object' || item === null) throw new Error(`${where} must be an object`);
    const o = item as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => !['host', 'role', 'version', 'previousVersion', 'phase'].includes(k));
    if (keys.length) throw new Error(`${where} has unknown fields: ${keys.join(', ')}`);
    if (typeof o.host !== 'string' || !o.host) throw new Error(`${where}: host must be a name`);
    if (typeof o.role !== 'string' || !/^[A-Za-z0-9_-]+$/.test(o.role)) throw new Error(`${where}: role must be a role name`);
    if (typeof o.version !== 'string' || !VERSION.test(o.version)) throw new Error(`${where}: version must be an image tag`);
    if (o.previousVersion !== undefined && (typeof o.previousVersion !== 'string' || !VERSION.test(o.previousVersion))) {
      throw new Error(`${where}: previousVersion must be an image tag`);
    }
    if (typeof o.phase !== 'string' || !(BOOT_PHASES as readonly string[]).includes(o.phase)) {
      throw new Error(`${where}: phase must be one of ${BOOT_PHASES.join(', ')}`);
    }
    return {
      host: o.host,
      role: o.role,
      version: o.version,
      ...(o.previousVersion !== undefined ? { previousVersion: o.previousVersion as string } : {}),
      phase: o.phase as BootPhase,
    };
  });
}
