/** A stand-in for the GitHub REST API on 127.0.0.1 that records every request. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  body: unknown;
}

export interface FakeGithub {
  url: string;
  requests: RecordedRequest[];
  /** Make the next matching request answer with this status and body. */
  failNext(method: string, pathPattern: RegExp, status: number, body?: unknown): void;
  close(): Promise<void>;
}

export async function startFakeGithub(opts: { firstDeploymentId?: number } = {}): Promise<FakeGithub> {
  const requests: RecordedRequest[] = [];
  const failures: { method: string; path: RegExp; status: number; body: unknown }[] = [];
  let nextDeployment = opts.firstDeploymentId ?? 1001;
  let nextStatus = 1;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      let body: unknown;
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
      }
      const path = req.url ?? '';
      requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
      const send = (status: number, data: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(data));
      };
      const fail = failures.findIndex((f) => f.method === req.method && f.path.test(path));
      if (fail >= 0) {
        const f = failures.splice(fail, 1)[0]!;
        send(f.status, f.body ?? { message: 'failed on purpose' });
        return;
      }
      if (req.method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/deployments$/.test(path)) {
        send(201, { id: nextDeployment++, url: `${path}/x` });
      } else if (req.method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/deployments\/\d+\/statuses$/.test(path)) {
        send(201, { id: nextStatus++, state: (body as { state?: string })?.state });
      } else {
        send(404, { message: 'Not Found' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (method, path, status, body) => failures.push({ method, path, status, body }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
