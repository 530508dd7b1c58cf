/** Log output for the Actions log: lines grouped per rollout step and host, secrets redacted. */
import type { Level, Reporter, TimelineEntry } from '../engine/reporter.js';

/** What the reporter writes to; @actions/core in the action, a recorder in tests. */
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
  /** Told about each command (before printing); used to notice a local `docker login`. */
  onCommand?: (host: string, command: string) => void;
}

/** Where a line belongs: the running step for its host, or the host alone. */
interface GroupKey {
  title: string;
  entry?: TimelineEntry;
}

export class ActionReporter implements Reporter {
  #timeline: readonly TimelineEntry[] = [];
  #open: GroupKey | undefined;
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
      const where = entry.host ?? (host && host !== 'local' ? host : undefined);
      const role = entry.role && !entry.step.includes(entry.role) ? ` (${entry.role})` : '';
      return { title: where ? `${entry.step}${role} on ${where}` : `${entry.step}${role}`, entry };
    }
    if (host) return { title: host === 'local' ? 'local' : `on ${host}` };
    return undefined;
  }

  /** Switches groups when a line belongs somewhere else than the open group. */
  #enter(key: GroupKey | undefined): void {
    if (this.#open && key && this.#open.title === key.title) return;
    if (!key) {
      // A message without a host: it stays in the open group unless that step is over.
      if (this.#open && this.#open.entry && this.#open.entry.finishedAt === undefined) return;
      this.close();
      return;
    }
    this.close();
    this.#opts.sink.startGroup(this.#redact(key.title));
    this.#open = key;
  }

  /** Ends the open group, if any. */
  close(): void {
    if (this.#open) {
      this.#opts.sink.endGroup();
      this.#open = undefined;
    }
  }

  say(message: string, level: Level = 'info'): void {
    if (level === 'debug' && !this.#opts.verbose) return;
    const text = this.#redact(message);
    if (level === 'warn') {
      this.#opts.sink.warning(text);
      return;
    }
    this.#enter(this.#keyFor(undefined));
    for (const line of text.split('\n')) this.#opts.sink.info(level === 'error' ? `Error: ${line}` : line);
  }

  hostOutput(host: string, output: string, type = 'App'): void {
    this.#enter(this.#keyFor(host));
    this.#opts.sink.info(`${type} Host: ${host}`);
    for (const line of this.#redact(output).split('\n')) this.#opts.sink.info(line);
  }

  command(host: string, command: string): void {
    this.#opts.onCommand?.(host, command);
    this.#enter(this.#keyFor(host));
    this.#opts.sink.info(`  ${host}$ ${this.#redact(command)}`);
  }

  write(text: string): void {
    const t = this.#redact(text).replace(/\n$/, '');
    if (t === '') return;
    for (const line of t.split('\n')) this.#opts.sink.info(line);
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
