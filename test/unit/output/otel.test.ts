import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eachLine, OtelLog, OtelShipper, type OtelShipperOptions } from '../../../src/output/otel.js';
import { Receiver } from './receiver.js';

let receiver: Receiver;
const shippers: OtelShipper[] = [];

beforeAll(async () => {
  receiver = await Receiver.start();
});
afterEach(async () => {
  await Promise.all(shippers.splice(0).map((s) => s.shutdown()));
  receiver.reset();
});
afterAll(() => receiver.close());

const TAGS = { performer: 'deployer@example.com', destination: 'production', version: 'abc123', service: 'myapp' };

function shipper(o: Partial<OtelShipperOptions> = {}): OtelShipper & { warnings: string[] } {
  const warnings: string[] = [];
  let t = 0n;
  const s = new OtelShipper({
    endpoint: receiver.endpoint,
    tags: TAGS,
    version: '2.12.0',
    runId: '0b9c1f3e-5a4d-4e2b-9c7a-1d2e3f405162',
    now: () => String(1_765_000_000_000_000_000n + t++),
    warn: (l) => warnings.push(l),
    // the timer never fires in these tests unless asked to
    flushIntervalMs: 3_600_000,
    ...o,
  });
  shippers.push(s);
  return Object.assign(s, { warnings });
}

