/** The run report: what ran where, in what order, and how it ended. Built once, used for outputs, summary and annotations. */
import type { Kamal } from '../engine/kamal.js';
import type { BootRecord } from '../engine/app.js';
import type { TimelineEntry } from '../engine/reporter.js';
import { CommandFailedError } from '../exec/types.js';
import { MultiError } from '../engine/parallel.js';
import type { Verification } from '../engine/verify.js';

export type RunResult = 'success' | 'failure' | 'cancelled';

export interface BootReport {
  host: string;
  role: string;
  version: string;
  previousVersion?: string;
  ok: boolean;
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  error?: string;
  logs?: string;
}

export interface TimelineReport {
  step: string;
  host?: string;
  role?: string;
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  ok?: boolean;
  detail?: string;
}

export interface FailureReport {
  message: string;
  host?: string;
  /** Every host that failed, when more than one did (`host` is the first of them). */
  hosts?: string[];
  role?: string;
  command?: string;
  step?: string;
  exitCode?: number;
  /** Last log lines of the container that failed to boot. */
  logs?: string;
}

export interface DeployReport {
  /** The command line run, as the CLI would take it. */
  command: string;
  result: RunResult;
  dryRun: boolean;
  service?: string;
  destination?: string;
  version?: string;
  previousVersion?: string;
  image?: string;
  hosts: string[];
  roles: string[];
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  boots: BootReport[];
  timeline: TimelineReport[];
  deployment?: { id: number; environment: string; url?: string };
  /** The checks after the rollout (verify-url), and the rollback they led to. */
  verification?: Verification;
  error?: FailureReport;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
const secs = (a: number, b: number | undefined): number | undefined => (b === undefined ? undefined : round1((b - a) / 1000));
const round1 = (n: number): number => Math.round(n * 10) / 10;

export interface ReportInput {
  argv: string[];
  kamal?: Kamal;
  error?: unknown;
  cancelled: boolean;
  startedAt: number;
  finishedAt: number;
  errorText?: string;
  /** Known from the hosts before the run (rollback lookup), used when no boot recorded it. */
  previousVersion?: string;
  deployment?: DeployReport['deployment'];
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** The version that ran before on the primary role's primary host (else the first boot that knew one). */
export function previousVersionOf(boots: readonly BootRecord[], primary?: { role?: string; host?: string }): string | undefined {
  const first = boots.find((b) => b.role === primary?.role && b.host === primary?.host && b.previousVersion);
  return (first ?? boots.find((b) => b.previousVersion))?.previousVersion;
}

/** Digs the failing host, command and container logs out of an error and the boot records. */
export function failureOf(error: unknown, text: string, boots: readonly BootRecord[], timeline: readonly TimelineEntry[]): FailureReport {
  const failure: FailureReport = { message: text };
  const hosts = [
    ...new Set(
      leafErrors(error)
        .map(hostOf)
        .filter((h): h is string => h !== undefined),
    ),
  ];
  if (hosts.length > 1) failure.hosts = hosts;
  let e: unknown = error;
  while (e instanceof MultiError && e.errors.length > 0) e = e.errors[0];
  if (e instanceof CommandFailedError) {
    failure.host = e.host;
    failure.command = e.command;
    failure.exitCode = e.exitCode;
  } else if (e && typeof e === 'object' && 'host' in e && typeof (e as { host: unknown }).host === 'string') {
    failure.host = (e as { host: string }).host;
    if ('command' in e && typeof (e as { command: unknown }).command === 'string') failure.command = (e as { command: string }).command;
  }
  const boot = boots.find((b) => !b.ok && b.finishedAt !== undefined && (failure.host === undefined || b.host === failure.host) && (b.logs || b.error));
  if (boot) {
    failure.host ??= boot.host;
    failure.role = boot.role;
    if (boot.logs) failure.logs = boot.logs;
  }
  const step = [...timeline].reverse().find((t) => t.ok === false && (failure.host === undefined || t.host === undefined || t.host === failure.host));
  if (step) {
    failure.step = step.step;
    failure.host ??= step.host;
    failure.role ??= step.role;
  }
  return failure;
}

/** The errors a failure is made of: those of several hosts or roles at once, else the error itself. */
function leafErrors(e: unknown): unknown[] {
  return e instanceof MultiError && e.errors.length > 0 ? e.errors.flatMap(leafErrors) : [e];
}

function hostOf(e: unknown): string | undefined {
  if (e && typeof e === 'object' && 'host' in e && typeof (e as { host: unknown }).host === 'string') return (e as { host: string }).host;
  return undefined;
}

export function buildReport(input: ReportInput): DeployReport {
  const k = input.kamal;
  const boots = k?.boots ?? [];
  const timeline = k?.timeline ?? [];
  const primary = k ? { role: safe(() => k.primaryRole?.name), host: safe(() => k.primaryHost) } : undefined;
  const result: RunResult = input.error === undefined ? 'success' : input.cancelled ? 'cancelled' : 'failure';
  const version = k ? safe(() => k.config.version) : undefined;
  const report: DeployReport = {
    command: input.argv.map(quoteWord).join(' '),
    result,
    dryRun: k?.dryRun ?? false,
    service: k ? safe(() => k.config.service) : undefined,
    destination: k?.config.destination,
    version,
    previousVersion: previousVersionOf(boots, primary) ?? input.previousVersion,
    image: k && version ? safe(() => k.config.absoluteImage) : undefined,
    hosts: (k ? safe(() => k.hosts) : undefined) ?? [],
    roles: (k ? safe(() => k.roles.map((r) => r.name)) : undefined) ?? [],
    startedAt: iso(input.startedAt)!,
    finishedAt: iso(input.finishedAt)!,
    durationSeconds: round1((input.finishedAt - input.startedAt) / 1000),
    boots: boots.map((b) => ({
      host: b.host,
      role: b.role,
      version: b.version,
      previousVersion: b.previousVersion,
      ok: b.ok,
      startedAt: iso(b.startedAt)!,
      finishedAt: iso(b.finishedAt),
      durationSeconds: secs(b.startedAt, b.finishedAt),
      error: b.error,
      logs: b.logs,
    })),
    timeline: timeline.map((t) => ({
      step: t.step,
      host: t.host,
      role: t.role,
      startedAt: iso(t.startedAt)!,
      finishedAt: iso(t.finishedAt),
      durationSeconds: secs(t.startedAt, t.finishedAt),
      ok: t.ok,
      detail: t.detail,
    })),
  };
  if (input.deployment) report.deployment = input.deployment;
  if (k?.verification) report.verification = k.verification;
  if (input.error !== undefined) report.error = failureOf(input.error, input.errorText ?? String(input.error), boots, timeline);
  return report;
}

function quoteWord(w: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** A deep copy with `redact` applied to every string (keys included). */
export function redactDeep<T>(value: T, redact: (s: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[redact(key)] = redactDeep(v, redact);
    }
    return out as T;
  }
  return value;
}
