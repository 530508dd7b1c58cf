/**
 * The subset of ERB that people put in config/deploy.yml, rendered the way
 * Ruby's ERB does with trim_mode "-" (the mode Kamal uses):
 *
 *   <%= ENV["X"] %>  <%= ENV['X'] %>            value of X, or "" when unset
 *   <%= ENV.fetch("X") %>                        value of X; unset is an error (KeyError in Ruby)
 *   <%= ENV.fetch("X", "default") %>             value of X, or the default
 *   <%= ENV.fetch("X") { "default" } %>          same
 *   <%= ENV["X"] || "default" %>                 same (an empty value counts as set, as in Ruby)
 *   <%= "literal" %>  <%= 'literal' %>  <%= 42 %>  <%= nil %>
 *   <%# comment %>   <% %>                       no output
 *   -%>  drops the newline after the tag;  <%-  drops the indentation before it
 *   <%%  a literal "<%"
 *
 * Anything else is refused with an error naming the file and line. The
 * environment is passed in; nothing reads process.env here.
 */
import { ConfigError } from '../errors.js';
import { rubyInspect } from './ruby.js';

export type ErbEnv = Readonly<Record<string, string | undefined>>;

export interface ErbResult {
  text: string;
  /** lineMap[i] is the template line (1-based) that rendered line i+1 starts on. */
  lineMap: number[];
}

const SUPPORTED = 'supported: ENV["X"], ENV.fetch("X"), ENV.fetch("X", "default")';

/** Renders `template`; `file` names it in error messages. */
export function renderErb(template: string, env: ErbEnv, file = 'config/deploy.yml'): string {
  return renderErbWithLineMap(template, env, file).text;
}

export function renderErbWithLineMap(template: string, env: ErbEnv, file = 'config/deploy.yml'): ErbResult {
  const src = template;
  let out = '';
  const lineMap: number[] = [1];
  let line = 1; // template line at position i
  let i = 0;

  const emitSource = (from: number, to: number) => {
    for (let k = from; k < to; k++) {
      if (src[k] === '\n') {
        line++;
        lineMap.push(line);
      }
    }
    out += src.slice(from, to);
  };
  const advance = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (src[k] === '\n') line++;
  };
  const emitValue = (value: string, atLine: number) => {
    for (const ch of value) if (ch === '\n') lineMap.push(atLine);
    out += value;
  };

  while (i < src.length) {
    const open = findOpen(src, i);
    if (!open) {
      emitSource(i, src.length);
      break;
    }
    emitSource(i, open.textEnd);
    // leading indentation of a `<%-` tag is dropped
    advance(open.textEnd, open.tagStart);
    i = open.tagStart;
    if (open.kind === 'escape') {
      out += '<%';
      i += 3;
      continue;
    }
    const tagLine = line;
    const bodyStart = open.tagStart + open.openLen;
    const close = findClose(src, bodyStart);
    if (!close) {
      throw new ConfigError(`${file}:${tagLine}: unterminated ERB tag: ${preview(src.slice(open.tagStart))}`);
    }
    const body = src.slice(bodyStart, close.bodyEnd).replace(/%%>/g, '%>');
    const tagText = src.slice(open.tagStart, close.tagEnd);
    advance(open.tagStart, close.tagEnd);
    i = close.tagEnd;
    if (close.trim && src[i] === '\n') {
      advance(i, i + 1);
      i += 1;
    } else if (close.trim && src[i] === '\r' && src[i + 1] === '\n') {
      advance(i, i + 2);
      i += 2;
    }

    if (open.kind === 'comment') continue;
    if (open.kind === 'code') {
      if (body.trim() === '') continue;
      throw unsupported(file, tagLine, tagText);
    }
    const value = evaluate(body, env, file, tagLine, tagText);
    emitValue(value, tagLine);
  }
  return { text: out, lineMap };
}

type OpenKind = 'escape' | 'code' | 'expr' | 'comment';

interface OpenTag {
  /** End of the literal text before the tag. */
  textEnd: number;
  /** Where the `<%` starts. */
  tagStart: number;
  openLen: number;
  kind: OpenKind;
}

