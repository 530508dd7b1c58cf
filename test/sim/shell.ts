/**
 * A small POSIX shell for the simulated hosts: it parses the command lines a deploy sends (ours,
 * rendered by src/shell.ts, and Kamal's) and runs them against a host model. It knows lists
 * (`;`, `&&`, `||`), pipelines, `( )` subshells, `{ }` groups, `while read`, `if`, redirections
 * (`>`, `>>`, `<`, `2>`, `2>&1`), single and double quotes, backslashes, `$VAR`, `${VAR#prefix}`,
 * `$(...)` and field splitting of unquoted expansions. Programs come from the host (see
 * `Programs`); a program nobody models exits 127 and is recorded as unmodelled.
 */

export type Part =
  | { k: 'lit'; text: string; quoted: boolean }
  | { k: 'var'; name: string; op?: '#' | '##' | '%' | '%%' | ':-' | '-'; arg?: Word; quoted: boolean }
  | { k: 'sub'; script: string; quoted: boolean };
export type Word = Part[];

export interface Redirect {
  fd: number;
  op: '>' | '>>' | '<' | '>&';
  target: Word;
}
export interface Simple {
  t: 'simple';
  assigns: { name: string; value: Word }[];
  words: Word[];
  redirs: Redirect[];
}
export type Node =
  | Simple
  | { t: 'list'; items: { node: Node; op: ';' | '&&' | '||' }[] }
  | { t: 'pipe'; cmds: Node[]; bang: boolean }
  | { t: 'sub'; body: Node; redirs: Redirect[] }
  | { t: 'brace'; body: Node; redirs: Redirect[] }
  | { t: 'while'; cond: Node; body: Node; redirs: Redirect[] }
  | { t: 'if'; cond: Node; then: Node; else?: Node; redirs: Redirect[] };

type Tok = { t: 'word'; word: Word; raw: string } | { t: 'op'; op: string } | { t: 'redir'; fd: number; op: Redirect['op'] };

export class ShellSyntaxError extends Error {}

const OPS = ['&&', '||', ';;', ';', '|', '&', '(', ')', '\n'];

/** Splits a script into tokens; words keep their quoting so expansions know what to split. */
export function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (c === '#') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    // redirections: [n]> [n]>> [n]< [n]>&m
    const rm = /^(\d?)(>>|>&|>|<)/.exec(src.slice(i, i + 3));
    if (rm) {
      const fd = rm[1] ? Number(rm[1]) : rm[2] === '<' ? 0 : 1;
      toks.push({ t: 'redir', fd, op: rm[2] as Redirect['op'] });
      i += rm[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      toks.push({ t: 'op', op });
      i += op.length;
      continue;
    }
    // a word
    const start = i;
    const word: Word = [];
    let lit = '';
    const flush = (quoted: boolean): void => {
      if (lit) word.push({ k: 'lit', text: lit, quoted });
      lit = '';
    };
    while (i < n) {
      const ch = src[i]!;
      if (' \t\n;&|()<>'.includes(ch)) break;
      if (ch === "'") {
        flush(false);
        const end = src.indexOf("'", i + 1);
        if (end < 0) throw new ShellSyntaxError('unterminated quoted string');
        word.push({ k: 'lit', text: src.slice(i + 1, end), quoted: true });
        i = end + 1;
      } else if (ch === '"') {
        flush(false);
        i = readDouble(src, i + 1, word);
      } else if (ch === '\\') {
        flush(false);
        if (i + 1 < n) word.push({ k: 'lit', text: src[i + 1]!, quoted: true });
        i += 2;
      } else if (ch === '$') {
        const r = readDollar(src, i, false);
        if (r) {
          flush(false);
          word.push(r.part);
          i = r.end;
        } else {
          lit += ch;
          i++;
        }
      } else if (ch === '`') {
        throw new ShellSyntaxError('backquote command substitution is not modelled');
      } else {
        lit += ch;
        i++;
      }
    }
    flush(false);
    if (word.length === 0) word.push({ k: 'lit', text: '', quoted: true });
    toks.push({ t: 'word', word, raw: src.slice(start, i) });
  }
  return toks;
}

