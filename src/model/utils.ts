/**
 * Helpers shared by the configuration model: Kamal's argument builders
 * (argumentize/optionize) producing shell words, and the Ruby behaviour of
 * config/ruby.ts (presence, deep merge, versions) typed for the model's loose
 * raw hashes.
 */
import { cat, dq, raw, type Word } from '../shell.js';
import { Secret } from '../secret.js';
import {
  compareGemVersions,
  deepEqual as rubyDeepEqual,
  deepMerge as rubyDeepMerge,
  isBlank as rubyIsBlank,
  isPlainObject as rubyIsPlainObject,
  rubyAsciiEscape,
} from '../config/ruby.js';

export type Plain = string | number | boolean | null | undefined;
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, read by key paths the validation has checked
export type RawObject = Record<string, any>;

/** ActiveSupport `blank?` (config/ruby.ts). */
export const isBlank: (value: unknown) => boolean = rubyIsBlank;

export function isPresent(value: unknown): boolean {
  return !isBlank(value);
}

/** A Ruby Hash from the configuration (config/ruby.ts), typed as the model's loose raw hash. */
export const isPlainObject: (value: unknown) => value is RawObject = rubyIsPlainObject;

/** ActiveSupport's Hash#deep_merge (config/ruby.ts). */
export const deepMerge: (base: RawObject, other: RawObject) => RawObject = rubyDeepMerge;

/** Ruby Hash#== of configuration values (config/ruby.ts). */
export const deepEqual: (a: unknown, b: unknown) => boolean = rubyDeepEqual;

/** Ruby's `to_s` for scalar configuration values. */
export function toS(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Secret) return value.reveal();
  return String(value);
}

type AttrValue = Plain | Secret;
export type Attributes =
  | Record<string, unknown>
  | Map<string, unknown>
  | readonly (string | number | Word | readonly [string, unknown])[]
  | string
  | number
  | Word
  | null
  | undefined;

function isWordObject(v: unknown): v is Word {
  return typeof v === 'object' && v !== null && 't' in v && typeof (v as { t: unknown }).t === 'string';
}

function pairsOf(attributes: Attributes): [string | Word, unknown][] {
  if (attributes === null || attributes === undefined) return [];
  if (typeof attributes === 'string' || typeof attributes === 'number') return [[String(attributes), undefined]];
  if (attributes instanceof Secret || isWordObject(attributes)) return [[attributes as Word, undefined]];
  if (attributes instanceof Map) return [...attributes.entries()];
  if (Array.isArray(attributes)) {
    return attributes.map((a) => {
      if (Array.isArray(a)) return [String(a[0]), a[1]] as [string, unknown];
      if (typeof a === 'number') return [String(a), undefined] as [string, unknown];
      return [a as string | Word, undefined] as [string | Word, unknown];
    });
  }
  return Object.entries(attributes as Record<string, unknown>);
}

/**
 * Kamal's `argumentize`: for each key/value, `[argument, key="value"]`, or
 * `[argument, key=false]` for false, or `[argument, key]` for blank values.
 * Values are shown double-quoted like Kamal where that is safe.
 * `sensitive` turns every value into a Secret (redacted when displayed).
 */
export function argumentize(argument: string, attributes: Attributes, opts: { sensitive?: boolean } = {}): Word[] {
  const out: Word[] = [];
  for (const [key, value] of pairsOf(attributes)) {
    if (typeof key !== 'string') {
      out.push(argument, key);
      continue;
    }
    if (isPresent(value)) {
      const v = value instanceof Secret ? value : toS(value);
      out.push(argument, cat(`${key}=`, dq(opts.sensitive && !(v instanceof Secret) ? new Secret(v) : v)));
    } else if (value === false) {
      out.push(argument, `${key}=false`);
    } else {
      out.push(argument, key);
    }
  }
  return out;
}

/** Kamal's `flatten_args`: array values become one pair per entry. */
export function flattenArgs(args: Record<string, unknown> | Map<string, unknown>): [string, unknown][] {
  const entries = args instanceof Map ? [...args.entries()] : Object.entries(args);
  return entries.flatMap(([key, value]) => (Array.isArray(value) ? value.map((v) => [key, v] as [string, unknown]) : [[key, value] as [string, unknown]]));
}

