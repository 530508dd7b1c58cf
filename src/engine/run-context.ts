/**
 * The run context's optional parts, declared in one place: what the entry point (the CLI or the
 * action) hands a run besides its configuration, and what a run records as it goes for its later
 * steps and for the reports. The Kamal class (kamal.ts) carries these fields; the records' types
 * live here so that kamal.ts needs none of the modules that fill them in.
 */
import type { TerminalInput, TerminalOutput } from '../exec/terminal.js';
import type { BootPhase, PendingUndo } from './cancel.js';
import type { DiffReport } from './diff.js';

/** What the entry point supplies to a run, each part optional. */
export interface RunInputs {
  /** The streams interactive commands use; default this process's. */
  stdin?: TerminalInput;
  stdout?: TerminalOutput;
  stderr?: TerminalOutput;
  /** The git checkout the project lives in, when there is one. */
  gitInfo?: () => { root: string; revision: string } | undefined;
  /** `git ls-files --modified` and `git ls-files --others` of the project (Kamal::Git). */
  gitFiles?: () => { uncommitted: string[]; untracked: string[] };
  gitStatus?: () => string | undefined;
  builderSecretEnv?: () => Record<string, string>;
  /**
   * Called with the boots a cancel would still have to undo, whenever that list changes (the
   * action keeps it in its state so its post step can finish the undo if the process is killed).
   */
  onUndoChange?: (pending: PendingUndo[]) => void;
  /** The run's log for `output:` (file, OTel), when configured (src/output/run-output.ts). */
  output?: RunLog;
  /** Our `kamal` for hooks and secrets shells; its folder is removed when the run ends (src/exec/kamal-shim.ts). */
  kamalShim?: { dispose(): void };
}

/** What a run records as it goes. */
export interface RunRecord {
  boots?: BootRecord[];
  /**
   * The version each role runs on each host as the stale-container check of this deploy found it
   * (`host role` -> version, '' for none), so the boot does not ask again (see knownRunningVersion).
   */
  runningVersions?: Map<string, string>;
  /** Whether docker buildx is available here (asked once a run). */
  buildx?: boolean;
  /**
   * Hosts this run logged in to the registry (the pull's login); the proxy boot of the same deploy
   * does not log in again with the same credentials, which would rewrite the same file.
   */
  registryLogins?: Set<string>;
  /** The report of a `diff` run (the action writes it as outputs, summary and PR comment). */
  diffReport?: DiffReport;
  /** What the checks after a deploy found and what was done about it. */
  verification?: Verification;
}

/** The run's log as the entry points use it (Kamal's `modify` around modifying commands). */
export interface RunLog {
  modify<T>(payload: { command: string; subcommand?: string; destination?: string; hosts: string[] }, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface BootRecord {
  host: string;
  role: string;
  version: string;
  previousVersion?: string;
  ok: boolean;
  /** The new container was started (a revert has something to undo). */
  started?: boolean;
  /** How far the boot got (cancel.ts says what undoing each phase means). */
  phase?: BootPhase;
  /** Put back to the previous version after a failure elsewhere or a cancel. */
  reverted?: boolean;
  /** The run is over with this boot and keeps it as it is: nothing left to undo. */
  settled?: boolean;
  startedAt: number;
  finishedAt?: number;
  error?: string;
  logs?: string;
}

export interface VerifySpec {
  url: string;
  /** The status every answer must have (default 200). */
  status: number;
  /** A text the body must contain. */
  contains?: string;
}

export interface CheckFailure {
  url: string;
  host: string;
  expectedStatus: number;
  contains?: string;
  /** The status answered, when an answer came. */
  status?: number;
  /** Start of the body (one line, at most 200 characters). */
  excerpt?: string;
  /** What was wrong, in words. */
  reason: string;
  /** Milliseconds into the window. */
  atMs: number;
}

/** What the checks found and what was done about it (reports and the job summary read it). */
export interface Verification {
  urls: VerifySpec[];
  hosts: string[];
  forSeconds: number;
  ok: boolean;
  rounds: number;
  requests: number;
  version: string;
  previousVersion?: string;
  failure?: CheckFailure;
  rollbackOnFailure: boolean;
  /** `done`: the previous version serves again; `failed`: the rollback itself failed; `skipped`: none was possible. */
  rollback?: 'done' | 'failed' | 'skipped';
  rolledBackTo?: string;
}
