/** `proxy_command`: a local process whose stdin/stdout carry the SSH connection (`ssh -W %h:%p jump`). */
import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import { quote } from '../shell.js';

export interface ProxyCommandSocket {
  sock: Duplex;
  child: ChildProcess;
  /** The last stderr output of the process, for error messages. */
  stderr(): string;
  kill(): void;
}

/** Substitutes %h (host), %p (port), %r (user) and %%; values are shell-quoted when they need it. */
export function expandProxyCommand(template: string, host: string, port: number, user: string): string {
  return template.replace(/%(.)/g, (m, c: string) => {
    switch (c) {
      case 'h':
        return quote(host);
      case 'p':
        return String(port);
      case 'r':
        return quote(user);
      case '%':
        return '%';
      default:
        throw new Error(`unknown token ${m} in proxy_command (supported: %h %p %r %%)`);
    }
  });
}

export function spawnProxyCommand(command: string): ProxyCommandSocket {
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err = (err + d).slice(-4000);
  });
  const sock = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
  // A write after the process died must not crash the process.
  child.stdin!.on('error', () => {});
  sock.on('error', () => {});
  child.on('close', () => {
    if (!sock.destroyed) sock.destroy();
  });
  return {
    sock,
    child,
    stderr: () => err.trim(),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
