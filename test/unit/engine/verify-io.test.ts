import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { httpFetcher, probeFor } from '../../../src/engine/verify.js';
import { addVerifyFlags, verifyOptionsFrom } from '../../../src/cli/verify-flags.js';
import { buildProgram } from '../../../src/cli/program.js';

describe('deploy flags', () => {
  const parse = (argv: string[]) => {
    const c = addVerifyFlags(new Command('deploy').exitOverride()).action(() => undefined);
    c.parse(argv, { from: 'user' });
    return verifyOptionsFrom(c.opts());
  };

  it('--verify-url repeats; --verify-for takes a duration; --rollback-on-failure', () => {
    expect(
      parse(['--verify-url', 'https://app.test/up 200 "OK"', '--verify-url', 'https://app.test/', '--verify-for', '1m30s', '--rollback-on-failure']),
    ).toEqual({
      specs: [
        { url: 'https://app.test/up', status: 200, contains: 'OK' },
        { url: 'https://app.test/', status: 200 },
      ],
      forMs: 90_000,
      rollbackOnFailure: true,
    });
    expect(parse([])).toEqual({ specs: [], forMs: 30_000, rollbackOnFailure: false });
  });

  const bad: [string[], string][] = [
    [
      ['--verify-url', 'app.test/up'],
      '--verify-url line 1: \'app.test/up\' is not an absolute URL: expected URL [STATUS] [TEXT], such as https://app.example.com/up 200 "OK"',
    ],
    [['--verify-url', 'http://a.test/', '--verify-for', 'later'], "--verify-for 'later' is not a duration such as 30s, 2m, 1m30s or 45 (seconds)"],
    [['--rollback-on-failure'], '--rollback-on-failure needs at least one --verify-url'],
    [['--verify-for', '10s'], '--verify-for needs at least one --verify-url'],
  ];
  it.each(bad)('refuses %j', (argv, message) => {
    expect(() => parse(argv)).toThrow(new UsageError(message));
  });

  it('are flags of deploy and redeploy, refused before a context exists', async () => {
    for (const command of ['deploy', 'redeploy']) {
      const help = buildProgram(() => undefined)
        .commands.find((c) => c.name() === command)!
        .helpInformation();
      expect(help).toContain('--verify-url <spec>');
      expect(help).toContain('--verify-for <duration>');
      expect(help).toContain('--rollback-on-failure');
    }
    let captured = false;
    const program = buildProgram(() => (captured = true));
    await expect(program.parseAsync(['deploy', '--verify-url', 'http://a.test/ 1000'], { from: 'user' })).rejects.toThrow(
      "--verify-url line 1: '1000' after http://a.test/ is not an HTTP status (100-599)",
    );
    expect(captured).toBe(false);
    expect(
      buildProgram(() => undefined)
        .commands.find((c) => c.name() === 'rollback')!
        .helpInformation(),
    ).not.toContain('--verify-url');
  });
});

describe('httpFetcher', () => {
  let server: Server;
  let port: number;
  const seen: { url?: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, headers: req.headers });
      if (req.url === '/hang') return; // never answers
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'Content-Type': 'text/plain' });
      res.end(`hello from ${req.headers.host}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('connects to the host and sends the URL host as Host header, with the path and query', async () => {
    const answer = await httpFetcher(probeFor('127.0.0.1', { url: `http://app.test:${port}/up?check=1`, status: 200 }), 5000);
    expect(answer).toEqual({ status: 200, body: `hello from app.test:${port}` });
    expect(seen.at(-1)!.url).toBe('/up?check=1');
    expect(seen.at(-1)!.headers.host).toBe(`app.test:${port}`);
    expect(seen.at(-1)!.headers['user-agent']).toBe('kamal-action-verify');
    expect((await httpFetcher(probeFor('127.0.0.1', { url: `http://app.test:${port}/missing`, status: 200 }), 5000)).status).toBe(404);
  });

  it('gives up on a request without an answer', async () => {
    await expect(httpFetcher(probeFor('127.0.0.1', { url: `http://app.test:${port}/hang`, status: 200 }), 100)).rejects.toThrow('no answer within 0.1s');
  });

  it('fails on a connection that is refused', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(httpFetcher(probeFor('127.0.0.1', { url: `http://app.test:${free}/`, status: 200 }), 5000)).rejects.toThrow(/ECONNREFUSED/);
  });
});
