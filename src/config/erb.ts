/**
 * ERB in config/deploy*.yml and in accessory `.erb` files, rendered as
 * Kamal renders them: `ERB.new(text, trim_mode: "-").result` for
 * configuration files, `ERB.new(text).result` for accessory files.
 *
 * The forms below are evaluated here, without Ruby:
 *
 *   <%= ENV["X"] %>  <%= ENV['X'] %>            value of X, or "" when unset
 *   <%= ENV.fetch("X") %>                        value of X; unset is an error (KeyError in Ruby)
 *   <%= ENV.fetch("X", "default") %>             value of X, or the default
 *   <%= ENV.fetch("X") { "default" } %>          same
 *   <%= ENV.key?("X") %>                         (also has_key?, include?, member?)
 *   <%= %x(cmd) %>  <%= %x{cmd} %>  <%= `cmd` %>  stdout of `cmd` run by sh, trailing newline kept
 *   <%= ... .strip %>  .chomp .lstrip .rstrip .to_s .present? .blank? .presence .nil? .empty?
 *   a || b   a && b   !a   a == "x"   a != "x"   ( ... )
 *   "literal" 'literal' 42 nil true false
 *   <% if c %> <% elsif c %> <% else %> <% end %>, <% unless c %>, `x if c` / `x unless c`
 *   <%# comment %>   <% %>                       no output
 *   -%>  drops the newline after the tag;  <%-  drops the indentation before it (trim mode "-")
 *   <%%  a literal "<%"
 *
 * A template holding anything else (File.read, local variables, string
 * interpolation, require, method calls...) is handed whole to Ruby's own ERB
 * when `ruby` is on the PATH (see ruby-erb.ts), before anything of it runs
 * here; without Ruby the error names the file, the line and the tag.
 *
 * The environment is passed in; nothing reads process.env here.
 */
import { spawnSync } from 'node:child_process';
import { ConfigError } from '../errors.js';
import { chomp, isBlank, isTruthy, rubyInspect } from './ruby.js';
import { isExecutableFile } from '../exec/path-search.js';
import { type ErbEnv, findRuby, renderWithRuby, searchPath, type TrimMode } from './ruby-erb.js';

export type { ErbEnv, TrimMode };

/** Runs `command` with `sh -c` and returns its stdout (Ruby's backticks). */
export type ShellCapture = (command: string, opts: { env: ErbEnv; cwd: string }) => string;

export interface ErbOptions {
  /** Names the template in error messages (default `config/deploy.yml`). */
  file?: string;
  /** Working directory of commands and of Ruby (default process.cwd()). */
  cwd?: string;
  /** Default `"-"`. */
  trimMode?: TrimMode;
  /**
   * The Ruby interpreter for templates evaluated by Ruby's ERB: a path, `null`
   * for none, or undefined to look `ruby` up on the PATH of `env`.
   */
  ruby?: string | null;
  /** Runs `%x(...)` and backticks (default: `sh -c` with the env and cwd). */
  capture?: ShellCapture;
}

export interface ErbResult {
  text: string;
  /** lineMap[i] is the template line (1-based) that rendered line i+1 starts on. */
  lineMap: number[];
  /** `builtin` when evaluated here, `ruby` when Ruby's ERB rendered it. */
  engine: 'builtin' | 'ruby';
  /** Variables the template set (a string) or removed (null) in ENV; Ruby only (`Dotenv.load`). */
  envChanges: Record<string, string | null>;
}

const BUILTIN_FORMS = 'ENV[...], ENV.fetch, %x(...), backticks, .strip/.chomp, ||, ==, if/unless/else';

/** Renders `template`; the third argument is the file name for messages, or the options. */
export function renderErb(template: string, env: ErbEnv, fileOrOpts: string | ErbOptions = {}): string {
  return renderErbWithLineMap(template, env, fileOrOpts).text;
}

