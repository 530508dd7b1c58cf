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
  /** A command about to run; `command` is already redacted. */
  command(host: string, command: string): void;
  /** Raw stdout (for --raw and plan output). */
  write(text: string): void;
}

export class ConsoleReporter implements Reporter {
  constructor(
    private readonly opts: { verbose?: boolean; quiet?: boolean; out?: NodeJS.WritableStream; err?: NodeJS.WritableStream } = {},
  ) {}

  private get out(): NodeJS.WritableStream {
    return this.opts.out ?? process.stdout;
  }
  private get err(): NodeJS.WritableStream {
    return this.opts.err ?? process.stderr;
  }

  say(message: string, level: Level = 'info'): void {
    if (level === 'debug' && !this.opts.verbose) return;
    if (this.opts.quiet && level !== 'error') return;
    (level === 'error' || level === 'warn' ? this.err : this.out).write(`${message}\n`);
  }

  hostOutput(host: string, output: string, type = 'App'): void {
    if (this.opts.quiet) {
      this.out.write(`${output}\n`);
      return;
    }
    this.out.write(`${type} Host: ${host}\n${output}\n\n`);
  }

  command(host: string, command: string): void {
    if (this.opts.verbose) this.err.write(`  ${host}$ ${command}\n`);
  }

  write(text: string): void {
    this.out.write(text);
  }
}

/** Collects everything; used by tests and by the action to build its report. */
export class MemoryReporter implements Reporter {
  readonly messages: { level: Level; message: string }[] = [];
  readonly outputs: { host: string; output: string; type: string }[] = [];
  readonly commands: { host: string; command: string }[] = [];
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
  command(host: string, command: string): void {
    this.commands.push({ host, command });
    this.inner?.command(host, command);
  }
  write(text: string): void {
    this.text += text;
    this.inner?.write(text);
  }
}
