/**
 * Where progress goes. The CLI prints to the terminal, the action groups log
 * lines and builds the job summary, tests collect events.
 */

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface TimelineEntry {
  /** A rollout step: "build", "lock", "proxy boot", "boot web", ... */
  step: string;
  host?: string;
  role?: string;
  startedAt: number;
  finishedAt?: number;
  ok?: boolean;
  detail?: string;
}

export interface Reporter {
  /** A message for people (Kamal's `say`). */
  say(message: string, level?: Level): void;
  /** Output captured from a host (Kamal's `puts_by_host`). */
  hostOutput(host: string, output: string, type?: string): void;
  /**
   * A command about to run; `command` is already redacted. `id` ties its output and end to it;
   * `verbosity` is the level it is logged at (info unless Kamal logs it at debug).
   */
  command(host: string, command: string, id?: string, verbosity?: 'debug' | 'info'): void;
  /** A chunk of a running command's output, already redacted (shown at debug verbosity). */
  commandOutput?(host: string, id: string, stream: 'stdout' | 'stderr', chunk: string): void;
  /** The command ended with `exitCode` after `seconds`. */
  commandEnd?(host: string, id: string, exitCode: number, seconds: number): void;
  /** A line about a host that is not a command (`Uploading PATH 100.0%`, as SSHKit logs an upload). */
  note?(host: string, message: string): void;
  /** A message in SSHKit's log format (`  INFO message`), about `host` when given (Kamal's `info` inside `on`). */
  log?(message: string, level: Level, host?: string): void;
  /** Raw stdout (for --raw and plan output). */
  write(text: string): void;
}

/** Collects everything; used by tests and by the action to build its report. */
export class MemoryReporter implements Reporter {
  readonly messages: { level: Level; message: string }[] = [];
  readonly outputs: { host: string; output: string; type: string }[] = [];
  readonly commands: { host: string; command: string }[] = [];
  readonly notes: { host: string; message: string }[] = [];
  text = '';

  constructor(private readonly inner?: Reporter) {}

  say(message: string, level: Level = 'info'): void {
    this.messages.push({ level, message });
    this.inner?.say(message, level);
  }
  hostOutput(host: string, output: string, type = 'App'): void {
    this.outputs.push({ host, output, type });
    this.inner?.hostOutput(host, output, type);
  }
  command(host: string, command: string, id?: string, verbosity?: 'debug' | 'info'): void {
    this.commands.push({ host, command });
    this.inner?.command(host, command, id, verbosity);
  }
  commandOutput(host: string, id: string, stream: 'stdout' | 'stderr', chunk: string): void {
    this.inner?.commandOutput?.(host, id, stream, chunk);
  }
  commandEnd(host: string, id: string, exitCode: number, seconds: number): void {
    this.inner?.commandEnd?.(host, id, exitCode, seconds);
  }
  note(host: string, message: string): void {
    this.notes.push({ host, message });
    this.inner?.note?.(host, message);
  }
  log(message: string, level: Level, host?: string): void {
    this.messages.push({ level, message });
    if (this.inner?.log) this.inner.log(message, level, host);
    else this.inner?.say(message, level);
  }
  write(text: string): void {
    this.text += text;
    this.inner?.write(text);
  }
}
