/**
 * The local end of an interactive command, as `ssh -t` gives it: with a terminal on stdin, a
 * pseudo-terminal of the same type and size is asked for on the remote side, the local terminal
 * goes into raw mode while the command runs (so Ctrl-C, Ctrl-D and every other key reach the
 * remote side as bytes) and window size changes follow it (SIGWINCH). With piped stdin, no
 * pseudo-terminal: the input is forwarded as it comes and its end is sent as EOF.
 *
 * The terminal is put back in the mode it had when the command ends, fails or is stopped, and
 * if the process exits in between.
 */
import { spawnSync } from 'node:child_process';
import { CommandFailedError, type InteractiveRemote, type InteractiveSession } from './types.js';

export interface TerminalInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface TerminalOutput extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface TerminalStreams {
  stdin: TerminalInput;
  stdout: TerminalOutput;
  stderr: TerminalOutput;
  /** `TERM` of this process, sent as the remote terminal's type. */
  term?: string;
}

/** The exit hook that puts terminals back when the process ends mid-session. */
type ExitHook = { on(event: 'exit', listener: () => void): unknown; removeListener(event: 'exit', listener: () => void): unknown };

/**
 * Turns the terminal's output processing off (`stty -opost`) or on again. Node's raw mode keeps
 * it on, so a remote `\n` would reach the screen as `\r\n` and full-screen programs would draw
 * in the wrong places; `ssh -t` turns it off too.
 */
export type OutputProcessing = (on: boolean) => void;

/** `stty [-]opost` on this process's stdin (fd 0), when that is the terminal; failures are ignored. */
export function sttyOutputProcessing(on: boolean): void {
  try {
    spawnSync('stty', [on ? 'opost' : '-opost'], { stdio: [0, 'ignore', 'ignore'], timeout: 5000 });
  } catch {
    // no stty: the output keeps its carriage returns
  }
}

/** Whether a pseudo-terminal is asked for (and `-it` given to docker): stdin is a terminal, as Kamal's `STDIN.isatty`. */
export function stdinIsTerminal(stdin: { isTTY?: boolean } | undefined): boolean {
  return stdin?.isTTY === true;
}

export class LocalTerminal implements InteractiveSession {
  readonly pty: InteractiveSession['pty'];
  readonly #io: TerminalStreams;
  readonly #exitHook: ExitHook;
  readonly #outputProcessing: OutputProcessing | undefined;
  #restore: (() => void) | undefined;

  /**
   * `outputProcessing` defaults to `stty` on fd 0 when `io.stdin` is this process's stdin, and
   * to nothing otherwise.
   */
  constructor(io: TerminalStreams, opts: { exitHook?: ExitHook; outputProcessing?: OutputProcessing } = {}) {
    this.#io = io;
    this.#exitHook = opts.exitHook ?? process;
    this.#outputProcessing = opts.outputProcessing ?? (io.stdin === process.stdin ? sttyOutputProcessing : undefined);
    if (stdinIsTerminal(io.stdin)) {
      const { rows, cols } = this.#size();
      this.pty = { term: io.term || 'xterm', rows, cols };
    }
  }

  /** The window size: of stdout, else of stderr when stdout is redirected, else 80x24. */
  #size(): { rows: number; cols: number } {
    for (const s of [this.#io.stdout, this.#io.stderr]) {
      if (s.isTTY && s.rows && s.columns) return { rows: s.rows, cols: s.columns };
    }
    return { rows: 24, cols: 80 };
  }

  attach(remote: InteractiveRemote): () => void {
    const { stdin } = this.#io;
    const raw = this.pty !== undefined && typeof stdin.setRawMode === 'function';
    const wasRaw = stdin.isRaw === true;
    const onData = (d: Buffer | string): void => remote.write(d);
    const onEnd = (): void => remote.end();
    const resizers = this.pty ? [this.#io.stdout, this.#io.stderr].filter((s) => s.isTTY) : [];
    const onResize = (): void => {
      const { rows, cols } = this.#size();
      remote.resize(rows, cols);
    };

    let done = false;
    const restore = (): void => {
      if (done) return;
      done = true;
      this.#restore = undefined;
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      for (const s of resizers) s.removeListener('resize', onResize);
      this.#exitHook.removeListener('exit', restore);
      if (raw) {
        try {
          // leaving raw mode puts back the modes the terminal had before the first raw mode, output processing included
          stdin.setRawMode!(wasRaw);
          if (wasRaw) this.#outputProcessing?.(true);
        } catch {
          // the terminal is gone
        }
      }
      stdin.pause();
    };
    this.#restore = restore;

    if (raw) {
      this.#exitHook.on('exit', restore);
      stdin.setRawMode!(true);
      this.#outputProcessing?.(false);
    }
    for (const s of resizers) s.on('resize', onResize);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
    // the size may have changed between the request for the pseudo-terminal and now
    if (this.pty) {
      const now = this.#size();
      if (now.rows !== this.pty.rows || now.cols !== this.pty.cols) remote.resize(now.rows, now.cols);
    }
    return restore;
  }

  /** Puts the terminal back now (also done when the command ends). */
  restore(): void {
    this.#restore?.();
  }

  stdout(data: Buffer): void {
    this.#io.stdout.write(data);
  }

  stderr(data: Buffer): void {
    this.#io.stderr.write(data);
  }
}

/**
 * The interactive command ended with a non-zero status. The CLI exits with that status and
 * prints nothing more (the command spoke for itself on the terminal), as Kamal does by
 * exec'ing `ssh`.
 */
export class InteractiveExitError extends CommandFailedError {
  constructor(r: { host: string; command: string; exitCode: number }) {
    super({ ...r, stdout: '', stderr: '' });
    this.name = 'InteractiveExitError';
    this.message = `interactive command exited with status ${r.exitCode} on ${r.host}: ${r.command}`;
  }
}
