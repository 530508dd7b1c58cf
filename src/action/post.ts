/** The action's post step: the scrubbed environment, then runPost. It never fails the job. */
import * as core from './workflow-commands.js';
import { runCli } from '../cli/run.js';
import { formatError } from '../cli/errors.js';
import { actionsCore } from './core.js';
import { scrubEnv } from './child-env.js';
import { runPost } from './run-post.js';

export async function postStep(): Promise<void> {
  try {
    // Inputs, state and the runner's tokens are read from a copy: no process started from here sees them.
    const env = { ...process.env };
    scrubEnv(process.env);
    await runPost({ core: actionsCore(env), env, runCli });
  } catch (e) {
    core.warning(`Post step: ${formatError(e)}`);
  }
  process.exitCode = 0;
}