/**
 * Kamal's `optionize`: `--key "value"` (or `--key="value"` with `with: "="`);
 * `true` gives a bare `--key`; arrays repeat the option.
 */
export function optionize(args: Record<string, unknown> | Map<string, unknown>, opts: { with?: string; escape?: boolean } = {}): Word[] {
  const escape = opts.escape ?? true;
  const out: Word[] = [];
  for (const [key, value] of flattenArgs(args)) {
    if (value === true || value === null || value === undefined) {
      out.push(`--${key}`);
      continue;
    }
    const v: string | Secret = value instanceof Secret ? value : toS(value);
    const w: Word = escape ? dq(v) : v;
    if (opts.with !== undefined) out.push(cat(`--${key}${opts.with}`, w));
    else out.push(`--${key}`, w);
  }
  return out;
}

/** A host path that may start with Kamal's `$PWD/` marker; the marker stays shell syntax, the rest is literal. */
export function hostPathWord(path: string): Word {
  if (path.startsWith('$PWD/')) return cat(raw('$PWD/'), path.slice(5));
  return path;
}

/** A local path that may start with `~/`, which the local shell expands. */
export function tildePathWord(path: string): Word {
  if (path.startsWith('~/')) return cat(raw('~/'), path.slice(2));
  if (path === '~') return raw('~');
  return path;
}

/** Ruby's String#dump for one ASCII string, with its surrounding quotes. */
export function rubyDump(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    out += ch === '"' || ch === '\\' ? `\\${ch}` : (rubyAsciiEscape(ch, value[i + 1]) ?? ch);
  }
  return out + '"';
}

/** Splits a string into runs of ASCII and non-ASCII characters (Kamal escapes only the ASCII runs). */
export function asciiRuns(value: string): { ascii: boolean; text: string }[] {
  const runs: { ascii: boolean; text: string }[] = [];
  for (const m of value.matchAll(/[\x00-\x7f]+|[^\x00-\x7f]+/gu)) {
    runs.push({ ascii: /^[\x00-\x7f]*$/.test(m[0]), text: m[0] });
  }
  return runs;
}

/**
 * Kamal's `escape_shell_value` (String#dump with backticks and `$` escaped
 * unless followed by `{...}`). Only used to compute text Kamal writes into
 * files (audit lines are written through the renderer instead).
 */
export function kamalEscapeShellValue(value: string): string {
  return asciiRuns(value)
    .map((r) =>
      r.ascii
        ? rubyDump(r.text)
            .replace(/`/g, '\\`')
            .replace(/\$(?!\{[^}]*\})/g, '\\$')
        : r.text,
    )
    .join('');
}

/** `Gem::Version#<=>` of two versions, each without a leading `v` (as Kamal's `older_version?` deletes it). */
export function compareVersions(a: string, b: string): number {
  return compareGemVersions(a.replace(/^v/, ''), b.replace(/^v/, ''));
}

/** Kamal's `older_version?`. */
export function olderVersion(version: string, other: string): boolean {
  return compareVersions(version, other) < 0;
}

/** Kamal's `filter_specific_items`: fnmatch-style filters (`*` wildcard, `{a,b}` alternation) over role names or hosts. */
export function filterSpecificItems<T extends { toString(): string }>(filters: string | readonly string[], items: readonly T[]): T[] {
  const list = typeof filters === 'string' ? [filters] : [...filters];
  const out = new Set<T>();
  for (const filter of list) {
    const re = fnmatchRegExp(filter);
    for (const item of items) if (re.test(item.toString())) out.add(item);
  }
  return [...out];
}

function fnmatchRegExp(pattern: string): RegExp {
  let re = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '{') {
      re += '(?:';
      depth++;
    } else if (c === '}' && depth > 0) {
      re += ')';
      depth--;
    } else if (c === ',' && depth > 0) re += '|';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end > i) {
        re += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      } else re += '\\[';
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Wraps any configuration value as a Secret unless it already is one. */
export function asSecret(value: string | Secret, name?: string): Secret {
  return value instanceof Secret ? value : new Secret(value, name);
}

export type { AttrValue };
