/**
 * Interactive commands on a host (`exec -i`, `logs -f`): run on the host's pooled SSH
 * connection with this process's terminal or pipes attached (src/exec/terminal.ts). Kamal runs
 * the local `ssh -t` for these; the remote command and the terminal handling are the same.
 */
import { display, type Command } from '../shell.js';
import { InteractiveExitError, LocalTerminal, stdinIsTerminal } from '../exec/terminal.js';
import type { Kamal } from './kamal.js';

/** Kamal's `STDIN.isatty`: `-it` for docker and a pseudo-terminal when true, `-i` and plain pipes when not. */
export function stdinIsTty(kamal: Kamal): boolean {
  return stdinIsTerminal(kamal.stdin ?? process.stdin);
}

/**
 * Runs `command` on `host` attached to the terminal; a non-zero exit becomes the run's exit status.
 * `announce` says the command first, as Kamal's `logs -f` prints the `ssh` line it runs.
 */
export async function runInteractive(kamal: Kamal, host: string, command: Command, opts: { announce?: boolean } = {}): Promise<void> {
  if (opts.announce) kamal.say(display(command));
  const terminal = new LocalTerminal({
    stdin: kamal.stdin ?? process.stdin,
    stdout: kamal.stdout ?? process.stdout,
    stderr: kamal.stderr ?? process.stderr,
    term: kamal.env.TERM ?? process.env.TERM,
  });
  let result: Awaited<ReturnType<Kamal['exec']>>;
  try {
    result = await kamal.exec(host, command, { interactive: terminal, allowFailure: true });
  } finally {
    terminal.restore();
  }
  if (result.exitCode !== 0) throw new InteractiveExitError(result);
}
