/**
 * `output.otel.endpoint`: the run's log as OTLP log records over HTTP (JSON), as Kamal's
 * OtelShipper and OtelLogger send them.
 *
 * - Every line becomes one record (body = the line without its newline), with `server.address`
 *   (the command's host) and `log.iostream` (stdout/stderr) when known, and the line's severity
 *   (DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21; INFO when none).
 * - Events: `kamal.start` when a modifying command starts, then `kamal.complete` or `kamal.failed`
 *   (ERROR) with `kamal.command`, `kamal.runtime` and, for failures, `exception.type` and
 *   `exception.message`; deploy, redeploy, rollback and setup also carry `deployment.id` (the run
 *   id), `deployment.name` (`deploy <service>`) and `deployment.status` (succeeded or failed).
 * - Resource attributes: service.name=kamal, service.version (Kamal's version), kamal.run_id, then
 *   the deploy tags: kamal.performer, deployment.environment.name (the destination),
 *   kamal.deploy_version, service.namespace (the service).
 * - Records are buffered and sent by POST to `<endpoint>/v1/logs`, scope `kamal`: every 5 seconds,
 *   at once when 100 are waiting, and what is left when the run closes. Each sending opens one
 *   connection and posts the records 100 per request. Failures never stop the run; the first is
 *   reported on stderr (`OTel log shipping failed: ...`), later ones are silent.
 */
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { fullCommand, type LineContext, type ModifyPayload, type OutputSink, type Severity } from './format.js';

export const BATCH_SIZE = 100;
export const FLUSH_INTERVAL_MS = 5000;

const SEVERITIES: Record<Severity, { severityNumber: number; severityText: string }> = {
  debug: { severityNumber: 5, severityText: 'DEBUG' },
  info: { severityNumber: 9, severityText: 'INFO' },
  warn: { severityNumber: 13, severityText: 'WARN' },
  error: { severityNumber: 17, severityText: 'ERROR' },
  fatal: { severityNumber: 21, severityText: 'FATAL' },
};

/** Kamal's deploy tags, in the order Kamal lists them. */
export interface DeployTags {
  performer?: string;
  destination?: string;
  version?: string;
  service?: string;
}

const TAG_KEYS: Record<keyof DeployTags, string> = {
  performer: 'kamal.performer',
  destination: 'deployment.environment.name',
  version: 'kamal.deploy_version',
  service: 'service.namespace',
};

export type AnyValue = { stringValue: string } | { intValue: number } | { doubleValue: number } | { arrayValue: { values: AnyValue[] } };
export interface KeyValue {
  key: string;
  value: AnyValue;
}
export interface LogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: { stringValue: string };
  eventName?: string;
  attributes?: KeyValue[];
}

/** An attribute value typed as Kamal types it (numbers stay numbers; a runtime is a double). */
export type AttributeValue = string | number | { double: number } | AttributeValue[];

function typedValue(v: AttributeValue): AnyValue {
  if (Array.isArray(v)) return { arrayValue: { values: v.map(typedValue) } };
  if (typeof v === 'object') return { doubleValue: v.double };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
  return { stringValue: v };
}

const clockAnchor = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
/** Nanoseconds since the epoch, as a decimal string. */
export function realtimeNanos(): string {
  return String(clockAnchor + process.hrtime.bigint());
}

export interface OtelShipperOptions {
  endpoint: string;
  tags: DeployTags;
  /** Kamal's version (service.version, scope version). */
  version: string;
  runId?: string;
  now?: () => string;
  /** Receives the first shipping failure. */
  warn: (line: string) => void;
  flushIntervalMs?: number;
}

export class OtelShipper {
  readonly runId: string;
  /** Where records go; undefined when the endpoint is not a URL (every sending then fails, reported once). */
  readonly url: URL | undefined;
  readonly #urlError: Error | undefined;
  readonly resourceAttributes: KeyValue[];
  readonly #version: string;
  readonly #now: () => string;
  readonly #warn: (line: string) => void;
  readonly #interval: number;
  #buffer: LogRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running = true;
  #flushing: Promise<void> = Promise.resolve();
  #failureReported = false;