function findOpen(src: string, from: number): OpenTag | undefined {
  let k = src.indexOf('<%', from);
  while (k >= 0) {
    const next = src[k + 2];
    if (next === '%') return { textEnd: k, tagStart: k, openLen: 3, kind: 'escape' };
    if (next === '-') {
      // `<%-` at the start of a line (after spaces/tabs only) eats that indentation
      let s = k;
      while (s > from && (src[s - 1] === ' ' || src[s - 1] === '\t')) s--;
      const atLineStart = s === 0 || src[s - 1] === '\n';
      return { textEnd: atLineStart ? s : k, tagStart: k, openLen: 3, kind: 'code' };
    }
    if (next === '=') return { textEnd: k, tagStart: k, openLen: 3, kind: 'expr' };
    if (next === '#') return { textEnd: k, tagStart: k, openLen: 3, kind: 'comment' };
    return { textEnd: k, tagStart: k, openLen: 2, kind: 'code' };
  }
  return undefined;
}

interface CloseTag {
  bodyEnd: number;
  tagEnd: number;
  trim: boolean;
}

function findClose(src: string, from: number): CloseTag | undefined {
  let k = from;
  while (k < src.length) {
    const idx = src.indexOf('%>', k);
    if (idx < 0) return undefined;
    if (idx > from && src[idx - 1] === '-') return { bodyEnd: idx - 1, tagEnd: idx + 2, trim: true };
    if (idx > from && src[idx - 1] === '%') {
      // `%%>` inside a tag is a literal `%>`
      k = idx + 2;
      continue;
    }
    return { bodyEnd: idx, tagEnd: idx + 2, trim: false };
  }
  return undefined;
}

function preview(s: string): string {
  const first = s.split('\n')[0] ?? '';
  return first.length > 60 ? first.slice(0, 60) + '...' : first;
}

function unsupported(file: string, line: number, tagText: string): ConfigError {
  return new ConfigError(`${file}:${line}: unsupported ERB: ${tagText} (${SUPPORTED})`);
}

// ---------------------------------------------------------------------------
// A tiny evaluator for the expressions listed at the top.

type Value = string | number | null;

type Token =
  | { t: 'str'; v: string }
  | { t: 'int'; v: number }
  | { t: 'id'; v: string }
  | { t: 'punct'; v: string };

class Unsupported extends Error {}

function tokenize(expr: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const [v, end] = readString(expr, i);
      toks.push({ t: 'str', v });
      i = end;
      continue;
    }
    if (/[0-9]/.test(ch)) {
      const m = /^[0-9](?:_?[0-9])*/.exec(expr.slice(i))!;
      if (/^[0-9a-zA-Z_.]/.test(expr.slice(i + m[0].length))) throw new Unsupported();
      toks.push({ t: 'int', v: Number(m[0].replace(/_/g, '')) });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*[?!]?/.exec(expr.slice(i))!;
      toks.push({ t: 'id', v: m[0] });
      i += m[0].length;
      continue;
    }
    if (expr.startsWith('||', i)) {
      toks.push({ t: 'punct', v: '||' });
      i += 2;
      continue;
    }
    if ('[](),.{}'.includes(ch)) {
      toks.push({ t: 'punct', v: ch });
      i++;
      continue;
    }
    throw new Unsupported();
  }
  return toks;
}

const DQ_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  f: '\f',
  v: '\v',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  s: ' ',
  '0': '\0',
};

