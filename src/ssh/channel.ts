/**
 * Running one command on a pooled connection: a session channel (with a pty for an interactive
 * session), its output collected and redacted, its exit status or signal, a timeout or an abort.
 * A channel the server refuses lowers the connection's channel limit and is tried again.
 */
import { constants as osConstants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, ClientChannel } from 'ssh2';
import { CommandAbortedError, CommandTimeoutError, ConnectionError, type RunOptions } from '../exec/types.js';
import { holdConnection, plainChannelError, releaseConnection, type Conn, type ConnectionKeeper } from './connection.js';
import { OutputCollector } from '../exec/output.js';

/** Attempts to open a session channel before giving up (with backoff, a few seconds in all). */
const MAX_OPEN_RETRIES = 16;

export type ExecOutcome = { exitCode: number; stdout: string; stderr: string };

/** Runs `line` on the connection; `shown` is its redacted form for messages, `secrets` the values to redact from output. */
export async function execOnConnection(
  conn: Conn,
  keeper: ConnectionKeeper,
  host: string,
  line: string,
  shown: string,
  secrets: string[],
  opts: RunOptions,
): Promise<ExecOutcome> {
  const { signal } = opts;
  for (let attempt = 0; ; attempt++) {
    let releaseSlot: () => void;
    try {
      releaseSlot = await conn.sessions.acquire(signal);
    } catch (e) {
      if (signal?.aborted) throw new CommandAbortedError(host, shown, { cause: signal.reason });
      throw e;
    }
    holdConnection(conn);
    const done = (): void => {
      releaseSlot();
      releaseConnection(conn, keeper);
    };

    let running: { outcome: Promise<ExecOutcome> };
    try {
      if (conn.closed) throw new Error('connection closed');
      // drive() attaches its listeners inside the exec callback: exit status
      // and close can arrive in the same packet batch as the exec reply.
      running = await openExec(conn.client, line, opts.interactive?.pty, (channel) => {
        conn.open++;
        if (conn.open > conn.peakOpen) {
          conn.peakOpen = conn.open;
          if (conn.peakOpen > conn.sessions.limit) conn.sessions.setLimit(conn.peakOpen);
        }
        return drive(channel, conn, host, shown, secrets, opts).finally(() => conn.open--);
      });
    } catch (e) {
      done();
      if (signal?.aborted) throw new CommandAbortedError(host, shown, { cause: signal.reason });
      if (!conn.closed && isChannelOpenFailure(e) && attempt < MAX_OPEN_RETRIES) {
        // The server allows fewer sessions than maxSessions (OpenSSH
        // MaxSessions), or has not yet freed a session that just closed.
        // Drop to what it has demonstrably allowed at once; the limit rises
        // again as more channels succeed.
        const limit = Math.max(1, conn.peakOpen);
        if (limit < conn.sessions.limit) {
          keeper.debug?.(`${host} refused a session channel; limiting this connection to ${limit} concurrent channels for now`);
          conn.sessions.setLimit(limit);
        }
        await sleep(Math.min(20 * 2 ** attempt, 500), undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (conn.closed) {
        throw new ConnectionError(host, `connection lost${conn.lastError ? ` (${conn.lastError.message})` : ''}`, { cause: e });
      }
      throw new ConnectionError(
        host,
        isChannelOpenFailure(e)
          ? `the server refused to open a session channel (${plainChannelError(e)}); check MaxSessions in its sshd_config`
          : `cannot open a session: ${plainChannelError(e)}`,
        { cause: e },
      );
    }

    try {
      return await running.outcome;
    } finally {
      done();
    }
  }
}

function drive(channel: ClientChannel, conn: Conn, host: string, shown: string, secrets: string[], opts: RunOptions): Promise<ExecOutcome> {
  return new Promise<ExecOutcome>((resolve, reject) => {
    const out = new OutputCollector(secrets, opts.onStdout);
    const err = new OutputCollector(secrets, opts.onStderr);
    let exitCode: number | undefined;
    let exitSignal: string | undefined;
    let stopped: 'timeout' | 'abort' | undefined;
    let finished = false;

    // An interactive command's output goes to the session as it comes, uncollected (a shell or a
    // log can run for hours); everything else is collected and redacted.
    const session = opts.interactive;
    if (session) {
      channel.on('data', (d: Buffer) => {
        if (!finished) session.stdout(d);
      });
      channel.stderr.on('data', (d: Buffer) => {
        if (!finished) session.stderr(d);
      });
    } else {
      channel.on('data', (d: Buffer) => out.write(d));
      channel.stderr.on('data', (d: Buffer) => err.write(d));
    }
    let detach: (() => void) | undefined;
    channel.on('exit', (code: number | null, sig?: string) => {
      if (typeof code === 'number') exitCode = code;
      else if (sig) {
        exitSignal = sig.replace(/^SIG/, '');
        const num = (osConstants.signals as Record<string, number>)[`SIG${exitSignal}`];
        exitCode = 128 + (num ?? 0);
      }
    });
    channel.on('error', () => {});

    const stop = (why: 'timeout' | 'abort'): void => {
      if (finished || stopped) return;
      stopped = why;
      try {
        channel.signal('KILL');
      } catch {
        // not all servers accept signals; closing the channel is what counts
      }
      try {
        channel.close();
      } catch {
        // already closed
      }
      // OpenSSH ignores the signal and keeps a session without a pty open until its command
      // exits; an interactive session ends here at once, as `ssh` does when interrupted (the
      // remote command then meets its closed output).
      if (session) finish();
    };
    const timer = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? setTimeout(() => stop('timeout'), opts.timeoutMs) : undefined;
    const onAbort = (): void => stop('abort');
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (): void => {
      if (finished) return;
      finished = true;
      try {
        detach?.();
      } catch {
        // the session's own clean-up failing must not hide the command's outcome
      }
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      out.end();
      err.end();
      const stdout = out.text();
      const stderr = err.text();
      if (stopped === 'timeout') return reject(new CommandTimeoutError({ host, command: shown, stdout, stderr }, opts.timeoutMs!));
      if (stopped === 'abort') return reject(new CommandAbortedError(host, shown, { cause: opts.signal?.reason }));
      if (exitCode === undefined) {
        if (conn.closed || !isWritableClient(conn)) {
          return reject(new ConnectionError(host, `connection lost while running: ${shown}${conn.lastError ? ` (${conn.lastError.message})` : ''}`));
        }
        // The server closed the channel without an exit status.
        return resolve({ exitCode: 255, stdout, stderr: stderr || 'the server closed the session without an exit status' });
      }
      if (exitSignal && !stderr) return resolve({ exitCode, stdout, stderr: `killed by signal ${exitSignal}` });
      resolve({ exitCode, stdout, stderr });
    };
    channel.on('close', finish);

    if (opts.signal?.aborted) {
      stop('abort');
      return;
    }
    if (session) {
      detach = session.attach({
        write: (data) => {
          if (!finished) channel.write(data);
        },
        end: () => {
          if (!finished) channel.end();
        },
        resize: (rows, cols) => {
          if (!finished && session.pty) channel.setWindow(rows, cols, 0, 0);
        },
      });
      return;
    }
    try {
      if (opts.stdin !== undefined) channel.end(opts.stdin);
      else channel.end();
    } catch {
      // the channel closed already; 'close' reports it
    }
  });
}

function isWritableClient(conn: Conn): boolean {
  const sock = (conn.client as unknown as { _sock?: { writable?: boolean } })._sock;
  return !!sock?.writable;
}

function openExec(
  client: Client,
  line: string,
  pty: { term: string; rows: number; cols: number } | undefined,
  start: (channel: ClientChannel) => Promise<ExecOutcome>,
): Promise<{ outcome: Promise<ExecOutcome> }> {
  return new Promise((resolve, reject) => {
    try {
      const options = pty ? { pty: { term: pty.term, rows: pty.rows, cols: pty.cols, width: 0, height: 0 } } : {};
      client.exec(line, options, (err, stream) => (err ? reject(err) : resolve({ outcome: start(stream) })));
    } catch (e) {
      reject(e);
    }
  });
}

function isChannelOpenFailure(e: unknown): boolean {
  return e instanceof Error && /Channel open failure/i.test(e.message);
}
