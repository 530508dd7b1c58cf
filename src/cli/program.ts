/** The command tree, mirroring Kamal's (`kamal deploy`, `kamal app boot`, ...), built from the tables in commands/. */
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../errors.js';
import type { Kamal } from '../engine/kamal.js';
import { PlanRunner } from '../exec/plan-runner.js';
import { accessoryCommands } from './commands/accessory.js';
import { appCommands, ENV_PAIR } from './commands/app.js';
import { buildCommands } from './commands/build.js';
import { lockCommands } from './commands/lock.js';
import { mainCommands } from './commands/main.js';
import { proxyCommands } from './commands/proxy.js';
import { pruneCommands } from './commands/prune.js';
import { registryCommands } from './commands/registry.js';
import { secretsCommands } from './commands/secrets.js';
import { serverCommands } from './commands/server.js';
import { int, type CliIO, type CommandGroup, type CommandSpec } from './commands/table.js';
import { validateCliValues, type ContextOptions } from './context.js';
import { addPlanHelp, showGlobalOptionsInHelp } from './help.js';

interface Invocation {
  /** The operation to run with a context. */
  run: (kamal: Kamal) => Promise<unknown>;
  command: string;
  subcommand?: string;
  opts: ContextOptions;
  /** Does not need a configuration (version, init). */
  local?: (io: CliIO) => Promise<void>;
}

function globalOptions(c: Command): Command {
  return c
    .option('-v, --verbose', 'Detailed logging')
    .option('-q, --quiet', 'Minimal logging')
    .option('--version <version>', 'Run commands against a specific app version')
    .option('-p, --primary', 'Run commands only on primary host instead of all')
    .option('-h, --hosts <hosts>', 'Run commands on these hosts instead of all (separate by comma, supports wildcards with *)')
    .option('-r, --roles <roles>', 'Run commands on these roles instead of all (separate by comma, supports wildcards with *)')
    .option('-c, --config-file <file>', 'Path to config file (default: KAMAL_ACTION_CONFIG_FILE, else "config/deploy.yml")')
    .option(
      '-d, --destination <destination>',
      'Specify destination to be used for config file (staging -> deploy.staging.yml; default: KAMAL_ACTION_DESTINATION)',
    )
    .option('-H, --skip-hooks', "Don't run hooks")
    .option('--lock-wait', "Wait for the deploy lock if it's already held instead of failing immediately")
    .option('--lock-wait-timeout <seconds>', 'Maximum seconds to wait for the deploy lock', int('lock-wait-timeout'), 900)
    .option('--lock-wait-interval <seconds>', 'Seconds between deploy lock polls', int('lock-wait-interval'), 15)
    .option('--dry-run', 'Print the commands that would run, without connecting anywhere')
    .option('--all-or-nothing', 'When a host fails, put the previous version back on the hosts already switched')
    .addOption(new Option('--host-key-checking <mode>', 'SSH host key checking').choices(['strict', 'accept-new', 'off']))
    .option('--known-hosts <file>', 'known_hosts file to check host keys against');
}

/** The command groups under the top-level commands, in the order of the help. */
const GROUPS: readonly CommandGroup[] = [
  appCommands,
  proxyCommands,
  accessoryCommands,
  buildCommands,
  registryCommands,
  lockCommands,
  pruneCommands,
  serverCommands,
  secretsCommands,
];

/** Builds the program from the command tables. `capture` receives the chosen invocation instead of running it. */
export function buildProgram(capture: (inv: Invocation) => void): Command {
  const program = new Command('kamal-action')
    .description('Deploy web apps anywhere, Kamal-compatible, from GitHub Actions or a terminal')
    .helpOption('--help', 'Show help')
    .addHelpCommand('help [command]', 'Show help for a command')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  globalOptions(program);
  showGlobalOptionsInHelp(program);
  for (const spec of mainCommands) addCommand(program, spec, undefined, capture);
  for (const group of GROUPS) {
    const parent = program.command(group.name).description(group.description).helpOption('--help', 'Show help');
    for (const spec of group.commands) addCommand(parent, spec, group.name, capture);
  }
  addPlanHelp(program);
  return program;
}

/** One command of a table as a commander command whose action hands its invocation to `capture`. */
function addCommand(parent: Command, spec: CommandSpec, group: string | undefined, capture: (inv: Invocation) => void): void {
  let command = parent
    .command(spec.name, spec.hidden ? { hidden: true } : {})
    .description(spec.description)
    .helpOption('--help', 'Show help');
  for (const argument of spec.arguments ?? []) command = command.argument(argument.name, argument.description);
  for (const option of spec.options ?? []) {
    if (option.hidden) command = command.addOption(new Option(option.flags, option.description).hideHelp());
    else if (option.required) command = command.requiredOption(option.flags, option.description);
    else if (option.parse) {
      const { parse } = option;
      command = command.option(option.flags, option.description, (value: string, previous: unknown) => parse(value, previous), option.default);
    } else if (option.default !== undefined) command = command.option(option.flags, option.description, option.default as string);
    else command = command.option(option.flags, option.description);
  }
  if (spec.addFlags) command = spec.addFlags(command);
  if (spec.allowUnknownOption) command = command.allowUnknownOption();
  command.action((...params: unknown[]) => {
    const invoked = params[params.length - 1] as Command;
    const args = invoked.args;
    const options = invoked.optsWithGlobals() as Record<string, unknown> & ContextOptions;
    spec.check?.(options);
    const names = group ? { command: group, subcommand: spec.name } : { command: spec.name };
    const { run, local } = spec;
    if (local) capture({ ...names, opts: normalize(options), run: async () => undefined, local: (io) => local(io, options, args) });
    else if (run) capture({ ...names, opts: normalize(options), run: (kamal) => run(kamal, options, args) });
  });
}

