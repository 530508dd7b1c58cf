/**
 * One SSH connection of the pool: its client, its channel limit, who uses it, and its idle timer.
 * The pool opens and forgets connections; channels and forwards hold a connection while they use it.
 */
import type { Client } from 'ssh2';
import type { SshTarget } from './host.js';
import type { Semaphore } from './semaphore.js';

export interface Conn {
  key: string;
  /** For closing order: targets are deepest, then jump hosts from the last hop back to the first. */
  depth: number;
  label: string;
  target: SshTarget;
  client: Client;
  sessions: Semaphore;
  /** Open channels plus connections tunnelled through this one. */
  users: number;
  /** Session channels open now, and the most that were open at once. */
  open: number;
  peakOpen: number;
  idleTimer: NodeJS.Timeout | undefined;
  closed: boolean;
  lastError: Error | undefined;
  closedPromise: Promise<void>;
  onClose: (() => void)[];
  /** The pool's map entry for this connection. */
  entry?: Promise<Conn>;
}

/** What channels and forwards ask of the pool that owns their connection. */
export interface ConnectionKeeper {
  /** Starts the idle timer of a connection that nothing uses any more. */
  touch(conn: Conn): void;
  /** Receives short diagnostic lines. */
  debug?: (line: string) => void;
}

/** Marks the connection as in use: it is not closed for idleness until released. */
export function holdConnection(conn: Conn): void {
  conn.users++;
  clearIdle(conn);
}

/** Ends one use of the connection; the last one starts its idle timer. */
export function releaseConnection(conn: Conn, keeper: ConnectionKeeper): void {
  conn.users--;
  keeper.touch(conn);
}

export function clearIdle(conn: Conn): void {
  if (conn.idleTimer) clearTimeout(conn.idleTimer);
  conn.idleTimer = undefined;
}

export async function endConn(conn: Conn): Promise<void> {
  clearIdle(conn);
  if (conn.closed) return;
  try {
    conn.client.end();
  } catch {
    // ignore
  }
  const timer = setTimeout(() => conn.client.destroy(), 2000);
  timer.unref();
  await conn.closedPromise;
  clearTimeout(timer);
}

/** The message of an ssh2 channel error without its "(SSH) " prefix. */
export function plainChannelError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^\(SSH\) /, '');
}
