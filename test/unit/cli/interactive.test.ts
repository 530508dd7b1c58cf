/**
 * Interactive commands through the CLI: which command runs attached to the terminal, on which
 * host, with `-it` (and a pseudo-terminal) when stdin is a terminal and `-i` when it is piped,
 * as Kamal's `docker_interactive_args` and `ssh -t`; the remote exit status becomes the run's,
 * with no message; the terminal's streams are the ones the session reads and writes. Then
 * `server exec -i` end to end over the in-process SSH server.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { RecordingRunner } from '../../../test/support/recording.js';
import type { InteractiveSession, RunOptions, RunResult } from '../../../src/exec/types.js';
import type { Command } from '../../../src/shell.js';
import { display } from '../../../src/shell.js';
import { FakeOut, FakeStdin } from '../exec/fake-terminal.js';
import { newKeyPair, tempDir, TestSshServer, writeKnownHosts, type KeyPair } from '../ssh/test-server.js';
import { copyFixture, testEnv } from './helpers.js';

interface Attached {
  host: string;
  command: string;
  pty: InteractiveSession['pty'];
  input: string;
}

/**
 * Records every command; an interactive one is attached like the SSH pool does: it says
 * `hello from <host>`, reads its input to the end and exits with `exitCode`.
 */
class InteractiveRecorder extends RecordingRunner {
  readonly attached: Attached[] = [];
  constructor(private readonly exitCode = 0) {
    super();
  }
  override async run(host: string, command: Command, opts: RunOptions = {}): Promise<RunResult> {
    const session = opts.interactive;
    if (!session) return super.run(host, command, opts);
    this.transcript.push({ host, command: display(command) });
    const seen: Attached = { host, command: display(command), pty: session.pty, input: '' };
    this.attached.push(seen);
    await new Promise<void>((resolve) => {
      const detach = session.attach({
        write: (d) => void (seen.input += d.toString()),
        end: () => {
          detach();
          resolve();
        },
        resize: () => undefined,
      });
      session.stdout(Buffer.from(`hello from ${host}\r\n`));
    });
    const r: RunResult = { host, command: display(command), exitCode: this.exitCode, stdout: '', stderr: '', durationMs: 0 };
    return r;
  }
}

async function cli(argv: string[], o: { tty: boolean; exitCode?: number; input?: string }) {
  const dir = copyFixture();
  const runner = new InteractiveRecorder(o.exitCode);
  const stdin = new FakeStdin(o.tty);
  const stdout = new FakeOut(o.tty, 30, 100);
  const stderr = new FakeOut(o.tty, 30, 100);
  let err = '';
  const reporter = new MemoryReporter();
  const running = runCli(argv, {
    cwd: dir,
    env: { ...testEnv(), TERM: 'xterm-256color' },
    out: () => undefined,
    err: (s) => void (err += s),
    reporter,
    runner,
    local: new RecordingRunner(),
    onContext: (k) => {
      k.stdin = stdin;
      k.stdout = stdout;
      k.stderr = stderr;
    },
  });
  // the input, then its end (a terminal's Ctrl-D is a byte; here the fake remote ends on EOF)
  stdin.end(o.input ?? '');
  const result = await running;
  return { result, err, runner, stdin, stdout, said: reporter.messages.map((m) => m.message) };
}

const VERSION_ARGS = ['--version', 'v1'];

