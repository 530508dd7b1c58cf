/**
 * `output.file.path`: one log file per modifying command, as Kamal's FileLogger writes it.
 *
 * The file is `<path>/<YYYY-MM-DDTHH-MM-SS>[_<destination>]_<command>[_<subcommand>].log` (local
 * time at the start), opened for appending when the command starts; it receives every line of the
 * run's log until the command ends, then `# Completed in 12.3s` or
 * `# FAILED: <type>: <message> (12.3s)`. Lines outside a modifying command are not written.
 * Once closed, `Logs written to <file>` is printed.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LineContext, ModifyPayload, OutputSink } from './format.js';

/** Ruby's strftime("%Y-%m-%dT%H-%M-%S"), local time. */
export function fileTimestamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

/** The log file's name for a command started at `at`. */
export function logFileName(p: Pick<ModifyPayload, 'command' | 'subcommand' | 'destination'>, at: Date): string {
  const command = [p.command, p.subcommand].filter((s) => s !== undefined && s !== null).join('_');
  return `${[fileTimestamp(at), p.destination, command].filter((s) => s !== undefined && s !== null).join('_')}.log`;
}

/** File access, injected for tests. */
export interface FileLogFs {
  mkdirp(dir: string): void;
  open(path: string): number;
  write(fd: number, text: string): void;
  close(fd: number): void;
}

export const nodeFileLogFs: FileLogFs = {
  mkdirp: (dir) => void mkdirSync(dir, { recursive: true }),
  open: (path) => openSync(path, 'a'),
  write: (fd, text) => void writeSync(fd, text),
  close: (fd) => closeSync(fd),
};

export class FileLog implements OutputSink {
  #fd: number | undefined;
  #file: string | undefined;

  constructor(
    readonly path: string,
    private readonly deps: {
      /** Folder a relative path is taken from. */
      cwd: string;
      now?: () => Date;
      fs?: FileLogFs;
      /** Prints a line to the terminal (Kamal's `puts`). */
      print: (line: string) => void;
    },
  ) {}

  get #fs(): FileLogFs {
    return this.deps.fs ?? nodeFileLogFs;
  }

  /** The file being written, as printed (the configured path joined with the name). */
  get file(): string | undefined {
    return this.#file;
  }

  write(text: string, _ctx: LineContext): void {
    if (this.#fd !== undefined) this.#fs.write(this.#fd, text);
  }

  start(payload: ModifyPayload): void {
    const dir = resolve(this.deps.cwd, this.path);
    this.#fs.mkdirp(dir);
    const name = logFileName(payload, (this.deps.now ?? (() => new Date()))());
    this.#file = join(this.path, name);
    this.#fd = this.#fs.open(join(dir, name));
  }

  finish(_payload: ModifyPayload, runtimeSeconds: number, exception?: [string, string]): void {
    if (this.#fd === undefined) return;
    const runtime = runtimeSeconds.toFixed(1);
    this.#fs.write(this.#fd, exception ? `# FAILED: ${exception[0]}: ${exception[1]} (${runtime}s)\n` : `# Completed in ${runtime}s\n`);
    this.#fs.close(this.#fd);
    this.#fd = undefined;
    this.deps.print(`Logs written to ${this.#file}`);
  }

  async close(): Promise<void> {
    if (this.#fd === undefined) return;
    this.#fs.close(this.#fd);
    this.#fd = undefined;
  }
}
