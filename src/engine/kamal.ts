/**
 * The run context shared by every operation (Kamal's commander plus the
 * SSHKit DSL): configuration, host/role filters, the runners, the reporter,
 * lock and hook state, cancellation and the rollout timeline.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { stdinOf } from '../exec/stdin.js';
import { join, resolve } from 'node:path';
import type { Command } from '../shell.js';
import { display } from '../shell.js';
import { CommandFailedError, LOCAL, type RunOptions, type RunResult, type Runner } from '../exec/types.js';
import { Secret, SecretRegistry } from '../secret.js';
import { UsageError } from '../errors.js';
import type { Reporter, TimelineEntry } from './reporter.js';
import { eachLimited } from './parallel.js';
import { throwIfCancelled } from './cancel.js';
import { PlanRunner } from '../exec/plan-runner.js';
import { Specifics, filterSpecificItems } from './specifics.js';
import type { Configuration, Role } from '../model/index.js';
import { Commander, type CommanderSource } from './commander.js';
import { isAuditRecord } from '../commands/auditor.js';
import type { RunInputs, RunRecord } from './run-context.js';

export interface GlobalOptions {
  verbose?: boolean;
  quiet?: boolean;
  version?: string;
  primary?: boolean;
  hosts?: string;
  roles?: string;
  configFile?: string;
  destination?: string;
  skipHooks?: boolean;
  lockWait?: boolean;
  lockWaitTimeout?: number;
  lockWaitInterval?: number;
  /** Answer yes to confirmations. */
  confirmed?: boolean;
  /** When a host fails, put the previous version back on the hosts already switched. */
  allOrNothing?: boolean;
}

export interface KamalDeps {
  config: Configuration;
  /** Remote commands. */
  runner: Runner;
  /** Local commands (build, hooks). Defaults to `runner`. */
  local?: Runner;
  reporter: Reporter;
  options?: GlobalOptions;
  /** Print-only: commands are recorded, captures answer placeholders. */
  dryRun?: boolean;
  signal?: AbortSignal;
  secrets?: SecretRegistry;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Asks a yes/no question; the CLI wires a prompt, the action answers from inputs. */
  confirm?: (question: string) => Promise<boolean>;
  /** The kamal command and subcommand, for hooks and audit lines. */
  command?: string;
  subcommand?: string;
  now?: () => number;
  /** Who performs the run (audit lines, lock details). */
  source?: CommanderSource;
}

export interface CaptureOptions extends RunOptions {
  /** What a dry run answers for this capture (runtime values shown as placeholders). */
  placeholder?: string;
}

/** Random bytes drawn a page at a time: a command id costs no system call of its own. */
const idPool = { bytes: Buffer.alloc(0), at: 0 };

/** SSHKit's command id: 8 random hex digits. */
function commandId(): string {
  if (idPool.at + 4 > idPool.bytes.length) {
    idPool.bytes = randomBytes(4096);
    idPool.at = 0;
  }
  idPool.at += 4;
  return idPool.bytes.toString('hex', idPool.at - 4, idPool.at);
}

export class Kamal implements RunInputs, RunRecord {
  readonly config: Configuration;
  readonly runner: Runner;
  readonly localRunner: Runner;
  readonly reporter: Reporter;
  readonly options: GlobalOptions;
  readonly dryRun: boolean;
  signal: AbortSignal | undefined;
  /** Called when the lock is taken or released (the action records it for its post step). */
  onLockChange: ((held: boolean) => void) | undefined;
  /** Command builders bound to this configuration. */
  readonly cmds: Commander;
  readonly secrets: SecretRegistry;
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  readonly confirmFn: ((q: string) => Promise<boolean>) | undefined;
  command: string;
  subcommand: string | undefined;
  holdingLock: boolean;
  connected = false;
  readonly timeline: TimelineEntry[] = [];
  readonly now: () => number;
  /** Hosts and commands run, for reports and benchmarks. */
  readonly stats = { commands: 0, uploads: 0, hosts: new Set<string>() };
  // the run context's optional parts (run-context.ts says what each is for)
  declare stdin?: RunInputs['stdin'];
  declare stdout?: RunInputs['stdout'];
  declare stderr?: RunInputs['stderr'];
  declare gitInfo?: RunInputs['gitInfo'];
  declare gitFiles?: RunInputs['gitFiles'];
  declare gitStatus?: RunInputs['gitStatus'];
  declare builderSecretEnv?: RunInputs['builderSecretEnv'];
  declare onUndoChange?: RunInputs['onUndoChange'];
  declare output?: RunInputs['output'];
  declare kamalShim?: RunInputs['kamalShim'];
  declare boots?: RunRecord['boots'];
  declare runningVersions?: RunRecord['runningVersions'];
  declare buildx?: RunRecord['buildx'];
  declare registryLogins?: RunRecord['registryLogins'];
  declare diffReport?: RunRecord['diffReport'];
  declare verification?: RunRecord['verification'];
  #specificHosts: string[] | undefined;
  #specificRoles: Role[] | undefined;
  #specifics: Specifics | undefined;

