/**
 * The run's log for Kamal's `output:` section (file and OTel), beside the reporter.
 *
 * As in Kamal, once output is configured every command run (remote or local) is logged in
 * SSHKit's format: `Running ...` and `Finished in ...` at INFO, `Command: ...` and each chunk of
 * output at DEBUG, whatever the terminal's verbosity. Messages said to the user are logged from the first modifying command
 * on. Modifying commands (the ones Kamal wraps in `modify`: deploy, app boot, proxy reboot, ...)
 * open and close the log: the file sink writes only while one runs; the OTel sink sends what is
 * left when it ends and again when the run closes. Secrets are redacted before any sink sees a line.
 */
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { LOCAL, CommandFailedError, type RunOptions, type RunResult, type Runner } from '../exec/types.js';
import { display, type Command } from '../shell.js';
import type { Level, Reporter } from '../engine/reporter.js';
import {
  commandDataMessage,
  commandExitMessage,
  commandStartMessage,
  formatMessage,
  type LineContext,
  type ModifyPayload,
  type OutputSink,
  type Severity,
} from './format.js';
import { FileLog } from './file-log.js';
import { OtelLog, OtelShipper, type DeployTags } from './otel.js';

/** Commands Kamal wraps in `modify` (command, subcommand). `app stale_containers` only with --stop. */
const MODIFYING: Record<string, readonly (string | undefined)[]> = {
  setup: [undefined],
  deploy: [undefined],
  redeploy: [undefined],
  rollback: [undefined],
  remove: [undefined],
  upgrade: [undefined],
  app: [
    'boot',
    'start',
    'stop',
    'remove',
    'live',
    'maintenance',
    'remove_container',
    'remove_containers',
    'remove_images',
    'remove_app_directories',
    'stale_containers',
  ],
  accessory: [
    'boot',
    'upload',
    'directories',
    'reboot',
    'start',
    'stop',
    'restart',
    'pull_image',
    'remove',
    'remove_container',
    'remove_image',
    'remove_service_directory',
    'upgrade',
  ],
  proxy: ['boot', 'reboot', 'start', 'stop', 'restart', 'remove', 'remove_container', 'remove_image', 'remove_proxy_directory'],
  prune: ['all', 'images', 'containers'],
  server: ['bootstrap'],
};

/** Whether Kamal logs this invocation as a modifying command. */
export function isModifying(command: string, subcommand: string | undefined, opts: { stop?: boolean } = {}): boolean {
  const subs = MODIFYING[command];
  if (!subs?.includes(subcommand)) return false;
  if (command === 'app' && subcommand === 'stale_containers') return !!opts.stop;
  return true;
}

export class RunOutput {
  #logging = false;
  #depth = 0;

  constructor(
    readonly sinks: OutputSink[],
    private readonly deps: {
      redact: (text: string) => string;
      /** Monotonic clock in ms. */
      clock?: () => number;
      /** Ids of logged commands (SSHKit's 8 hex digits). */
      commandId?: () => string;
    },
  ) {}

