/** A local OTLP/HTTP receiver for tests: records every request on 127.0.0.1 and a free port. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  contentType: string | undefined;
  /** Which TCP connection carried it (the client's port). */
  connection: number;
  body: {
    resourceLogs: {
      resource: { attributes: { key: string; value: Record<string, unknown> }[] };
      scopeLogs: { scope: { name: string; version: string }; logRecords: Record<string, unknown>[] }[];
    }[];
  };
}

export class Receiver {
  readonly requests: Received[] = [];
  status = 200;
  #server: Server;
  #waiters: { n: number; resolve: () => void }[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<Receiver> {
    const server = createServer();
    const r = new Receiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        r.requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          contentType: req.headers['content-type'],
          connection: req.socket.remotePort ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
        res.writeHead(r.status, r.status === 200 ? 'OK' : 'Internal Server Error', { 'Content-Length': '0' });
        res.end();
        r.#waiters = r.#waiters.filter((w) => {
          if (r.requests.length < w.n) return true;
          w.resolve();
          return false;
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves once `n` requests in all have arrived. */
  received(n: number): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }

  /** Every log record received, in order. */
  get records(): Record<string, unknown>[] {
    return this.requests.flatMap((r) => r.body.resourceLogs[0]!.scopeLogs[0]!.logRecords);
  }

  get bodies(): string[] {
    return this.records.map((r) => (r.body as { stringValue: string }).stringValue);
  }

  reset(): void {
    this.requests.length = 0;
    this.status = 200;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
