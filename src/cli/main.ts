/** Entry point of the `kamal-action` command. */
import '../esm-globals.js';
import { createInterface } from 'node:readline/promises';
import { runCli } from './run.js';
import { CancelledError } from '../engine/cancel.js';

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y, N] `);
    return answer.trim().toLowerCase() === 'y';
  } finally {
    rl.close();
  }
}

const controller = new AbortController();
let signals = 0;
// The first SIGINT/SIGTERM cancels: commands in flight are cut short, what the rollout started is
// undone (the previous version serving again) and the lock released. A second signal does not cut
// that short (a CI runner sends SIGTERM 7.5 s after SIGINT); a third stops at once.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals++;
    if (signals > 2) process.exit(130);
    if (signals > 1) {
      process.stderr.write(`\nReceived ${sig}: still putting the previous version back and releasing the deploy lock (a third signal stops at once)...\n`);
      return;
    }
    process.stderr.write(
      `\nReceived ${sig}: cancelling, putting the previous version back where the rollout started the new one and releasing the deploy lock...\n`,
    );
    controller.abort(new CancelledError(`Cancelled by ${sig}`));
  });
}

const result = await runCli(process.argv.slice(2), { signal: controller.signal, confirm });
process.exitCode = result.exitCode;
