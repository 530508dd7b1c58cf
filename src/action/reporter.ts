/**
 * Log output for the Actions log: one collapsible group per rollout step (and host), each command
 * inside its step's group as Kamal prints it (SSHKit's `Running ... on HOST` and `Finished in ...`
 * lines), secrets redacted. Verbose (-v, or the runner's debug logging) adds each command line and
 * its output at DEBUG.
 */
import { userInfo } from 'node:os';
import type { Level, Reporter, TimelineEntry } from '../engine/reporter.js';
import { LOCAL } from '../exec/types.js';
import { commandDataMessage, commandExitMessage, commandLineMessage, commandStartMessage, formatMessage } from '../output/format.js';

/** What the reporter writes to; the runner's workflow commands in the action, a recorder in tests. */
export interface LogSink {
  info(line: string): void;
  warning(line: string): void;
  startGroup(title: string): void;
  endGroup(): void;
}

export interface ActionReporterOptions {
  sink: LogSink;
  /** Applied to every line (the run's secret registry). */
  redact?: (text: string) => string;
  verbose?: boolean;
  /** Commands are only listed: `Would run CMD on HOST` instead of SSHKit's `Running`. */
  dryRun?: boolean;
  /** Shown for local commands (`as USER@localhost`); the runner's user by default. */
  localUser?: string;
  /** Told about each command (before printing); used to notice a local `docker login`. */
  onCommand?: (host: string, command: string) => void;
}

/** Where a line belongs: the running step (with its host when the step runs on one), or a host alone. */
interface GroupKey {
  title: string;
  entry?: TimelineEntry;
}

interface Pending {
  key: GroupKey;
  lines: string[];
}

/**
 * Only one log group can be open at a time. Lines of another step that runs at
 * the same time (the same role booting on several hosts) wait in a buffer and
 * are printed as their own group when the open one's step ends.
 */
export class ActionReporter implements Reporter {
  #timeline: readonly TimelineEntry[] = [];
  #open: GroupKey | undefined;
  readonly #pending = new Map<string, Pending>();
  readonly #opts: ActionReporterOptions;

  constructor(opts: ActionReporterOptions) {
    this.#opts = opts;
  }

  /** Follows the run's timeline so lines can be grouped by the step they belong to. */
  attach(timeline: readonly TimelineEntry[]): void {
    this.#timeline = timeline;
  }