function readDouble(src: string, i: number, word: Word): number {
  let lit = '';
  const flush = (): void => {
    if (lit) word.push({ k: 'lit', text: lit, quoted: true });
    lit = '';
  };
  let any = false;
  while (i < src.length && src[i] !== '"') {
    const ch = src[i]!;
    if (ch === '\\' && i + 1 < src.length && '$`"\\\n'.includes(src[i + 1]!)) {
      if (src[i + 1] !== '\n') lit += src[i + 1];
      i += 2;
    } else if (ch === '$') {
      const r = readDollar(src, i, true);
      if (r) {
        flush();
        word.push(r.part);
        any = true;
        i = r.end;
      } else {
        lit += ch;
        i++;
      }
    } else if (ch === '`') {
      throw new ShellSyntaxError('backquote command substitution is not modelled');
    } else {
      lit += ch;
      i++;
    }
  }
  if (i >= src.length) throw new ShellSyntaxError('unterminated double-quoted string');
  if (lit || !any) word.push({ k: 'lit', text: lit, quoted: true });
  return i + 1;
}

function readDollar(src: string, i: number, quoted: boolean): { part: Part; end: number } | undefined {
  const next = src[i + 1];
  if (next === '(') {
    if (src[i + 2] === '(') throw new ShellSyntaxError('arithmetic expansion is not modelled');
    const end = matchClose(src, i + 1);
    return { part: { k: 'sub', script: src.slice(i + 2, end), quoted }, end: end + 1 };
  }
  if (next === '{') {
    const end = src.indexOf('}', i + 2);
    if (end < 0) throw new ShellSyntaxError('unterminated ${');
    const body = src.slice(i + 2, end);
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[?#$!0-9])(?:(##|#|%%|%|:-|-)(.*))?$/s.exec(body);
    if (!m) throw new ShellSyntaxError(`parameter expansion \${${body}} is not modelled`);
    const arg = m[3] !== undefined ? ((tokenize(m[3]).find((t) => t.t === 'word') as { word: Word } | undefined)?.word ?? []) : undefined;
    return { part: { k: 'var', name: m[1]!, op: m[2] as '#' | undefined, arg, quoted }, end: end + 1 };
  }
  const m = /^([A-Za-z_][A-Za-z0-9_]*|[?#$!0-9])/.exec(src.slice(i + 1));
  if (!m) return undefined;
  return { part: { k: 'var', name: m[1]!, quoted }, end: i + 1 + m[1]!.length };
}

/** Index of the `)` closing the `(` at `open`, skipping quotes and nested parentheses. */
function matchClose(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) break;
      i = end;
    } else if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\') i++;
        else if (s[i] === '$' && s[i + 1] === '(') i = matchClose(s, i + 1);
        i++;
      }
    } else if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new ShellSyntaxError('unterminated $(');
}

const KEYWORDS = new Set(['while', 'do', 'done', 'if', 'then', 'else', 'fi', '{', '}', '!', 'until', 'for', 'case', 'elif']);

function keywordOf(tok: Tok | undefined): string | undefined {
  if (tok?.t !== 'word') return undefined;
  return KEYWORDS.has(tok.raw) ? tok.raw : undefined;
}

