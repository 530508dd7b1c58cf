/**
 * `.kamal/secrets*` resolved the way Kamal::Secrets does: `<secrets_path>-common`
 * first, then `<secrets_path>` or `<secrets_path>.<destination>`, each parsed as
 * dotenv 3 on its own (later files override earlier keys), with `$VAR` / `${VAR}`
 * expanded from earlier keys of the same file and then the environment (not from an
 * earlier file's keys), and `$(command)` run through `sh` with the run's environment
 * and our `kamal` first on PATH. `$(kamal secrets ...)` is Kamal's inline command, run
 * in-process as Kamal runs it (src/secrets/inline.ts): `fetch` gives its JSON shell-escaped,
 * `extract` reads it back, and a failure stops the run with Kamal's own message, after the
 * file and line.
 * Deliberate differences: a command's output is not expanded again (dotenv runs its
 * variable pass over it, so a `$word` inside a fetched password is lost), and a
 * failing shell command stops the run naming the file, line and exit code (Kamal takes
 * its output and goes on).
 * Values are Secret objects: they never render in logs or error text.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readRegularFile, UnsafeFileError } from '../fs-safe.js';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { Secret, redactText, type SecretStore } from '../secret.js';
import { chomp, shellsplit } from './ruby.js';
import { KamalShim, pathWith } from '../exec/kamal-shim.js';
import { inlineSecretsCommand as runInlineSecretsCommand } from '../secrets/inline.js';
import { RubyError } from '../secrets/adapters/ruby.js';
import type { VendorRunner } from '../secrets/adapters/types.js';

/** Secrets files larger than this are refused. */
export const MAX_SECRETS_FILE_BYTES = 1024 * 1024;

export type CommandRunner = (command: string, env: Record<string, string | undefined>) => string;

/** Where our `kamal` is: a folder holding the executable, put first on the PATH of `$(...)` shells. */
export interface KamalCommand {
  dir(): string;
}

export interface DotenvOptions {
  /** The environment `$VAR` falls back to and `$(command)` runs with. */
  env: Record<string, string | undefined>;
  /** Runs `$(command)`; returns its stdout. Defaults to /bin/sh on this machine. */
  run?: CommandRunner;
  /** Runs the vendor CLIs of an inline `$(kamal secrets fetch ...)`. Default: through `sh`, in `cwd`, with `env`. */
  vendorRun?: VendorRunner;
  /** The folder the vendor CLIs run in (default: this process's). */
  cwd?: string;
  /** Our `kamal`, first on the PATH of the shells. */
  kamal?: KamalCommand;
  /** Keys whose line is not evaluated (given from outside, e.g. action inputs). */
  skip?: ReadonlySet<string>;
  /** The file name for messages. */
  file?: string;
  /** Secret values resolved before this file (earlier files, action inputs): never shown in its error messages. */
  known?: readonly string[];
}

