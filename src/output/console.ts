/**
 * What the CLI prints on a terminal, as Kamal does: each remote command in SSHKit's pretty format
 * (`  INFO [a1b2c3d4] Running docker ... on vm1`, then `Finished in 0.123 seconds with exit status 0
 * (successful).`), Kamal's messages (Thor's `say`, progress in magenta), and with -v the command
 * line and its output at DEBUG. Verbosity as Kamal's: -v is debug, -q is error (commands and
 * messages hidden, host output kept), otherwise info. Colours on a terminal, none with NO_COLOR,
 * TERM=dumb or a pipe (SSHKIT_COLOR forces them, as in SSHKit).
 */
import { userInfo } from 'node:os';
import { LOCAL } from '../exec/types.js';
import type { Level, Reporter } from '../engine/reporter.js';
import {
  commandDataMessage,
  commandExitMessage,
  commandLineMessage,
  commandStartMessage,
  formatMessage,
  plain,
  sshkitPaint,
  thorColour,
  wantsColour,
  type Paint,
  type Severity,
} from './format.js';

export type Verbosity = 'debug' | 'info' | 'error';

export interface TerminalOptions {
  verbosity?: Verbosity;
  /** Paint lines (decided by the caller from the stream and the environment, see `wantsColour`). */
  colour?: boolean;
  /** Leave out the command lines (a dry run lists its commands itself). */
  commands?: boolean;
  out?: { write(text: string): unknown };
  err?: { write(text: string): unknown };
  /** Shown for local commands: `as USER@localhost`. */
  localUser?: string;
}

/** The verbosity Kamal's -v and -q select (-q wins, as Kamal applies it last). */
export function verbosityOf(opts: { verbose?: boolean; quiet?: boolean }): Verbosity {
  if (opts.quiet) return 'error';
  return opts.verbose ? 'debug' : 'info';
}

const RANK: Record<Severity, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

/** The colour Kamal gives a message: progress lines (`...`) magenta, warnings yellow, errors red. */
export function sayColour(message: string, level: Level): 'magenta' | 'yellow' | 'red' | undefined {
  if (level === 'error') return 'red';
  if (level === 'warn') return 'yellow';
  if (level === 'info' && /\.\.\.$/.test(message)) return 'magenta';
  return undefined;
}

export class TerminalReporter implements Reporter {
  readonly #verbosity: Verbosity;
  readonly #paint: Paint;
  readonly #colour: boolean;
  readonly #opts: TerminalOptions;
  #localUser: string | undefined;
  /** Commands logged at another level than info, by id (their Finished line follows it). */
  readonly #levels = new Map<string, Severity>();

  constructor(opts: TerminalOptions = {}) {
    this.#opts = opts;
    this.#verbosity = opts.verbosity ?? 'info';
    this.#colour = !!opts.colour;
    this.#paint = opts.colour ? sshkitPaint : plain;
  }

  get #out(): { write(text: string): unknown } {
    return this.#opts.out ?? process.stdout;
  }
  get #err(): { write(text: string): unknown } {
    return this.#opts.err ?? process.stderr;
  }

  #shows(severity: Severity): boolean {
    return RANK[severity] >= RANK[this.#verbosity];
  }

  #log(severity: Severity, message: string, id?: string): void {
    if (this.#shows(severity)) this.#out.write(`${formatMessage(severity, message, id, this.#paint)}\n`);
  }

  say(message: string, level: Level = 'info'): void {
    // Thor's say is silent with -q; errors still reach stderr
    if (level === 'debug' && this.#verbosity !== 'debug') return;
    if (this.#verbosity === 'error' && level !== 'error') return;
    const colour = sayColour(message, level);
    const text = colour && this.#colour ? thorColour(message, colour) : message;
    (level === 'error' || level === 'warn' ? this.#err : this.#out).write(`${text}\n`);
  }

  hostOutput(host: string, output: string, type = 'App'): void {
    if (this.#verbosity === 'error') {
      this.#out.write(`${output}\n`);
      return;
    }
    this.#out.write(`${type} Host: ${host}\n${output}\n\n`);
  }

  command(host: string, command: string, id?: string, verbosity: 'debug' | 'info' = 'info'): void {
    if (this.#opts.commands === false) return;
    if (id !== undefined && verbosity !== 'info') this.#levels.set(id, verbosity);
    if (!this.#shows(verbosity)) return;
    const local = host === LOCAL;
    this.#log(verbosity, commandStartMessage(command, local ? 'localhost' : host, local ? this.#user() : undefined, this.#paint), id);
    this.#log('debug', commandLineMessage(command, this.#paint), id);
  }

  commandOutput(_host: string, id: string, stream: 'stdout' | 'stderr', chunk: string): void {
    if (this.#opts.commands === false) return;
    this.#log('debug', commandDataMessage(chunk, this.#paint, stream), id);
  }

  commandEnd(_host: string, id: string, exitCode: number, seconds: number): void {
    if (this.#opts.commands === false) return;
    const level = this.#levels.get(id) ?? 'info';
    this.#levels.delete(id);
    this.#log(level, commandExitMessage(seconds, exitCode, this.#paint), id);
  }

  log(message: string, level: Level, _host?: string): void {
    this.#log(level, message);
  }

  note(_host: string, message: string): void {
    if (this.#opts.commands === false) return;
    this.#log('info', message);
  }

  write(text: string): void {
    this.#out.write(text);
  }

  #user(): string {
    if (this.#localUser === undefined) {
      try {
        this.#localUser = this.#opts.localUser ?? userInfo().username;
      } catch {
        this.#localUser = process.env.USER ?? 'root';
      }
    }
    return this.#localUser;
  }
}

/** The CLI's reporter for a run: verbosity from -v/-q, colours when stdout is a terminal and NO_COLOR is unset. */
export function terminalReporter(
  opts: { verbose?: boolean; quiet?: boolean; commands?: boolean; out?: NodeJS.WriteStream },
  env: Record<string, string | undefined>,
): TerminalReporter {
  const out = opts.out ?? process.stdout;
  return new TerminalReporter({
    verbosity: verbosityOf(opts),
    colour: wantsColour(out, env),
    commands: opts.commands,
    out,
  });
}