/** Parses a script into a tree; throws ShellSyntaxError for what it does not know. */
export function parse(src: string): Node {
  const toks = tokenize(src);
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const isOp = (op: string): boolean => {
    const t = toks[p];
    return !!t && t.t === 'op' && t.op === op;
  };
  const skipNewlines = (): void => {
    while (isOp('\n')) p++;
  };
  const expectKw = (kw: string): void => {
    skipNewlines();
    if (keywordOf(peek()) !== kw) throw new ShellSyntaxError(`expected "${kw}"`);
    p++;
  };

  const list = (stop: string[]): Node => {
    const items: { node: Node; op: ';' | '&&' | '||' }[] = [];
    let op: ';' | '&&' | '||' = ';';
    skipNewlines();
    for (;;) {
      const kw = keywordOf(peek());
      if (!peek() || isOp(')') || (kw && stop.includes(kw))) break;
      items.push({ node: pipeline(), op });
      if (isOp('&&') || isOp('||')) {
        op = (peek() as { op: '&&' | '||' }).op;
        p++;
        skipNewlines();
        continue;
      }
      if (isOp(';') || isOp('\n')) {
        op = ';';
        p++;
        skipNewlines();
        continue;
      }
      if (isOp('&')) throw new ShellSyntaxError('background jobs (&) are not modelled');
      break;
    }
    if (items.length === 0) throw new ShellSyntaxError('empty command');
    return items.length === 1 ? items[0]!.node : { t: 'list', items };
  };

  const pipeline = (): Node => {
    let bang = false;
    if (keywordOf(peek()) === '!') {
      bang = true;
      p++;
    }
    const cmds = [command()];
    while (isOp('|')) {
      p++;
      skipNewlines();
      cmds.push(command());
    }
    return cmds.length === 1 && !bang ? cmds[0]! : { t: 'pipe', cmds, bang };
  };

  const redirsAfter = (): Redirect[] => {
    const out: Redirect[] = [];
    while (peek()?.t === 'redir') out.push(redirect());
    return out;
  };
  const redirect = (): Redirect => {
    const r = toks[p++] as { fd: number; op: Redirect['op'] };
    const target = toks[p++];
    if (target?.t !== 'word') throw new ShellSyntaxError('redirection without a target');
    return { fd: r.fd, op: r.op, target: target.word };
  };

  const command = (): Node => {
    const kw = keywordOf(peek());
    if (isOp('(')) {
      p++;
      const body = list([]);
      if (!isOp(')')) throw new ShellSyntaxError('expected ")"');
      p++;
      return { t: 'sub', body, redirs: redirsAfter() };
    }
    if (kw === '{') {
      p++;
      const body = list(['}']);
      expectKw('}');
      return { t: 'brace', body, redirs: redirsAfter() };
    }
    if (kw === 'while') {
      p++;
      const cond = list(['do']);
      expectKw('do');
      const body = list(['done']);
      expectKw('done');
      return { t: 'while', cond, body, redirs: redirsAfter() };
    }
    if (kw === 'if') {
      p++;
      const cond = list(['then']);
      expectKw('then');
      const then = list(['else', 'fi', 'elif']);
      let els: Node | undefined;
      if (keywordOf(peek()) === 'elif') throw new ShellSyntaxError('elif is not modelled');
      if (keywordOf(peek()) === 'else') {
        p++;
        els = list(['fi']);
      }
      expectKw('fi');
      return { t: 'if', cond, then, else: els, redirs: redirsAfter() };
    }
    if (kw && ['until', 'for', 'case'].includes(kw)) throw new ShellSyntaxError(`"${kw}" is not modelled`);
    const simple: Simple = { t: 'simple', assigns: [], words: [], redirs: [] };
    for (;;) {
      const t = peek();
      if (!t) break;
      if (t.t === 'redir') {
        simple.redirs.push(redirect());
        continue;
      }
      if (t.t !== 'word') break;
      if (simple.words.length > 0 && keywordOf(t) && ['do', 'done', 'then', 'fi', 'else', '}'].includes(t.raw)) {
        // keywords end a simple command only after a separator; here they are plain words
      }
      const am = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(t.raw);
      if (simple.words.length === 0 && am && t.word[0]?.k === 'lit' && !t.word[0].quoted) {
        const first = t.word[0];
        const rest: Word = [{ ...first, text: first.text.slice(am[0].length) }, ...t.word.slice(1)].filter((x) => x.k !== 'lit' || x.text);
        simple.assigns.push({ name: am[1]!, value: rest });
        p++;
        continue;
      }
      simple.words.push(t.word);
      p++;
    }
    if (simple.words.length === 0 && simple.assigns.length === 0 && simple.redirs.length === 0) {
      const t = peek();
      throw new ShellSyntaxError(
        `unexpected ${t ? (t.t === 'op' ? JSON.stringify(t.op) : t.t === 'word' ? JSON.stringify(t.raw) : 'redirection') : 'end of input'}`,
      );
    }
    return simple;
  };

  const root = list([]);
  skipNewlines();
  if (p < toks.length) {
    const t = toks[p]!;
    throw new ShellSyntaxError(`unexpected ${t.t === 'op' ? JSON.stringify(t.op) : t.t === 'word' ? JSON.stringify(t.raw) : 'redirection'}`);
  }
  return root;
}

