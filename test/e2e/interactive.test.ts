/**
 * Interactive sessions on the lab, driven through a real pseudo-terminal: the CLI runs as its
 * own process on the slave side of a pty (Python's pty module), keys are typed on the master
 * side and the window is resized there (the kernel sends SIGWINCH), as a person at a terminal
 * would. A shell in an app container (`app exec -i`, with and without --reuse), in an accessory
 * container and on a host (`server exec -i`): arithmetic, `tty`, `stty size` before and after a
 * resize, Ctrl-C interrupting a remote `sleep`, Ctrl-D ending the shell, `exit N` becoming our
 * exit status, and the local terminal back in its modes afterwards. `app logs -f` streams a
 * request's log line, then Ctrl-C ends it; `accessory logs -f` and `proxy logs -f` likewise.
 * With stdin piped instead of a terminal: `docker exec -i` without `-t`, no pty, and the piped
 * input reaches the command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, httpGet, kamal, lab, labProxyYaml, makeProject, onHost, resetHosts, type LabHost } from './helpers.js';

const HOST = 'tty.lab.test';

/**
 * pty-bridge.py ROWS COLS -- COMMAND...: runs COMMAND on a new pty of that size; its stdin is
 * typed on the pty, the pty's output is written to stdout, `ROWS COLS` lines on fd 3 resize the
 * window. Exits with COMMAND's status.
 */
const BRIDGE = String.raw`
import fcntl, os, pty, select, struct, sys, termios

def winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))

rows, cols = int(sys.argv[1]), int(sys.argv[2])
argv = sys.argv[sys.argv.index('--') + 1:]
pid, master = pty.fork()
if pid == 0:
    winsize(0, rows, cols)
    os.execvp(argv[0], argv)
watch = [master, 0, 3]
pending = b''
while master in watch:
    ready, _, _ = select.select(watch, [], [])
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b''
        if not data:
            break
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]
    if 0 in ready:
        data = os.read(0, 65536)
        if data:
            os.write(master, data)
        else:
            watch.remove(0)
    if 3 in ready:
        data = os.read(3, 4096)
        if not data:
            watch.remove(3)
        pending += data
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            r, c = map(int, line.split())
            winsize(master, r, c)
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
`;