describe('interactive commands: what runs attached, where, -it or -i', () => {
  const cases: [string, string[], string, RegExp][] = [
    ['app exec -i --reuse', ['app', 'exec', '-i', '--reuse', 'bash'], '10.0.0.1', /^docker exec (-it?) app-web-v1 bash$/],
    [
      'app exec -i',
      ['app', 'exec', '-i', 'bash'],
      '10.0.0.1',
      /^docker run (-it?) --rm --name app-web-exec-v1-[0-9a-f]{6} --network kamal .* registry\.example\.com\/acme\/app:v1 bash$/,
    ],
    ['accessory exec -i --reuse', ['accessory', 'exec', '-i', '--reuse', 'mysql', 'bash'], '10.0.0.4', /^docker exec (-it?) app-mysql bash$/],
    ['accessory exec -i', ['accessory', 'exec', '-i', 'mysql', 'bash'], '10.0.0.4', /^docker run (-it?) --rm .*mysql:8\.0 bash$/],
  ];

  for (const [name, argv, host, pattern] of cases) {
    it.each([
      [true, '-it'],
      [false, '-i'],
    ])(`${name}: stdin a terminal %s gives %s`, async (tty, flag) => {
      const run = await cli([...argv, ...VERSION_ARGS], { tty });
      expect(run.result.exitCode, run.err).toBe(0);
      expect(run.runner.attached.map((a) => a.host)).toEqual([host]);
      const m = pattern.exec(run.runner.attached[0]!.command);
      expect(m, run.runner.attached[0]!.command).not.toBeNull();
      expect(m![1]).toBe(flag);
      expect(run.runner.attached[0]!.pty).toEqual(tty ? { term: 'xterm-256color', rows: 30, cols: 100 } : undefined);
      expect(run.stdin.modes).toEqual(tty ? [true, false] : []);
      expect(run.stdout.text).toBe(`hello from ${host}\r\n`);
    });
  }

  it.each([
    ['server exec -i', ['server', 'exec', '-i', 'bash'], '10.0.0.1', 'bash', ["Running 'bash' on 10.0.0.1 interactively..."]],
    [
      'app logs -f',
      ['app', 'logs', '-f', '-T', '--container-id', 'abc'],
      '10.0.0.1',
      "sh -c 'echo abc' | xargs docker logs --tail 10 --follow 2>&1",
      ['Following logs on 10.0.0.1...', "sh -c 'echo abc' | xargs docker logs --tail 10 --follow 2>&1"],
    ],
    [
      'proxy logs -f',
      ['proxy', 'logs', '-f', '--grep', 'GET'],
      '10.0.0.1',
      'docker logs kamal-proxy --timestamps --tail 10 --follow 2>&1 | grep "GET"',
      ['Following logs on 10.0.0.1...', 'docker logs kamal-proxy --timestamps --tail 10 --follow 2>&1 | grep "GET"'],
    ],
    [
      'accessory logs -f',
      ['accessory', 'logs', 'mysql', '-f'],
      '10.0.0.4',
      'docker logs app-mysql --timestamps --tail 10 --follow 2>&1',
      ['Following logs on 10.0.0.4...', 'docker logs app-mysql --timestamps --tail 10 --follow 2>&1'],
    ],
  ])('%s: runs attached to the terminal on its host, with a pty when stdin is one', async (_name, argv, host, command, said) => {
    for (const tty of [true, false]) {
      const run = await cli(argv, { tty });
      expect(run.result.exitCode, run.err).toBe(0);
      // Kamal says what logs -f runs (its ssh line); exec -i only says where
      expect(run.said).toEqual(said);
      expect(run.runner.attached).toEqual([{ host, command, pty: tty ? { term: 'xterm-256color', rows: 30, cols: 100 } : undefined, input: '' }]);
      // nothing runs locally: no `ssh -t`
      expect(run.runner.transcript.filter((t) => t.host === 'local')).toEqual([]);
    }
  });

  it("the remote exit status is the run's, with no error message; the input reaches the command", async () => {
    const run = await cli(['server', 'exec', '-i', 'sh'], { tty: false, exitCode: 3, input: 'exit 3\n' });
    expect(run.result.exitCode).toBe(3);
    expect(run.err).toBe('');
    expect(run.runner.attached[0]!.input).toBe('exit 3\n');
    expect(run.said).toContain("Running 'sh' on 10.0.0.1 interactively...");
  });

  it('a signal number status (130 after Ctrl-C) is passed on as well', async () => {
    const run = await cli(['app', 'logs', '-f'], { tty: true, exitCode: 130 });
    expect(run.result.exitCode).toBe(130);
    expect(run.err).toBe('');
  });

  it('plan mode attaches nothing', async () => {
    const run = await cli(['plan', 'app', 'exec', '-i', '--reuse', 'bash', '--version', 'v1'], { tty: true });
    expect(run.result.exitCode, run.err).toBe(0);
    expect(run.stdin.modes).toEqual([]);
    expect(run.result.plan?.map((s) => [s.host, s.command])).toEqual([['10.0.0.1', 'docker exec -it app-web-v1 bash']]);
  });
});

describe('server exec -i over SSH (in-process server)', () => {
  let client: KeyPair;
  let server: TestSshServer;
  let dir: string;
  let knownHosts: string;

  beforeAll(async () => {
    client = newKeyPair();
    server = await TestSshServer.start({ authorizedKeys: [client.public] });
    dir = tempDir('kamal-interactive-');
    knownHosts = writeKnownHosts(dir, [server.knownHostsLine()]);
    mkdirSync(join(dir, 'config'), { recursive: true });
    const key = join(dir, 'id_ed25519');
    writeFileSync(key, client.private);
    chmodSync(key, 0o600);
    writeFileSync(
      join(dir, 'config/deploy.yml'),
      `service: app\nimage: acme/app\nservers:\n  - 127.0.0.1\nregistry:\n  username: u\n  password: p\nbuilder:\n  arch: amd64\nssh:\n  user: deploy\n  port: ${server.port}\n  keys: [${key}]\n  keys_only: true\n`,
    );
  });

  afterAll(async () => {
    await server.close();
  });

  async function serverExec(command: string, tty: boolean, input: string) {
    const stdin = new FakeStdin(tty);
    const stdout = new FakeOut(tty, 33, 111);
    const stderr = new FakeOut(tty, 33, 111);
    let err = '';
    const before = server.ptys.length;
    const running = runCli(['server', 'exec', '-i', command], {
      cwd: dir,
      env: { ...testEnv(), TERM: 'screen-256color', KAMAL_ACTION_KNOWN_HOSTS: knownHosts },
      out: () => undefined,
      err: (s) => void (err += s),
      reporter: new MemoryReporter(),
      local: new RecordingRunner(),
      onContext: (k) => {
        k.stdin = stdin;
        k.stdout = stdout;
        k.stderr = stderr;
      },
    });
    stdin.end(input);
    const result = await running;
    return { exitCode: result.exitCode, err, stdout: stdout.text, stderr: stderr.text, modes: stdin.modes, ptys: server.ptys.slice(before) };
  }

  it('piped: the input reaches the remote command, its output and exit status come back', async () => {
    const r = await serverExec(`sh -c 'read a; echo "got:$a"; echo warn >&2; exit 4'`, false, 'piped line\n');
    expect(r).toEqual({ exitCode: 4, err: '', stdout: 'got:piped line\n', stderr: 'warn\n', modes: [], ptys: [] });
  });

  it('a terminal: a pty of its type and size is asked for, raw mode on and back off, exit 0', async () => {
    const r = await serverExec(`sh -c 'read a; echo "got:$a"'`, true, 'typed\n');
    expect(r).toEqual({
      exitCode: 0,
      err: '',
      stdout: 'got:typed\n',
      stderr: '',
      modes: [true, false],
      ptys: [{ term: 'screen-256color', rows: 33, cols: 111 }],
    });
  });
});