/** A program's standard input: a string, or the SSH channel's data read when (and if) a program wants it. */
export class Input {
  #text: string | undefined;
  #pos = 0;
  readonly #load: (() => Promise<string>) | undefined;
  constructor(source: string | (() => Promise<string>)) {
    if (typeof source === 'string') this.#text = source;
    else this.#load = source;
  }
  /** The whole input if a program read it, else undefined. */
  get read(): string | undefined {
    return this.#text;
  }
  static empty(): Input {
    return new Input('');
  }
  async #ensure(): Promise<string> {
    if (this.#text === undefined) this.#text = await this.#load!();
    return this.#text;
  }
  /** The rest of the input. */
  async all(): Promise<string> {
    const t = await this.#ensure();
    const rest = t.slice(this.#pos);
    this.#pos = t.length;
    return rest;
  }
  /** The next line without its newline, or undefined at the end. */
  async line(): Promise<string | undefined> {
    const t = await this.#ensure();
    if (this.#pos >= t.length) return undefined;
    const nl = t.indexOf('\n', this.#pos);
    const end = nl < 0 ? t.length : nl;
    const line = t.slice(this.#pos, end);
    this.#pos = nl < 0 ? t.length : nl + 1;
    return line;
  }
}

export interface Io {
  stdin: Input;
  /** Collected output of the program. */
  out: string[];
  err: string[];
}

export interface ProcessEnv {
  vars: Map<string, string>;
  cwd: string;
  umask: number;
  /** $? */
  status: number;
}

/** What runs a program by name; returns its exit status. */
export type Programs = (argv: string[], io: Io, env: ProcessEnv, shell: Shell) => Promise<number>;

/** Files the shell's redirections read and write. */
export interface ShellFiles {
  read(path: string, env: ProcessEnv): string;
  write(path: string, content: string, append: boolean, env: ProcessEnv): void;
}

class ExitSignal {
  constructor(readonly code: number) {}
}

export class Shell {
  constructor(
    readonly programs: Programs,
    readonly files: ShellFiles,
  ) {}

  /** Parses and runs a script; a syntax error exits 2 with the shell's message, as sh does. */
  async run(script: string, io: Io, env: ProcessEnv): Promise<number> {
    let tree: Node;
    try {
      tree = parse(script);
    } catch (e) {
      if (e instanceof ShellSyntaxError) {
        io.err.push(`sh: 1: Syntax error: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    try {
      return await this.exec(tree, io, env);
    } catch (e) {
      if (e instanceof ExitSignal) return e.code;
      throw e;
    }
  }

  async exec(node: Node, io: Io, env: ProcessEnv): Promise<number> {
    const status = await this.#exec(node, io, env);
    env.status = status;
    return status;
  }

  async #exec(node: Node, io: Io, env: ProcessEnv): Promise<number> {
    switch (node.t) {
      case 'list': {
        let status = 0;
        for (const item of node.items) {
          if (item.op === '&&' && status !== 0) continue;
          if (item.op === '||' && status === 0) continue;
          status = await this.exec(item.node, io, env);
        }
        return status;
      }
      case 'pipe': {
        let input = io.stdin;
        let status = 0;
        for (let i = 0; i < node.cmds.length; i++) {
          const last = i === node.cmds.length - 1;
          const stage: Io = { stdin: input, out: last ? io.out : [], err: io.err };
          // every stage but the last runs in a subshell
          const stageEnv = last ? env : copyEnv(env);
          try {
            status = await this.exec(node.cmds[i]!, stage, stageEnv);
          } catch (e) {
            if (!(e instanceof ExitSignal)) throw e;
            status = e.code;
          }
          if (!last) input = new Input(stage.out.join(''));
        }
        return node.bang ? (status === 0 ? 1 : 0) : status;
      }
      case 'sub': {
        return this.#withRedirs(node.redirs, io, env, async (rio) => {
          try {
            return await this.exec(node.body, rio, copyEnv(env));
          } catch (e) {
            if (e instanceof ExitSignal) return e.code;
            throw e;
          }
        });
      }
      case 'brace':
        return this.#withRedirs(node.redirs, io, env, (rio) => this.exec(node.body, rio, env));
      case 'while':
        return this.#withRedirs(node.redirs, io, env, async (rio) => {
          let status = 0;
          for (let guard = 0; ; guard++) {
            if (guard > 100_000) throw new Error('while loop ran 100000 times');
            if ((await this.exec(node.cond, rio, env)) !== 0) break;
            status = await this.exec(node.body, rio, env);
          }
          return status;
        });
      case 'if':
        return this.#withRedirs(node.redirs, io, env, async (rio) => {
          if ((await this.exec(node.cond, rio, env)) === 0) return this.exec(node.then, rio, env);
          return node.else ? this.exec(node.else, rio, env) : 0;
        });
      case 'simple':
        return this.#simple(node, io, env);
    }
  }

  async #withRedirs(redirs: Redirect[], io: Io, env: ProcessEnv, body: (io: Io) => Promise<number>): Promise<number> {
    if (redirs.length === 0) return body(io);
    const rio: Io = { stdin: io.stdin, out: io.out, err: io.err };
    const sinks: { path: string; append: boolean; buf: string[] }[] = [];
    for (const r of redirs) {
      const target = (await this.expandWord(r.target, env, true, io.err)).join(' ');
      if (r.op === '<') {
        try {
          rio.stdin = new Input(this.files.read(target, env));
        } catch (e) {
          io.err.push(`sh: 1: cannot open ${target}: ${(e as Error).message}\n`);
          return 2;
        }
      } else if (r.op === '>&') {
        if (target === '1' && r.fd === 2) rio.err = rio.out;
        else if (target === '2' && r.fd === 1) rio.out = rio.err;
        else throw new Error(`redirection ${r.fd}>&${target} is not modelled`);
      } else {
        const buf: string[] = [];
        if (target === '/dev/null') {
          if (r.fd === 1) rio.out = buf;
          else rio.err = buf;
          continue;
        }
        // the file is created (or truncated) before the command runs, as sh does
        try {
          this.files.write(target, '', r.op === '>>', env);
        } catch (e) {
          io.err.push(`sh: 1: cannot create ${target}: ${(e as Error).message}\n`);
          return 2;
        }
        sinks.push({ path: target, append: true, buf });
        if (r.fd === 1) rio.out = buf;
        else if (r.fd === 2) rio.err = buf;
        else throw new Error(`redirection of fd ${r.fd} is not modelled`);
      }
    }
    try {
      return await body(rio);
    } finally {
      for (const s of sinks) this.files.write(s.path, s.buf.join(''), true, env);
    }
  }

  async #simple(node: Simple, io: Io, env: ProcessEnv): Promise<number> {
    const argv: string[] = [];
    for (const w of node.words) argv.push(...(await this.expandWord(w, env, true, io.err)));
    const assigned: [string, string][] = [];
    for (const a of node.assigns) assigned.push([a.name, (await this.expandWord(a.value, env, false, io.err)).join('')]);
    if (argv.length === 0) {
      for (const [k, v] of assigned) env.vars.set(k, v);
      return this.#withRedirs(node.redirs, io, env, async () => 0);
    }
    const cmdEnv = assigned.length ? { ...env, vars: new Map([...env.vars, ...assigned]) } : env;
    return this.#withRedirs(node.redirs, io, env, (rio) => this.builtin(argv, rio, cmdEnv));
  }

  /** Shell builtins, then the host's programs. */
  async builtin(argv: string[], io: Io, env: ProcessEnv): Promise<number> {
    const [name, ...args] = argv as [string, ...string[]];
    switch (name) {
      case 'exit':
        throw new ExitSignal(args[0] !== undefined ? Number(args[0]) : env.status);
      case 'true':
      case ':':
        return 0;
      case 'false':
        return 1;
      case 'export':
        for (const a of args) {
          const eq = a.indexOf('=');
          if (eq > 0) env.vars.set(a.slice(0, eq), a.slice(eq + 1));
        }
        return 0;
      case 'umask':
        if (args[0]) env.umask = parseInt(args[0], 8);
        else io.out.push(`${env.umask.toString(8).padStart(4, '0')}\n`);
        return 0;
      case 'cd':
        env.cwd = args[0] ? resolvePath(env.cwd, args[0]) : (env.vars.get('HOME') ?? '/');
        return 0;
      case 'read': {
        const names = args.filter((a) => a !== '-r');
        const line = await io.stdin.line();
        if (line === undefined) return 1;
        const fields = line.trim().split(/[ \t]+/);
        names.forEach((n, i) => {
          env.vars.set(n, i === names.length - 1 ? fields.slice(i).join(' ') : (fields[i] ?? ''));
        });
        return 0;
      }
      case 'echo': {
        let rest = args;
        let nl = true;
        if (rest[0] === '-n') {
          nl = false;
          rest = rest.slice(1);
        }
        // dash's echo: backslash escapes are always interpreted; \c ends the output
        let text = rest.join(' ');
        const cut = text.indexOf('\\c');
        if (cut >= 0) {
          text = text.slice(0, cut);
          nl = false;
        }
        text = text.replace(/\\(0[0-7]{0,3}|[abfnrtv\\])/g, (_m, e: string) =>
          e[0] === '0'
            ? String.fromCharCode(parseInt(e, 8) || 0)
            : ({ a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' } as Record<string, string>)[e]!,
        );
        io.out.push(text + (nl ? '\n' : ''));
        return 0;
      }
      case 'sh':
      case 'bash': {
        if (args[0] !== '-c' || args[1] === undefined) return this.programs(argv, io, env, this);
        return this.run(args[1], io, copyEnv(env));
      }
      default:
        return this.programs(argv, io, env, this);
    }
  }

  /** Expands a word into fields (one field unless unquoted expansions split). */
  async expandWord(word: Word, env: ProcessEnv, split = true, err: string[] = []): Promise<string[]> {
    // pieces: [text, splittable]
    const pieces: [string, boolean][] = [];
    for (const part of word) {
      if (part.k === 'lit') pieces.push([part.text, false]);
      else if (part.k === 'var') pieces.push([await this.#param(part, env, err), !part.quoted]);
      else {
        const out: string[] = [];
        const sub: Io = { stdin: Input.empty(), out, err };
        await this.run(part.script, sub, copyEnv(env)).catch((e: unknown) => {
          if (!(e instanceof ExitSignal)) throw e;
        });
        // errors of a substitution go to the command's stderr
        const text = out.join('').replace(/\n+$/, '');
        pieces.push([text, !part.quoted]);
      }
    }
    if (!split) return [pieces.map((p) => p[0]).join('')];
    const fields: string[] = [];
    let cur = '';
    let has = false;
    for (const [text, splittable] of pieces) {
      if (!splittable) {
        cur += text;
        has = true;
        continue;
      }
      const parts = text.split(/[ \t\n]+/);
      parts.forEach((p, i) => {
        if (i > 0) {
          if (has || cur) fields.push(cur);
          cur = '';
          has = false;
        }
        if (p) {
          cur += p;
          has = true;
        }
      });
    }
    if (has || cur) fields.push(cur);
    return fields;
  }

  async #param(part: Extract<Part, { k: 'var' }>, env: ProcessEnv, err: string[]): Promise<string> {
    const value = part.name === '?' ? String(env.status) : env.vars.get(part.name);
    const arg = part.arg ? (await this.expandWord(part.arg, env, false, err)).join('') : '';
    switch (part.op) {
      case undefined:
        return value ?? '';
      case ':-':
        return value ? value : arg;
      case '-':
        return value ?? arg;
      case '#':
      case '##':
        return stripPrefix(value ?? '', arg, part.op === '##');
      case '%':
      case '%%':
        return stripSuffix(value ?? '', arg, part.op === '%%');
    }
  }
}

function globToRegex(glob: string): string {
  return glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
}
function stripPrefix(value: string, pattern: string, longest: boolean): string {
  const re = new RegExp(`^${globToRegex(pattern)}`);
  if (!pattern.includes('*') && !pattern.includes('?')) return value.startsWith(pattern) ? value.slice(pattern.length) : value;
  for (let i = longest ? value.length : 0; longest ? i >= 0 : i <= value.length; longest ? i-- : i++) {
    if (new RegExp(`${re.source}$`).test(value.slice(0, i))) return value.slice(i);
  }
  return value;
}
function stripSuffix(value: string, pattern: string, longest: boolean): string {
  const re = new RegExp(`^${globToRegex(pattern)}$`);
  for (let i = longest ? 0 : value.length; longest ? i <= value.length : i >= 0; longest ? i++ : i--) {
    if (re.test(value.slice(i))) return value.slice(0, i);
  }
  return value;
}

export function copyEnv(env: ProcessEnv): ProcessEnv {
  return { vars: new Map(env.vars), cwd: env.cwd, umask: env.umask, status: env.status };
}

export function resolvePath(cwd: string, path: string): string {
  const abs = path.startsWith('/') ? path : `${cwd}/${path}`;
  const out: string[] = [];
  for (const seg of abs.split('/')) {
    if (!seg || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}
