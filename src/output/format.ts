/**
 * The lines Kamal prints and its output loggers receive: SSHKit's pretty format (with its colours
 * on a terminal, without them elsewhere) and the sinks' common interface.
 */

/** SSHKit verbosities, as Ruby's Logger levels. */
export type Severity = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Where a line came from: the host of the command, its stream, the level it was written at. */
export interface LineContext {
  host?: string;
  iostream?: 'stdout' | 'stderr';
  severity?: Severity;
}

/** What Kamal's `modify.kamal` notification carries. */
export interface ModifyPayload {
  command: string;
  subcommand?: string;
  destination?: string;
  hosts: string[];
}

/** A destination of the run's log (Kamal's output loggers). */
export interface OutputSink {
  /** Text of one or more lines, each ending with a newline. */
  write(text: string, ctx: LineContext): void;
  /** The outermost modifying command starts. */
  start(payload: ModifyPayload): void;
  /** It ended, after `runtimeSeconds` (rounded to a tenth), with `exception` [type, message] if it failed. */
  finish(payload: ModifyPayload, runtimeSeconds: number, exception?: [string, string]): void;
  /** The run is over: write and send what is left. */
  close(): Promise<void>;
}

const LEVEL_NAMES: Record<Severity, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'FATAL' };

/** The ANSI colours SSHKit and Thor use. */
export type Colour = 'black' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta';

/** Paints a piece of a line; `plain` leaves it as it is (a log file, a pipe, NO_COLOR). */
export type Paint = (text: string, colour: Colour, bold?: boolean) => string;

const CODES: Record<Colour, number> = { black: 30, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35 };

export const plain: Paint = (text) => text;

/** SSHKit::Color#colorize: `ESC[0;34;49m`, or `ESC[1;...` for bold, then `ESC[0m`. */
export const sshkitPaint: Paint = (text, colour, bold) => `\x1b[${bold ? 1 : 0};${CODES[colour]};49m${text}\x1b[0m`;

/** Thor's set_color, which Kamal's `say` uses: `ESC[35m` ... `ESC[0m`. */
export function thorColour(text: string, colour: Colour): string {
  return `\x1b[${CODES[colour]}m${text}\x1b[0m`;
}

const LEVEL_COLOURS: Record<Severity, Colour> = { debug: 'black', info: 'blue', warn: 'yellow', error: 'red', fatal: 'red' };

/** SSHKit::Formatter::Pretty#format_message: `  INFO [uuid] message`. */
export function formatMessage(severity: Severity, message: string, uuid?: string, paint: Paint = plain): string {
  const body = uuid === undefined ? message : `[${paint(uuid, 'green')}] ${message}`;
  return `${paint(LEVEL_NAMES[severity].padStart(6), LEVEL_COLOURS[severity])} ${body}`;
}

/** The message of a command start: `Running CMD on HOST` (`as USER@HOST` where the host has a user). */
export function commandStartMessage(command: string, host: string, user?: string, paint: Paint = plain): string {
  return `Running ${paint(command, 'yellow', true)} ${user ? `as ${paint(user, 'blue')}@` : 'on '}${paint(host, 'blue')}`;
}

/** SSHKit's `Command: ...` line (debug). */
export function commandLineMessage(command: string, paint: Paint = plain): string {
  return `Command: ${paint(command, 'blue')}`;
}

/** A chunk of output: a tab, then the chunk without its last newline (green on stdout, red on stderr). */
export function commandDataMessage(chunk: string, paint: Paint = plain, iostream: 'stdout' | 'stderr' = 'stdout'): string {
  return paint(`\t${chunk}`.replace(/(\r\n|\n|\r)$/, ''), iostream === 'stdout' ? 'green' : 'red');
}

/** `Finished in 0.123 seconds with exit status 0 (successful).` */
export function commandExitMessage(runtimeSeconds: number, exitCode: number, paint: Paint = plain): string {
  const outcome = exitCode === 0 ? paint('successful', 'green', true) : paint('failed', 'red', true);
  return `Finished in ${runtimeSeconds.toFixed(3).padStart(5)} seconds with exit status ${exitCode} (${outcome}).`;
}

/** `app boot`, `deploy`. */
export function fullCommand(p: Pick<ModifyPayload, 'command' | 'subcommand'>): string {
  return [p.command, p.subcommand].filter((s) => s !== undefined && s !== null).join(' ');
}

/**
 * Whether a stream gets colours: SSHKit colours a terminal or when SSHKIT_COLOR is set; Thor
 * leaves them out when NO_COLOR is set (not empty) or TERM is dumb. NO_COLOR wins here.
 */
export function wantsColour(stream: { isTTY?: boolean } | undefined, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR) return false;
  if (env.SSHKIT_COLOR) return true;
  return !!stream?.isTTY && env.TERM !== 'dumb';
}