export function renderErbWithLineMap(template: string, env: ErbEnv, fileOrOpts: string | ErbOptions = {}): ErbResult {
  const opts: ErbOptions = typeof fileOrOpts === 'string' ? { file: fileOrOpts } : fileOrOpts;
  const file = opts.file ?? 'config/deploy.yml';
  const trimMode: TrimMode = opts.trimMode === undefined ? '-' : opts.trimMode;
  const cwd = opts.cwd ?? process.cwd();
  const segments = scan(template, trimMode, file);
  let program: Stmt[];
  try {
    program = parseProgram(segments);
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    const ruby = opts.ruby === undefined ? findRuby(env) : opts.ruby;
    if (ruby) {
      const r = renderWithRuby(template, { ruby, file, cwd, env, trimMode });
      return { ...r, engine: 'ruby' };
    }
    throw new ConfigError(
      `${file}:${e.line}: ${e.tagText} needs Ruby: Kamal evaluates ERB with Ruby, and ruby is not on the PATH. ` +
        `Install Ruby (GitHub's Ubuntu runners have it) or keep to the forms evaluated without it: ${BUILTIN_FORMS}`,
    );
  }
  const ev = new Evaluator(env, cwd, file, opts.capture ?? shellCapture);
  ev.run(program);
  return { text: ev.out, lineMap: ev.lineMap, engine: 'builtin', envChanges: {} };
}

// ---------------------------------------------------------------------------
// Scanning: literal text and tags, each with the template line it starts on.

type Segment = { k: 'text'; text: string; line: number } | { k: 'tag'; kind: 'expr' | 'code'; body: string; line: number; tagText: string };

function scan(src: string, trimMode: TrimMode, file: string): Segment[] {
  const segs: Segment[] = [];
  let line = 1;
  let i = 0;
  const countLines = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (src[k] === '\n') line++;
  };
  const text = (from: number, to: number) => {
    if (to > from) segs.push({ k: 'text', text: src.slice(from, to), line });
    countLines(from, to);
  };
  while (i < src.length) {
    const open = findOpen(src, i, trimMode);
    if (!open) {
      text(i, src.length);
      break;
    }
    text(i, open.textEnd);
    countLines(open.textEnd, open.tagStart); // dropped indentation of a `<%-` tag
    i = open.tagStart;
    if (open.kind === 'escape') {
      segs.push({ k: 'text', text: '<%', line });
      i += 3;
      continue;
    }
    const tagLine = line;
    const bodyStart = open.tagStart + open.openLen;
    const close = findClose(src, bodyStart, trimMode);
    if (!close) {
      throw new ConfigError(`${file}:${tagLine}: unterminated ERB tag: ${preview(src.slice(open.tagStart))}`);
    }
    const body = src.slice(bodyStart, close.bodyEnd).replace(/%%>/g, '%>');
    const tagText = src.slice(open.tagStart, close.tagEnd);
    countLines(open.tagStart, close.tagEnd);
    i = close.tagEnd;
    if (close.trim && src[i] === '\n') {
      countLines(i, i + 1);
      i += 1;
    } else if (close.trim && src[i] === '\r' && src[i + 1] === '\n') {
      countLines(i, i + 2);
      i += 2;
    }
    if (open.kind === 'comment') continue;
    segs.push({ k: 'tag', kind: open.kind, body, line: tagLine, tagText });
  }
  return segs;
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

function findOpen(src: string, from: number, trimMode: TrimMode): OpenTag | undefined {
  const k = src.indexOf('<%', from);
  if (k < 0) return undefined;
  const next = src[k + 2];
  if (next === '%') return { textEnd: k, tagStart: k, openLen: 3, kind: 'escape' };
  if (next === '-' && trimMode === '-') {
    // `<%-` eats the spaces/tabs before it at the start of a line, or right after
    // the previous tag (where Ruby's scanner resumes)
    let s = k;
    while (s > from && (src[s - 1] === ' ' || src[s - 1] === '\t')) s--;
    const atLineStart = s === from || s === 0 || src[s - 1] === '\n';
    return { textEnd: atLineStart ? s : k, tagStart: k, openLen: 3, kind: 'code' };
  }
  if (next === '=') return { textEnd: k, tagStart: k, openLen: 3, kind: 'expr' };
  if (next === '#') return { textEnd: k, tagStart: k, openLen: 3, kind: 'comment' };
  return { textEnd: k, tagStart: k, openLen: 2, kind: 'code' };
}

