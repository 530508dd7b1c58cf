/** Runs one CLI invocation: parse, build the context, run, map errors to messages and exit codes. */
import { ConfigError, UsageError } from '../errors.js';
import type { Reporter } from '../engine/reporter.js';
import { terminalReporter } from '../output/console.js';
import { thorColour, wantsColour } from '../output/format.js';
import { PlanRunner, type PlannedStep } from '../exec/plan-runner.js';
import type { Kamal } from '../engine/kamal.js';
import { CancelledError, isCancellation, type PendingUndo } from '../engine/cancel.js';
import { pendingUndo } from '../engine/app.js';
import { loadRawConfig } from '../config/load.js';
import { shellSplit } from '../shell.js';
import { KAMAL_BUILTIN_COMMANDS } from '../config/constants.js';
import { createContext, type ContextDeps, type ContextOptions } from './context.js';
import { parse } from './program.js';
import { formatError } from './errors.js';
import { withRunOutput } from '../output/run-output.js';
import { InteractiveExitError } from '../exec/terminal.js';
import { setMaxListeners } from 'node:events';

export interface CliDeps extends Partial<Omit<ContextDeps, 'reporter'>> {
  out?: (s: string) => void;
  err?: (s: string) => void;
  reporter?: Reporter;
  /** Receives the run context once built (the action reads reports from it). */
  onContext?: (k: Kamal) => void;
  /** The caller shows the error itself (the action's annotation): it is returned, not printed. */
  reportsErrors?: boolean;
  /**
   * Options set by the caller rather than spelled as flags (the action's inputs): they win over
   * the same flags in the command line, and are never parsed from text.
   */
  options?: Partial<ContextOptions>;
}

export interface CliResult {
  exitCode: number;
  error?: unknown;
  kamal?: Kamal;
  plan?: PlannedStep[];
}

/** Kamal's commands and this CLI's own: a first word that is none of these may be an alias. */
const KNOWN = new Set([...KAMAL_BUILTIN_COMMANDS, 'diff', 'help', 'plan']);

/** Replaces a leading alias (config `aliases:`) by its command line. */
function expandAlias(argv: string[], cwd: string, env: Record<string, string | undefined>, deps: CliDeps): string[] {
  const first = argv.findIndex((a) => !a.startsWith('-'));
  if (first < 0 || KNOWN.has(argv[first]!)) return argv;
  const name = argv[first]!;
  const configFile = deps.options?.configFile ?? flagValue(argv, ['-c', '--config-file']) ?? (env.KAMAL_ACTION_CONFIG_FILE || 'config/deploy.yml');
  const destination = deps.options?.destination ?? flagValue(argv, ['-d', '--destination']) ?? (env.KAMAL_ACTION_DESTINATION || undefined);
  let aliases: Record<string, unknown> | undefined;
  try {
    const raw = loadRawConfig({ configFile, destination, cwd, env });
    aliases = raw.aliases as Record<string, unknown> | undefined;
  } catch {
    return argv;
  }
  const value = aliases?.[name];
  if (typeof value !== 'string') return argv;
  return [...argv.slice(0, first), ...shellSplit(value), ...argv.slice(first + 1)];
}

function flagValue(argv: string[], names: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    for (const n of names) {
      if (a === n) return argv[i + 1];
      if (a.startsWith(`${n}=`)) return a.slice(n.length + 1);
    }
  }
  return undefined;
}

