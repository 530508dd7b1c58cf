/** The action's main step: signals, the scrubbed environment, then runMain. */
import * as core from './workflow-commands.js';
import { runCli } from '../cli/run.js';
import { CancelledError } from '../engine/cancel.js';
import { formatError } from '../cli/errors.js';
import { actionsCore } from './core.js';
import { scrubEnv } from './child-env.js';
import { runMain } from './run-main.js';

export async function mainStep(): Promise<void> {
  const controller = new AbortController();
  // The runner sends SIGINT on cancel, SIGTERM 7.5 s later and kills 2.5 s after that.
  // The first cuts the commands in flight short; the engine then undoes what the rollout
  // started (the previous version serving again) and releases the lock. If the process
  // is killed first, the post step finishes the undo and releases the lock.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (controller.signal.aborted) {
        core.info(`Received ${sig}: still putting the previous version back and releasing the deploy lock...`);
        return;
      }
      core.info(`Received ${sig}: cancelling, putting the previous version back where the rollout started the new one and releasing the deploy lock...`);
      controller.abort(new CancelledError(`Cancelled by ${sig}`));
    });
  }

  try {
    // Inputs, state and the runner's tokens are read from a copy: no process started from here sees them.
    const env = { ...process.env };
    scrubEnv(process.env);
    const r = await runMain({ core: actionsCore(env), env, runCli, signal: controller.signal });
    if (r.exitCode !== 0) process.exitCode = 1;
  } catch (e) {
    core.setFailed(formatError(e));
  }
}
