/** One place that turns any error into the text a user sees: never a stack trace, never a secret. */
import { BootError, ConfigError, DependencyError, HookError, LockError, UsageError } from '../errors.js';
import { CommandFailedError, ConnectionError } from '../exec/types.js';
import { CancelledError } from '../engine/cancel.js';
import { MultiError } from '../engine/parallel.js';
import type { SecretRegistry } from '../secret.js';

const LABELS: [new (...a: never[]) => Error, string][] = [
  [ConfigError, 'Configuration error'],
  [UsageError, 'Error'],
  [LockError, 'Lock error'],
  [HookError, 'Hook error'],
  [BootError, 'Boot error'],
  [DependencyError, 'Missing dependency'],
  [CommandFailedError, 'Command failed'],
  [ConnectionError, 'Connection failed'],
  [CancelledError, 'Cancelled'],
  [MultiError, 'Failed'],
];

export function formatError(e: unknown, secrets?: SecretRegistry): string {
  let text: string;
  if (e instanceof Error) {
    const label = LABELS.find(([cls]) => e instanceof cls)?.[1];
    text = label ? `${label}: ${e.message}` : `Error: ${e.message}`;
    if (!label && process.env.KAMAL_ACTION_DEBUG) text += `\n${e.stack ?? ''}`;
  } else text = `Error: ${String(e)}`;
  text = explain(text);
  return secrets ? secrets.redact(text) : text;
}

/** Adds the fix to errors users commonly meet. */
function explain(text: string): string {
  if (text.includes('host settings conflict with another service')) {
    text +=
      '\nAnother app on this host already routes the same host and path through kamal-proxy. ' +
      "Give this app its own proxy/host (or path_prefix), or remove the other app's route (`kamal-action app remove` in that app, " +
      'or `docker exec kamal-proxy kamal-proxy remove <service>-<role>` on the host).';
  }
  if (text.includes('target failed to become healthy')) {
    text +=
      '\nThe new container did not answer its health check in time; the previous version keeps serving. ' +
      'Check proxy/healthcheck/path (default /up, must answer 2xx without redirecting), proxy/app_port, and deploy_timeout.';
  }
  return text;
}
