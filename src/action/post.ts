/** Entry point of the action's post step: never fails the job. */
import '../esm-globals.js';
import * as core from './workflow-commands.js';
import { runCli } from '../cli/run.js';
import { formatError } from '../cli/errors.js';
import { actionsCore } from './core.js';
import { runPost } from './run-post.js';

try {
  await runPost({ core: actionsCore(), env: process.env, runCli });
} catch (e) {
  core.warning(`Post step: ${formatError(e)}`);
}
process.exitCode = 0;
