/**
 * One simulated host: a file system, the programs a deploy runs (a few coreutils, grep, awk, xargs,
 * base64), and a model of Docker (images, containers, networks, volumes, registry logins) and of
 * kamal-proxy (its services and their targets). Every command is recorded with its start and end;
 * anything the model does not know exits non-zero with a clear stderr and is recorded as unmodelled.
 */
import { createHash } from 'node:crypto';
import { Input, resolvePath, Shell, tokenize, type Io, type ProcessEnv } from './shell.js';
import { renderTemplate, TemplateError } from './template.js';

export type Entry = { dir: true; mode: number } | { dir?: false; content: string; mode: number };

export interface Image {
  id: string;
  labels: Record<string, string>;
}
export interface Container {
  id: string;
  name: string;
  /** The image as `docker run` named it. */
  image: string;
  imageId: string;
  labels: Record<string, string>;
  env: string[];
  envFiles: { path: string; content: string }[];
  status: 'created' | 'running' | 'exited';
  seq: number;
  hostname?: string;
  network?: string;
  volumes: string[];
  publish: string[];
  logOpts: string[];
  restart?: string;
  command: string[];
  /** Other options, verbatim. */
  options: string[];
}
export interface ProxyService {
  target: string;
  args: string[];
}

/** What the hosts can pull: image references with their labels, and the registries' credentials. */
export interface Registry {
  images: Map<string, { labels: Record<string, string> }>;
  /** server -> [username, password]; servers not listed need no login. */
  credentials: Map<string, [string, string]>;
}

export type LatencyKind = 'docker-run' | 'docker' | 'proxy-deploy' | 'shell';
/** Milliseconds a command of this kind takes; 0 for none. */
export type Latency = (kind: LatencyKind) => number;

export interface Record_ {
  host: string;
  connection: number;
  start: number;
  end: number;
  command: string;
  exitCode: number;
  stderr: string;
  /** What the command read on stdin. */
  stdin?: string;
  /** Files an `scp -t` sink received. */
  scp?: ScpFile[];
}
export interface ScpFile {
  name: string;
  mode: number;
  content: string;
}

export interface Unmodelled {
  host: string;
  command: string;
  reason: string;
}

export class Unmodelled_ extends Error {}

const DOCKER_HUB = 'docker.io';

/** Splits `registry/repo:tag` into repository and tag (`latest` when none). */
export function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return { repo: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { repo: base, tag: 'latest' };
}
export function normalizeRef(ref: string): string {
  const { repo, tag } = splitRef(ref);
  return `${repo}:${tag}`;
}
function registryOf(ref: string): string {
  const first = ref.split('/')[0]!;
  return ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : DOCKER_HUB;
}
function hex(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}

/** docker run options that take a value, and those that do not. */
const RUN_VALUE = new Set([
  '--name',
  '--network',
  '--net',
  '--restart',
  '--volume',
  '-v',
  '--env',
  '-e',
  '--env-file',
  '--label',
  '-l',
  '--log-opt',
  '--log-driver',
  '--hostname',
  '-h',
  '--publish',
  '-p',
  '--expose',
  '--user',
  '-u',
  '--workdir',
  '-w',
  '--entrypoint',
  '--memory',
  '-m',
  '--cpus',
  '--health-cmd',
  '--health-interval',
  '--health-timeout',
  '--health-retries',
  '--health-start-period',
  '--mount',
  '--add-host',
  '--cap-add',
  '--cap-drop',
  '--device',
  '--tmpfs',
  '--stop-signal',
  '--stop-timeout',
  '--network-alias',
  '--dns',
  '--label-file',
  '--pull',
  '--platform',
  '--ulimit',
  '--shm-size',
  '--ip',
  '--security-opt',
  '--sysctl',
  '--group-add',
  '--pid',
  '--ipc',
  '--gpus',
]);
const RUN_FLAG = new Set(['--detach', '-d', '--rm', '--init', '--privileged', '--interactive', '-i', '--tty', '-t', '--read-only', '-it']);

export class SimHost {
  readonly files = new Map<string, Entry>();
  readonly images = new Map<string, Image>();
  /** repo:tag -> image id */
  readonly tags = new Map<string, string>();
  readonly containers: Container[] = [];
  readonly networks = new Set<string>(['bridge', 'host', 'none']);
  readonly volumes = new Set<string>();
  readonly logins = new Map<string, string>();
  readonly proxy = new Map<string, ProxyService>();
  readonly records: Record_[] = [];
  readonly unmodelled: Unmodelled[] = [];
  #seq = 0;
  readonly shell: Shell;
  readonly home = '/root';