export async function runCli(argv: string[], deps: CliDeps = {}): Promise<CliResult> {
  const out = deps.out ?? ((s: string) => void process.stdout.write(s));
  const err = deps.err ?? ((s: string) => void process.stderr.write(s));
  const cwd = deps.cwd ?? process.cwd();
  const env = deps.env ?? process.env;
  // Every command, connection and wait of a run listens on the one cancel signal; a fleet of
  // hosts means many listeners at once, which is expected, not a leak.
  if (deps.signal) setMaxListeners(0, deps.signal);

  let args = [...argv];
  let planMode = false;
  let json = false;
  if (args[0] === 'plan') {
    planMode = true;
    args = args.slice(1).filter((a) => {
      if (a === '--json') {
        json = true;
        return false;
      }
      return true;
    });
    if (args.length === 0) {
      err('plan needs a command, e.g. `kamal-action plan deploy --version abc --json`\n');
      return { exitCode: 1 };
    }
  }

  let kamal: Kamal | undefined;
  try {
    args = expandAlias(args, cwd, env, deps);
    const inv = parse(args);
    if ('help' in inv) {
      out(inv.help);
      return { exitCode: 0 };
    }
    for (const [key, value] of Object.entries(deps.options ?? {})) {
      if (value !== undefined) (inv.opts as unknown as Record<string, unknown>)[key] = value;
    }
    if (inv.opts.plan) planMode = true;
    if (planMode) inv.opts.plan = true;
    if (inv.local) {
      await inv.local({ ...deps, cwd, env, out, err, reporter: deps.reporter ?? terminalReporter({}, env) } as never);
      return { exitCode: 0 };
    }
    const planRunner = planMode ? new PlanRunner() : undefined;
    const reporter =
      deps.reporter ??
      terminalReporter(
        {
          verbose: inv.opts.verbose,
          quiet: inv.opts.quiet || (planMode && json),
          // a dry run lists its commands itself, on stdout
          commands: !planMode,
          out: planMode ? process.stderr : process.stdout,
        },
        env,
      );
    kamal = await createContext(
      inv.opts,
      { ...deps, cwd, env, reporter, runner: planRunner ?? deps.runner, local: planRunner ?? deps.local },
      inv.command,
      inv.subcommand,
    );
    deps.onContext?.(kamal);
    try {
      await withRunOutput(kamal, inv.command, inv.subcommand, { stop: args.includes('--stop') || args.includes('-s') }, () => inv.run(kamal!));
    } finally {
      await kamal.output?.close();
      if (!planMode) await kamal.runner.close().catch(() => undefined);
      if (kamal.localRunner !== kamal.runner) await kamal.localRunner.close().catch(() => undefined);
      kamal.kamalShim?.dispose();
    }
    if (planRunner) {
      if (json) out(`${JSON.stringify(planRunner.steps, null, 2)}\n`);
      else out(formatPlan(planRunner.steps));
      return { exitCode: 0, kamal, plan: planRunner.steps };
    }
    return { exitCode: 0, kamal };
  } catch (e) {
    // A cancel met on several hosts at once, or as commands stopped mid-way, is reported once, as the cancel.
    const error = isCancellation(e) ? cancelReason(deps.signal, e) : e;
    // An interactive command's own exit status is the run's, without a message (Kamal exec's ssh).
    if (error instanceof InteractiveExitError) return { exitCode: error.exitCode, error, kamal };
    if (!deps.reportsErrors) {
      const text = formatError(error, kamal?.secrets);
      // red on a terminal, as Kamal prints its errors (not with NO_COLOR)
      err(`${!deps.err && wantsColour(process.stderr, env) ? thorColour(text, 'red') : text}\n`);
    }
    const cancelled = error instanceof CancelledError || deps.signal?.aborted === true;
    // boots a cancel could not undo: the command that finishes the undo
    const left = cancelled && kamal && !kamal.dryRun ? pendingUndo(kamal) : [];
    if (left.length > 0) err(undoHint(left, args, deps.options));
    return { exitCode: cancelled ? 130 : 1, error, kamal };
  }
}

function undoHint(left: PendingUndo[], args: string[], options: Partial<ContextOptions> = {}): string {
  const config = options.configFile ?? flagValue(args, ['-c', '--config-file']);
  const destination = options.destination ?? flagValue(args, ['-d', '--destination']);
  const flags = [...(config ? [` -c ${config}`] : []), ...(destination ? [` -d ${destination}`] : [])].join('');
  return (
    `The previous version is not back for ${left.map((b) => `${b.role} on ${b.host}`).join(', ')}; finish with:\n` +
    `  kamal-action app undo_boot '${JSON.stringify(left)}' --version ${left[0]!.version}${flags}\n`
  );
}

function cancelReason(signal: AbortSignal | undefined, e: unknown): unknown {
  if (e instanceof CancelledError) return e;
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  return reason instanceof Error ? reason : new CancelledError();
}

export function formatPlan(steps: PlannedStep[]): string {
  const lines: string[] = [];
  let lastStep: string | undefined;
  for (const s of steps) {
    if (s.step && s.step !== lastStep) {
      lines.push(`# ${s.step}`);
      lastStep = s.step;
    }
    lines.push(`[${s.host}] ${s.command}`);
  }
  return `${lines.join('\n')}\n`;
}

export { ConfigError, UsageError };