/** Reads a Ruby string literal at expr[start]; returns [value, index after it]. */
function readString(expr: string, start: number): [string, number] {
  const q = expr[start]!;
  let v = '';
  let i = start + 1;
  while (i < expr.length) {
    const ch = expr[i]!;
    if (ch === q) return [v, i + 1];
    if (ch === '\\' && i + 1 < expr.length) {
      const next = expr[i + 1]!;
      if (q === "'") v += next === "'" || next === '\\' ? next : ch + next;
      else if (next === 'x' || next === 'u' || next === 'c' || next === 'C' || next === 'M' || /[1-7]/.test(next)) {
        throw new Unsupported();
      } else v += DQ_ESCAPES[next] ?? next;
      i += 2;
      continue;
    }
    if (q === '"' && ch === '#' && /[{@$]/.test(expr[i + 1] ?? '')) throw new Unsupported(); // interpolation
    v += ch;
    i++;
  }
  throw new Unsupported();
}

type Node =
  | { k: 'lit'; v: Value }
  | { k: 'env'; key: string }
  | { k: 'fetch'; key: string; fallback?: Node; block?: Node }
  | { k: 'or'; left: Node; right: Node };

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  parse(): Node {
    const n = this.orExpr();
    if (this.pos !== this.toks.length) throw new Unsupported();
    return n;
  }

  private peek(): Token | undefined {
    return this.toks[this.pos];
  }
  private isPunct(v: string): boolean {
    const t = this.peek();
    return t !== undefined && t.t === 'punct' && t.v === v;
  }
  private expectPunct(v: string): void {
    if (!this.isPunct(v)) throw new Unsupported();
    this.pos++;
  }

  private orExpr(): Node {
    let n = this.primary();
    while (this.isPunct('||')) {
      this.pos++;
      n = { k: 'or', left: n, right: this.primary() };
    }
    return n;
  }

  private primary(): Node {
    const t = this.peek();
    if (!t) throw new Unsupported();
    this.pos++;
    if (t.t === 'str' || t.t === 'int') return { k: 'lit', v: t.v };
    if (t.t === 'punct' && t.v === '(') {
      const n = this.orExpr();
      this.expectPunct(')');
      return n;
    }
    if (t.t === 'id' && t.v === 'nil') return { k: 'lit', v: null };
    if (t.t === 'id' && t.v === 'ENV') {
      if (this.isPunct('[')) {
        this.pos++;
        const key = this.stringArg();
        this.expectPunct(']');
        return { k: 'env', key };
      }
      this.expectPunct('.');
      const m = this.peek();
      if (!m || m.t !== 'id' || m.v !== 'fetch') throw new Unsupported();
      this.pos++;
      let key: string;
      let fallback: Node | undefined;
      if (this.isPunct('(')) {
        this.pos++;
        key = this.stringArg();
        if (this.isPunct(',')) {
          this.pos++;
          fallback = this.orExpr();
        }
        this.expectPunct(')');
      } else {
        key = this.stringArg();
        if (this.isPunct(',')) {
          this.pos++;
          fallback = this.primary();
        }
      }
      let block: Node | undefined;
      if (this.isPunct('{')) {
        // ENV.fetch("X") { "default" } (a block supersedes a default argument, as in Ruby)
        this.pos++;
        block = this.orExpr();
        this.expectPunct('}');
      }
      return { k: 'fetch', key, fallback, block };
    }
    throw new Unsupported();
  }

  private stringArg(): string {
    const t = this.peek();
    if (!t || t.t !== 'str') throw new Unsupported();
    this.pos++;
    return t.v;
  }
}

function evalNode(n: Node, env: ErbEnv): Value {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'env':
      return envValue(env, n.key) ?? null;
    case 'fetch': {
      // Ruby evaluates a default argument before the call, a block only when the key is missing
      const fallback = n.fallback ? evalNode(n.fallback, env) : undefined;
      const v = envValue(env, n.key);
      if (v !== undefined) return v;
      if (n.block) return evalNode(n.block, env);
      if (n.fallback) return fallback!;
      throw new KeyNotFound(n.key);
    }
    case 'or': {
      // Ruby evaluates the right side only when the left is nil
      const l = evalNode(n.left, env);
      return l === null ? evalNode(n.right, env) : l;
    }
  }
}

/** ENV[key]: own keys only, so `ENV["constructor"]` is nil as in Ruby. */
function envValue(env: ErbEnv, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(env, key) ? env[key] : undefined;
}

class KeyNotFound extends Error {
  constructor(readonly key: string) {
    super(`key not found: ${rubyInspect(key)}`);
  }
}

function evaluate(body: string, env: ErbEnv, file: string, line: number, tagText: string): string {
  try {
    const toks = tokenize(body);
    if (toks.length === 0) return '';
    const v = evalNode(new Parser(toks).parse(), env);
    return v === null ? '' : String(v);
  } catch (e) {
    if (e instanceof KeyNotFound) throw new ConfigError(`${file}:${line}: ${e.message}`);
    if (e instanceof Unsupported) throw unsupported(file, line, tagText);
    throw e;
  }
}