// One dotenv assignment, as dotenv's Parser::LINE (scanned over the whole text).
const LINE = /^[ \t\r\n\f\v]*(export[ \t]+)?([\w.]+)(?:(?:[ \t]*=[ \t]*?|:[ \t]+?)([ \t]*'(?:\\'|[^'])*'|[ \t]*"(?:\\"|[^"])*"|[^#\n]+)?)?[ \t]*(?:#.*)?$/gm;
const QUOTED = /^(['"])([\s\S]*)\1$/;
const VARIABLE = /(\\)?\$(?!\()\{?([A-Za-z0-9_]+)?\}?/g;

/** Parses dotenv text into a map, as `Dotenv.parse(file, overwrite: true)` does. */
export function parseDotenv(text: string, opts: DotenvOptions): Record<string, string> {
  if (opts.kamal) return parseText(text, { ...opts, kamal: opts.kamal });
  // without a run's `kamal` (a parse outside the CLI), one without settings, for this parse only
  const kamal = new KamalShim({});
  try {
    return parseText(text, { ...opts, kamal });
  } finally {
    kamal.dispose();
  }
}

function parseText(text: string, opts: DotenvOptions & { kamal: KamalCommand }): Record<string, string> {
  const hash: Record<string, string> = Object.create(null) as Record<string, string>;
  const file = opts.file ?? '.kamal/secrets';
  const lookup = (key: string): string => hash[key] ?? own(opts.env, key) ?? '';
  const src = text.replace(/\r\n?/g, '\n');
  for (const m of src.matchAll(LINE)) {
    const [whole, exported, key, rawValue] = m;
    const keyAt = m.index + (whole.length - whole.trimStart().length) + (exported?.length ?? 0);
    const lineNo = src.slice(0, keyAt).split('\n').length;
    if (opts.skip?.has(key!)) continue;
    if (exported && rawValue === undefined) {
      if (!(key! in hash)) throw new ConfigError(`${file}: line ${lineNo} exports ${key} without a value and it is not set above`);
      continue;
    }
    const linebreakMode = hash.DOTENV_LINEBREAK_MODE ?? own(opts.env, 'DOTENV_LINEBREAK_MODE');
    try {
      hash[key!] = parseValue(rawValue ?? '', { lookup, opts, file, lineNo, linebreakMode });
    } catch (e) {
      // a failing command's output may hold a value defined above (`$(tool --token $TOKEN)`)
      if (e instanceof ConfigError) throw new ConfigError(redactText(e.message, [...Object.values(hash), ...(opts.known ?? [])]));
      throw e;
    }
  }
  return { ...hash };
}

function own(obj: Record<string, string | undefined>, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function parseValue(raw: string, ctx: { lookup: (key: string) => string; opts: DotenvOptions; file: string; lineNo: number; linebreakMode?: string }): string {
  let value = raw.trim();
  const q = QUOTED.exec(value);
  const quote = q?.[1];
  if (q) value = q[2]!;
  if (quote === "'") return value;
  if (quote === '"') {
    // dotenv 3: `\n` stays a backslash and an n, unless DOTENV_LINEBREAK_MODE=legacy
    value = ctx.linebreakMode === 'legacy' ? value.replace(/\\n/g, '\n').replace(/\\r/g, '\r') : value.replace(/\\n/g, '\\\\n').replace(/\\r/g, '\\\\r');
  }
  value = value.replace(/\\([^$])/g, '$1');
  return substitute(value, ctx);
}

const VARIABLE_AT = /\$\{?([A-Za-z0-9_]+)?\}?/y;

/**
 * `$(command)` (Kamal's InlineCommandSubstitution, balanced parentheses and
 * backslash escapes) and `$VAR` / `${VAR}` (dotenv's Variable substitution),
 * in one pass from left to right: text that came from a variable or from a
 * command's output is never scanned again, so a value holding `$(...)` is not
 * run and a command's output holding `$` is not expanded.
 */
function substitute(value: string, ctx: { lookup: (key: string) => string; opts: DotenvOptions; file: string; lineNo: number }): string {
  let out = '';
  let i = 0;
  while (i < value.length) {
    const d = value.indexOf('$', i);
    if (d < 0) break;
    const escaped = d > i && value[d - 1] === '\\';
    const before = value.slice(i, escaped ? d - 1 : d);
    if (value[d + 1] === '(') {
      const end = matchingParen(value, d + 1);
      if (end < 0) {
        // not a command; `$(` is not a variable either, so it stays as written
        out += value.slice(i, d + 1);
        i = d + 1;
        continue;
      }
      const command = substituteVariables(value.slice(d + 2, end), ctx.lookup);
      out += before + (escaped ? `$(${command})` : runCommand(command, ctx));
      i = end + 1;
      continue;
    }
    VARIABLE_AT.lastIndex = d;
    const m = VARIABLE_AT.exec(value)!;
    const name = m[1];
    out += before + (escaped || name === undefined ? m[0] : ctx.lookup(name));
    i = d + m[0].length;
  }
  return out + value.slice(i);
}

function substituteVariables(value: string, lookup: (key: string) => string): string {
  return value.replace(VARIABLE, (whole, backslash: string | undefined, name: string | undefined) => {
    if (backslash) return whole.slice(1);
    if (name !== undefined) return lookup(name);
    return whole;
  });
}

function matchingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i - open > 1 ? i : -1;
    }
  }
  return -1;
}

function runCommand(command: string, ctx: { opts: DotenvOptions; file: string; lineNo: number }): string {
  if (/^\s*kamal\s*secrets\s+/.test(command) && plainWords(command)) return inlineSecretsCommand(command, ctx);
  const run = ctx.opts.run ?? shellRunner(ctx.opts.kamal!);
  try {
    return chomp(run(command, ctx.opts.env));
  } catch (e) {
    throw new ConfigError(`${ctx.file}: line ${ctx.lineNo}: the command substitution failed: ${(e as Error).message}`);
  }
}

/**
 * Kamal's inline `kamal secrets ...` (Kamal::Cli::Main.start(words + ["--inline"]).chomp), in-process:
 * `fetch` runs the vendor CLI and gives the JSON shell-escaped, so `$(kamal secrets extract NAME $SECRETS)`
 * gets it as one word. A failure stops the run with Kamal's message after the file and line.
 */
function inlineSecretsCommand(command: string, ctx: { opts: DotenvOptions; file: string; lineNo: number }): string {
  try {
    return runInlineSecretsCommand(command, { env: ctx.opts.env, cwd: ctx.opts.cwd, run: ctx.opts.vendorRun });
  } catch (e) {
    if (e instanceof RubyError) throw new ConfigError(`${ctx.file}: line ${ctx.lineNo}: ${e.message}`);
    throw e;
  }
}

/**
 * The words of a `kamal secrets ...` command that Kamal would shellsplit and run in-process;
 * undefined when the command uses the shell (an unquoted `|`, `;`, `&`, `<`, `>`, `(`, `)`,
 * a backtick or `$(`), which then runs through `sh` with our `kamal` first on its PATH.
 * (Kamal passes such words on as arguments, so `kamal secrets fetch ... | jq` fails there.)
 */
export function plainWords(command: string): string[] | undefined {
  let quote: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = undefined;
    } else if (c === '\\') i++;
    else if (c === "'" || c === '"') quote = c;
    else if ('|&;<>()`'.includes(c) || (c === '$' && command[i + 1] === '(')) return undefined;
  }
  try {
    return shellsplit(command);
  } catch {
    return undefined;
  }
}

function definedEnv(env: Record<string, string | undefined>, kamal: KamalCommand): Record<string, string> {
  const out = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>;
  out.PATH = pathWith(kamal.dir(), env.PATH);
  return out;
}

/**
 * `$(command)` through /bin/sh, as Ruby backticks do, with the environment given and our
 * `kamal` first on PATH. A failing command is an error naming its exit code and stderr's tail
 * (Kamal takes whatever it printed and goes on); a command that succeeds has its stderr shown.
 */
export function shellRunner(kamal: KamalCommand): CommandRunner {
  return (command, env) => {
    const r = spawnSync('/bin/sh', ['-c', command], {
      argv0: 'sh',
      env: definedEnv(env, kamal),
      stdio: ['inherit', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
    if (r.error) throw new Error(r.error.message);
    if (r.status !== 0) {
      const tail = r.stderr.toString().trim().split('\n').slice(-3).join(' / ');
      throw new Error(`exit code ${r.status ?? `signal ${r.signal}`}${tail ? ` (${tail})` : ''}`);
    }
    // what the command printed on stderr is shown, as Ruby's backticks leave it on the terminal
    if (r.stderr.length > 0) process.stderr.write(r.stderr);
    return r.stdout.toString();
  };
}

export interface LoadSecretsOptions {
  /** `secrets_path` from the config (default `.kamal/secrets`). */
  secretsPath?: string;
  destination?: string;
  cwd: string;
  env: Record<string, string | undefined>;
  /** Values given from outside (action inputs): they win over the files, whose lines for them are not run. */
  extra?: Record<string, string>;
  run?: CommandRunner;
  vendorRun?: VendorRunner;
  /** Our `kamal` for `$(kamal ...)` and first on the PATH of the shells. */
  kamal?: KamalCommand;
}

/** The secrets of a run, resolved once, on first use (as Kamal resolves them lazily). */
export class FileSecretStore implements SecretStore {
  readonly filenames: string[];
  readonly files: string[];
  #opts: LoadSecretsOptions;
  #values: Map<string, Secret> | undefined;

  constructor(opts: LoadSecretsOptions) {
    this.#opts = opts;
    const base = opts.secretsPath ?? '.kamal/secrets';
    this.filenames = [`${base}-common`, `${base}${opts.destination ? `.${opts.destination}` : ''}`];
    this.files = this.filenames.filter((f) => existsSync(resolve(opts.cwd, f)));
  }

  /** Parses every file now; parse errors surface here as ConfigError. */
  load(): this {
    this.#resolve();
    return this;
  }

  get(key: string): Secret | undefined {
    return this.#resolve().get(key);
  }

  keys(): string[] {
    return [...this.#resolve().keys()];
  }

  /** Kamal's message for a secret that is not defined. */
  missing(key: string): string {
    return this.files.length > 0
      ? `Secret '${key}' not found in ${this.files.join(', ')}`
      : `Secret '${key}' not found, no secret files (${this.filenames.join(', ')}) provided`;
  }

  #resolve(): Map<string, Secret> {
    if (this.#values) return this.#values;
    const o = this.#opts;
    const extra = o.extra ?? {};
    const env = { ...o.env, ...extra };
    const skip = new Set(Object.keys(extra));
    let known: Record<string, string> = {};
    // Each file is parsed on its own, as Dotenv.parse does: `$VAR` sees the keys
    // above it in the same file, then the environment (not an earlier file's keys).
    for (const file of this.files) {
      const full = resolve(o.cwd, file);
      let bytes: Buffer;
      try {
        bytes = readRegularFile(full, MAX_SECRETS_FILE_BYTES, file);
      } catch (e) {
        if (e instanceof UnsafeFileError) throw new ConfigError(e.message);
        throw e;
      }
      if (bytes.includes(0)) throw new ConfigError(`${file}: is a binary file, not dotenv text`);
      const parsed = parseDotenv(bytes.toString('utf8'), {
        env,
        run: o.run,
        vendorRun: o.vendorRun,
        cwd: o.cwd,
        kamal: o.kamal,
        skip,
        file,
        known: [...Object.values(known), ...Object.values(extra)],
      });
      known = { ...known, ...parsed };
    }
    const values = new Map<string, Secret>();
    for (const [k, v] of Object.entries({ ...known, ...extra })) values.set(k, new Secret(v, k));
    this.#values = values;
    return values;
  }
}