  constructor(
    readonly name: string,
    readonly registry: Registry,
    readonly latency: Latency = () => 0,
    /** When the fleet started: record times are relative to it. */
    readonly epoch = performance.now(),
  ) {
    for (const d of ['/', '/root', '/tmp', '/etc']) this.files.set(d, { dir: true, mode: 0o755 });
    this.shell = new Shell((argv, io, env) => this.#program(argv, io, env), {
      read: (path, env) => this.readFile(resolvePath(env.cwd, path)),
      write: (path, content, append, env) => this.writeFile(resolvePath(env.cwd, path), content, append, env.umask),
    });
  }

  // ---------- commands ----------

  /** Runs one command line as sshd would (through sh -c), recording it. */
  async exec(command: string, stdin: Input, connection = 0): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const start = performance.now() - this.epoch;
    const io: Io = { stdin, out: [], err: [] };
    const env: ProcessEnv = {
      vars: new Map([
        ['HOME', this.home],
        ['PWD', this.home],
        ['USER', 'root'],
        ['PATH', '/usr/local/bin:/usr/bin:/bin'],
      ]),
      cwd: this.home,
      umask: 0o022,
      status: 0,
    };
    let exitCode: number;
    try {
      exitCode = await this.shell.run(command, io, env);
    } catch (e) {
      exitCode = 70;
      io.err.push(`sim: ${(e as Error).message}\n`);
      this.unmodelled.push({ host: this.name, command, reason: (e as Error).message });
    }
    const stderr = io.err.join('');
    if (exitCode === 2 && /Syntax error/.test(stderr)) this.unmodelled.push({ host: this.name, command, reason: stderr.trim() });
    const record: Record_ = { host: this.name, connection, start, end: performance.now() - this.epoch, command, exitCode, stderr };
    if (stdin.read) record.stdin = stdin.read;
    this.records.push(record);
    return { exitCode, stdout: io.out.join(''), stderr };
  }

  /** Writes what an `scp -t TARGET` sink received. */
  scpReceive(target: string, files: ScpFile[]): string[] {
    const errors: string[] = [];
    for (const f of files) {
      let path = resolvePath(this.home, target);
      if (this.files.get(path)?.dir) path = `${path}/${f.name}`;
      try {
        this.writeFile(path, f.content, false, 0o022, f.mode);
      } catch (e) {
        errors.push(`scp: ${target}: ${(e as Error).message}`);
      }
    }
    return errors;
  }

  /** Runs a recorded command again (an exec with the stdin it read, or an SCP upload). */
  async replay(r: Pick<Record_, 'command' | 'stdin' | 'scp'>): Promise<number> {
    if (r.scp) {
      const target = scpTarget(r.command);
      if (target === undefined) throw new Error(`not an scp sink: ${r.command}`);
      this.scpReceive(target, r.scp);
      this.records.push({ host: this.name, connection: 0, start: 0, end: 0, command: r.command, exitCode: 0, stderr: '', scp: r.scp });
      return 0;
    }
    return (await this.exec(r.command, new Input(r.stdin ?? ''))).exitCode;
  }

  #unmodelled(io: Io, argv: string[], reason: string, code = 127): number {
    const line = argv.join(' ');
    io.err.push(`sim: unmodelled command: ${line} (${reason})\n`);
    this.unmodelled.push({ host: this.name, command: line, reason });
    return code;
  }

  async #wait(kind: LatencyKind): Promise<void> {
    const ms = this.latency(kind);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }

  async #program(argv: string[], io: Io, env: ProcessEnv): Promise<number> {
    const [name, ...args] = argv as [string, ...string[]];
    switch (name) {
      case '/usr/bin/env':
      case 'env':
        if (args.length === 0 || args[0]!.includes('=') || args[0]!.startsWith('-')) return this.#unmodelled(io, argv, 'env options');
        return this.shell.builtin(args, io, env);
      case 'docker':
        return this.#docker(args, io, env);
      case 'mkdir':
        return this.#mkdir(args, io, env);
      case 'rm':
        return this.#rm(args, io, env);
      case 'mv':
        return this.#mv(args, io, env);
      case 'chmod':
        return this.#chmod(args, io, env);
      case 'cat':
        return this.#cat(args, io, env);
      case 'stat':
        return this.#stat(args, io, env);
      case 'test':
      case '[':
        return this.#test(name === '[' ? args.slice(0, -1) : args, io, env, argv);
      case 'head':
      case 'tail':
        return this.#headTail(name, args, io, argv);
      case 'grep':
        return this.#grep(args, io, argv);
      case 'awk':
        return this.#awk(args, io, argv);
      case 'tr':
        return this.#tr(args, io, argv);
      case 'xargs':
        return this.#xargs(args, io, env, argv);
      case 'base64': {
        const text = await io.stdin.all();
        if (args[0] === '-d' || args[0] === '--decode') io.out.push(Buffer.from(text, 'base64').toString('utf8'));
        else if (args.length === 0) io.out.push(`${Buffer.from(text).toString('base64')}\n`);
        else return this.#unmodelled(io, argv, 'base64 options');
        return 0;
      }
      case 'touch':
        for (const a of args) {
          const p = resolvePath(env.cwd, a);
          if (!this.files.has(p)) this.writeFile(p, '', false, env.umask);
        }
        return 0;
      case 'sleep':
        return 0;
      case 'scp':
        return this.#unmodelled(io, argv, 'scp runs only as an upload sink over its own channel', 1);
      default:
        return this.#unmodelled(io, argv, 'not found');
    }
  }

  // ---------- files ----------

  #parent(path: string): string {
    return path.slice(0, path.lastIndexOf('/')) || '/';
  }
  readFile(path: string): string {
    const e = this.files.get(path);
    if (!e) throw new Error('No such file or directory');
    if (e.dir) throw new Error('Is a directory');
    return e.content;
  }
  writeFile(path: string, content: string, append: boolean, umask = 0o022, mode?: number): void {
    const parent = this.files.get(this.#parent(path));
    if (!parent) throw new Error('Directory nonexistent');
    if (!parent.dir) throw new Error('Not a directory');
    const e = this.files.get(path);
    if (e?.dir) throw new Error('Is a directory');
    if (e) this.files.set(path, { content: append ? e.content + content : content, mode: mode ?? e.mode });
    else this.files.set(path, { content, mode: mode ?? 0o666 & ~umask });
  }

  #mkdir(args: string[], io: Io, env: ProcessEnv): number {
    let parents = false;
    const paths: string[] = [];
    for (const a of args) {
      if (a === '-p') parents = true;
      else if (a.startsWith('-')) return this.#unmodelled(io, ['mkdir', ...args], `option ${a}`, 1);
      else paths.push(a);
    }
    let status = 0;
    for (const a of paths) {
      const p = resolvePath(env.cwd, a);
      const e = this.files.get(p);
      if (e) {
        if (parents && e.dir) continue;
        io.err.push(`mkdir: cannot create directory '${a}': File exists\n`);
        status = 1;
        continue;
      }
      const segs = p.split('/').filter(Boolean);
      let cur = '';
      let failed = false;
      for (let i = 0; i < segs.length; i++) {
        cur += `/${segs[i]}`;
        const x = this.files.get(cur);
        if (x && !x.dir) {
          io.err.push(`mkdir: cannot create directory '${a}': Not a directory\n`);
          failed = true;
          break;
        }
        if (!x) {
          if (i < segs.length - 1 && !parents) {
            io.err.push(`mkdir: cannot create directory '${a}': No such file or directory\n`);
            failed = true;
            break;
          }
          this.files.set(cur, { dir: true, mode: 0o777 & ~env.umask });
        }
      }
      if (failed) status = 1;
    }
    return status;
  }

  #rm(args: string[], io: Io, env: ProcessEnv): number {
    let recursive = false;
    let force = false;
    const paths: string[] = [];
    for (const a of args) {
      if (/^-[rRf]+$/.test(a)) {
        if (/[rR]/.test(a)) recursive = true;
        if (a.includes('f')) force = true;
      } else if (a.startsWith('-')) return this.#unmodelled(io, ['rm', ...args], `option ${a}`, 1);
      else paths.push(a);
    }
    let status = 0;
    for (const a of paths) {
      const p = resolvePath(env.cwd, a);
      const e = this.files.get(p);
      if (!e) {
        if (!force) {
          io.err.push(`rm: cannot remove '${a}': No such file or directory\n`);
          status = 1;
        }
        continue;
      }
      if (e.dir) {
        if (!recursive) {
          io.err.push(`rm: cannot remove '${a}': Is a directory\n`);
          status = 1;
          continue;
        }
        for (const k of [...this.files.keys()]) if (k.startsWith(`${p}/`)) this.files.delete(k);
      }
      this.files.delete(p);
    }
    return status;
  }

  #mv(args: string[], io: Io, env: ProcessEnv): number {
    const ps = args.filter((a) => a !== '-f');
    if (ps.length !== 2 || ps.some((a) => a.startsWith('-'))) return this.#unmodelled(io, ['mv', ...args], 'options', 1);
    const from = resolvePath(env.cwd, ps[0]!);
    let to = resolvePath(env.cwd, ps[1]!);
    const e = this.files.get(from);
    if (!e) {
      io.err.push(`mv: cannot stat '${ps[0]}': No such file or directory\n`);
      return 1;
    }
    if (this.files.get(to)?.dir) to = `${to}/${from.slice(from.lastIndexOf('/') + 1)}`;
    if (e.dir) return this.#unmodelled(io, ['mv', ...args], 'moving directories', 1);
    this.files.delete(from);
    this.files.set(to, e);
    return 0;
  }

  #chmod(args: string[], io: Io, env: ProcessEnv): number {
    const [mode, ...paths] = args;
    if (!mode || !/^[0-7]{3,4}$/.test(mode) || paths.length === 0) return this.#unmodelled(io, ['chmod', ...args], 'symbolic modes', 1);
    for (const a of paths) {
      const p = resolvePath(env.cwd, a);
      const e = this.files.get(p);
      if (!e) {
        io.err.push(`chmod: cannot access '${a}': No such file or directory\n`);
        return 1;
      }
      e.mode = parseInt(mode, 8);
    }
    return 0;
  }

  async #cat(args: string[], io: Io, env: ProcessEnv): Promise<number> {
    if (args.length === 0 || (args.length === 1 && args[0] === '-')) {
      io.out.push(await io.stdin.all());
      return 0;
    }
    let status = 0;
    for (const a of args) {
      if (a.startsWith('-')) return this.#unmodelled(io, ['cat', ...args], `option ${a}`, 1);
      try {
        io.out.push(this.readFile(resolvePath(env.cwd, a)));
      } catch (e) {
        io.err.push(`cat: ${a}: ${(e as Error).message}\n`);
        status = 1;
      }
    }
    return status;
  }

  #stat(args: string[], io: Io, env: ProcessEnv): number {
    if (args.length !== 1 || args[0]!.startsWith('-')) return this.#unmodelled(io, ['stat', ...args], 'options', 1);
    const e = this.files.get(resolvePath(env.cwd, args[0]!));
    if (!e) {
      io.err.push(`stat: cannot statx '${args[0]}': No such file or directory\n`);
      return 1;
    }
    io.out.push(`  File: ${args[0]}\n  Size: ${e.dir ? 4096 : e.content.length}\n`);
    return 0;
  }

  #test(args: string[], io: Io, env: ProcessEnv, argv: string[]): number {
    if (args.length === 2 && ['-e', '-f', '-d', '-s'].includes(args[0]!)) {
      const e = this.files.get(resolvePath(env.cwd, args[1]!));
      if (args[0] === '-e') return e ? 0 : 1;
      if (args[0] === '-d') return e?.dir ? 0 : 1;
      if (args[0] === '-s') return e && !e.dir && e.content.length > 0 ? 0 : 1;
      return e && !e.dir ? 0 : 1;
    }
    if (args.length === 2 && args[0] === '-n') return args[1] ? 0 : 1;
    if (args.length === 2 && args[0] === '-z') return args[1] ? 1 : 0;
    if (args.length === 3 && args[1] === '=') return args[0] === args[2] ? 0 : 1;
    if (args.length === 3 && args[1] === '!=') return args[0] !== args[2] ? 0 : 1;
    return this.#unmodelled(io, argv, 'test expression', 2);
  }

  async #headTail(name: 'head' | 'tail', args: string[], io: Io, argv: string[]): Promise<number> {
    let n = 10;
    let fromStart = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const v = a === '-n' ? args[++i]! : /^-\d+$/.test(a) ? a.slice(1) : /^-n.+/.test(a) ? a.slice(2) : undefined;
      if (v === undefined) return this.#unmodelled(io, argv, `option ${a}`, 1);
      if (v.startsWith('+')) fromStart = true;
      n = Number(v.replace(/^[+-]/, ''));
    }
    const text = await io.stdin.all();
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    let kept: string[];
    if (name === 'head') kept = lines.slice(0, n);
    else kept = fromStart ? lines.slice(Math.max(0, n - 1)) : n === 0 ? [] : lines.slice(-n);
    io.out.push(kept.map((l) => `${l}\n`).join(''));
    return 0;
  }

  async #grep(args: string[], io: Io, argv: string[]): Promise<number> {
    let invert = false;
    let whole = false;
    let word = false;
    let quiet = false;
    let extended = false;
    let fixed = false;
    let pattern: string | undefined;
    const files: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-e') pattern = args[++i];
      else if (/^-[vxwqEF]+$/.test(a)) {
        invert ||= a.includes('v');
        whole ||= a.includes('x');
        word ||= a.includes('w');
        quiet ||= a.includes('q');
        extended ||= a.includes('E');
        fixed ||= a.includes('F');
      } else if (a.startsWith('-') && a !== '-') return this.#unmodelled(io, argv, `option ${a}`, 2);
      else if (pattern === undefined) pattern = a;
      else files.push(a);
    }
    if (pattern === undefined) return this.#unmodelled(io, argv, 'no pattern', 2);
    if (files.length) return this.#unmodelled(io, argv, 'grep of files', 2);
    const alternatives = fixed ? pattern.split('\n') : [pattern];
    const sources = alternatives.map((p) => (fixed ? p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : extended ? p : breToJs(p)));
    let src = sources.map((s) => `(?:${s})`).join('|');
    if (whole) src = `^(?:${src})$`;
    else if (word) src = `(?<![A-Za-z0-9_])(?:${src})(?![A-Za-z0-9_])`;
    const re = new RegExp(src);
    const text = await io.stdin.all();
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const kept = lines.filter((l) => re.test(l) !== invert);
    if (!quiet) io.out.push(kept.map((l) => `${l}\n`).join(''));
    return kept.length ? 0 : 1;
  }

  async #awk(args: string[], io: Io, argv: string[]): Promise<number> {
    let sep: string | undefined;
    let program: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-F') sep = args[++i];
      else if (a.startsWith('-F')) sep = a.slice(2);
      else if (program === undefined) program = a;
      else return this.#unmodelled(io, argv, 'awk of files', 2);
    }
    const m = /^\{\s*print \$(NF|\d+)\s*\}$/.exec(program ?? '');
    if (!m) return this.#unmodelled(io, argv, 'awk program', 2);
    const text = await io.stdin.all();
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const l of lines) {
      const fields = sep ? l.split(sep) : l.trim().split(/\s+/).filter(Boolean);
      const idx = m[1] === 'NF' ? fields.length : Number(m[1]);
      io.out.push(`${idx === 0 ? l : (fields[idx - 1] ?? '')}\n`);
    }
    return 0;
  }

  async #tr(args: string[], io: Io, argv: string[]): Promise<number> {
    if (args.length !== 2 || args[0] !== '-d') return this.#unmodelled(io, argv, 'tr other than -d', 1);
    const set = args[1]!.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
    const text = await io.stdin.all();
    io.out.push([...text].filter((c) => !set.includes(c)).join(''));
    return 0;
  }

  async #xargs(args: string[], io: Io, env: ProcessEnv, argv: string[]): Promise<number> {
    let noEmpty = false;
    let i = 0;
    for (; i < args.length && args[i]!.startsWith('-'); i++) {
      if (args[i] === '-r' || args[i] === '--no-run-if-empty') noEmpty = true;
      else return this.#unmodelled(io, argv, `option ${args[i]}`, 1);
    }
    const command = args.slice(i);
    if (command.length === 0) command.push('echo');
    const items = xargsSplit(await io.stdin.all());
    if (items.length === 0 && noEmpty) return 0;
    const status = await this.shell.builtin([...command, ...items], { stdin: Input.empty(), out: io.out, err: io.err }, env);
    if (status === 127) return 127;
    return status === 0 ? 0 : 123;
  }

  // ---------- docker ----------

  #image(ref: string): Image | undefined {
    const id = this.tags.get(normalizeRef(ref));
    if (id) return this.images.get(id);
    if (/^(sha256:)?[0-9a-f]{6,64}$/.test(ref)) {
      const bare = ref.replace(/^sha256:/, '');
      for (const img of this.images.values()) if (img.id.startsWith(bare)) return img;
    }
    return undefined;
  }
  #container(ref: string): Container | undefined {
    return this.containers.find((c) => c.name === ref) ?? (/^[0-9a-f]{4,64}$/.test(ref) ? this.containers.find((c) => c.id.startsWith(ref)) : undefined);
  }
  #tagsOf(imageId: string): string[] {
    return [...this.tags].filter(([, id]) => id === imageId).map(([t]) => t);
  }

  #pull(ref: string, io: Io): boolean {
    const norm = normalizeRef(ref);
    const found = this.registry.images.get(norm);
    const server = registryOf(ref);
    const creds = this.registry.credentials.get(server);
    if (creds && this.logins.get(server) !== creds[0]) {
      io.err.push(
        `Error response from daemon: Head "https://${server}/v2/${splitRef(ref).repo.slice(server.length + 1)}/manifests/${splitRef(ref).tag}": no basic auth credentials\n`,
      );
      return false;
    }
    if (!found) {
      io.err.push(`Error response from daemon: manifest for ${ref} not found: manifest unknown: manifest unknown\n`);
      return false;
    }
    const id = hex(`image ${norm} ${JSON.stringify(found.labels)}`);
    if (!this.images.has(id)) this.images.set(id, { id, labels: { ...found.labels } });
    this.tags.set(norm, id);
    return true;
  }

  async #docker(args: string[], io: Io, env: ProcessEnv): Promise<number> {
    const argv = ['docker', ...args];
    let [sub, ...rest] = args;
    // docker container ls / docker image rm / ... -> the short forms
    if (sub === 'container' || sub === 'image' || sub === 'network' || sub === 'volume') {
      const [verb, ...more] = rest;
      const key = `${sub} ${verb}`;
      const map: Record<string, string> = {
        'container ls': 'ps',
        'container ps': 'ps',
        'container list': 'ps',
        'container start': 'start',
        'container stop': 'stop',
        'container rm': 'rm',
        'container rename': 'rename',
        'container prune': 'container-prune',
        'container inspect': 'inspect',
        'container run': 'run',
        'container logs': 'logs',
        'container exec': 'exec',
        'image ls': 'images',
        'image list': 'images',
        'image rm': 'rmi',
        'image prune': 'image-prune',
        'image pull': 'pull',
        'image tag': 'tag',
        'image inspect': 'inspect',
        'network create': 'network-create',
        'network ls': 'network-ls',
        'network inspect': 'network-inspect',
        'volume create': 'volume-create',
      };
      const mapped = map[key];
      if (!mapped) return this.#unmodelled(io, argv, `docker ${key}`, 1);
      sub = mapped;
      rest = more;
    }
    if (sub === 'exec') {
      await this.#wait('docker');
      return this.#dockerExec(rest, io, argv);
    }
    await this.#wait(sub === 'run' ? 'docker-run' : 'docker');
    switch (sub) {
      case 'login':
        return this.#login(rest, io, argv);
      case 'logout':
        this.logins.delete(rest[0] ?? DOCKER_HUB);
        return 0;
      case 'info':
        return this.#info(rest, io, argv);
      case 'pull': {
        if (rest.length !== 1) return this.#unmodelled(io, argv, 'pull options', 1);
        if (!this.#pull(rest[0]!, io)) return 1;
        io.out.push(`${splitRef(rest[0]!).tag}: Pulling from ${splitRef(rest[0]!).repo}\nStatus: Downloaded newer image for ${rest[0]}\n${rest[0]}\n`);
        return 0;
      }
      case 'rmi':
        return this.#rmi(rest, io, argv);
      case 'tag': {
        if (rest.length !== 2) return this.#unmodelled(io, argv, 'tag arguments', 1);
        const img = this.#image(rest[0]!);
        if (!img) {
          io.err.push(`Error response from daemon: No such image: ${rest[0]}\n`);
          return 1;
        }
        this.tags.set(normalizeRef(rest[1]!), img.id);
        return 0;
      }
      case 'inspect':
        return this.#inspect(rest, io, argv);
      case 'images':
        return this.#images(rest, io, argv);
      case 'image-prune':
        return this.#imagePrune(rest, io, argv);
      case 'container-prune':
        return this.#containerPrune(rest, io, argv);
      case 'ps':
        return this.#ps(rest, io, argv);
      case 'run':
        return this.#run(rest, io, env, argv);
      case 'start':
      case 'stop':
        return this.#startStop(sub, rest, io, argv);
      case 'rm':
        return this.#dockerRm(rest, io, argv);
      case 'rename': {
        if (rest.length !== 2) return this.#unmodelled(io, argv, 'rename arguments', 1);
        const c = this.#container(rest[0]!);
        if (!c) {
          io.err.push(`Error response from daemon: No such container: ${rest[0]}\n`);
          return 1;
        }
        if (this.#container(rest[1]!)) {
          io.err.push(`Error response from daemon: Conflict. The container name "/${rest[1]}" is already in use\n`);
          return 1;
        }
        c.name = rest[1]!;
        return 0;
      }
      case 'network-create': {
        if (rest.length !== 1) return this.#unmodelled(io, argv, 'network create options', 1);
        if (this.networks.has(rest[0]!)) {
          io.err.push(`Error response from daemon: network with name ${rest[0]} already exists\n`);
          return 1;
        }
        this.networks.add(rest[0]!);
        io.out.push(`${hex(`net ${this.name} ${rest[0]}`)}\n`);
        return 0;
      }
      case 'volume-create':
        if (rest.length !== 1) return this.#unmodelled(io, argv, 'volume create options', 1);
        this.volumes.add(rest[0]!);
        io.out.push(`${rest[0]}\n`);
        return 0;
      default:
        return this.#unmodelled(io, argv, `docker ${sub}`, 1);
    }
  }

  async #login(args: string[], io: Io, argv: string[]): Promise<number> {
    let user: string | undefined;
    let password: string | undefined;
    let server: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-u' || a === '--username') user = args[++i];
      else if (a === '-p' || a === '--password') password = args[++i];
      else if (a === '--password-stdin') password = (await io.stdin.all()).replace(/\n$/, '');
      else if (a.startsWith('-'))
        return this.#unmodelled(
          io,
          argv.map((x, j) => (argv[j - 1] === '-p' ? '[REDACTED]' : x)),
          `login option ${a}`,
          1,
        );
      else server = a;
    }
    server ??= DOCKER_HUB;
    const creds = this.registry.credentials.get(server);
    if (!creds) return this.#unmodelled(io, ['docker', 'login', server], 'registry unknown to the fleet', 1);
    if (creds[0] !== user || creds[1] !== password) {
      io.err.push(`Error response from daemon: Get "https://${server}/v2/": unauthorized: incorrect username or password\n`);
      return 1;
    }
    this.logins.set(server, user);
    io.out.push('Login Succeeded\n');
    return 0;
  }

  #info(args: string[], io: Io, argv: string[]): number {
    const f = formatOf(args);
    if (!f || f.rest.length) return this.#unmodelled(io, argv, 'info without --format', 1);
    try {
      io.out.push(`${renderTemplate(f.format, { RegistryConfig: { Mirrors: [] }, ServerVersion: '27.5.1' })}\n`);
      return 0;
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      io.err.push(`${e.message}\n`);
      return 1;
    }
  }

  #rmi(args: string[], io: Io, argv: string[]): number {
    let force = false;
    const refs: string[] = [];
    for (const a of args) {
      if (a === '--force' || a === '-f') force = true;
      else if (a.startsWith('-')) return this.#unmodelled(io, argv, `rmi option ${a}`, 1);
      else refs.push(a);
    }
    if (refs.length === 0) {
      io.err.push(`docker: 'docker image rm' requires at least 1 argument\n`);
      return 1;
    }
    let status = 0;
    for (const ref of refs) {
      const img = this.#image(ref);
      if (!img) {
        io.err.push(`Error response from daemon: No such image: ${ref}\n`);
        if (!force) status = 1;
        continue;
      }
      const byTag = this.tags.has(normalizeRef(ref));
      const tags = this.#tagsOf(img.id);
      const users = this.containers.filter((c) => c.imageId === img.id);
      if (byTag && tags.length > 1) {
        this.tags.delete(normalizeRef(ref));
        io.out.push(`Untagged: ${normalizeRef(ref)}\n`);
        continue;
      }
      if (users.length && !force) {
        io.err.push(
          `Error response from daemon: conflict: unable to remove repository reference "${ref}" (must force) - container ${users[0]!.id.slice(0, 12)} is using its referenced image ${img.id.slice(0, 12)}\n`,
        );
        status = 1;
        continue;
      }
      for (const t of tags) if (byTag ? t === normalizeRef(ref) : true) this.tags.delete(t);
      if (users.length === 0 && this.#tagsOf(img.id).length === 0) this.images.delete(img.id);
      io.out.push(`Untagged: ${normalizeRef(ref)}\n`);
    }
    return status;
  }

  #inspect(args: string[], io: Io, argv: string[]): number {
    const f = formatOf(args);
    if (!f) return this.#unmodelled(io, argv, 'inspect without --format', 1);
    let status = 0;
    for (const name of f.rest) {
      if (name.startsWith('-')) return this.#unmodelled(io, argv, `inspect option ${name}`, 1);
      const c = this.#container(name);
      let data: unknown;
      if (c) data = this.#containerObject(c);
      else {
        const img = this.#image(name);
        if (img) data = { Id: `sha256:${img.id}`, RepoTags: this.#tagsOf(img.id), Config: { Labels: { __map: true, ...img.labels } } };
      }
      if (!data) {
        io.err.push(`Error: No such object: ${name}\n`);
        status = 1;
        continue;
      }
      try {
        io.out.push(`${renderTemplate(f.format, data).replace(/<no value>/g, '')}\n`);
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        return this.#unmodelled(io, argv, e.message, 1);
      }
    }
    return status;
  }

  #containerObject(c: Container): unknown {
    return {
      Id: c.id,
      Name: `/${c.name}`,
      Image: `sha256:${c.imageId}`,
      Config: { Image: c.image, Labels: { __map: true, ...c.labels }, Env: c.env, Hostname: c.hostname ?? c.id.slice(0, 12) },
      State: { Status: c.status, Running: c.status === 'running', Health: null },
      NetworkSettings: { Networks: { __map: true, ...(c.network ? { [c.network]: {} } : {}) } },
    };
  }

  #images(args: string[], io: Io, argv: string[]): number {
    let format: string | undefined;
    let quiet = false;
    const filters: [string, string][] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--format') format = args[++i];
      else if (a === '-q' || a === '--quiet') quiet = true;
      else if (a === '--filter' || a === '-f') {
        const v = args[++i]!;
        const eq = v.indexOf('=');
        filters.push([v.slice(0, eq), v.slice(eq + 1)]);
      } else return this.#unmodelled(io, argv, `images option ${a}`, 1);
    }
    const rows: { id: string; repo: string; tag: string; img: Image }[] = [];
    for (const img of this.images.values()) {
      const tags = this.#tagsOf(img.id);
      if (tags.length === 0) rows.push({ id: img.id, repo: '<none>', tag: '<none>', img });
      for (const t of tags) rows.push({ id: img.id, ...splitRef(t), img });
    }
    const kept = [];
    for (const r of rows) {
      let ok = true;
      for (const [k, v] of filters) {
        if (k === 'label') ok &&= labelMatch(r.img.labels, v);
        else if (k === 'reference') ok &&= r.repo !== '<none>' && globMatch(v.includes(':') ? v : `${v}:*`, `${r.repo}:${r.tag}`);
        else if (k === 'dangling') ok &&= (r.repo === '<none>') === (v === 'true');
        else return this.#unmodelled(io, argv, `images filter ${k}`, 1);
      }
      if (ok) kept.push(r);
    }
    for (const r of kept) {
      if (quiet) io.out.push(`${r.id.slice(0, 12)}\n`);
      else if (format) io.out.push(`${renderTemplate(format, { ID: r.id.slice(0, 12), Repository: r.repo, Tag: r.tag })}\n`);
      else io.out.push(`${r.repo} ${r.tag} ${r.id.slice(0, 12)}\n`);
    }
    return 0;
  }

  #imagePrune(args: string[], io: Io, argv: string[]): number {
    const filters: string[] = [];
    let all = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--force' || a === '-f') continue;
      if (a === '--all' || a === '-a') all = true;
      else if (a === '--filter') {
        const v = args[++i]!;
        if (!v.startsWith('label=')) return this.#unmodelled(io, argv, `image prune filter ${v}`, 1);
        filters.push(v.slice(6));
      } else return this.#unmodelled(io, argv, `image prune option ${a}`, 1);
    }
    for (const img of [...this.images.values()]) {
      if (!filters.every((f) => labelMatch(img.labels, f))) continue;
      if (this.containers.some((c) => c.imageId === img.id)) continue;
      if (!all && this.#tagsOf(img.id).length > 0) continue;
      for (const t of this.#tagsOf(img.id)) this.tags.delete(t);
      this.images.delete(img.id);
      io.out.push(`deleted: sha256:${img.id}\n`);
    }
    io.out.push('Total reclaimed space: 0B\n');
    return 0;
  }

  #containerPrune(args: string[], io: Io, argv: string[]): number {
    const filters: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--force' || a === '-f') continue;
      if (a === '--filter') {
        const v = args[++i]!;
        if (!v.startsWith('label=')) return this.#unmodelled(io, argv, `container prune filter ${v}`, 1);
        filters.push(v.slice(6));
      } else return this.#unmodelled(io, argv, `container prune option ${a}`, 1);
    }
    for (const c of [...this.containers]) {
      if (c.status === 'running' || !filters.every((f) => labelMatch(c.labels, f))) continue;
      this.containers.splice(this.containers.indexOf(c), 1);
      io.out.push(`${c.id}\n`);
    }
    io.out.push('Total reclaimed space: 0B\n');
    return 0;
  }

  #ps(args: string[], io: Io, argv: string[]): number {
    let all = false;
    let quiet = false;
    let latest = false;
    let last: number | undefined;
    let format: string | undefined;
    const filters: Record<string, string[]> = {};
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-a' || a === '--all') all = true;
      else if (a === '-q' || a === '--quiet') quiet = true;
      else if (a === '-l' || a === '--latest') latest = true;
      else if (a === '-n' || a === '--last') last = Number(args[++i]);
      else if (a === '--format') format = args[++i];
      else if (a === '--no-trunc') continue;
      else if (a === '--filter' || a === '-f') {
        const v = args[++i]!;
        const eq = v.indexOf('=');
        const k = v.slice(0, eq);
        if (!['label', 'status', 'name', 'ancestor', 'id'].includes(k)) return this.#unmodelled(io, argv, `ps filter ${k}`, 1);
        (filters[k] ??= []).push(v.slice(eq + 1));
      } else if (/^-[aq]+$/.test(a)) {
        all ||= a.includes('a');
        quiet ||= a.includes('q');
      } else return this.#unmodelled(io, argv, `ps option ${a}`, 1);
    }
    let list = [...this.containers].sort((a, b) => b.seq - a.seq);
    if (!all && !filters.status && !latest && last === undefined) list = list.filter((c) => c.status === 'running');
    list = list.filter((c) => {
      if (filters.label && !filters.label.every((f) => labelMatch(c.labels, f))) return false;
      if (filters.status && !filters.status.includes(c.status)) return false;
      if (filters.name && !filters.name.some((n) => new RegExp(n).test(c.name))) return false;
      if (filters.id && !filters.id.some((n) => c.id.startsWith(n))) return false;
      if (filters.ancestor && !filters.ancestor.some((a) => a !== '' && this.#image(a)?.id === c.imageId)) return false;
      return true;
    });
    if (latest) list = list.slice(0, 1);
    if (last !== undefined) list = list.slice(0, last);
    for (const c of list) {
      if (quiet) io.out.push(`${c.id.slice(0, 12)}\n`);
      else if (format) {
        try {
          io.out.push(
            `${renderTemplate(format, {
              ID: c.id.slice(0, 12),
              Names: c.name,
              Image: c.image,
              Status: c.status,
              Labels: Object.entries(c.labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(','),
            })}\n`,
          );
        } catch (e) {
          if (!(e instanceof TemplateError)) throw e;
          return this.#unmodelled(io, argv, e.message, 1);
        }
      } else io.out.push(`${c.id.slice(0, 12)} ${c.image} ${c.status} ${c.name}\n`);
    }
    return 0;
  }

  #run(args: string[], io: Io, env: ProcessEnv, argv: string[]): number {
    const c: Container = {
      id: '',
      name: '',
      image: '',
      imageId: '',
      labels: {},
      env: [],
      envFiles: [],
      status: 'running',
      seq: 0,
      volumes: [],
      publish: [],
      logOpts: [],
      command: [],
      options: [],
    };
    let detach = false;
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i]!;
      if (!a.startsWith('-')) break;
      const eq = a.indexOf('=');
      const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
      if (RUN_FLAG.has(flag)) {
        if (flag === '--detach' || flag === '-d') detach = true;
        else c.options.push(a);
        continue;
      }
      if (!RUN_VALUE.has(flag)) return this.#unmodelled(io, argv, `run option ${a}`, 125);
      const v = flag !== a ? a.slice(eq + 1) : args[++i];
      if (v === undefined) return this.#unmodelled(io, argv, `run option ${a} without a value`, 125);
      switch (flag) {
        case '--name':
          c.name = v;
          break;
        case '--network':
        case '--net':
          c.network = v;
          break;
        case '--restart':
          c.restart = v;
          break;
        case '--volume':
        case '-v':
          c.volumes.push(v);
          break;
        case '--env':
        case '-e':
          c.env.push(v);
          break;
        case '--env-file': {
          const path = resolvePath(env.cwd, v);
          let content: string;
          try {
            content = this.readFile(path);
          } catch {
            io.err.push(`docker: open ${v}: no such file or directory\n`);
            return 125;
          }
          c.envFiles.push({ path: v, content });
          break;
        }
        case '--label':
        case '-l': {
          const e = v.indexOf('=');
          if (e < 0) c.labels[v] = '';
          else c.labels[v.slice(0, e)] = v.slice(e + 1);
          break;
        }
        case '--log-opt':
          c.logOpts.push(v);
          break;
        case '--hostname':
        case '-h':
          c.hostname = v;
          break;
        case '--publish':
        case '-p':
          c.publish.push(v);
          break;
        default:
          c.options.push(`${flag}=${v}`);
      }
    }
    if (!detach) return this.#unmodelled(io, argv, 'docker run without --detach', 125);
    const image = args[i];
    if (!image) {
      io.err.push(`docker: 'docker run' requires at least 1 argument\n`);
      return 125;
    }
    c.image = image;
    c.command = args.slice(i + 1);
    if (c.network && !this.networks.has(c.network)) {
      io.err.push(`docker: Error response from daemon: network ${c.network} not found\n`);
      return 125;
    }
    if (c.name && this.#container(c.name)) {
      const other = this.#container(c.name)!;
      io.err.push(
        `docker: Error response from daemon: Conflict. The container name "/${c.name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.\n`,
      );
      return 125;
    }
    let img = this.#image(image);
    if (!img) {
      io.err.push(`Unable to find image '${image}' locally\n`);
      if (!this.#pull(image, io)) return 125;
      img = this.#image(image)!;
    }
    for (const v of c.volumes) {
      const src = v.split(':')[0]!;
      if (!src.startsWith('/')) this.volumes.add(src);
    }
    c.imageId = img.id;
    c.labels = { ...img.labels, ...c.labels };
    c.seq = ++this.#seq;
    c.id = hex(`container ${this.name} ${c.seq} ${c.name}`);
    c.name ||= `sim_${c.seq}`;
    this.containers.push(c);
    io.out.push(`${c.id}\n`);
    return 0;
  }

  #startStop(verb: 'start' | 'stop', args: string[], io: Io, argv: string[]): number {
    const names: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (verb === 'stop' && (a === '-t' || a === '--time' || a === '--timeout' || a === '-s' || a === '--signal')) i++;
      else if (verb === 'stop' && /^--(time|timeout|signal)=/.test(a)) continue;
      else if (a.startsWith('-')) return this.#unmodelled(io, argv, `${verb} option ${a}`, 1);
      else names.push(a);
    }
    if (names.length === 0) {
      io.err.push(
        `docker: 'docker ${verb}' requires at least 1 argument\n\nUsage:  docker ${verb} [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'docker ${verb} --help' for more information\n`,
      );
      return 1;
    }
    const failed: string[] = [];
    for (const n of names) {
      const c = this.#container(n);
      if (!c) {
        io.err.push(`Error response from daemon: No such container: ${n}\n`);
        failed.push(n);
        continue;
      }
      c.status = verb === 'start' ? 'running' : 'exited';
      io.out.push(`${n}\n`);
    }
    if (failed.length && verb === 'start') io.err.push(`Error: failed to start containers: ${failed.join(', ')}\n`);
    return failed.length ? 1 : 0;
  }

  #dockerRm(args: string[], io: Io, argv: string[]): number {
    let force = false;
    const names: string[] = [];
    for (const a of args) {
      if (a === '-f' || a === '--force') force = true;
      else if (a.startsWith('-')) return this.#unmodelled(io, argv, `rm option ${a}`, 1);
      else names.push(a);
    }
    if (names.length === 0) {
      io.err.push(`docker: 'docker rm' requires at least 1 argument\n`);
      return 1;
    }
    let status = 0;
    for (const n of names) {
      const c = this.#container(n);
      if (!c) {
        if (!force) {
          io.err.push(`Error response from daemon: No such container: ${n}\n`);
          status = 1;
        }
        continue;
      }
      if (c.status === 'running' && !force) {
        io.err.push(
          `Error response from daemon: cannot remove container "/${c.name}": container is running: stop the container before removing or force remove\n`,
        );
        status = 1;
        continue;
      }
      this.containers.splice(this.containers.indexOf(c), 1);
      io.out.push(`${n}\n`);
    }
    return status;
  }

  async #dockerExec(args: string[], io: Io, argv: string[]): Promise<number> {
    const [name, program, verb, ...rest] = args;
    if (name !== 'kamal-proxy' || program !== 'kamal-proxy') return this.#unmodelled(io, argv, 'docker exec other than kamal-proxy', 1);
    const proxy = this.#container('kamal-proxy');
    if (!proxy) {
      io.err.push('Error response from daemon: No such container: kamal-proxy\n');
      return 1;
    }
    if (proxy.status !== 'running') {
      io.err.push(`Error response from daemon: container ${proxy.id} is not running\n`);
      return 1;
    }
    switch (verb) {
      case 'deploy': {
        const [service, ...opts] = rest;
        const target = opts.find((o) => o.startsWith('--target='))?.slice(9);
        if (!service || !target) return this.#unmodelled(io, argv, 'kamal-proxy deploy without a service or --target=', 1);
        const known = new Set([
          '--target',
          '--host',
          '--tls',
          '--deploy-timeout',
          '--drain-timeout',
          '--health-check-interval',
          '--health-check-timeout',
          '--health-check-path',
          '--target-timeout',
          '--buffer-requests',
          '--buffer-responses',
          '--max-request-body',
          '--max-response-body',
          '--buffer-memory',
          '--log-request-header',
          '--log-response-header',
          '--forward-headers',
          '--path-prefix',
          '--strip-path-prefix',
          '--tls-certificate-path',
          '--tls-private-key-path',
          '--tls-redirect',
          '--tls-on-demand-url',
          '--tls-acme-cache-path',
          '--error-pages',
          '--writer-affinity-timeout',
          '--read-targets',
          '--reader-affinity-timeout',
        ]);
        for (const o of opts) {
          const flag = o.split('=')[0]!;
          if (!known.has(flag)) return this.#unmodelled(io, argv, `kamal-proxy deploy option ${o}`, 1);
        }
        const [host] = target.split(':');
        const c = this.#container(host!);
        await this.#wait('proxy-deploy');
        if (c?.status !== 'running' || c.network !== proxy.network) {
          io.err.push(`Error: target failed to become healthy within configured timeout (30s)\n`);
          return 1;
        }
        this.proxy.set(service, { target: c.name, args: opts.filter((o) => !o.startsWith('--target=')) });
        return 0;
      }
      case 'remove': {
        const [service] = rest;
        if (!service || rest.length > 1) return this.#unmodelled(io, argv, 'kamal-proxy remove arguments', 1);
        if (!this.proxy.delete(service)) {
          io.err.push(`Error: service not found\n`);
          return 1;
        }
        return 0;
      }
      case 'list':
        io.out.push('Service  Host  Path  Target  State  TLS\n');
        for (const [s, v] of this.proxy) io.out.push(`${s}  ${v.args.find((a) => a.startsWith('--host='))?.slice(7) ?? '*'}  /  ${v.target}  running  no\n`);
        return 0;
      default:
        return this.#unmodelled(io, argv, `kamal-proxy ${verb}`, 1);
    }
  }
}

