/**
 * The shape of the command tables (one file beside each engine group: main, app, proxy, ...) and
 * the option value parsers they share. program.ts turns the tables into the commander tree.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { Kamal } from '../../engine/kamal.js';
import type { ContextDeps } from '../context.js';

/** What a command that needs no configuration (version, init, docs, secrets fetch) writes to. */
export interface CliIO extends Omit<ContextDeps, 'reporter'> {
  out: (text: string) => void;
  err: (text: string) => void;
  reporter: ContextDeps['reporter'];
}

export type CommandOptions = Record<string, unknown>;

export interface OptionSpec {
  /** As commander writes them: `-n, --lines <lines>`, `--no-cache`, `-f, --follow [follow]`. */
  flags: string;
  description: string;
  /** Reads the value (and the values before it, for a repeatable option). */
  parse?(value: string, previous: unknown): unknown;
  default?: unknown;
  /** The command cannot run without it (`lock acquire -m`). */
  required?: boolean;
  /** Accepted but left out of the help. */
  hidden?: boolean;
}

export interface ArgumentSpec {
  /** `<version>`, `[section]`, `<cmd...>`. */
  name: string;
  description?: string;
}

export interface CommandSpec {
  name: string;
  description: string;
  /** Left out of the help, as Kamal hides it. */
  hidden?: boolean;
  arguments?: readonly ArgumentSpec[];
  options?: readonly OptionSpec[];
  /** Flags another module defines (deploy's verify flags), added after `options`. */
  addFlags?: (command: Command) => Command;
  /** Unknown options are words of the command (`server exec date -j`). */
  allowUnknownOption?: boolean;
  /** Refuses the words before anything runs. */
  check?: (options: CommandOptions) => void;
  /** The operation, with a run context for the configuration. */
  run?: (kamal: Kamal, options: CommandOptions, args: string[]) => Promise<unknown>;
  /** An operation that needs no configuration. */
  local?: (io: CliIO, options: CommandOptions, args: string[]) => Promise<void>;
}

/** `kamal app ...`: a group of subcommands. */
export interface CommandGroup {
  name: string;
  description: string;
  commands: readonly CommandSpec[];
}

/** A boolean option's optional value as Thor reads it (`--debug true`, `--publish false`). */
export const thorBoolean =
  (name: string) =>
  (value: string): boolean => {
    if (['true', 'TRUE', 't', 'T'].includes(value)) return true;
    if (['false', 'FALSE', 'f', 'F'].includes(value)) return false;
    throw new UsageError(`--${name} expects true or false, got '${value}'`);
  };

/** A whole number option. */
export const int =
  (name: string) =>
  (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new UsageError(`--${name} expects a whole number, got '${value}'`);
    return Number(value);
  };

/** A repeatable option's values, in order. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const CONFIRMED: OptionSpec = { flags: '-y, --confirmed', description: 'Proceed without confirmation question' };
export const NO_CACHE: OptionSpec = { flags: '--no-cache', description: "Build without using Docker's build cache" };
export const SKIP_PUSH: OptionSpec = { flags: '-P, --skip-push', description: 'Skip image build and push' };

export const str = (options: CommandOptions, name: string): string | undefined => options[name] as string | undefined;
export const num = (options: CommandOptions, name: string): number | undefined => options[name] as number | undefined;

/** `--since`, `--lines`, `--grep`, `--grep-options`, `--follow` and `--skip-timestamps` of the logs commands, as the engine takes them. */
export const logsOptions = (options: CommandOptions) => ({
  since: str(options, 'since'),
  lines: num(options, 'lines'),
  grep: str(options, 'grep'),
  grepOptions: str(options, 'grepOptions'),
  follow: !!options.follow,
  timestamps: !options.skipTimestamps,
});
