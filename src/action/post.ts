/** Entry point of the action's post step: never fails the job. */
import '../esm-globals.js';
import * as core from './workflow-commands.js';
import { runCli } from '../cli/run.js';
import { formatError } from '../cli/errors.js';
import { actionsCore } from './core.js';
import { scrubEnv } from './child-env.js';
import { runPost } from './run-post.js';

try {
  // Inputs, state and the runner's tokens are read from a copy: no process started from here sees them.
  const env = { ...process.env };
  scrubEnv(process.env);
  await runPost({ core: actionsCore(env), env, runCli });
} catch (e) {
  core.warning(`Post step: ${formatError(e)}`);
}
process.exitCode = 0;
