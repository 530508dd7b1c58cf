/**
 * The I/O edge for running commands. The engine only ever talks to a Runner;
 * the SSH pool, the local runner and the recording runner used by tests all
 * implement it.
 */
import type { Command } from '../shell.js';

export const LOCAL = 'local';

export interface RunOptions {
  /** Data written to the command's stdin, then closed. */
  stdin?: string | Buffer;
  /** Streamed output, as it arrives. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Kill the command (and fail) after this many ms. */
  timeoutMs?: number;
  /** Extra environment (local commands only; remote commands get it exported in the command). */
  env?: Record<string, string>;
  /** Working directory (local commands only). */
  cwd?: string;
  /** Do not throw on a non-zero exit; return the result instead. */
  allowFailure?: boolean;
  /** The level the command is logged at: Kamal logs its lock and audit commands at debug (shown with -v). */
  verbosity?: 'debug' | 'info';
  /**
   * Connect the command to this process's terminal or pipes (interactive exec, following logs):
   * its input comes from the session, its output goes to it unchanged and is not collected.
   */
  interactive?: InteractiveSession;
  /** Cancel the command. */
  signal?: AbortSignal;
}

/** The local end of an interactive command (see src/exec/terminal.ts). */
export interface InteractiveSession {
  /** Ask for a pseudo-terminal of this type and size on the remote side (`ssh -t` with a terminal on stdin). */
  pty?: { term: string; rows: number; cols: number };
  /**
   * Called once the command runs. Forward input with `remote.write`, end it with `remote.end` (EOF),
   * report a new window size with `remote.resize`. Returns the function that stops forwarding,
   * called when the command has ended.
   */
  attach(remote: InteractiveRemote): () => void;
  /** Output of the command, as it arrives. */
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
}

export interface InteractiveRemote {
  write(data: Buffer | string): void;
  end(): void;
  resize(rows: number, cols: number): void;
}

export interface RunResult {
  host: string;
  /** The rendered command with secrets redacted. */
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface Runner {
  /** Runs a command on `host` (or LOCAL). Throws CommandFailedError on a non-zero exit unless allowFailure. */
  run(host: string, command: Command, opts?: RunOptions): Promise<RunResult>;
  /** Writes `content` to `remotePath` on `host` (mode as octal string, e.g. "600"). */
  upload(host: string, content: string | Buffer, remotePath: string, opts?: { mode?: string }): Promise<void>;
  /** Closes every connection. */
  close(): Promise<void>;
  /**
   * Opens a reverse tunnel: connections to 127.0.0.1:`port` on `host` reach `localhost:port`
   * here (Kamal's local registry port forwarding). Resolves once the host listens; the
   * returned function closes the tunnel.
   */
  forwardRemotePort?(host: string, port: number, signal?: AbortSignal): Promise<() => Promise<void>>;
}

/** A remote or local command failed. Its message names host, command, exit code and the stderr tail. */
export class CommandFailedError extends Error {
  readonly host: string;
  readonly command: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;

  constructor(r: { host: string; command: string; exitCode: number; stdout: string; stderr: string }, tailLines = 10) {
    const tail = lastLines(r.stderr.trim() || r.stdout.trim(), tailLines);
    super(`command failed on ${r.host} (exit ${r.exitCode}): ${r.command}` + (tail ? `\n${indent(tail)}` : ''));
    this.name = 'CommandFailedError';
    this.host = r.host;
    this.command = r.command;
    this.exitCode = r.exitCode;
    this.stdout = r.stdout;
    this.stderr = r.stderr;
  }
}

/** The command ran longer than its timeoutMs and was stopped. exitCode is 124, as with timeout(1). */
export class CommandTimeoutError extends CommandFailedError {
  readonly timeoutMs: number;
  constructor(r: { host: string; command: string; stdout: string; stderr: string }, timeoutMs: number, tailLines = 10) {
    super({ ...r, exitCode: 124 }, tailLines);
    const tail = lastLines(r.stderr.trim() || r.stdout.trim(), tailLines);
    this.message = `command timed out after ${timeoutMs} ms on ${r.host}: ${r.command}` + (tail ? `\n${indent(tail)}` : '');
    this.name = 'CommandTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The command was cancelled through its AbortSignal. */
export class CommandAbortedError extends Error {
  readonly host: string;
  readonly command: string;
  constructor(host: string, command: string, options?: { cause?: unknown }) {
    super(`command aborted on ${host}: ${command}`, options);
    this.name = 'AbortError';
    this.host = host;
    this.command = command;
  }
}

/** The host could not be reached or the connection broke. */
export class ConnectionError extends Error {
  readonly host: string;
  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super(`${host}: ${message}`, options);
    this.name = 'ConnectionError';
    this.host = host;
  }
}

export function lastLines(text: string, n: number): string {
  const lines = text.split('\n');
  return lines.slice(Math.max(0, lines.length - n)).join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
