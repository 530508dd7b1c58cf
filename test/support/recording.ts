/**
 * RecordingRunner: a Runner for transcript tests. It runs nothing; it records
 * every command (redacted, as shown to people) in call order and answers with
 * scripted responses.
 */
import { display, render, secretsOf, type Command } from '../../src/shell.js';
import { redactText } from '../../src/secret.js';
import { CommandAbortedError, CommandFailedError, type RunOptions, type RunResult, type Runner } from '../../src/exec/types.js';

export interface RecordedCommand {
  host: string;
  /** The command with secrets redacted (display()). */
  command: string;
  /** Extra environment the command was given (local commands), as given. */
  env?: Record<string, string>;
  /** For uploads: the remote path, mode and content size. */
  upload?: { path: string; mode?: string; bytes: number };
}

export interface ScriptedResponse {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

/**
 * Gets the host and the real (unredacted) rendered command, or for uploads
 * `upload PATH` / `upload PATH (mode MODE)`; undefined means exit 0 with no output.
 */
export type Responder = (host: string, renderedCommand: string) => ScriptedResponse | undefined;

export interface RecordingRunnerOptions {
  respond?: Responder;
  /** Simulated duration of every command. */
  delayMs?: number;
}

export class RecordingRunner implements Runner {
  readonly transcript: RecordedCommand[] = [];
  /** Uploaded contents, keyed by `host:path`. */
  readonly files = new Map<string, { content: Buffer; mode?: string }>();
  respond: Responder;
  delayMs: number;
  closed = false;

  constructor(options: RecordingRunnerOptions | Responder = {}) {
    const o = typeof options === 'function' ? { respond: options } : options;
    this.respond = o.respond ?? (() => undefined);
    this.delayMs = o.delayMs ?? 0;
  }

  async run(host: string, command: Command, opts: RunOptions = {}): Promise<RunResult> {
    const shown = display(command);
    this.transcript.push(opts.env && Object.keys(opts.env).length > 0 ? { host, command: shown, env: { ...opts.env } } : { host, command: shown });
    if (opts.signal?.aborted) throw new CommandAbortedError(host, shown, { cause: opts.signal.reason });
    if (this.delayMs > 0) await sleep(this.delayMs, opts.signal, () => new CommandAbortedError(host, shown, { cause: opts.signal?.reason }));
    const response = this.respond(host, render(command)) ?? {};
    const secrets = secretsOf(command).map((s) => s.reveal());
    const clean = (s: string): string => (secrets.length ? redactText(s, secrets) : s);
    const result: RunResult = {
      host,
      command: shown,
      exitCode: response.exitCode ?? 0,
      stdout: clean(response.stdout ?? ''),
      stderr: clean(response.stderr ?? ''),
      durationMs: this.delayMs,
    };
    if (result.stdout) opts.onStdout?.(result.stdout);
    if (result.stderr) opts.onStderr?.(result.stderr);
    if (result.exitCode !== 0 && !opts.allowFailure) throw new CommandFailedError(result);
    return result;
  }

  async upload(host: string, content: string | Buffer, remotePath: string, opts: { mode?: string } = {}): Promise<void> {
    const buf = typeof content === 'string' ? Buffer.from(content) : content;
    const shown = `upload ${remotePath}${opts.mode ? ` (mode ${opts.mode})` : ''}`;
    this.transcript.push({ host, command: shown, upload: { path: remotePath, mode: opts.mode, bytes: buf.length } });
    if (this.delayMs > 0) await sleep(this.delayMs);
    const response = this.respond(host, shown) ?? {};
    if ((response.exitCode ?? 0) !== 0) {
      throw new CommandFailedError({ host, command: shown, exitCode: response.exitCode!, stdout: response.stdout ?? '', stderr: response.stderr ?? '' });
    }
    this.files.set(`${host}:${remotePath}`, { content: buf, mode: opts.mode });
  }

  /** Records `forward 127.0.0.1:PORT to localhost:PORT` (and `unforward ...` when closed); the responder may fail it. */
  async forwardRemotePort(host: string, port: number): Promise<() => Promise<void>> {
    const shown = `forward 127.0.0.1:${port} to localhost:${port}`;
    this.transcript.push({ host, command: shown });
    const response = this.respond(host, shown) ?? {};
    if ((response.exitCode ?? 0) !== 0)
      throw new CommandFailedError({ host, command: shown, exitCode: response.exitCode!, stdout: '', stderr: response.stderr ?? '' });
    return async () => void this.transcript.push({ host, command: `unforward 127.0.0.1:${port}` });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The recorded commands for one host, in order. */
  commandsFor(host: string): string[] {
    return this.transcript.filter((t) => t.host === host).map((t) => t.command);
  }

  /** Every recorded command as `host: command` lines. */
  lines(): string[] {
    return this.transcript.map((t) => `${t.host}: ${t.command}`);
  }

  clear(): void {
    this.transcript.length = 0;
    this.files.clear();
  }
}

function sleep(ms: number, signal?: AbortSignal, onAbort?: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = (): void => {
      clearTimeout(t);
      reject(onAbort ? onAbort() : new Error('aborted'));
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