function normalize(o: Record<string, unknown>): ContextOptions {
  return {
    verbose: !!o.verbose,
    quiet: !!o.quiet,
    version: o.version as string | undefined,
    primary: !!o.primary,
    hosts: o.hosts as string | undefined,
    roles: o.roles as string | undefined,
    configFile: o.configFile as string | undefined,
    destination: o.destination as string | undefined,
    skipHooks: !!o.skipHooks,
    lockWait: !!o.lockWait,
    lockWaitTimeout: o.lockWaitTimeout as number | undefined,
    lockWaitInterval: o.lockWaitInterval as number | undefined,
    confirmed: !!o.confirmed,
    allOrNothing: !!o.allOrNothing,
    plan: !!o.dryRun,
    hostKeyChecking: o.hostKeyChecking as ContextOptions['hostKeyChecking'],
    knownHostsFile: o.knownHosts as string | undefined,
  };
}

/**
 * Before commander sees the words:
 * - `-e`/`--env` takes the KEY=VALUE (or KEY:VALUE) words that follow it, as Kamal's hash
 *   option does, each passed as its own `--env=` so the command words after them stay
 *   the command, wherever the option stands.
 * - Long options may be written with underscores, as Thor allows (`--skip_push` is `--skip-push`).
 * - Thor's `--no-NAME` and `--skip-NAME` of a boolean option NAME set it false: the word (and
 *   any `--NAME` before it) is dropped, our booleans being false unless given.
 * Words after `--` are left alone.
 */
export function preprocessArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a === '-e' || a === '--env') {
      const start = out.length;
      while (i + 1 < argv.length && ENV_PAIR.test(argv[i + 1]!)) out.push(`--env=${argv[++i]}`);
      if (out.length === start) out.push(a); // commander reports the missing value
      continue;
    }
    const word = dasherize(a);
    const negated = thorNegated(word);
    if (negated) {
      for (let j = out.length - 1; j >= 0; j--) if (out[j] === negated.positive) out.splice(j, 1);
      if (negated.replacement) out.push(negated.replacement);
      continue;
    }
    out.push(word);
  }
  return out;
}

/**
 * Thor's negations: `--no-verbose` / `--skip-verbose` drop `--verbose` (false unless given),
 * `--skip-publish` is our `--no-publish`, `--no-debug` of a `--debug [bool]` is `--debug=false`.
 * Words that are options of their own (`--no-cache`, `--skip-push`) are left alone.
 */
function thorNegated(word: string): { positive: string; replacement?: string } | undefined {
  const m = /^--(?:no|skip)-([a-z][a-z0-9-]*)$/.exec(word);
  if (!m || knownLongOptions().has(word)) return undefined;
  const positive = `--${m[1]}`;
  if (knownLongOptions().has(`--no-${m[1]}`)) return { positive, replacement: `--no-${m[1]}` };
  const kind = knownBooleanOptions().get(positive);
  if (kind === 'flag') return { positive };
  if (kind === 'optional') return { positive, replacement: `${positive}=false` };
  return undefined;
}

let booleanOptions: Map<string, 'flag' | 'optional'> | undefined;
function knownBooleanOptions(): Map<string, 'flag' | 'optional'> {
  if (!booleanOptions) {
    const found = new Map<string, 'flag' | 'optional'>();
    const walk = (c: Command): void => {
      for (const o of c.options) {
        if (!o.long || o.required || o.negate || (o.optional && !o.flags.endsWith('[bool]'))) continue;
        found.set(o.long, o.optional ? 'optional' : 'flag');
      }
      c.commands.forEach(walk);
    };
    walk(buildProgram(() => undefined));
    booleanOptions = found;
  }
  return booleanOptions;
}

/**
 * `--skip_push[=x]` → `--skip-push[=x]` when that is one of our options (Thor's normalize_switch);
 * other words, such as an unknown option of a `server exec` command, are kept as written.
 */
function dasherize(word: string): string {
  const m = /^--([a-z][a-z0-9_-]*)(=.*)?$/s.exec(word);
  if (!m || !m[1]!.includes('_')) return word;
  const dashed = `--${m[1]!.replace(/_/g, '-')}`;
  return knownLongOptions().has(dashed) ? `${dashed}${m[2] ?? ''}` : word;
}

let longOptions: Set<string> | undefined;
function knownLongOptions(): Set<string> {
  if (!longOptions) {
    const found = new Set<string>();
    const walk = (c: Command): void => {
      for (const o of c.options) if (o.long) found.add(o.long);
      c.commands.forEach(walk);
    };
    walk(buildProgram(() => undefined));
    longOptions = found;
  }
  return longOptions;
}

export interface ParsedInvocation extends Invocation {}

export function parse(argv: string[]): Invocation | { help: string } {
  let inv: Invocation | undefined;
  let help = '';
  const program = buildProgram((i) => {
    inv = i;
  });
  program.configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s), outputError: () => undefined });
  try {
    program.parse(preprocessArgv(argv), { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return { help };
      if (e.exitCode === 0) return { help };
      throw new UsageError(e.message.replace(/^error: /, ''));
    }
    throw e;
  }
  if (!inv) {
    return { help: program.helpInformation() };
  }
  validateCliValues((inv as Invocation).opts);
  return inv;
}

export { PlanRunner };
