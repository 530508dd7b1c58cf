/**
 * LocalRunner: runs commands on this machine with `/bin/sh -c`, with the same
 * result and error contract as the SSH pool. Its results name the host
 * `local` (LOCAL).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, open, rename, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { display, render, secretsOf, type Command } from '../shell.js';
import { OutputCollector } from './output.js';
import { CommandAbortedError, CommandFailedError, CommandTimeoutError, LOCAL, type RunOptions, type RunResult, type Runner } from './types.js';

export interface LocalRunnerOptions {
  /** Working directory for commands. Default: the process's. */
  cwd?: string;
  /**
   * Environment for every command, under RunOptions.env. When given it is the whole
   * environment (the action hands a cleaned one); without it, process.env.
   */
  env?: Record<string, string>;
  /** Shell used with `-c`. Default `/bin/sh`. */
  shell?: string;
  /** Grace period between SIGTERM and SIGKILL on timeout or abort. Default 2000 ms. */
  killGraceMs?: number;
}

/** The environment of a local command: the runner's own (or process.env) with the command's on top; unset values left out. */
export function childEnv(base: Record<string, string | undefined> | undefined, extra: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base ?? process.env)) if (v !== undefined) out[k] = v;
  return Object.assign(out, extra);
}

export class LocalRunner implements Runner {
  readonly options: Readonly<LocalRunnerOptions>;

  constructor(options: LocalRunnerOptions = {}) {
    this.options = { ...options };
  }

  async run(host: string, command: Command, opts: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const shown = display(command);
    const secrets = secretsOf(command).map((s) => s.reveal());
    const label = host || LOCAL;
    const { signal } = opts;
    if (signal?.aborted) throw new CommandAbortedError(label, shown, { cause: signal.reason });

    const stoppable = (opts.timeoutMs !== undefined && opts.timeoutMs > 0) || signal !== undefined;
    const outcome = await new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(this.options.shell ?? '/bin/sh', ['-c', render(command)], {
        cwd: opts.cwd ?? this.options.cwd,
        env: childEnv(this.options.env, opts.env),
        stdio: ['pipe', 'pipe', 'pipe'],
        // With a timeout or an AbortSignal the command gets its own process
        // group, so stopping it stops the whole pipeline. Otherwise it stays in
        // ours and receives the terminal's Ctrl-C like any child.
        detached: stoppable,
      });
      const out = new OutputCollector(secrets, opts.onStdout);
      const err = new OutputCollector(secrets, opts.onStderr);
      let stopped: 'timeout' | 'abort' | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      let spawnError: Error | undefined;

      const killGroup = (sig: NodeJS.Signals): void => {
        if (child.pid === undefined) return;
        try {
          if (!stoppable) throw new Error('not a group leader');
          process.kill(-child.pid, sig);
        } catch {
          try {
            child.kill(sig);
          } catch {
            // gone already
          }
        }
      };
      const stop = (why: 'timeout' | 'abort'): void => {
        if (stopped) return;
        stopped = why;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), this.options.killGraceMs ?? 2000);
        killTimer.unref();
      };
      const timer = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? setTimeout(() => stop('timeout'), opts.timeoutMs) : undefined;
      const onAbort = (): void => stop('abort');
      signal?.addEventListener('abort', onAbort, { once: true });

      child.stdout.on('data', (d: Buffer) => out.write(d));
      child.stderr.on('data', (d: Buffer) => err.write(d));
      child.stdin.on('error', () => {
        // the command did not read all its input (EPIPE); its exit code decides
      });
      child.on('error', (e) => {
        spawnError = e;
      });
      child.on('close', (code, sig) => {
        if (timer) clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        signal?.removeEventListener('abort', onAbort);
        out.end();
        err.end();
        const stdout = out.text();
        const stderr = err.text();
        if (stopped === 'timeout') return reject(new CommandTimeoutError({ host: label, command: shown, stdout, stderr }, opts.timeoutMs!));
        if (stopped === 'abort') return reject(new CommandAbortedError(label, shown, { cause: signal?.reason }));
        if (spawnError) return resolve({ exitCode: 127, stdout, stderr: stderr || spawnError.message });
        if (code !== null) return resolve({ exitCode: code, stdout, stderr });
        const num = sig ? ((osConstants.signals as Record<string, number>)[sig] ?? 0) : 0;
        resolve({ exitCode: 128 + num, stdout, stderr: stderr || `killed by signal ${sig}` });
      });

      if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
      else child.stdin.end();
    });

    const result: RunResult = {
      host: label,
      command: shown,
      ...outcome,
      durationMs: Math.round(performance.now() - started),
    };
    if (result.exitCode !== 0 && !opts.allowFailure) throw new CommandFailedError(result);
    return result;
  }

  /** Writes a local file. With `mode`, writes a temporary file with that mode and renames it into place. */
  async upload(_host: string, content: string | Buffer, path: string, opts: { mode?: string } = {}): Promise<void> {
    if (opts.mode === undefined) {
      await writeFile(path, content);
      return;
    }
    if (!/^[0-7]{3,4}$/.test(opts.mode)) throw new Error(`invalid file mode "${opts.mode}" (expected octal, e.g. "600")`);
    const mode = parseInt(opts.mode, 8);
    const tmp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(content);
      } finally {
        await fh.close();
      }
      await chmod(tmp, mode);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async close(): Promise<void> {
    // nothing to close
  }
}
