/**
 * Structured shell commands and the one renderer that turns them into the
 * string sent to a (remote or local) POSIX shell.
 *
 * Builders never concatenate strings into commands. A command is a tree of
 * words and operators; every literal word is escaped by the renderer, so any
 * value (quotes, `$()`, backticks, newlines, spaces, unicode) reaches the
 * program byte-exact. Only `raw()` words pass through verbatim, and builders use
 * them for constant shell syntax (`$PWD`, `2> /dev/null`) only.
 */
import { REDACTED, Secret } from './secret.js';

/** Verbatim shell syntax. Never built from user input. */
export interface RawWord {
  readonly t: 'raw';
  readonly text: string;
}
/** A literal that Kamal shows double-quoted (String#dump); rendered so where that is safe. */
export interface DqWord {
  readonly t: 'dq';
  readonly value: string | Secret;
}
/** Several pieces glued into one shell word. */
export interface CatWord {
  readonly t: 'cat';
  readonly parts: readonly Word[];
}
/** `$(command)` */
export interface SubWord {
  readonly t: 'sub';
  readonly cmd: Command;
}
/** A whole command rendered and passed as one literal word (e.g. to `sh -c`). */
export interface ScriptWord {
  readonly t: 'script';
  readonly cmd: Command;
}

export type Word = string | Secret | RawWord | DqWord | CatWord | SubWord | ScriptWord;

export interface SimpleCommand {
  readonly t: 'cmd';
  readonly words: readonly Word[];
}
export type Operator = '&&' | '||' | ';' | '|';
export interface OpCommand {
  readonly t: 'op';
  readonly op: Operator;
  readonly parts: readonly Command[];
}
export interface GroupCommand {
  readonly t: 'group';
  readonly cmd: Command;
}
export type Command = SimpleCommand | OpCommand | GroupCommand;

export type WordInput = Word | number | null | undefined | false | readonly WordInput[];

export function raw(text: string): RawWord {
  return { t: 'raw', text };
}
export function dq(value: string | number | Secret): DqWord {
  return { t: 'dq', value: typeof value === 'number' ? String(value) : value };
}
export function cat(...parts: WordInput[]): CatWord {
  return { t: 'cat', parts: flattenWords(parts) };
}
export function sub(command: Command): SubWord {
  return { t: 'sub', cmd: command };
}
export function script(command: Command): ScriptWord {
  return { t: 'script', cmd: command };
}

function isWordObject(v: unknown): v is RawWord | DqWord | CatWord | SubWord | ScriptWord {
  return typeof v === 'object' && v !== null && 't' in v && ['raw', 'dq', 'cat', 'sub', 'script'].includes((v as { t: string }).t);
}

export function flattenWords(input: readonly WordInput[]): Word[] {
  const out: Word[] = [];
  const walk = (w: WordInput): void => {
    if (w === null || w === undefined || w === false) return;
    if (Array.isArray(w)) {
      for (const x of w) walk(x);
      return;
    }
    if (typeof w === 'number') out.push(String(w));
    else if (typeof w === 'string' || w instanceof Secret || isWordObject(w)) out.push(w as Word);
    else throw new TypeError(`not a shell word: ${String(w)}`);
  };
  for (const w of input) walk(w);
  return out;
}

/** A simple command from words; null/undefined/false are dropped, arrays are flattened. */
export function cmd(...words: WordInput[]): SimpleCommand {
  return { t: 'cmd', words: flattenWords(words) };
}

function op(operator: Operator, parts: readonly (Command | null | undefined | false)[]): Command {
  const kept = parts.filter((p): p is Command => !!p);
  if (kept.length === 1) return kept[0]!;
  return { t: 'op', op: operator, parts: kept };
}
/** a && b && c */
export const combine = (...parts: (Command | null | undefined | false)[]): Command => op('&&', parts);
/** a ; b */
export const chain = (...parts: (Command | null | undefined | false)[]): Command => op(';', parts);
/** a | b */
export const pipe = (...parts: (Command | null | undefined | false)[]): Command => op('|', parts);
/** a || b */
export const any = (...parts: (Command | null | undefined | false)[]): Command => op('||', parts);
/** ( a ) */
export const group = (command: Command): GroupCommand => ({ t: 'group', cmd: command });
/** a | xargs b */
export const xargs = (input: Command, command: SimpleCommand): Command => pipe(input, cmd('xargs', command.words));
/** sh -c 'a' */
export const shell = (command: Command): SimpleCommand => cmd('sh', '-c', script(command));

