/**
 * The default vendor runner: the command line is rendered with our shell
 * quoting (every word single-quoted as needed, so nothing from a secret name
 * is read by the shell) and run through `/bin/sh -c`, as Ruby's backticks
 * run Kamal's: stdout captured, stderr and stdin the terminal's (a sign-in
 * can prompt), `2> /dev/null` where Kamal has it.
 */
import { spawnSync } from 'node:child_process';
import { cat, cmd, raw, render } from '../../shell.js';
import type { VendorCall, VendorResult, VendorRunner } from './types.js';

/** The `sh -c` line for a call, e.g. `BW_SESSION=abc bw status` or `op --version 2> /dev/null`. */
export function renderVendorCall(call: VendorCall): string {
  const assignments = Object.entries(call.env ?? {}).map(([k, v]) => cat(raw(`${k}=`), v));
  return render(cmd(...assignments, ...call.argv, call.quiet && raw('2>'), call.quiet && '/dev/null'));
}

export interface ShellRunnerOptions {
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Let the vendor CLI read the terminal (sign-in prompts). Off: its stdin is /dev/null. Default on. */
  interactive?: boolean;
}

export function shellVendorRunner(opts: ShellRunnerOptions): VendorRunner {
  const env = Object.fromEntries(Object.entries(opts.env).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return (call: VendorCall): VendorResult => {
    const r = spawnSync('/bin/sh', ['-c', renderVendorCall(call)], {
      env,
      cwd: opts.cwd,
      stdio: [opts.interactive === false ? 'ignore' : 'inherit', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout: r.stdout ? r.stdout.toString('utf8') : '', success: !r.error && r.status === 0 };
  };
}
