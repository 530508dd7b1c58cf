/**
 * Small pieces of Ruby / ActiveSupport / RubyGems behaviour that Kamal's
 * configuration loading depends on, reimplemented so values and messages come
 * out the same.
 */
import * as path from 'node:path';
import { Secret } from '../secret.js';

/** A Ruby Hash as it comes out of YAML: a plain object (or a null-prototype one). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Sets a key on a plain object without tripping over `__proto__`. */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/**
 * ActiveSupport `blank?` for the values YAML produces and the model holds: nil, false, a string of
 * white space (also a secret's), an empty list, hash or map. Anything else (numbers, dates) is not blank.
 */
export function isBlank(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return true;
  if (typeof v === 'string') return /^\s*$/u.test(v);
  if (v instanceof Secret) return /^\s*$/u.test(v.reveal());
  if (Array.isArray(v)) return v.length === 0;
  if (v instanceof Map) return v.size === 0;
  if (isPlainObject(v)) return Object.keys(v).length === 0;
  return false;
}

/** ActiveSupport `present?`. */
export function isPresent(v: unknown): boolean {
  return !isBlank(v);
}

/** Ruby truthiness: everything but nil and false. */
export function isTruthy(v: unknown): boolean {
  return v !== null && v !== undefined && v !== false;
}

/**
 * ActiveSupport `Hash#deep_merge`: hashes merge recursively, any other value
 * (arrays, scalars, nil) from `other` replaces the one in `base`.
 */
export function deepMerge(base: Record<string, unknown>, other: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) setKey(out, k, v);
  for (const [k, v] of Object.entries(other)) {
    const mine = Object.prototype.hasOwnProperty.call(out, k) ? out[k] : undefined;
    if (isPlainObject(mine) && isPlainObject(v)) setKey(out, k, deepMerge(mine, v));
    else setKey(out, k, v);
  }
  return out;
}

/** Ruby `Hash#==` / `Array#==` for configuration values: same keys (in any order) and equal values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Ruby `Float#to_s`. */
export function rubyFloatToS(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const sign = n < 0 ? '-' : '';
  const [mant, expStr] = Math.abs(n).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const decpt = Number(expStr) + 1;
  let body: string;
  if (decpt > 0 && decpt <= 16) {
    body = digits.length <= decpt ? digits + '0'.repeat(decpt - digits.length) + '.0' : digits.slice(0, decpt) + '.' + digits.slice(decpt);
  } else if (decpt <= 0 && decpt > -4) {
    body = '0.' + '0'.repeat(-decpt) + digits;
  } else {
    const e = decpt - 1;
    const ee = String(Math.abs(e)).padStart(2, '0');
    body = digits[0] + '.' + (digits.length > 1 ? digits.slice(1) : '0') + 'e' + (e < 0 ? '-' : '+') + ee;
  }
  return sign + body;
}

/** Ruby `to_s` of the scalar values YAML can produce (strings, numbers, booleans, nil). */
export function rubyToS(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Number.isInteger(v)) return Math.abs(v) < 1e21 ? String(v) : BigInt(v).toString();
  return rubyFloatToS(v);
}

/**
 * The escape Ruby's `String#inspect` and `String#dump` write for a character below U+0080 other
 * than `"` and `\` (`next` is the character after it): `#` before `{`, `$` or `@`, the named
 * control characters, `\xNN` for the others and DEL. Undefined for a character written as it is.
 */
export function rubyAsciiEscape(ch: string, next: string | undefined): string | undefined {
  const c = ch.codePointAt(0)!;
  if (ch === '#') return next === '{' || next === '$' || next === '@' ? '\\#' : undefined;
  if (ch === '\n') return '\\n';
  if (ch === '\t') return '\\t';
  if (ch === '\r') return '\\r';
  if (ch === '\f') return '\\f';
  if (ch === '\v') return '\\v';
  if (ch === '\x07') return '\\a';
  if (ch === '\b') return '\\b';
  if (ch === '\x1b') return '\\e';
  if (c < 0x20 || c === 0x7f) return `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
  return undefined;
}

/** Ruby 3.4 `String#inspect` of a UTF-8 string. */
export function rubyInspect(s: string): string {
  let out = '"';
  const chars = [...s];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if ((c >= 0x80 && c < 0xa0) || c === 0x2028 || c === 0x2029 || (c >= 0xd800 && c < 0xe000))
      out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += rubyAsciiEscape(ch, chars[i + 1]) ?? ch;
  }
  return `${out}"`;
}

/** Ruby `String#chomp`: one trailing line break (`\r\n`, `\n` or `\r`) off. */
export function chomp(s: string): string {
  return s.replace(/\r?\n$|\r$/, '');
}

/** Ruby `Pathname#sub_ext`: replaces the file's extension (or appends when there is none). */
export function subExt(file: string, ext: string): string {
  const base = path.posix.basename(file);
  const current = path.posix.extname(base);
  return (current ? file.slice(0, file.length - current.length) : file) + ext;
}

/** Ruby `Shellwords.shellsplit`. Throws on an unmatched quote. */
export function shellsplit(line: string): string[] {
  const words: string[] = [];
  let field = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const ch = line[i]!;
    if (/\s/.test(ch)) {
      if (inWord) {
        words.push(field);
        field = '';
        inWord = false;
      }
      i++;
      continue;
    }
    inWord = true;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`Unmatched quote: ${rubyInspect(line)}`);
      field += line.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = line[i]!;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === '\\' && i + 1 < n) {
          const next = line[i + 1]!;
          field += '$`"\\\n'.includes(next) ? next : c + next;
          i += 2;
          continue;
        }
        field += c;
        i++;
      }
      if (!closed) throw new Error(`Unmatched quote: ${rubyInspect(line)}`);
    } else if (ch === '\\') {
      if (i + 1 < n) {
        const next = line[i + 1]!;
        field += next === '\n' ? '\\\n' : next;
        i += 2;
      } else {
        i++;
      }
    } else {
      field += ch;
      i++;
    }
  }
  if (inWord) words.push(field);
  return words;
}

const GEM_VERSION = /^\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*$/;

/** RubyGems' check for a well-formed version string. */
export function isGemVersion(v: string): boolean {
  return GEM_VERSION.test(v);
}

function gemCanonicalSegments(v: string): Array<number | string> {
  const s = v.trim() === '' ? '0' : v.trim().replace(/-/g, '.pre.');
  const segs: Array<number | string> = (s.match(/[0-9]+|[a-z]+/gi) ?? []).map((p) => (/^[0-9]+$/.test(p) ? Number(p) : p));
  const firstString = segs.findIndex((p) => typeof p === 'string');
  const numeric = firstString < 0 ? segs : segs.slice(0, firstString);
  const strings = firstString < 0 ? [] : segs.slice(firstString);
  const dropZeros = (a: Array<number | string>) => {
    const out = [...a];
    while (out.length > 0 && out[out.length - 1] === 0) out.pop();
    return out;
  };
  return [...dropZeros(numeric), ...dropZeros(strings)];
}

/** `Gem::Version#<=>`. Both arguments must satisfy isGemVersion. */
export function compareGemVersions(a: string, b: string): number {
  const l = gemCanonicalSegments(a);
  const r = gemCanonicalSegments(b);
  const limit = Math.max(l.length, r.length);
  for (let i = 0; i < limit; i++) {
    const x = l[i] ?? 0;
    const y = r[i] ?? 0;
    if (x === y) continue;
    if (typeof x === 'string' && typeof y === 'number') return -1;
    if (typeof x === 'number' && typeof y === 'string') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