  get #clock(): () => number {
    return this.deps.clock ?? (() => performance.now());
  }

  /** Milliseconds on the log's monotonic clock. */
  now(): number {
    return this.#clock();
  }

  /** A new command id. */
  commandId(): string {
    return (this.deps.commandId ?? commandId)();
  }

  /** A line said to the user (Kamal's `say`): logged from the first modifying command on. */
  say(message: string): void {
    if (this.#logging) this.#emit(`${message}\n`, {});
  }

  /** A message in SSHKit's format, optionally tied to a command (uuid) and its host. */
  message(severity: Severity, message: string, ctx: { uuid?: string; host?: string; iostream?: 'stdout' | 'stderr' } = {}): void {
    this.#emit(`${formatMessage(severity, message, ctx.uuid)}\n`, { host: ctx.host, iostream: ctx.iostream, severity });
  }

  #emit(text: string, ctx: LineContext): void {
    const clean = this.deps.redact(text);
    for (const sink of this.sinks) {
      try {
        sink.write(clean, ctx);
      } catch {
        // a log that cannot be written never stops the run
      }
    }
  }

  /** Runs a modifying command: the outermost one opens and closes the log. */
  async modify<T>(payload: ModifyPayload, fn: () => Promise<T>): Promise<T> {
    this.#logging = true;
    this.#depth++;
    if (this.#depth > 1) {
      try {
        return await fn();
      } finally {
        this.#depth--;
      }
    }
    const started = this.#clock();
    for (const s of this.sinks) s.start(payload);
    const runtime = (): number => Math.round((this.#clock() - started) / 100) / 10;
    try {
      const result = await fn();
      const r = runtime();
      for (const s of this.sinks) s.finish(payload, r);
      return result;
    } catch (e) {
      const r = runtime();
      const exception = describe(e, this.deps.redact);
      for (const s of this.sinks) s.finish(payload, r, exception);
      throw e;
    } finally {
      this.#depth--;
      await this.#closeSinks();
    }
  }

  /** The end of the run (Kamal's at_exit): what is still buffered is written and sent. */
  close(): Promise<void> {
    return this.#closeSinks();
  }

  async #closeSinks(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close().catch(() => undefined)));
  }

  /** Logs every command `inner` runs. */
  runner(inner: Runner, opts: { localUser?: string } = {}): Runner {
    return new LoggingRunner(inner, this, opts.localUser ?? localUserName());
  }

  /** Passes everything on to `inner` and logs what is said. */
  reporter(inner: Reporter): Reporter {
    return new OutputReporter(inner, this);
  }
}

function describe(e: unknown, redact: (s: string) => string): [string, string] {
  if (e instanceof Error) return [e.name && e.name !== 'Error' ? e.name : e.constructor.name, redact(e.message)];
  return ['Error', redact(String(e))];
}

function localUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** An SSHKit command id: 8 hex digits. */
function commandId(): string {
  return randomBytes(4).toString('hex');
}

class LoggingRunner implements Runner {
  forwardRemotePort?: Runner['forwardRemotePort'];

  constructor(
    private readonly inner: Runner,
    private readonly log: RunOutput,
    private readonly localUser: string,
  ) {
    if (inner.forwardRemotePort) this.forwardRemotePort = inner.forwardRemotePort.bind(inner);
  }

  async run(host: string, command: Command, opts: RunOptions = {}): Promise<RunResult> {
    const uuid = this.log.commandId();
    const shown = display(command);
    // SSHKit logs execute and capture_with_info (nearly every command Kamal runs) at INFO; audit and lock commands at DEBUG
    const severity: Severity = opts.verbosity === 'debug' ? 'debug' : 'info';
    const local = host === LOCAL;
    const hostName = local ? 'localhost' : host;
    this.log.message(severity, commandStartMessage(shown, hostName, local ? this.localUser : undefined), { uuid, host: hostName });
    this.log.message('debug', `Command: ${shown}`, { uuid, host: hostName });
    const started = this.log.now();
    const data = (iostream: 'stdout' | 'stderr', chunk: string): void => {
      this.log.message('debug', commandDataMessage(chunk), { uuid, host: hostName, iostream });
    };
    const exit = (exitCode: number): void => {
      this.log.message(severity, commandExitMessage((this.log.now() - started) / 1000, exitCode), { uuid, host: hostName });
    };
    const observed: RunOptions = {
      ...opts,
      onStdout: (chunk) => {
        data('stdout', chunk);
        opts.onStdout?.(chunk);
      },
      onStderr: (chunk) => {
        data('stderr', chunk);
        opts.onStderr?.(chunk);
      },
    };
    try {
      const r = await this.inner.run(host, command, observed);
      exit(r.exitCode);
      return r;
    } catch (e) {
      if (e instanceof CommandFailedError) exit(e.exitCode);
      throw e;
    }
  }

