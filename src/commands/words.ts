import { splitShellWords, type Command } from '../shell.js';

/** A command given as one string (split like a shell would) or as words. */
export type CommandWords = string | readonly string[];

export function toWords(command: CommandWords | undefined | null): string[] {
  if (command === undefined || command === null) return [];
  return typeof command === 'string' ? splitShellWords(command) : [...command];
}

/** Grep options given on the command line (`-C 2`), as words. */
export function grepOptionWords(options: CommandWords | undefined): string[] {
  return toWords(options);
}

export function isCommand(v: unknown): v is Command {
  return typeof v === 'object' && v !== null && 't' in v && ['cmd', 'op', 'group'].includes((v as { t: string }).t);
}
