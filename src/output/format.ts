/**
 * The lines Kamal's output loggers receive: SSHKit's pretty format (without colours, as written
 * when stdout is not a terminal) and the sinks' common interface.
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

/** SSHKit::Formatter::Pretty#format_message: `  INFO [uuid] message`. */
export function formatMessage(severity: Severity, message: string, uuid?: string): string {
  const body = uuid === undefined ? message : `[${uuid}] ${message}`;
  return `${LEVEL_NAMES[severity].padStart(6)} ${body}`;
}

/** The message of a command start: `Running CMD on HOST` (`as USER@HOST` where the host has a user). */
export function commandStartMessage(command: string, host: string, user?: string): string {
  return `Running ${command} ${user ? `as ${user}@` : 'on '}${host}`;
}

/** A chunk of output: a tab, then the chunk without its last newline. */
export function commandDataMessage(chunk: string): string {
  return `\t${chunk}`.replace(/(\r\n|\n|\r)$/, '');
}

/** `Finished in 0.123 seconds with exit status 0 (successful).` */
export function commandExitMessage(runtimeSeconds: number, exitCode: number): string {
  return `Finished in ${runtimeSeconds.toFixed(3).padStart(5)} seconds with exit status ${exitCode} (${exitCode === 0 ? 'successful' : 'failed'}).`;
}

/** `app boot`, `deploy`. */
export function fullCommand(p: Pick<ModifyPayload, 'command' | 'subcommand'>): string {
  return [p.command, p.subcommand].filter((s) => s !== undefined && s !== null).join(' ');
}
