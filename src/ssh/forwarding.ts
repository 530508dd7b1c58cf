/**
 * Port forwarding on pooled connections: reverse tunnels from a host back to this machine, and
 * the direct TCP channels that carry a connection through a jump host.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Client, ClientChannel } from 'ssh2';
import { ConnectionError } from '../exec/types.js';
import { holdConnection, releaseConnection, type Conn, type ConnectionKeeper } from './connection.js';

/**
 * Reverse tunnel on the host's connection (`ssh -R 127.0.0.1:PORT:localhost:PORT`): the host
 * listens on 127.0.0.1:`port` and each connection there is piped to `localhost:port` here.
 * The connection stays open while the tunnel is; the returned function closes the tunnel.
 */
export async function forwardRemotePort(conn: Conn, keeper: ConnectionKeeper, host: string, port: number): Promise<() => Promise<void>> {
  const { client } = conn;
  const sockets = new Set<Socket>();
  const onConnection = (details: { destIP: string; destPort: number }, accept: () => ClientChannel, reject: () => void): void => {
    if (details.destPort !== port) return reject();
    const channel = accept();
    const local = netConnect({ host: 'localhost', port });
    sockets.add(local);
    local.on('close', () => sockets.delete(local));
    local.on('error', () => channel.destroy());
    channel.on('error', () => local.destroy());
    local.pipe(channel).pipe(local);
  };
  client.on('tcp connection', onConnection);
  holdConnection(conn);
  const stop = (): void => {
    client.removeListener('tcp connection', onConnection);
    for (const sock of sockets) sock.destroy();
    releaseConnection(conn, keeper);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      client.forwardIn('127.0.0.1', port, (err) => (err ? reject(err) : resolve()));
    });
  } catch (e) {
    stop();
    throw new ConnectionError(host, `failed to establish port forward of 127.0.0.1:${port}: ${(e as Error).message}`, { cause: e });
  }
  keeper.debug?.(`forwarding 127.0.0.1:${port} on ${conn.label} to localhost:${port}`);
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    if (!conn.closed) {
      await new Promise<void>((resolve) => {
        try {
          client.unforwardIn('127.0.0.1', port, () => resolve());
        } catch {
          resolve();
        }
      });
    }
    stop();
  };
}

/** A channel from the server at `client` to host:port, for a connection through a jump host. */
export function forwardOut(client: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream)));
    } catch (e) {
      reject(e);
    }
  });
}