/** The target of an `scp [-flags] -t PATH` sink command, unquoted; undefined for other commands. */
export function scpTarget(command: string): string | undefined {
  const m = /^scp((?: -[a-zA-Z]+)*) -t (.+)$/s.exec(command);
  if (!m) return undefined;
  const toks = tokenize(m[2]!);
  if (toks.length !== 1 || toks[0]!.t !== 'word' || toks[0]!.word.some((p) => p.k !== 'lit')) return undefined;
  return toks[0]!.word.map((p) => (p as { text: string }).text).join('');
}

function formatOf(args: string[]): { format: string; rest: string[] } | undefined {
  let format: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--format' || a === '-f') format = args[++i];
    else if (a.startsWith('--format=')) format = a.slice(9);
    else rest.push(a);
  }
  return format === undefined ? undefined : { format, rest };
}

function labelMatch(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

function globMatch(glob: string, s: string): boolean {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '.')}$`,
  ).test(s);
}

/** A basic regular expression (grep without -E) as a JavaScript one. */
function breToJs(bre: string): string {
  let out = '';
  for (let i = 0; i < bre.length; i++) {
    const c = bre[i]!;
    if (c === '\\' && i + 1 < bre.length) {
      const n = bre[++i]!;
      if ('|(){}?+'.includes(n)) out += n;
      else out += `\\${n}`;
    } else if ('|(){}?+'.includes(c)) out += `\\${c}`;
    else if (c === '[') {
      const end = bre.indexOf(']', i + 2);
      out += bre.slice(i, end + 1);
      i = end;
    } else out += c;
  }
  return out;
}

/** xargs's word splitting: blanks separate, quotes and backslashes group. */
function xargsSplit(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error(`xargs: unmatched ${c === '"' ? 'double' : 'single'} quote`);
      cur += text.slice(i + 1, end);
      has = true;
      i = end;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}
