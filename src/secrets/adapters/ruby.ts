/**
 * The few Ruby behaviours the adapters depend on, so their results and
 * messages are Kamal's: `String#split` (trailing empty fields dropped),
 * `shellescape`, `inspect`, `blank?`, truthiness, and the errors Ruby raises.
 */

/** An error as Kamal raises it: the Ruby class (RuntimeError, JSON::ParserError, ...) and its message. */
export class RubyError extends Error {
  constructor(
    readonly rubyClass: string,
    message: string,
  ) {
    super(message);
    this.name = 'SecretsAdapterError';
  }
}

export const runtimeError = (message: string): RubyError => new RubyError('RuntimeError', message);

/** Ruby 3.4's NoMethodError text for a method called on nil (`undefined method 'x' for nil`). */
export const noMethodForNil = (method: string): RubyError => new RubyError('NoMethodError', `undefined method '${method}' for nil`);

/** `str.split(sep)` / `str.split(sep, limit)` with a string separator. */
export function rubySplit(str: string, sep: string, limit?: number): string[] {
  if (str.length === 0) return [];
  let parts: string[];
  if (limit !== undefined && limit > 0) {
    parts = [];
    let rest = str;
    while (parts.length < limit - 1) {
      const i = rest.indexOf(sep);
      if (i < 0) break;
      parts.push(rest.slice(0, i));
      rest = rest.slice(i + sep.length);
    }
    parts.push(rest);
    return parts;
  }
  parts = str.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** `Shellwords.escape` (String#shellescape). */
export function shellescape(str: string): string {
  if (str.length === 0) return "''";
  return str.replace(/[^A-Za-z0-9_\-.,:+/@\n]/gu, '\\$&').replace(/\n/g, "'\n'");
}

/** Ruby 3.4 `String#inspect` of a UTF-8 string. */
export function rubyInspect(s: string): string {
  let out = '"';
  const chars = [...s];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const c = ch.codePointAt(0)!;
    const next = chars[i + 1];
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '#' && (next === '{' || next === '$' || next === '@')) out += '\\#';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\x1b') out += '\\e';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else if ((c >= 0x80 && c < 0xa0) || c === 0x2028 || c === 0x2029 || (c >= 0xd800 && c < 0xe000)) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** `array.inspect` for an array of strings: `["a", "b"]`. */
export const inspectStrings = (list: readonly string[]): string => `[${list.map(rubyInspect).join(', ')}]`;

/** ActiveSupport `blank?` for a string or nil. */
export const isBlank = (s: string | null | undefined): boolean => s === undefined || s === null || /^[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/u.test(s);

/** Ruby truthiness: everything but nil and false. */
export const truthy = (v: unknown): boolean => v !== null && v !== undefined && v !== false;

/**
 * The word a program receives when Kamal passes `value` through `Kamal::Utils.escape_shell_value`
 * (String#dump, then `$` and backticks escaped) inside a `sh -c` line: printable ASCII arrives as
 * it is; control characters arrive as their dump escapes (`\n` as a backslash and an n), `#{`
 * as `\#{`. Kamal leaves `${NAME}` for the shell to expand; here it arrives as written.
 */
export function escapedShellValue(value: string): string {
  let out = '';
  const chars = [...value];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const c = ch.codePointAt(0)!;
    const next = chars[i + 1];
    if (c >= 0x80) out += ch;
    else if (ch === '#' && (next === '{' || next === '$' || next === '@')) out += '\\#';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\x1b') out += '\\e';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}
