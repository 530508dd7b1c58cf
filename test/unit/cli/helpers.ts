/**
 * Runs `kamal-action plan ...` in-process (runCli with injected io, env and
 * cwd) against a copy of test/fixtures/plan/app, so nothing connects anywhere
 * and no bundle is needed.
 */
import { chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { runCli, type CliResult } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import type { PlannedStep } from '../../../src/exec/plan-runner.js';
import { splitShellWords } from '../../../src/shell.js';

export const FIXTURE = fileURLToPath(new URL('../../fixtures/plan/app', import.meta.url));

/** Every literal secret value of the fixture's .kamal/secrets* files (and distinctive parts of the multi-line ones). */
export const SECRET_VALUES = [
  'reg-pw-common-5f3a9c',
  'master-key-7d41e0b2',
  'MIIBcert-fixture-only-0c9e',
  'MIIEkey-fixture-only-b81d',
  'db-pw-default-31c8',
  'mysql-root-default-a2f6',
  'db-pw-staging-9e27',
  'mysql-root-staging-44bd',
  'db-pw-production-c05f',
  'mysql-root-production-7a13',
];

export interface PlanRun {
  result: CliResult;
  exitCode: number;
  out: string;
  err: string;
  reporter: MemoryReporter;
  /** The app folder the plan ran in (a fresh copy of the fixture, outside any git checkout). */
  dir: string;
  /** The recorded steps, with the app folder shown as `<app>` (hook paths). */
  steps: PlannedStep[];
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export interface PlanOptions {
  /** Hooks to add (empty executable scripts) next to the fixture's pre-deploy. */
  hooks?: string[];
  /** Changes to the copied app folder before the run. */
  prepare?: (dir: string) => void;
}

/** A fresh copy of the fixture app in a temporary folder (outside any git checkout), removed after the file's tests. */
export function copyFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kamal-plan-'));
  dirs.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** The environment of every run: no VERSION, no KAMAL_*, so the version comes from --version (or the plan's <git-version>). */
export function testEnv(): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: process.env.HOME };
}

/** `kamal-action plan <args>` in a fresh copy of the fixture app. */
export async function plan(args: string[], opts: PlanOptions = {}): Promise<PlanRun> {
  const dir = copyFixture();
  for (const hook of opts.hooks ?? []) {
    const file = join(dir, '.kamal/hooks', hook);
    writeFileSync(file, '#!/bin/sh\nexit 0\n');
    chmodSync(file, 0o755);
  }
  opts.prepare?.(dir);
  let out = '';
  let err = '';
  const reporter = new MemoryReporter();
  const result = await runCli(['plan', ...args], {
    cwd: dir,
    env: testEnv(),
    out: (s) => (out += s),
    err: (s) => (err += s),
    reporter,
  });
  const steps = (result.plan ?? []).map((s) => ({ ...s, command: s.command.split(dir).join('<app>') }));
  return { result, exitCode: result.exitCode, out, err, reporter, dir, steps };
}

/**
 * Replaces what differs between runs by design: the audit line's time and
 * performer, the random hex of a container's hostname, the lock details
 * (base64 of who/when, see lockDetails).
 */
export function normalize(command: string): string {
  return command
    .replace(/^mkdir -p \.kamal && echo "\[[^\]]+\] \[[^\]]+\] /, 'mkdir -p .kamal && echo "[<at>] [<performer>] ')
    .replace(/ --hostname (\S+)-[0-9a-f]{12} /, ' --hostname $1-<hex> ')
    .replace(/^(mkdir \.kamal\/lock-\S+ && echo ")[A-Za-z0-9+/=]+(" > )/, '$1<details>$2');
}

/** The commands run on one host, in order, normalized. */
export function on(steps: PlannedStep[], host: string): string[] {
  return steps.filter((s) => s.host === host).map((s) => normalize(s.command));
}

/** Index of the first step matching (throws when none: the assertion names what is missing). */
export function first(steps: PlannedStep[], match: (s: PlannedStep) => boolean, what = 'step'): number {
  const i = steps.findIndex(match);
  if (i < 0) throw new Error(`no ${what} in the plan`);
  return i;
}

export function last(steps: PlannedStep[], match: (s: PlannedStep) => boolean, what = 'step'): number {
  const i = steps.findLastIndex(match);
  if (i < 0) throw new Error(`no ${what} in the plan`);
  return i;
}

/** The text in the lock details of an acquire command (`mkdir <dir> && echo "<base64>" > <dir>/details`). */
export function lockDetails(command: string): string {
  const m = /^mkdir \S+ && echo "([A-Za-z0-9+/=]+)" > \S+\/details$/.exec(command);
  if (!m) throw new Error(`not a lock acquire: ${command}`);
  return Buffer.from(m[1]!, 'base64').toString('utf8');
}

/** The same shell words (Kamal's quoting differs from ours in a few documented places, see src/commands/DIFFERENCES.md). */
export function words(command: string): string[] {
  return splitShellWords(command);
}

/** The audit line Kamal's Auditor#record writes, normalized like `normalize`. */
export function audit(line: string, o: { destination?: string; role?: string } = {}): string {
  const tags = [o.destination, o.role]
    .filter(Boolean)
    .map((t) => `[${t}] `)
    .join('');
  const log = o.destination ? `.kamal/app-${o.destination}-audit.log` : '.kamal/app-audit.log';
  return `mkdir -p .kamal && echo "[<at>] [<performer>] ${tags}${line}" >> ${log}`;
}