  async upload(host: string, content: string | Buffer, remotePath: string, opts?: { mode?: string }): Promise<void> {
    await this.inner.upload(host, content, remotePath, opts);
    this.log.message('info', `Uploading ${remotePath} 100.0%`, { host });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

class OutputReporter implements Reporter {
  constructor(
    private readonly inner: Reporter,
    private readonly output: RunOutput,
  ) {}

  say(message: string, level?: Level): void {
    this.inner.say(message, level);
    this.output.say(message);
  }
  hostOutput(host: string, output: string, type?: string): void {
    this.inner.hostOutput(host, output, type);
  }
  command(host: string, command: string, id?: string, verbosity?: 'debug' | 'info'): void {
    this.inner.command(host, command, id, verbosity);
  }
  commandOutput(host: string, id: string, stream: 'stdout' | 'stderr', chunk: string): void {
    this.inner.commandOutput?.(host, id, stream, chunk);
  }
  commandEnd(host: string, id: string, exitCode: number, seconds: number): void {
    this.inner.commandEnd?.(host, id, exitCode, seconds);
  }
  note(host: string, message: string): void {
    this.inner.note?.(host, message);
  }
  log(message: string, level: Level, host?: string): void {
    if (this.inner.log) this.inner.log(message, level, host);
    else this.inner.say(message, level);
    // SSHKit writes these lines to its loggers whatever they say about the terminal
    this.output.message(level, message, { host });
  }
  write(text: string): void {
    this.inner.write(text);
  }
}

/** Kamal's `output:` section. */
export interface OutputSettings {
  otel?: { endpoint?: string } | null;
  file?: { path?: string } | null;
}

/**
 * The sinks of an `output:` section, in the order the section lists them; undefined when it is
 * empty or absent.
 */
export function createRunOutput(
  settings: OutputSettings | null | undefined,
  deps: {
    cwd: string;
    tags: () => DeployTags;
    kamalVersion: string;
    redact: (text: string) => string;
    /** Prints a line on stdout (`Logs written to ...`). */
    print: (line: string) => void;
    /** Prints a line on stderr (shipping failures). */
    warn: (line: string) => void;
    now?: () => Date;
    clock?: () => number;
    commandId?: () => string;
  },
): RunOutput | undefined {
  if (!settings || typeof settings !== 'object' || Object.keys(settings).length === 0) return undefined;
  const sinks: OutputSink[] = [];
  for (const [key, value] of Object.entries(settings)) {
    if (key === 'file' && value && 'path' in value && value.path) {
      sinks.push(new FileLog(String(value.path), { cwd: deps.cwd, now: deps.now, print: deps.print }));
    }
    if (key === 'otel' && value && 'endpoint' in value && value.endpoint) {
      const tags = deps.tags();
      const shipper = new OtelShipper({ endpoint: String(value.endpoint), tags, version: deps.kamalVersion, warn: deps.warn });
      sinks.push(new OtelLog(shipper, { endpoint: String(value.endpoint), service: tags.service, print: deps.print }));
    }
  }
  return new RunOutput(sinks, { redact: deps.redact, clock: deps.clock, commandId: deps.commandId });
}

/** The run output of a configuration's `output:` section, or undefined when it has none. */
export function runOutputFor(
  config: {
    rawConfig: { output?: OutputSettings | null };
    destination?: string;
    service?: string;
    readonly knownVersion: string | undefined;
  },
  deps: { cwd: string; reporter: Reporter; redact: (text: string) => string; performer: () => string; kamalVersion: string },
): RunOutput | undefined {
  return createRunOutput(config.rawConfig.output, {
    cwd: deps.cwd,
    kamalVersion: deps.kamalVersion,
    redact: deps.redact,
    tags: () => ({ performer: deps.performer(), destination: config.destination, version: config.knownVersion, service: config.service }),
    print: (line) => deps.reporter.write(`${line}\n`),
    warn: (line) => deps.reporter.say(line, 'warn'),
  });
}

/** Runs a CLI command inside Kamal's `modify` when it is a modifying one and output is configured. */
export function withRunOutput<T>(
  k: { output?: Pick<RunOutput, 'modify'>; config: { destination?: string }; readonly hosts: string[] },
  command: string,
  subcommand: string | undefined,
  opts: { stop?: unknown },
  fn: () => Promise<T>,
): Promise<T> {
  if (!k.output || !isModifying(command, subcommand, { stop: !!opts.stop })) return fn();
  let hosts: string[] = [];
  try {
    hosts = k.hosts;
  } catch {
    // no hosts to name (the command fails on its own)
  }
  return k.output.modify({ command, subcommand, destination: k.config.destination, hosts }, fn);
}