describe('OTLP payloads', () => {
  it('posts JSON to <endpoint>/v1/logs with the resource attributes, the kamal scope and one record per line', async () => {
    const s = shipper({ endpoint: `${receiver.endpoint}/` });
    s.append('  INFO [ab12cd34] Running docker ps on 1.1.1.1\n', { host: '1.1.1.1', severity: 'info' });
    s.append(' DEBUG [ab12cd34] \tline one\nline two\n', { host: '1.1.1.1', iostream: 'stdout', severity: 'debug' });
    s.append('Build and push app image...\n');
    await s.flush();
    expect(receiver.requests).toHaveLength(1);
    const r = receiver.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/v1/logs');
    expect(r.contentType).toBe('application/json');
    expect(r.body).toEqual({
      resourceLogs: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'kamal' } },
              { key: 'service.version', value: { stringValue: '2.12.0' } },
              { key: 'kamal.run_id', value: { stringValue: '0b9c1f3e-5a4d-4e2b-9c7a-1d2e3f405162' } },
              { key: 'kamal.performer', value: { stringValue: 'deployer@example.com' } },
              { key: 'deployment.environment.name', value: { stringValue: 'production' } },
              { key: 'kamal.deploy_version', value: { stringValue: 'abc123' } },
              { key: 'service.namespace', value: { stringValue: 'myapp' } },
            ],
          },
          scopeLogs: [
            {
              scope: { name: 'kamal', version: '2.12.0' },
              logRecords: [
                {
                  timeUnixNano: '1765000000000000000',
                  observedTimeUnixNano: '1765000000000000000',
                  severityNumber: 9,
                  severityText: 'INFO',
                  body: { stringValue: '  INFO [ab12cd34] Running docker ps on 1.1.1.1' },
                  attributes: [{ key: 'server.address', value: { stringValue: '1.1.1.1' } }],
                },
                {
                  timeUnixNano: '1765000000000000001',
                  observedTimeUnixNano: '1765000000000000001',
                  severityNumber: 5,
                  severityText: 'DEBUG',
                  body: { stringValue: ' DEBUG [ab12cd34] \tline one' },
                  attributes: [
                    { key: 'server.address', value: { stringValue: '1.1.1.1' } },
                    { key: 'log.iostream', value: { stringValue: 'stdout' } },
                  ],
                },
                {
                  timeUnixNano: '1765000000000000002',
                  observedTimeUnixNano: '1765000000000000002',
                  severityNumber: 5,
                  severityText: 'DEBUG',
                  body: { stringValue: 'line two' },
                  attributes: [
                    { key: 'server.address', value: { stringValue: '1.1.1.1' } },
                    { key: 'log.iostream', value: { stringValue: 'stdout' } },
                  ],
                },
                {
                  timeUnixNano: '1765000000000000003',
                  observedTimeUnixNano: '1765000000000000003',
                  severityNumber: 9,
                  severityText: 'INFO',
                  body: { stringValue: 'Build and push app image...' },
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it('leaves out the tags Kamal has no value for (no destination)', async () => {
    const s = shipper({ tags: { performer: 'me', version: 'v1', service: 'app' } });
    s.append('x\n');
    await s.flush();
    expect(receiver.requests[0]!.body.resourceLogs[0]!.resource.attributes.map((a) => a.key)).toEqual([
      'service.name',
      'service.version',
      'kamal.run_id',
      'kamal.performer',
      'kamal.deploy_version',
      'service.namespace',
    ]);
  });

  it.each([
    ['debug', 5, 'DEBUG'],
    ['info', 9, 'INFO'],
    ['warn', 13, 'WARN'],
    ['error', 17, 'ERROR'],
    ['fatal', 21, 'FATAL'],
  ] as const)('severity %s → %i %s', async (severity, number, text) => {
    const s = shipper();
    s.append('line\n', { severity });
    await s.flush();
    expect(receiver.records[0]).toMatchObject({ severityNumber: number, severityText: text });
  });

  it('splits lines as Ruby each_line + chomp: empty lines kept, no record for empty text', () => {
    expect(eachLine('line one\nline two\nline three\n')).toEqual(['line one', 'line two', 'line three']);
    expect(eachLine('before\n\nafter\n')).toEqual(['before', '', 'after']);
    expect(eachLine('no newline')).toEqual(['no newline']);
    expect(eachLine('')).toEqual([]);
    expect(eachLine('crlf\r\n')).toEqual(['crlf']);
  });
});

describe('events', () => {
  const payload = { command: 'deploy', hosts: ['1.1.1.1'] };

  function log(s: OtelShipper, printed: string[] = []): OtelLog {
    return new OtelLog(s, { endpoint: receiver.endpoint, service: 'myapp', print: (l) => printed.push(l) });
  }

  it('deploy: kamal.start then kamal.complete with the deployment attributes and a double runtime', async () => {
    const s = shipper();
    const printed: string[] = [];
    const l = log(s, printed);
    l.start(payload);
    l.finish(payload, 12.5);
    await l.close();
    expect(receiver.records).toEqual([
      {
        timeUnixNano: '1765000000000000000',
        observedTimeUnixNano: '1765000000000000000',
        severityNumber: 9,
        severityText: 'INFO',
        body: { stringValue: 'kamal.start' },
        eventName: 'kamal.start',
        attributes: [
          { key: 'kamal.command', value: { stringValue: 'deploy' } },
          { key: 'deployment.id', value: { stringValue: '0b9c1f3e-5a4d-4e2b-9c7a-1d2e3f405162' } },
          { key: 'deployment.name', value: { stringValue: 'deploy myapp' } },
        ],
      },
      {
        timeUnixNano: '1765000000000000001',
        observedTimeUnixNano: '1765000000000000001',
        severityNumber: 9,
        severityText: 'INFO',
        body: { stringValue: 'kamal.complete' },
        eventName: 'kamal.complete',
        attributes: [
          { key: 'kamal.command', value: { stringValue: 'deploy' } },
          { key: 'kamal.runtime', value: { doubleValue: 12.5 } },
          { key: 'deployment.id', value: { stringValue: '0b9c1f3e-5a4d-4e2b-9c7a-1d2e3f405162' } },
          { key: 'deployment.name', value: { stringValue: 'deploy myapp' } },
          { key: 'deployment.status', value: { stringValue: 'succeeded' } },
        ],
      },
    ]);
    expect(printed).toEqual([`Logs sent to ${receiver.endpoint}`]);
  });

  it('a failed deploy: kamal.failed at ERROR with the exception and status failed', async () => {
    const s = shipper();
    const l = log(s);
    l.start(payload);
    l.finish(payload, 3, ['LockError', 'Deploy lock found']);
    await l.close();
    expect(receiver.records[1]).toMatchObject({
      severityNumber: 17,
      severityText: 'ERROR',
      body: { stringValue: 'kamal.failed' },
      eventName: 'kamal.failed',
      attributes: [
        { key: 'kamal.command', value: { stringValue: 'deploy' } },
        { key: 'kamal.runtime', value: { doubleValue: 3 } },
        { key: 'exception.type', value: { stringValue: 'LockError' } },
        { key: 'exception.message', value: { stringValue: 'Deploy lock found' } },
        { key: 'deployment.id', value: { stringValue: '0b9c1f3e-5a4d-4e2b-9c7a-1d2e3f405162' } },
        { key: 'deployment.name', value: { stringValue: 'deploy myapp' } },
        { key: 'deployment.status', value: { stringValue: 'failed' } },
      ],
    });
  });

  it.each([
    [{ command: 'app', subcommand: 'boot' }, 'app boot', false],
    [{ command: 'proxy', subcommand: 'reboot' }, 'proxy reboot', false],
    [{ command: 'redeploy' }, 'redeploy', true],
    [{ command: 'rollback' }, 'rollback', true],
    [{ command: 'setup' }, 'setup', true],
  ])('%j is "%s"; deployment attributes: %s', async (p, full, deployment) => {
    const s = shipper();
    const l = log(s);
    l.start({ ...p, hosts: [] });
    l.finish({ ...p, hosts: [] }, 1);
    await l.close();
    const keys = (receiver.records[0]!.attributes as { key: string }[]).map((a) => a.key);
    expect(receiver.records[0]!.attributes).toContainEqual({ key: 'kamal.command', value: { stringValue: full } });
    expect(keys.includes('deployment.id')).toBe(deployment);
    expect((receiver.records[1]!.attributes as { key: string }[]).some((a) => a.key === 'deployment.status')).toBe(deployment);
  });
});

describe('batching and flushing', () => {
  it('sends 100 records per request, all requests of one sending on one connection', async () => {
    const s = shipper();
    // below the batch size nothing is sent until a flush
    for (let i = 0; i < 99; i++) s.append(`line ${i}\n`);
    expect(s.pending).toBe(99);
    await s.shutdown();
    expect(receiver.requests.map((r) => r.body.resourceLogs[0]!.scopeLogs[0]!.logRecords.length)).toEqual([99]);
    receiver.reset();

    const t = shipper();
    for (let i = 0; i < 99; i++) t.append(`a${i}\n`);
    // the 100th record starts a sending at once
    t.append('a99\n');
    await receiver.received(1);
    expect(receiver.requests[0]!.body.resourceLogs[0]!.scopeLogs[0]!.logRecords).toHaveLength(100);
    await t.flush();
    expect(receiver.requests).toHaveLength(1);
    receiver.reset();

    const u = shipper();
    u.append(`${Array.from({ length: 250 }, (_, i) => `b${i}`).join('\n')}\n`);
    await u.shutdown();
    expect(receiver.requests.map((r) => r.body.resourceLogs[0]!.scopeLogs[0]!.logRecords.length)).toEqual([100, 100, 50]);
    expect(new Set(receiver.requests.map((r) => r.connection)).size).toBe(1);
    expect(receiver.bodies).toEqual(Array.from({ length: 250 }, (_, i) => `b${i}`));
  });

  it('sends on its own every flush interval', async () => {
    const s = shipper({ flushIntervalMs: 20 });
    s.append('waiting for the timer\n');
    await receiver.received(1);
    expect(receiver.bodies).toEqual(['waiting for the timer']);
    s.append('and the next one\n');
    await receiver.received(2);
    expect(receiver.bodies).toEqual(['waiting for the timer', 'and the next one']);
  });

  it('shutdown sends what is left; records appended later are kept for the next flush', async () => {
    const s = shipper();
    s.append('final line\n');
    await s.shutdown();
    expect(receiver.bodies).toEqual(['final line']);
    s.append('still works\n');
    expect(s.pending).toBe(1);
    await s.shutdown();
    expect(receiver.bodies).toEqual(['final line', 'still works']);
  });
});

describe('failures', () => {
  it('an HTTP error is reported once on stderr and the run goes on', async () => {
    receiver.status = 500;
    const s = shipper();
    s.append('one\n');
    await s.flush();
    s.append('two\n');
    await s.flush();
    expect(receiver.requests).toHaveLength(2);
    expect(s.warnings).toEqual(['OTel log shipping failed: HTTP 500 Internal Server Error']);
  });

  it('an endpoint that is not a URL never stops the run: the first sending reports it', async () => {
    const s = shipper({ endpoint: 'otel-gateway:4318' });
    s.append('x\n');
    await s.flush();
    s.append('y\n');
    await s.shutdown();
    expect(s.warnings).toEqual(['OTel log shipping failed: InvalidURIError: unsupported protocol otel-gateway:: otel-gateway:4318']);
  });

  it('a refused connection is reported once, by its error', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const s = shipper({ endpoint: `http://127.0.0.1:${port}` });
    s.append('lost\n');
    await s.flush();
    s.append('lost too\n');
    await s.flush();
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/^OTel log shipping failed: ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });
});
