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
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals++;
    if (signals > 1) process.exit(130);
    process.stderr.write(`\nReceived ${sig}: stopping after the current step and releasing the deploy lock...\n`);
    controller.abort(new CancelledError(`Cancelled by ${sig}`));
  });
}

const result = await runCli(process.argv.slice(2), { signal: controller.signal, confirm });
process.exitCode = result.exitCode;