  constructor(o: OtelShipperOptions) {
    let url: URL | undefined;
    try {
      url = new URL(`${o.endpoint.replace(/\/$/, '')}/v1/logs`);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported protocol ${url.protocol}`);
    } catch (e) {
      this.#urlError = Object.assign(new Error(`${(e as Error).message}: ${o.endpoint}`), { code: 'InvalidURIError' });
      url = undefined;
    }
    this.url = url;
    this.runId = o.runId ?? randomUUID();
    this.#version = o.version;
    this.#now = o.now ?? realtimeNanos;
    this.#warn = o.warn;
    this.#interval = o.flushIntervalMs ?? FLUSH_INTERVAL_MS;
    this.resourceAttributes = [
      { key: 'service.name', value: { stringValue: 'kamal' } },
      { key: 'service.version', value: { stringValue: o.version } },
      { key: 'kamal.run_id', value: { stringValue: this.runId } },
      ...(Object.keys(TAG_KEYS) as (keyof DeployTags)[])
        .filter((k) => o.tags[k] !== undefined && o.tags[k] !== null)
        .map((k) => ({ key: TAG_KEYS[k], value: { stringValue: String(o.tags[k]) } })),
    ];
    this.#schedule();
  }

  /** Records waiting to be sent. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** One record per line of `text`. */
  append(text: string, ctx: LineContext = {}): void {
    const attributes: KeyValue[] = [];
    if (ctx.host) attributes.push({ key: 'server.address', value: { stringValue: ctx.host } });
    if (ctx.iostream) attributes.push({ key: 'log.iostream', value: { stringValue: ctx.iostream } });
    for (const line of eachLine(text)) {
      this.#enqueue(this.#record(line, ctx.severity ?? 'info', undefined, attributes.length ? attributes : undefined));
    }
  }

  event(name: string, attributes: [string, AttributeValue][], severity: Severity = 'info'): void {
    this.#enqueue(
      this.#record(
        name,
        severity,
        name,
        attributes.map(([key, v]) => ({ key, value: typedValue(v) })),
      ),
    );
  }

  /** Sends everything buffered now (after any sending in progress). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#ship(this.#buffer.splice(0)));
    return this.#flushing;
  }

  /** Stops the timer and sends what is left. */
  async shutdown(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  #record(body: string, severity: Severity, eventName: string | undefined, attributes: KeyValue[] | undefined): LogRecord {
    const now = this.#now();
    const r: LogRecord = { timeUnixNano: now, observedTimeUnixNano: now, ...SEVERITIES[severity], body: { stringValue: body } };
    if (eventName !== undefined) r.eventName = eventName;
    if (attributes !== undefined) r.attributes = attributes;
    return r;
  }

  #enqueue(record: LogRecord): void {
    this.#buffer.push(record);
    if (this.#buffer.length >= BATCH_SIZE && this.#running) {
      void this.flush();
      this.#schedule();
    }
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      void this.flush();
      this.#schedule();
    }, this.#interval);
    this.#timer.unref();
  }

  async #ship(records: LogRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (!this.url) {
      this.#reportFailure(this.#urlError!);
      return;
    }
    const url = this.url;
    const https = url.protocol === 'https:';
    const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < records.length; i += BATCH_SIZE) {
        const payload = {
          resourceLogs: [
            {
              resource: { attributes: this.resourceAttributes },
              scopeLogs: [{ scope: { name: 'kamal', version: this.#version }, logRecords: records.slice(i, i + BATCH_SIZE) }],
            },
          ],
        };
        const { status, message } = await post(url, JSON.stringify(payload), agent);
        if ((status < 200 || status > 299) && !this.#failureReported) {
          this.#failureReported = true;
          this.#warn(`OTel log shipping failed: HTTP ${status} ${message}`);
        }
      }
    } catch (e) {
      this.#reportFailure(e as Error);
    } finally {
      agent.destroy();
    }
  }

  #reportFailure(err: Error & { code?: string }): void {
    if (this.#failureReported) return;
    this.#failureReported = true;
    this.#warn(`OTel log shipping failed: ${err.code ?? err.name}: ${err.message}`);
  }
}

/** Ruby's each_line + chomp: "a\n\nb\n" → a, "", b; "" → nothing. */
export function eachLine(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/(?<=\n)/);
  return lines.map((l) => l.replace(/\r?\n$/, ''));
}

function post(url: URL, body: string, agent: HttpAgent | HttpsAgent): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, message: res.statusMessage ?? '' }));
        res.on('error', reject);
      },
    );
    req.setTimeout(5000, () => req.destroy(Object.assign(new Error(`no answer from ${url.origin} within 5 s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

const DEPLOY_COMMANDS = new Set(['deploy', 'redeploy', 'rollback', 'setup']);

/** Kamal's OtelLogger: lines and start/complete/failed events through a shipper. */
export class OtelLog implements OutputSink {
  constructor(
    readonly shipper: OtelShipper,
    private readonly opts: { endpoint: string; service?: string; print: (line: string) => void },
  ) {}

  write(text: string, ctx: LineContext): void {
    this.shipper.append(text, ctx);
  }

  start(p: ModifyPayload): void {
    this.shipper.event('kamal.start', [['kamal.command', fullCommand(p)], ...this.#deployment(p)]);
  }

  finish(p: ModifyPayload, runtimeSeconds: number, exception?: [string, string]): void {
    const runtime = { double: runtimeSeconds };
    if (exception) {
      this.shipper.event(
        'kamal.failed',
        [
          ['kamal.command', fullCommand(p)],
          ['kamal.runtime', runtime],
          ['exception.type', exception[0]],
          ['exception.message', exception[1]],
          ...this.#deployment(p, 'failed'),
        ],
        'error',
      );
    } else {
      this.shipper.event('kamal.complete', [['kamal.command', fullCommand(p)], ['kamal.runtime', runtime], ...this.#deployment(p, 'succeeded')]);
    }
    this.opts.print(`Logs sent to ${this.opts.endpoint}`);
  }

  close(): Promise<void> {
    return this.shipper.shutdown();
  }

  #deployment(p: ModifyPayload, status?: string): [string, AttributeValue][] {
    if (!DEPLOY_COMMANDS.has(p.command)) return [];
    const attrs: [string, AttributeValue][] = [
      ['deployment.id', this.shipper.runId],
      ['deployment.name', `${fullCommand(p)} ${this.opts.service ?? ''}`],
    ];
    if (status) attrs.push(['deployment.status', status]);
    return attrs;
  }
}