  constructor(deps: KamalDeps) {
    this.config = deps.config;
    this.runner = deps.runner;
    this.localRunner = deps.local ?? deps.runner;
    this.reporter = deps.reporter;
    this.options = deps.options ?? {};
    this.dryRun = deps.dryRun ?? deps.runner instanceof PlanRunner;
    this.signal = deps.signal;
    this.secrets = deps.secrets ?? new SecretRegistry();
    this.cwd = deps.cwd ?? process.cwd();
    this.env = deps.env ?? process.env;
    this.confirmFn = deps.confirm;
    this.command = deps.command ?? '';
    this.subcommand = deps.subcommand;
    this.now = deps.now ?? Date.now;
    this.holdingLock = this.env.KAMAL_LOCK === 'true';
    this.cmds = new Commander(this.config, deps.source);
    const { lockWaitTimeout, lockWaitInterval } = this.options;
    // an interval under a second would poll the primary host as fast as SSH allows
    if (lockWaitTimeout !== undefined && lockWaitTimeout < 0) throw new UsageError(`--lock-wait-timeout must be 0 or more seconds, got ${lockWaitTimeout}`);
    if (lockWaitInterval !== undefined && lockWaitInterval < 1) throw new UsageError(`--lock-wait-interval must be at least 1 second, got ${lockWaitInterval}`);
    this.specificHosts = this.options.hosts
      ?.split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    this.specificRoles = this.options.roles
      ?.split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    if (this.options.primary) this.specificPrimary();
  }

  // ---- host and role selection (Kamal::Commander) ----

  get specificHosts(): string[] | undefined {
    return this.#specificHosts;
  }
  set specificHosts(hosts: string[] | undefined) {
    this.#specifics = undefined;
    if (hosts && hosts.length > 0) {
      const filtered = filterSpecificItems(hosts, this.config.allHosts);
      if (filtered.length === 0) throw new UsageError(`No --hosts match for ${hosts.join(',')}`);
      this.#specificHosts = filtered;
    } else this.#specificHosts = undefined;
  }

  get specificRoles(): Role[] | undefined {
    return this.#specificRoles;
  }
  set specificRoles(names: string[] | Role[] | undefined) {
    this.#specifics = undefined;
    if (names && names.length > 0) {
      const asNames = names.map((n) => (typeof n === 'string' ? n : n.name));
      const filtered = filterSpecificItems(
        asNames,
        this.config.roles.map((r) => r.name),
      );
      if (filtered.length === 0) throw new UsageError(`No --roles match for ${asNames.join(',')}`);
      this.#specificRoles = this.config.roles.filter((r) => filtered.includes(r.name));
    } else this.#specificRoles = undefined;
  }

  specificPrimary(): void {
    const roles = this.specificRoles;
    const host = roles && roles.length > 0 ? roles[0]!.primaryHost : this.config.primaryHost;
    this.specificHosts = host ? [host] : undefined;
  }

  async withSpecificHosts<T>(hosts: string[], fn: () => Promise<T>): Promise<T> {
    const original = this.#specificHosts;
    this.specificHosts = hosts;
    try {
      return await fn();
    } finally {
      this.#specificHosts = original;
      this.#specifics = undefined;
    }
  }

  get specifics(): Specifics {
    this.#specifics ??= new Specifics(this.config, this.#specificHosts, this.#specificRoles);
    return this.#specifics;
  }
  get hosts(): string[] {
    return this.specifics.hosts;
  }
  get roles(): Role[] {
    return this.specifics.roles;
  }
  get primaryHost(): string {
    return this.specifics.primaryHost!;
  }
  get primaryRole(): Role | undefined {
    return this.specifics.primaryRole;
  }
  get appHosts(): string[] {
    return this.specifics.appHosts;
  }
  get proxyHosts(): string[] {
    return this.specifics.proxyHosts;
  }
  get accessoryHosts(): string[] {
    return this.specifics.accessoryHosts;
  }
  rolesOn(host: string): Role[] {
    return this.specifics.rolesOn(host);
  }