interface CloseTag {
  bodyEnd: number;
  tagEnd: number;
  trim: boolean;
}

function findClose(src: string, from: number, trimMode: TrimMode): CloseTag | undefined {
  let k = from;
  while (k < src.length) {
    const idx = src.indexOf('%>', k);
    if (idx < 0) return undefined;
    if (trimMode === '-' && idx > from && src[idx - 1] === '-') return { bodyEnd: idx - 1, tagEnd: idx + 2, trim: true };
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

// ---------------------------------------------------------------------------
// Tokens and expressions.

type Value = string | number | boolean | null;

type Token = { t: 'str'; v: string } | { t: 'int'; v: number } | { t: 'cmd'; v: string } | { t: 'id'; v: string } | { t: 'punct'; v: string };

/** A construct evaluated by Ruby only. */
class Unsupported extends Error {
  constructor(
    readonly line = 0,
    readonly tagText = '',
  ) {
    super('unsupported');
  }
}

const PUNCT2 = ['||', '&&', '==', '!='];

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
      const [v, end] = readQuoted(expr, i + 1, ch, ch, ch === '"');
      toks.push({ t: 'str', v });
      i = end;
      continue;
    }
    if (ch === '`') {
      const [v, end] = readQuoted(expr, i + 1, '`', '`', true);
      toks.push({ t: 'cmd', v });
      i = end;
      continue;
    }
    if (ch === '%' && expr[i + 1] === 'x' && /[^A-Za-z0-9\s]/.test(expr[i + 2] ?? 'a')) {
      const openCh = expr[i + 2]!;
      const closeCh = ({ '(': ')', '{': '}', '[': ']', '<': '>' } as Record<string, string>)[openCh] ?? openCh;
      const [v, end] = readQuoted(expr, i + 3, openCh, closeCh, true);
      toks.push({ t: 'cmd', v });
      i = end;
      continue;
    }
    if (/[0-9]/.test(ch)) {
      const m = /^[0-9](?:_?[0-9])*/.exec(expr.slice(i))!;
      if (/^[0-9a-zA-Z_]|^\.[0-9]/.test(expr.slice(i + m[0].length))) throw new Unsupported();
      if (m[0].length > 1 && m[0].startsWith('0')) throw new Unsupported(); // octal
      toks.push({ t: 'int', v: Number(m[0].replace(/_/g, '')) });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*[?!]?/.exec(expr.slice(i))!;
      let word = m[0];
      // `a!=b`: the `!` belongs to the operator
      if (word.endsWith('!') && expr[i + word.length] === '=') word = word.slice(0, -1);
      toks.push({ t: 'id', v: word });
      i += word.length;
      continue;
    }
    const two = expr.slice(i, i + 2);
    if (PUNCT2.includes(two)) {
      if (two === '==' && expr[i + 2] === '=') throw new Unsupported(); // ===
      toks.push({ t: 'punct', v: two });
      i += 2;
      continue;
    }
    if ('[](),.{}!'.includes(ch)) {
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

/**
 * Reads a Ruby literal whose body starts at `start` and ends at `close`
 * (nesting `open`/`close` pairs as %x(...) does); returns [value, index after it].
 * `dq`: double-quoted rules (escapes; `#{}` interpolation is refused).
 */
function readQuoted(expr: string, start: number, open: string, close: string, dq: boolean): [string, number] {
  let v = '';
  let depth = 0;
  let i = start;
  while (i < expr.length) {
    const ch = expr[i]!;
    if (ch === close && depth === 0) return [v, i + 1];
    if (ch === '\\' && i + 1 < expr.length) {
      const next = expr[i + 1]!;
      if (!dq) v += next === close || next === open || next === '\\' ? next : ch + next;
      else if (next === 'x' || next === 'u' || next === 'c' || next === 'C' || next === 'M' || /[1-7]/.test(next) || next === '\n') {
        throw new Unsupported();
      } else v += DQ_ESCAPES[next] ?? next;
      i += 2;
      continue;
    }
    if (dq && ch === '#' && /[{@$]/.test(expr[i + 1] ?? '')) throw new Unsupported(); // interpolation
    if (open !== close) {
      if (ch === open) depth++;
      else if (ch === close) depth--;
    }
    v += ch;
    i++;
  }
  throw new Unsupported();
}

type Node =
  | { k: 'lit'; v: Value }
  | { k: 'env'; key: string }
  | { k: 'key?'; key: string }
  | { k: 'fetch'; key: string; fallback?: Node; block?: Node }
  | { k: 'cmd'; command: string }
  | { k: 'or' | 'and' | 'eq' | 'ne'; left: Node; right: Node }
  | { k: 'not'; arg: Node }
  | { k: 'call'; recv: Node; method: string };

const METHODS = new Set(['strip', 'lstrip', 'rstrip', 'chomp', 'to_s', 'present?', 'blank?', 'presence', 'nil?', 'empty?']);
const ENV_KEY_METHODS = new Set(['key?', 'has_key?', 'include?', 'member?']);

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  get done(): boolean {
    return this.pos >= this.toks.length;
  }

  /** An expression, optionally followed by a modifier `if`/`unless`. */
  statement(): { expr: Node; modifier?: { negate: boolean; cond: Node } } {
    const expr = this.expr();
    const t = this.peek();
    if (t?.t === 'id' && (t.v === 'if' || t.v === 'unless')) {
      this.pos++;
      const cond = this.expr();
      this.end();
      return { expr, modifier: { negate: t.v === 'unless', cond } };
    }
    this.end();
    return { expr };
  }

  /** A condition, optionally followed by `then`. */
  condition(): Node {
    const cond = this.expr();
    if (this.isId('then')) this.pos++;
    this.end();
    return cond;
  }

  end(): void {
    if (!this.done) throw new Unsupported();
  }

  expr(): Node {
    return this.orExpr();
  }

  private peek(): Token | undefined {
    return this.toks[this.pos];
  }
  private isPunct(v: string): boolean {
    const t = this.peek();
    return t !== undefined && t.t === 'punct' && t.v === v;
  }
  isId(v: string): boolean {
    const t = this.peek();
    return t !== undefined && t.t === 'id' && t.v === v;
  }
  private expectPunct(v: string): void {
    if (!this.isPunct(v)) throw new Unsupported();
    this.pos++;
  }

  private orExpr(): Node {
    let n = this.andExpr();
    while (this.isPunct('||')) {
      this.pos++;
      n = { k: 'or', left: n, right: this.andExpr() };
    }
    return n;
  }

  private andExpr(): Node {
    let n = this.cmpExpr();
    while (this.isPunct('&&')) {
      this.pos++;
      n = { k: 'and', left: n, right: this.cmpExpr() };
    }
    return n;
  }

  private cmpExpr(): Node {
    const left = this.unary();
    if (this.isPunct('==') || this.isPunct('!=')) {
      const op = this.peek()!.v === '==' ? 'eq' : 'ne';
      this.pos++;
      const right = this.unary();
      if (this.isPunct('==') || this.isPunct('!=')) throw new Unsupported(); // a == b == c
      return { k: op, left, right };
    }
    return left;
  }

  /** `!` binds tighter than `==`, as in Ruby: `!a == b` is `(!a) == b`. */
  private unary(): Node {
    if (this.isPunct('!')) {
      this.pos++;
      return { k: 'not', arg: this.unary() };
    }
    return this.postfix();
  }

  private postfix(): Node {
    let n = this.primary();
    while (this.isPunct('.')) {
      this.pos++;
      const m = this.peek();
      if (!m || m.t !== 'id' || !METHODS.has(m.v)) throw new Unsupported();
      this.pos++;
      if (this.isPunct('(')) {
        this.pos++;
        this.expectPunct(')');
      }
      n = { k: 'call', recv: n, method: m.v };
    }
    return n;
  }

  private primary(): Node {
    const t = this.peek();
    if (!t) throw new Unsupported();
    this.pos++;
    if (t.t === 'str' || t.t === 'int') return { k: 'lit', v: t.v };
    if (t.t === 'cmd') return { k: 'cmd', command: t.v };
    if (t.t === 'punct' && t.v === '(') {
      const n = this.orExpr();
      this.expectPunct(')');
      return n;
    }
    if (t.t === 'id' && t.v === 'nil') return { k: 'lit', v: null };
    if (t.t === 'id' && t.v === 'true') return { k: 'lit', v: true };
    if (t.t === 'id' && t.v === 'false') return { k: 'lit', v: false };
    if (t.t === 'id' && t.v === 'ENV') return this.envCall();
    throw new Unsupported();
  }

  private envCall(): Node {
    if (this.isPunct('[')) {
      this.pos++;
      const key = this.stringArg();
      this.expectPunct(']');
      return { k: 'env', key };
    }
    this.expectPunct('.');
    const m = this.peek();
    if (!m || m.t !== 'id') throw new Unsupported();
    this.pos++;
    if (ENV_KEY_METHODS.has(m.v)) {
      const paren = this.isPunct('(');
      if (paren) this.pos++;
      const key = this.stringArg();
      if (paren) this.expectPunct(')');
      else this.endOfCommandCall();
      return { k: 'key?', key };
    }
    if (m.v !== 'fetch') throw new Unsupported();
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
        fallback = this.postfix();
      }
      this.endOfCommandCall();
      return { k: 'fetch', key, fallback };
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

  /**
   * A call without parentheses takes everything after it as its arguments
   * (`ENV.fetch "X".strip` is `ENV.fetch("X".strip)`): only the end of the
   * tag, a modifier or a closing parenthesis may follow here.
   */
  private endOfCommandCall(): void {
    if (this.done || this.isId('if') || this.isId('unless') || this.isId('then') || this.isPunct(')') || this.isPunct('}')) return;
    throw new Unsupported();
  }

  private stringArg(): string {
    const t = this.peek();
    if (!t || t.t !== 'str') throw new Unsupported();
    this.pos++;
    return t.v;
  }
}

// ---------------------------------------------------------------------------
// Statements: text, output tags, conditionals. Parsed whole before anything runs.

interface Where {
  line: number;
  tagText: string;
}

type Stmt =
  | { k: 'text'; text: string; line: number }
  | { k: 'out'; expr: Node; modifier?: { negate: boolean; cond: Node }; at: Where }
  | { k: 'exec'; expr: Node; modifier?: { negate: boolean; cond: Node }; at: Where }
  | { k: 'if'; branches: { cond: Node | null; negate: boolean; at: Where; body: Stmt[] }[] };

function parseProgram(segs: Segment[]): Stmt[] {
  const root: Stmt[] = [];
  // open conditionals, innermost last
  const stack: { stmt: Extract<Stmt, { k: 'if' }>; at: Where; hasElse: boolean }[] = [];
  const body = (): Stmt[] => (stack.length ? stack[stack.length - 1]!.stmt.branches.at(-1)!.body : root);
  for (const seg of segs) {
    if (seg.k === 'text') {
      body().push(seg);
      continue;
    }
    const at = { line: seg.line, tagText: seg.tagText };
    try {
      const toks = tokenize(seg.body);
      if (seg.kind === 'expr') {
        if (toks.length === 0) throw new Unsupported();
        body().push({ k: 'out', ...new Parser(toks).statement(), at });
        continue;
      }
      if (toks.length === 0) continue;
      const p = new Parser(toks.slice(1));
      const first = toks[0]!;
      const word = first.t === 'id' ? first.v : '';
      if (word === 'if' || word === 'unless') {
        const stmt: Extract<Stmt, { k: 'if' }> = { k: 'if', branches: [{ cond: p.condition(), negate: word === 'unless', at, body: [] }] };
        body().push(stmt);
        stack.push({ stmt, at, hasElse: false });
      } else if (word === 'elsif') {
        const top = stack[stack.length - 1];
        if (!top || top.hasElse || top.stmt.branches[0]!.negate) throw new Unsupported(); // `unless` has no elsif
        top.stmt.branches.push({ cond: p.condition(), negate: false, at, body: [] });
      } else if (word === 'else') {
        const top = stack[stack.length - 1];
        if (!top || top.hasElse) throw new Unsupported();
        p.end();
        top.hasElse = true;
        top.stmt.branches.push({ cond: null, negate: false, at, body: [] });
      } else if (word === 'end') {
        if (!stack.length) throw new Unsupported();
        p.end();
        stack.pop();
      } else {
        body().push({ k: 'exec', ...new Parser(toks).statement(), at });
      }
    } catch (e) {
      if (e instanceof Unsupported) throw new Unsupported(at.line, at.tagText);
      throw e;
    }
  }
  const open = stack[stack.length - 1];
  if (open) throw new Unsupported(open.at.line, open.at.tagText); // Ruby: syntax error, unexpected end-of-input
  return root;
}

// ---------------------------------------------------------------------------
// Evaluation.

class RuntimeFailure extends Error {}

class Evaluator {
  out = '';
  readonly lineMap: number[] = [1];

  constructor(
    private readonly env: ErbEnv,
    private readonly cwd: string,
    private readonly file: string,
    private readonly capture: ShellCapture,
  ) {}

  run(stmts: Stmt[]): void {
    for (const s of stmts) {
      switch (s.k) {
        case 'text':
          this.emit(s.text, s.line, true);
          break;
        case 'out':
        case 'exec': {
          const v = this.guarded(s.at, () => {
            if (s.modifier && isTruthy(this.eval(s.modifier.cond)) === s.modifier.negate) return null;
            return this.eval(s.expr);
          });
          if (s.k === 'out') this.emit(toS(v), s.at.line, false);
          break;
        }
        case 'if':
          for (const b of s.branches) {
            if (b.cond === null || isTruthy(this.guarded(b.at, () => this.eval(b.cond!))) !== b.negate) {
              this.run(b.body);
              break;
            }
          }
          break;
      }
    }
  }

  /** Appends output. Template text advances the line at each newline; a value's newlines stay on the tag's line. */
  private emit(value: string, line: number, source: boolean): void {
    let l = line;
    for (const ch of value) {
      if (ch === '\n') {
        if (source) l++;
        this.lineMap.push(l);
      }
    }
    this.out += value;
  }

  private guarded(at: Where, fn: () => Value): Value {
    try {
      return fn();
    } catch (e) {
      if (e instanceof RuntimeFailure) throw new ConfigError(`${this.file}:${at.line}: ${e.message}`);
      throw e;
    }
  }

  private eval(n: Node): Value {
    switch (n.k) {
      case 'lit':
        return n.v;
      case 'env':
        return envValue(this.env, n.key) ?? null;
      case 'key?':
        return envValue(this.env, n.key) !== undefined;
      case 'fetch': {
        // Ruby evaluates a default argument before the call, a block only when the key is missing
        const fallback = n.fallback ? this.eval(n.fallback) : undefined;
        const v = envValue(this.env, n.key);
        if (v !== undefined) return v;
        if (n.block) return this.eval(n.block);
        if (n.fallback) return fallback!;
        throw new RuntimeFailure(`key not found: ${rubyInspect(n.key)}`);
      }
      case 'cmd':
        return this.runCommand(n.command);
      case 'or': {
        const l = this.eval(n.left);
        return isTruthy(l) ? l : this.eval(n.right);
      }
      case 'and': {
        const l = this.eval(n.left);
        return isTruthy(l) ? this.eval(n.right) : l;
      }
      case 'not':
        return !isTruthy(this.eval(n.arg));
      case 'eq':
        return this.eval(n.left) === this.eval(n.right);
      case 'ne':
        return this.eval(n.left) !== this.eval(n.right);
      case 'call':
        return callMethod(this.eval(n.recv), n.method);
    }
  }

  private runCommand(command: string): string {
    // Ruby runs a command without shell syntax directly and raises when the program is missing
    const missing = this.capture === shellCapture ? missingProgram(command, this.env) : undefined;
    if (missing) throw new RuntimeFailure(`No such file or directory - ${missing} (Errno::ENOENT)`);
    return this.capture(command, { env: this.env, cwd: this.cwd });
  }
}

function toS(v: Value): string {
  return v === null ? '' : String(v);
}

const RUBY_SPACE = /^[\0\t\n\v\f\r ]+|[\0\t\n\v\f\r ]+$/g;

function callMethod(v: Value, method: string): Value {
  switch (method) {
    case 'to_s':
      return toS(v);
    case 'nil?':
      return v === null;
    case 'blank?':
      return isBlank(v);
    case 'present?':
      return !isBlank(v);
    case 'presence':
      return isBlank(v) ? null : v;
  }
  if (typeof v !== 'string') throw new RuntimeFailure(`undefined method '${method}' for ${describeValue(v)} (NoMethodError)`);
  switch (method) {
    case 'strip':
      return v.replace(RUBY_SPACE, '');
    case 'lstrip':
      return v.replace(/^[\0\t\n\v\f\r ]+/, '');
    case 'rstrip':
      return v.replace(/[\0\t\n\v\f\r ]+$/, '');
    case 'chomp':
      return chomp(v);
    case 'empty?':
      return v.length === 0;
  }
  throw new Unsupported();
}

/** How Ruby 3.4 names a receiver in a NoMethodError. */
function describeValue(v: Value): string {
  if (v === null) return 'nil';
  if (v === true) return 'true';
  if (v === false) return 'false';
  return 'an instance of Integer';
}

/** ENV[key]: own keys only, so `ENV["constructor"]` is nil as in Ruby. */
function envValue(env: ErbEnv, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(env, key) ? env[key] : undefined;
}

// ---------------------------------------------------------------------------
// Commands, as Ruby's backticks run them.

/** Characters that make Ruby hand a command to /bin/sh instead of running it directly. */
const SHELL_META = /[*?{}[\]<>()~&|\\$;'`"\n#=%]/;
const SH_WORDS = new Set([
  '!',
  '.',
  ':',
  'break',
  'case',
  'continue',
  'do',
  'done',
  'elif',
  'else',
  'esac',
  'eval',
  'exec',
  'exit',
  'export',
  'fi',
  'for',
  'if',
  'in',
  'readonly',
  'return',
  'set',
  'shift',
  'then',
  'times',
  'trap',
  'unset',
  'until',
  'while',
]);

/**
 * The program a shell-free command names when it cannot be found on the PATH
 * (Ruby raises Errno::ENOENT there; sh would print "not found" and exit 127).
 */
function missingProgram(command: string, env: ErbEnv): string | undefined {
  if (SHELL_META.test(command)) return undefined;
  const words = command.trim().split(/[ \t]+/);
  const program = words[0];
  if (!program || SH_WORDS.has(program)) return undefined;
  const found = program.includes('/') ? isExecutableFile(program) : searchPath(program, env) !== undefined;
  return found ? undefined : program;
}

const shellCapture: ShellCapture = (command, { env, cwd }) => {
  const r = spawnSync('/bin/sh', ['-c', command], {
    cwd,
    env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>,
    stdio: ['inherit', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new RuntimeFailure(`${r.error.message} (running ${command})`);
  // as in Ruby, a command that fails still gives its output; nothing is raised
  return r.stdout.toString('utf8');
};