export interface RenderOptions {
  /** Replace every Secret with [REDACTED] (for logs, plans and errors). */
  redact?: boolean;
}

const BARE = /^[A-Za-z0-9_\-.,:/@%+=]+$/;
const DQ_SAFE = /^[\x20-\x7e]*$/;
const DQ_UNSAFE = /[$`\\"!]/;

/** POSIX single-quote escaping; valid for any byte sequence. */
export function quote(value: string): string {
  if (value.length > 0 && BARE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function quoteDq(value: string): string {
  if (DQ_SAFE.test(value) && !DQ_UNSAFE.test(value)) return `"${value}"`;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function renderWord(w: Word, opts: RenderOptions = {}): string {
  if (typeof w === 'string') return quote(w);
  if (w instanceof Secret) return opts.redact ? REDACTED : quote(w.reveal());
  switch (w.t) {
    case 'raw':
      return w.text;
    case 'dq':
      if (w.value instanceof Secret) return opts.redact ? `"${REDACTED}"` : quoteDq(w.value.reveal());
      return quoteDq(w.value);
    case 'cat':
      return w.parts.map((p) => renderCatPart(p, opts)).join('');
    case 'sub':
      return `$(${render(w.cmd, opts)})`;
    case 'script':
      return quote(render(w.cmd, opts));
  }
}

// Inside a concatenation, an empty literal renders as nothing rather than ''.
function renderCatPart(w: Word, opts: RenderOptions): string {
  if (typeof w === 'string' && w.length === 0) return '';
  return renderWord(w, opts);
}

export function render(c: Command, opts: RenderOptions = {}): string {
  switch (c.t) {
    case 'cmd':
      return c.words.map((w) => renderWord(w, opts)).join(' ');
    case 'op':
      return c.parts.map((p) => render(p, opts)).join(` ${c.op} `);
    case 'group':
      return `(${render(c.cmd, opts)})`;
  }
}

const displayed = new WeakMap<Command, string>();

/** The string shown to people: every secret redacted (worked out once per command: the log and the runner both show it). */
export function display(c: Command): string {
  let text = displayed.get(c);
  if (text === undefined) {
    text = render(c, { redact: true });
    displayed.set(c, text);
  }
  return text;
}

/** Every secret value a command carries (for redaction of its output). */
export function secretsOf(c: Command): Secret[] {
  const out: Secret[] = [];
  const walkWord = (w: Word): void => {
    if (w instanceof Secret) out.push(w);
    else if (typeof w === 'object') {
      if (w.t === 'dq' && w.value instanceof Secret) out.push(w.value);
      else if (w.t === 'cat') w.parts.forEach(walkWord);
      else if (w.t === 'sub' || w.t === 'script') walkCmd(w.cmd);
    }
  };
  const walkCmd = (x: Command): void => {
    if (x.t === 'cmd') x.words.forEach(walkWord);
    else if (x.t === 'op') x.parts.forEach(walkCmd);
    else walkCmd(x.cmd);
  };
  walkCmd(c);
  return out;
}

/** A command line that cannot be split into words (an unmatched quote, a NUL character). */
export class ShellSplitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellSplitError';
  }
}

// One step of Ruby's Shellwords.split: a run of plain characters, a single-quoted part, a
// double-quoted part, a backslash and the character after it, or a stray quote; then a
// separating blank, if any (the end of the line separates too).
const SHELL_WORD_PART = /[ \t\r\n\f\v]*(?:([^\0 \t\r\n\f\v\\'"]+)|'([^\0']*)'|"((?:[^\0"\\]|\\[^\0])*)"|(\\[^\0]?)|([^ \t\r\n\f\v]))([ \t\r\n\f\v])?/y;

/**
 * Splits a command line into words as Kamal does (Ruby's Shellwords.split, used for aliases and
 * as a shell splits a command line): blanks separate words, single quotes keep everything,
 * double quotes keep everything but `\$`, `` \` ``, `\"`, `\\` and backslash-newline, and a
 * backslash outside quotes keeps the next character. Nothing else is special: `;`, `|`, `&&`,
 * `$VAR` and `$(...)` stay characters of their words. Throws ShellSplitError on an unmatched
 * quote or a NUL character.
 */
export function shellSplit(line: string): string[] {
  const words: string[] = [];
  let field = '';
  SHELL_WORD_PART.lastIndex = 0;
  while (SHELL_WORD_PART.lastIndex < line.length) {
    const start = SHELL_WORD_PART.lastIndex;
    const m = SHELL_WORD_PART.exec(line);
    if (!m) break; // only blanks are left
    const [, plain, single, double, escaped, stray, separator] = m;
    if (stray !== undefined) {
      throw new ShellSplitError(`${stray === '\0' ? 'NUL character' : 'unmatched quote'} at ${start}`);
    }
    if (plain !== undefined) field += plain;
    else if (single !== undefined) field += single;
    else if (double !== undefined) field += double.replace(/\\([$`"\\\n])/g, '$1');
    else field += escaped!.replace(/\\(.)/g, '$1');
    if (separator !== undefined || SHELL_WORD_PART.lastIndex === line.length) {
      words.push(field);
      field = '';
    }
    if (SHELL_WORD_PART.lastIndex === start) break;
  }
  return words;
}

/**
 * The words and operators a POSIX shell would see in a command: quotes are removed, `;`, `|`,
 * `&`, `&&` and `||` become words of their own, `$(...)` and `$VAR` stay literal. For a command
 * Kamal hands to a shell on the host (a role's or accessory's `cmd:`), whose words we pass on
 * literally, and for tests that compare our rendering with Kamal's. A command line given as
 * arguments (an alias, the action's `command` input) is split by shellSplit, as Kamal does.
 */
export function splitShellWords(input: string): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  let i = 0;
  const push = (): void => {
    if (has) words.push(cur);
    cur = '';
    has = false;
  };
  while (i < input.length) {
    const ch = input[i]!;
    if (ch === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated single quote in: ${input}`);
      cur += input.slice(i + 1, end);
      has = true;
      i = end + 1;
    } else if (ch === '"') {
      i++;
      has = true;
      while (i < input.length && input[i] !== '"') {
        if (input[i] === '\\' && i + 1 < input.length && '$`"\\\n'.includes(input[i + 1]!)) {
          cur += input[i + 1];
          i += 2;
        } else if (input[i] === '$' && input[i + 1] === '(') {
          const end = matchParen(input, i + 1);
          cur += input.slice(i, end + 1);
          i = end + 1;
        } else {
          cur += input[i];
          i++;
        }
      }
      if (i >= input.length) throw new Error(`unterminated double quote in: ${input}`);
      i++;
    } else if (ch === '\\' && i + 1 < input.length) {
      cur += input[i + 1];
      has = true;
      i += 2;
    } else if (ch === '$' && input[i + 1] === '(') {
      const end = matchParen(input, i + 1);
      cur += input.slice(i, end + 1);
      has = true;
      i = end + 1;
    } else if (/\s/.test(ch)) {
      push();
      i++;
    } else if ('|&;'.includes(ch)) {
      push();
      const two = input.slice(i, i + 2);
      if (two === '&&' || two === '||') {
        words.push(two);
        i += 2;
      } else {
        words.push(ch);
        i++;
      }
    } else {
      cur += ch;
      has = true;
      i++;
    }
  }
  push();
  return words;
}

function matchParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) break;
      i = end;
    } else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new Error(`unbalanced $( in: ${s}`);
}