  // ---- running commands ----

  private runnerFor(host: string): Runner {
    return host === LOCAL ? this.localRunner : this.runner;
  }

  /** Runs a command; throws CommandFailedError on failure unless allowFailure. */
  async exec(host: string, command: Command | undefined, opts: RunOptions = {}): Promise<RunResult> {
    throwIfCancelled(this.signal);
    if (!command) return { host, command: '', exitCode: 0, stdout: '', stderr: '', durationMs: 0 };
    this.stats.commands++;
    if (host !== LOCAL) this.stats.hosts.add(host);
    const id = commandId();
    const verbosity = opts.verbosity ?? (isAuditRecord(command) ? 'debug' : 'info');
    this.reporter.command(host, display(command), id, verbosity);
    const stdin = stdinOf(command);
    const started = performance.now();
    const result = await this.runnerFor(host)
      .run(host, command, { signal: this.signal, ...(stdin ? { stdin: stdin.reveal() } : {}), ...opts, verbosity, ...this.#observe(host, id, opts) })
      .catch((e: unknown) => {
        if (e instanceof CommandFailedError && !this.dryRun) this.reporter.commandEnd?.(host, id, e.exitCode, (performance.now() - started) / 1000);
        throw e;
      });
    if (this.dryRun) return { ...result, exitCode: 0 };
    this.reporter.commandEnd?.(host, id, result.exitCode, (performance.now() - started) / 1000);
    return result;
  }

  /** Output callbacks that also hand each chunk, redacted, to the reporter (when it shows output). */
  #observe(host: string, id: string, opts: RunOptions): Pick<RunOptions, 'onStdout' | 'onStderr'> {
    const show = this.reporter.commandOutput?.bind(this.reporter);
    if (!show || this.dryRun) return {};
    return {
      onStdout: (chunk) => {
        show(host, id, 'stdout', this.secrets.redact(chunk));
        opts.onStdout?.(chunk);
      },
      onStderr: (chunk) => {
        show(host, id, 'stderr', this.secrets.redact(chunk));
        opts.onStderr?.(chunk);
      },
    };
  }

  /** Runs a command and reports whether it succeeded (Kamal's `execute ..., raise_on_non_zero_exit: false`). */
  async test(host: string, command: Command | undefined, opts: RunOptions = {}): Promise<boolean> {
    const r = await this.exec(host, command, { ...opts, allowFailure: true });
    return r.exitCode === 0;
  }

  /** Runs a command and returns its stdout, trimmed (Kamal's capture). */
  async capture(host: string, command: Command | undefined, opts: CaptureOptions = {}): Promise<string> {
    const r = await this.exec(host, command, opts);
    if (this.dryRun) return opts.placeholder ?? '';
    return r.exitCode === 0 || opts.allowFailure ? r.stdout.trim() : '';
  }

  async upload(host: string, content: string | Buffer | Secret, remotePath: string, opts: { mode?: string } = {}): Promise<void> {
    throwIfCancelled(this.signal);
    this.stats.uploads++;
    const data = content instanceof Secret ? content.reveal() : content;
    await this.runnerFor(host).upload(host, data, remotePath, opts);
    if (!this.dryRun) this.reporter.note?.(host, `Uploading ${remotePath} 100.0%`);
  }

  /**
   * Kamal's forward_local_registry_port: with `registry.server: localhost:PORT`, each host reaches
   * the local registry on its own 127.0.0.1:PORT through a reverse SSH tunnel while `fn` runs.
   */
  async withLocalRegistryForward<T>(hosts: readonly string[], fn: () => Promise<T>): Promise<T> {
    const rc = this.config.registry;
    if (!rc.local || hosts.length === 0) return fn();
    const port = rc.localPort!;
    const runner = this.runner;
    if (!runner.forwardRemotePort) throw new Error('this runner cannot forward ports for the local registry');
    this.say(`Setting up local registry port forwarding to ${hosts.join(', ')}...`);
    const closers: (() => Promise<void>)[] = [];
    try {
      await eachLimited([...hosts], this.config.sshkit.maxConcurrentStarts ?? 30, async (host) => {
        throwIfCancelled(this.signal);
        this.reporter.note?.(host, `Forwarding 127.0.0.1:${port} on ${host} to localhost:${port}`);
        closers.push(await runner.forwardRemotePort!(host, port, this.signal));
      });
      return await fn();
    } finally {
      await Promise.allSettled(closers.map((c) => c()));
    }
  }

  /**
   * Runs `fn` on every host at once (SSHKit's parallel `on(hosts)`: a thread per host).
   * max_concurrent_starts bounds only the SSH connections being started at the same time (the pool).
   */
  async on(hosts: string | readonly string[], fn: (host: string) => Promise<void>): Promise<void> {
    const list = typeof hosts === 'string' ? [hosts] : [...hosts];
    await this.preConnect();
    await eachLimited(list, list.length, async (host) => {
      throwIfCancelled(this.signal);
      await fn(host);
    });
  }

  /** Kamal's on_roles: parallel by role (default) or host-first with roles in sequence. */
  async onRoles(roles: readonly Role[], hosts: readonly string[], fn: (host: string, role: Role) => Promise<void>, parallel = true): Promise<void> {
    if (parallel) {
      const selected = new Set(hosts);
      const groups = roles.map((role) => ({ role, hosts: role.hosts.filter((h) => selected.has(h)) })).filter((g) => g.hosts.length > 0);
      await eachLimited(groups, groups.length, async (g) => {
        await this.on(g.hosts, (host) => fn(host, g.role));
      });
    } else {
      await this.on(hosts, async (host) => {
        for (const role of roles) if (role.hasHost(host)) await fn(host, role);
      });
    }
  }

  say(message: string, level: 'debug' | 'info' | 'warn' | 'error' = 'info'): void {
    this.reporter.say(this.secrets.redact(message), level);
  }

  /**
   * A line of the SSHKit log about `host` (Kamal's `info` and `error` inside `on`, printed as
   * `  INFO message`); said where the reporter writes no log lines.
   */
  log(message: string, level: 'debug' | 'info' | 'warn' | 'error' = 'info', host?: string): void {
    const text = this.secrets.redact(message);
    if (this.reporter.log) this.reporter.log(text, level, host);
    else this.reporter.say(text, level);
  }

  /** A timed step of the rollout timeline. */
  async step<T>(name: string, fn: () => Promise<T>, where: { host?: string; role?: string } = {}): Promise<T> {
    const entry: TimelineEntry = { step: name, ...where, startedAt: this.now() };
    this.timeline.push(entry);
    const plan = this.runner instanceof PlanRunner ? this.runner : undefined;
    try {
      const r = plan ? await plan.withStep(name, fn) : await fn();
      entry.ok = true;
      return r;
    } catch (e) {
      entry.ok = false;
      entry.detail = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw e;
    } finally {
      entry.finishedAt = this.now();
    }
  }

  async confirm(question: string): Promise<boolean> {
    if (this.options.confirmed) return true;
    if (this.dryRun) return true;
    if (!this.confirmFn) return false;
    return this.confirmFn(question);
  }

  // ---- hooks (Kamal::Cli::Base#run_hook) ----

  hookFile(hook: string): string {
    return resolve(this.cwd, join(this.config.hooksPath, hook));
  }

  hookExists(hook: string): boolean {
    return existsSync(this.hookFile(hook));
  }

  /** Set by the CLI: runs a hook with KAMAL_* env (see hooks.ts). */
  hookRunner: ((hook: string, details: Record<string, string | undefined>, withSecrets: boolean) => Promise<void>) | undefined;

  async runHook(hook: string, extra: { secrets?: boolean; [detail: string]: string | boolean | undefined } = {}): Promise<void> {
    if (this.options.skipHooks || !this.hookExists(hook) || !this.hookRunner) return;
    const { secrets, ...others } = extra;
    const rest = others as Record<string, string | undefined>;
    const details: Record<string, string | undefined> = {
      hosts: this.hosts.join(','),
      roles: this.specificRoles?.map((r) => r.name).join(','),
      lock: String(this.holdingLock),
      command: this.command,
      subcommand: this.subcommand,
      ...rest,
    };
    await this.step(`hook ${hook}`, () => this.hookRunner!(hook, details, !!secrets));
  }

  async preConnect(): Promise<void> {
    if (this.connected) return;
    this.connected = true;
    if (!this.options.skipHooks) await this.runHook('pre-connect', { secrets: true });
  }
}