/** The CLI from source, as `kamal-action ARGS...`. */
const CLI = [process.execPath, '--import', join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'), join(ROOT, 'src/cli/main.ts')];

function cliEnv(): Record<string, string> {
  const l = lab();
  return {
    PATH: process.env.PATH!,
    HOME: process.env.HOME!,
    TERM: 'xterm-256color',
    LAB_REGISTRY_PASSWORD: l.registry.password,
    KAMAL_ACTION_KNOWN_HOSTS: l.ssh.knownHosts,
  };
}

/** Stops a wait that would otherwise hang the run; not a measure of anything. */
const GIVE_UP_MS = 120_000;

/** The CLI on a pseudo-terminal: type, resize, wait for output. */
class Terminal {
  output = '';
  #mark = 0;
  #waiters = new Set<() => void>();
  readonly #child: ChildProcess;
  readonly exited: Promise<number>;
  #done = false;

  constructor(bridge: string, cwd: string, args: string[], size: [number, number] = [30, 100]) {
    // After the CLI exits, `stty -a` shows the modes it left the terminal in.
    const script = '"$@"; code=$?; echo "CLI-EXIT=$code"; stty -a; exit $code';
    this.#child = spawn('python3', [bridge, String(size[0]), String(size[1]), '--', 'sh', '-c', script, 'sh', ...CLI, ...args], {
      cwd,
      env: cliEnv(),
      stdio: ['pipe', 'pipe', 'inherit', 'pipe'],
    });
    this.#child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.output += s;
      this.#wake();
    });
    this.exited = new Promise((resolve, reject) => {
      this.#child.on('error', reject);
      this.#child.on('close', (code) => {
        this.#done = true;
        this.#wake();
        resolve(code ?? -1);
      });
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  type(text: string): void {
    this.#child.stdin!.write(text);
  }

  resize(rows: number, cols: number): void {
    (this.#child.stdio[3] as Writable).write(`${rows} ${cols}\n`);
  }

  /** Waits for `pattern` in the output after the previous match; returns the match. */
  async expect(pattern: RegExp): Promise<RegExpExecArray> {
    const started = Date.now();
    for (;;) {
      const m = pattern.exec(this.output.slice(this.#mark));
      if (m) {
        this.#mark += m.index + m[0].length;
        return m;
      }
      if (this.#done || Date.now() - started > GIVE_UP_MS) {
        throw new Error(`${pattern} never showed up${this.#done ? ' (the CLI exited)' : ''}; output after the last match:\n${this.output.slice(this.#mark)}`);
      }
      await new Promise<void>((resolve) => {
        const w = (): void => {
          this.#waiters.delete(w);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(w, 1000);
        this.#waiters.add(w);
      });
    }
  }

  /** Waits for the remote shell's prompt (root's `# `), so that what is typed next goes to it and not to the local line editor. */
  async prompt(): Promise<void> {
    await this.expect(/# /);
  }

  /** Runs a line in the remote shell and returns what it printed between two markers. */
  async run(line: string): Promise<string> {
    const id = randomBytes(3).toString('hex');
    // the markers are computed remotely, so the typed line (echoed back) never matches them
    this.type(`echo "B${id}$((1+1))"; ${line}; echo "E${id}$((1+1))"\r`);
    const m = await this.expect(new RegExp(`B${id}2\\r\\n([\\s\\S]*?)E${id}2\\r\\n`));
    return m[1]!.replace(/\r\n$/, '').replace(/\r\n/g, '\n');
  }

  /** The status of the last command in the remote shell (`$?`, read before anything else runs). */
  async status(): Promise<number> {
    this.type('echo "ST$((1+1)):$?"\r');
    const m = await this.expect(/ST2:(\d+)\r\n/);
    return Number(m[1]);
  }

  /**
   * `stty size` until it says `rows cols`: a resize travels as SIGWINCH to us, a window-change
   * message to sshd, and for a container through docker to its tty, each a moment later.
   */
  async sizeBecomes(rows: number, cols: number): Promise<string> {
    const started = Date.now();
    let size = await this.run('stty size');
    while (size !== `${rows} ${cols}` && Date.now() - started < GIVE_UP_MS) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      size = await this.run('stty size');
    }
    return size;
  }

  /** The terminal modes `stty -a` printed after the CLI exited. */
  async modesAfterExit(): Promise<{ exit: number; modes: string }> {
    const m = await this.expect(/CLI-EXIT=(\d+)\r\n([\s\S]*)$/);
    const code = await this.exited;
    expect(Number(m[1])).toBe(code);
    return { exit: code, modes: this.output.slice(this.output.lastIndexOf('CLI-EXIT=')) };
  }

  kill(): void {
    if (!this.#done) this.#child.kill('SIGKILL');
  }
}

/** What `stty -a` shows for a terminal in its normal (cooked) modes, not left raw. */
function expectCooked(modes: string): void {
  for (const flag of ['icanon', 'isig', 'echo', 'icrnl', 'opost']) {
    expect(modes).toMatch(new RegExp(`(^|\\s)${flag}(\\s|$)`));
    expect(modes).not.toMatch(new RegExp(`(^|\\s)-${flag}(\\s|$)`));
  }
}

/** The CLI with its stdin, stdout and stderr on pipes. */
function piped(cwd: string, args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI[0]!, [...CLI.slice(1), ...args], { cwd, env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('interactive sessions on the lab', () => {
  let dir: string;
  let h: LabHost;
  let bridge: string;
  const terminals: Terminal[] = [];
  const open = (args: string[], size?: [number, number]): Terminal => {
    const t = new Terminal(bridge, dir, args, size);
    terminals.push(t);
    return t;
  };

  beforeAll(async () => {
    resetHosts();
    const l = lab();
    h = l.hosts[0]!;
    bridge = join(mkdtempSync(join(tmpdir(), 'kamal-pty-')), 'pty-bridge.py');
    writeFileSync(bridge, BRIDGE);
    dir = makeProject({
      yaml: `servers:
  web:
    hosts:
      - ${h.ip}
${labProxyYaml(HOST)}accessories:
  db:
    image: ${l.dbImage}
    host: ${h.ip}
`,
    });
    const deploy = await kamal(dir, ['deploy', '-P', '--version', 'v1']);
    expect(deploy.exitCode, deploy.err).toBe(0);
    const boot = await kamal(dir, ['accessory', 'boot', 'db']);
    expect(boot.exitCode, boot.err).toBe(0);
  });

  afterEach(() => {
    for (const t of terminals.splice(0)) t.kill();
  });

  it('app exec -i --reuse sh: a shell in the running container on a pty that follows the window; exit 3 is our exit status', async () => {
    const t = open(['app', 'exec', '-i', '--reuse', '-v', 'sh']);
    await t.expect(/Launching interactive command with version v1 via SSH from existing container on 127\.0\.0\.2\.\.\./);
    await t.expect(/docker exec -it app-web-v1 sh/);
    await t.prompt();
    expect(await t.run('echo $((6*7))')).toBe('42');
    expect(await t.run('tty')).toMatch(/^\/dev\/pts\/\d+$/);
    expect(await t.run('hostname')).toBe(onHost(h, 'docker inspect app-web-v1 --format {{.Config.Hostname}}'));
    expect(await t.sizeBecomes(30, 100)).toBe('30 100');
    t.resize(40, 120);
    expect(await t.sizeBecomes(40, 120)).toBe('40 120');
    t.type('exit 3\r');
    const { exit, modes } = await t.modesAfterExit();
    expect(exit).toBe(3);
    expectCooked(modes);
    // no error message for the shell's own status
    expect(t.output).not.toMatch(/Error|Command failed/);
  });

  it('app exec -i sh: a new container; Ctrl-C interrupts a remote sleep, Ctrl-D ends the shell and the container is removed', async () => {
    const t = open(['app', 'exec', '-i', '-v', 'sh'], [25, 90]);
    // without --version: the latest image, as Kamal's version_or_latest
    await t.expect(/Launching interactive command with version latest via SSH from new container on 127\.0\.0\.2\.\.\./);
    const run = await t.expect(/docker run -it --rm --name (app-web-exec-latest-[0-9a-f]{6}) /);
    const name = run[1]!;
    await t.prompt();
    expect(await t.run('cat /srv/app/index.html 2>/dev/null || echo fresh')).toBe('fresh');
    expect(await t.sizeBecomes(25, 90)).toBe('25 90');
    // the sleep runs in the foreground of the container's terminal; Ctrl-C is a byte to us (raw mode)
    t.type(`sh -c 'echo "SLEEPING$((1+1))"; exec sleep 4242'\r`);
    await t.expect(/SLEEPING2\r\n/);
    t.type('\x03');
    expect(await t.status()).toBe(130);
    expect(onHost(h, `docker ps --filter name=${name} --format '{{.Names}}'`)).toBe(name);
    t.type('\x04');
    const { exit, modes } = await t.modesAfterExit();
    expect(exit).toBe(0);
    expectCooked(modes);
    expect(onHost(h, `docker ps -a --filter name=${name} --format '{{.Names}}'`)).toBe('');
  });

  it('accessory exec -i --reuse db sh: a shell in the accessory container on a pty', async () => {
    const t = open(['accessory', 'exec', '-i', '--reuse', '-v', 'db', 'sh'], [33, 111]);
    await t.expect(/Launching interactive command via SSH from existing container\.\.\./);
    await t.expect(/docker exec -it app-db sh/);
    await t.prompt();
    expect(await t.run('echo $((6*7))')).toBe('42');
    expect(await t.run('tty')).toMatch(/^\/dev\/pts\/\d+$/);
    expect(await t.run('echo $DB_PORT')).toBe('5432');
    expect(await t.sizeBecomes(33, 111)).toBe('33 111');
    t.resize(50, 160);
    expect(await t.sizeBecomes(50, 160)).toBe('50 160');
    t.type('exit 5\r');
    const { exit, modes } = await t.modesAfterExit();
    expect(exit).toBe(5);
    expectCooked(modes);
  });

  it('server exec -i sh: a login-less shell on the host with our TERM and window size; Ctrl-C, then Ctrl-D', async () => {
    const t = open(['server', 'exec', '-i', 'sh'], [28, 97]);
    await t.expect(/Running 'sh' on 127\.0\.0\.2 interactively\.\.\./);
    await t.prompt();
    expect(await t.run('echo $((6*7))')).toBe('42');
    expect(await t.run('tty')).toMatch(/^\/dev\/pts\/\d+$/);
    expect(await t.run('echo $TERM')).toBe('xterm-256color');
    expect(await t.run('hostname')).toBe(h.name);
    // the pty is made at the size of ours: right from the start
    expect(await t.run('stty size')).toBe('28 97');
    // a resize reaches the host after SIGWINCH got to us: a moment later
    t.resize(44, 133);
    expect(await t.sizeBecomes(44, 133)).toBe('44 133');
    t.type(`sh -c 'echo "SLEEPING$((1+1))"; exec sleep 4243'\r`);
    await t.expect(/SLEEPING2\r\n/);
    t.type('\x03');
    expect(await t.status()).toBe(130);
    expect(onHost(h, "grep -l 'slee[p].4243' /proc/[0-9]*/cmdline 2>/dev/null | wc -l")).toBe('0');
    t.type('\x04');
    const { exit, modes } = await t.modesAfterExit();
    expect(exit).toBe(0);
    expectCooked(modes);
  });

  it('app logs -f streams new lines until Ctrl-C ends it', async () => {
    const t = open(['app', 'logs', '-f', '-T']);
    await t.expect(/Following logs on 127\.0\.0\.2\.\.\./);
    const path = `/follow-${randomBytes(4).toString('hex')}`;
    const r = await httpGet(h.ip, path, HOST);
    expect(r.status).toBe(404);
    await t.expect(new RegExp(`url:${path}`));
    t.type('\x03');
    const { exit, modes } = await t.modesAfterExit();
    // the remote `docker logs` was interrupted: its status, no message of ours
    expect(exit).toBeGreaterThan(128);
    expectCooked(modes);
    expect(t.output).not.toMatch(/Error|Command failed|Cancelled/);
    expect(onHost(h, "grep -l 'docke[r].logs' /proc/[0-9]*/cmdline 2>/dev/null | wc -l")).toBe('0');
  });

  it('accessory logs -f and proxy logs -f follow on their host until Ctrl-C ends them', async () => {
    const acc = open(['accessory', 'logs', 'db', '-f', '-T']);
    await acc.expect(/Following logs on 127\.0\.0\.2\.\.\./);
    await acc.expect(/db starting port=5432 /);
    acc.type('\x03');
    const a = await acc.modesAfterExit();
    expect(a.exit).toBeGreaterThan(128);
    expectCooked(a.modes);

    const path = `/proxied-${randomBytes(4).toString('hex')}`;
    const proxy = open(['proxy', 'logs', '-f', '-T', '--grep', path]);
    await proxy.expect(/Following logs on 127\.0\.0\.2\.\.\./);
    expect((await httpGet(h.ip, path, HOST)).status).toBe(404);
    await proxy.expect(new RegExp(`"msg":"Request".*"path":"${path}"`));
    proxy.type('\x03');
    const p = await proxy.modesAfterExit();
    expect(p.exit).toBeGreaterThan(128);
    expectCooked(p.modes);
    expect(acc.output + proxy.output).not.toMatch(/Error|Command failed|Cancelled/);
  });

  it('app exec -i --reuse: docker exec -i without -t, no pty, the piped input reaches the command, its status is ours', async () => {
    const r = await piped(dir, ['app', 'exec', '-i', '--reuse', '-v', "sh -c 'tty; cat; echo done; exit 4'"], 'first line\nsecond line\n');
    // SSHKit's Running line goes to standard output, as Kamal prints it
    expect(r.stdout).toMatch(/Running docker exec -i app-web-v1 sh -c 'tty; cat; echo done; exit 4' on 127\.0\.0\.2/);
    expect(r.stdout + r.stderr).not.toMatch(/docker exec -it/);
    expect(r.stdout).toContain('not a tty\nfirst line\nsecond line\ndone\n');
    expect(r.code).toBe(4);
  });

  it('app logs -f with stdin piped: no pty; SIGINT (as from a CI cancel) stops it at once', async () => {
    const child = spawn(CLI[0]!, [...CLI.slice(1), 'app', 'logs', '-f'], { cwd: dir, env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const path = `/piped-${randomBytes(4).toString('hex')}`;
    await new Promise<void>((resolve, reject) => {
      let asked = false;
      const giveUp = setTimeout(() => reject(new Error(`url:${path} never showed up:\n${stdout}\n${stderr}`)), GIVE_UP_MS);
      child.on('close', () => reject(new Error(`the CLI exited:\n${stdout}\n${stderr}`)));
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        stdout += s;
        if (!asked && stdout.includes('Following logs on')) {
          asked = true;
          void httpGet(h.ip, path, HOST);
        }
        if (stdout.includes(`url:${path}`)) {
          clearTimeout(giveUp);
          resolve();
        }
      });
    });
    // OpenSSH keeps a session without a pty until its command exits, and refuses to signal it:
    // we stop at once all the same, as `ssh` does (the remote follower meets its closed output)
    child.kill('SIGINT');
    const stuck = setTimeout(() => child.kill('SIGKILL'), GIVE_UP_MS);
    expect(await closed).toBe(130);
    clearTimeout(stuck);
    expect(stderr).toContain('Received SIGINT');
    expect(stderr).toContain('Cancelled');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('server exec -i: the input reaches the host command, and its end is the end of input there', async () => {
    const r = await piped(dir, ['server', 'exec', '-i', "sh -c 'tty; wc -l'"], 'a\nb\nc\n');
    expect(r.stdout).toContain('not a tty\n3\n');
    expect(r.code).toBe(0);
  });
});