  #redact(text: string): string {
    return this.#opts.redact ? this.#opts.redact(text) : text;
  }

  /** The innermost unfinished step running on `host` (or a step not tied to a host). */
  #activeStep(host?: string): TimelineEntry | undefined {
    for (let i = this.#timeline.length - 1; i >= 0; i--) {
      const e = this.#timeline[i]!;
      if (e.finishedAt !== undefined) continue;
      if (host === undefined ? e.host === undefined : e.host === host || e.host === undefined) return e;
    }
    return undefined;
  }

  #keyFor(host?: string): GroupKey | undefined {
    const entry = this.#activeStep(host);
    if (entry) {
      const role = entry.role && !entry.step.includes(entry.role) ? ` (${entry.role})` : '';
      return { title: `${entry.step}${role}${entry.host ? ` on ${entry.host}` : ''}`, entry };
    }
    if (host) return { title: host === 'local' ? 'local' : `on ${host}` };
    return undefined;
  }

  static #running(key: GroupKey | undefined): boolean {
    return !!key?.entry && key.entry.finishedAt === undefined;
  }

  #print(lines: string[]): void {
    for (const l of lines) this.#opts.sink.info(l);
  }

  #openGroup(key: GroupKey): void {
    this.#opts.sink.startGroup(this.#redact(key.title));
    this.#open = key;
    const waiting = this.#pending.get(key.title);
    if (waiting) {
      this.#pending.delete(key.title);
      this.#print(waiting.lines);
    }
  }

  #closeOpen(): void {
    if (this.#open) {
      this.#opts.sink.endGroup();
      this.#open = undefined;
    }
  }

  /** Closes the open group, prints the waiting groups whose steps ended, and opens the first one still running. */
  #advance(): void {
    this.#closeOpen();
    for (const [title, p] of [...this.#pending]) {
      if (ActionReporter.#running(p.key)) continue;
      this.#pending.delete(title);
      this.#opts.sink.startGroup(this.#redact(p.key.title));
      this.#print(p.lines);
      this.#opts.sink.endGroup();
    }
    const next = this.#pending.values().next();
    if (!next.done) this.#openGroup(next.value.key);
  }

  #emit(key: GroupKey | undefined, lines: string[]): void {
    if (!key) {
      // A message without a host stays in the open group while its step runs.
      if (ActionReporter.#running(this.#open)) return this.#print(lines);
      if (this.#open || this.#pending.size > 0) this.#advance();
      if (ActionReporter.#running(this.#open)) return this.#print(lines);
      this.#closeOpen();
      return this.#print(lines);
    }
    if (this.#open?.title === key.title) return this.#print(lines);
    if (this.#open && ActionReporter.#running(this.#open)) {
      const p = this.#pending.get(key.title) ?? { key, lines: [] };
      p.key = key;
      p.lines.push(...lines);
      this.#pending.set(key.title, p);
      return;
    }
    if (this.#open || this.#pending.size > 0) this.#advance();
    if (this.#open?.title === key.title) return this.#print(lines);
    if (this.#open && ActionReporter.#running(this.#open)) {
      const p = this.#pending.get(key.title) ?? { key, lines: [] };
      p.lines.push(...lines);
      this.#pending.set(key.title, p);
      return;
    }
    this.#closeOpen();
    this.#openGroup(key);
    this.#print(lines);
  }

  /** Ends the open group and prints every waiting one. */
  close(): void {
    this.#closeOpen();
    for (const p of this.#pending.values()) {
      this.#opts.sink.startGroup(this.#redact(p.key.title));
      this.#print(p.lines);
      this.#opts.sink.endGroup();
    }
    this.#pending.clear();
  }

  say(message: string, level: Level = 'info'): void {
    if (level === 'debug' && !this.#opts.verbose) return;
    const text = this.#redact(message);
    if (level === 'warn') {
      this.#opts.sink.warning(text);
      return;
    }
    this.#emit(
      this.#keyFor(undefined),
      text.split('\n').map((l) => (level === 'error' ? `Error: ${l}` : l)),
    );
  }

  hostOutput(host: string, output: string, type = 'App'): void {
    this.#emit(this.#keyFor(host), [`${type} Host: ${host}`, ...this.#redact(output).split('\n')]);
  }

  command(host: string, command: string, id?: string, verbosity: 'debug' | 'info' = 'info'): void {
    this.#opts.onCommand?.(host, command);
    // audit and lock commands (debug in Kamal) only in verbose output
    if (verbosity === 'debug' && !this.#opts.verbose) {
      if (id !== undefined) this.#hidden.add(id);
      return;
    }
    const shown = this.#redact(command);
    const local = host === LOCAL;
    const start = commandStartMessage(shown, local ? 'localhost' : host, local ? this.#localUser() : undefined);
    const lines = [formatMessage(verbosity, this.#opts.dryRun ? start.replace(/^Running /, 'Would run ') : start, id)];
    if (this.#opts.verbose) lines.push(formatMessage('debug', commandLineMessage(shown), id));
    if (id !== undefined && verbosity === 'debug') this.#debug.add(id);
    this.#emit(this.#keyFor(host), lines);
  }

  commandOutput(host: string, id: string, stream: 'stdout' | 'stderr', chunk: string): void {
    if (!this.#opts.verbose) return;
    const lines = this.#redact(chunk)
      .replace(/(\r\n|\n|\r)$/, '')
      .split(/\r?\n/);
    this.#emit(
      this.#keyFor(host),
      lines.map((l) => formatMessage('debug', commandDataMessage(l, undefined, stream), id)),
    );
  }

  commandEnd(host: string, id: string, exitCode: number, seconds: number): void {
    if (this.#hidden.delete(id)) return;
    const level = this.#debug.delete(id) ? 'debug' : 'info';
    this.#emit(this.#keyFor(host), [formatMessage(level, commandExitMessage(seconds, exitCode), id)]);
  }

  /** Commands not shown (debug ones without verbose output), and debug ones shown, by id. */
  readonly #hidden = new Set<string>();
  readonly #debug = new Set<string>();

  log(message: string, level: Level, host?: string): void {
    if (level === 'debug' && !this.#opts.verbose) return;
    this.#emit(
      this.#keyFor(host),
      this.#redact(message)
        .split('\n')
        .map((l) => formatMessage(level, l)),
    );
  }

  note(host: string, message: string): void {
    this.#emit(this.#keyFor(host), [formatMessage('info', this.#redact(message))]);
  }

  #user: string | undefined;
  #localUser(): string {
    if (this.#user === undefined) {
      try {
        this.#user = this.#opts.localUser ?? userInfo().username;
      } catch {
        this.#user = process.env.USER ?? 'runner';
      }
    }
    return this.#user;
  }

  write(text: string): void {
    const t = this.#redact(text).replace(/\n$/, '');
    if (t === '') return;
    this.#emit(undefined, t.split('\n'));
  }
}

/** A sink that writes lines without opening groups (for output nested in a group of its own). */
export function flatSink(core: { info(line: string): void; warning(line: string): void }): LogSink {
  return {
    info: (line) => core.info(line),
    warning: (line) => core.warning(line),
    startGroup: () => undefined,
    endGroup: () => undefined,
  };
}
