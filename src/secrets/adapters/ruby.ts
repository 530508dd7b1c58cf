/**
 * The few Ruby behaviours the adapters depend on, so their results and
 * messages are Kamal's: `String#split` (trailing empty fields dropped),
 * `shellescape`, `inspect`, `blank?`, truthiness, and the errors Ruby raises.
 */
import { isBlank, isTruthy, rubyAsciiEscape, rubyInspect } from '../../config/ruby.js';

export { isBlank, isTruthy, rubyInspect };

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

/** `array.inspect` for an array of strings: `["a", "b"]`. */
export const inspectStrings = (list: readonly string[]): string => `[${list.map(rubyInspect).join(', ')}]`;

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
    out += rubyAsciiEscape(chars[i]!, chars[i + 1]) ?? chars[i]!;
  }
  return out;
}
