/**
 * Interactive commands over the pool against the in-process SSH server: the pseudo-terminal
 * request (type and size of the local terminal), window changes, raw mode on and back off
 * (also on abort, a dropped connection and process exit), stdin forwarding and EOF, output
 * passed through byte for byte, and the remote exit status.
 */
import { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CommandAbortedError, ConnectionError } from '../../../src/exec/types.js';
import { LocalTerminal, type TerminalStreams } from '../../../src/exec/terminal.js';
import { Secret } from '../../../src/secret.js';
import { cmd, raw } from '../../../src/shell.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { FakeOut, FakeStdin } from '../exec/fake-terminal.js';
import { newKeyPair, tempDir, TestSshServer, writeKnownHosts, type KeyPair } from './test-server.js';

class FakeProcess extends EventEmitter {}

function streams(tty: boolean, size: [number, number] = [30, 100]): TerminalStreams & { stdin: FakeStdin; stdout: FakeOut; stderr: FakeOut } {
  return {
    stdin: new FakeStdin(tty),
    stdout: new FakeOut(tty, ...size),
    stderr: new FakeOut(tty, ...size),
    term: 'xterm-256color',
  };
}

let clientKey: KeyPair;
let server: TestSshServer;
let knownHostsFile: string;
const pools: SshPool[] = [];

function pool(): SshPool {
  const p = new SshPool({
    user: 'deploy',
    keyData: [new Secret(clientKey.private, 'SSH_PRIVATE_KEY')],
    agent: false,
    knownHostsFiles: [knownHostsFile],
    connectTimeoutMs: 10_000,
  });
  pools.push(p);
  return p;
}

beforeAll(async () => {
  clientKey = newKeyPair();
  server = await TestSshServer.start({ authorizedKeys: [clientKey.public] });
  knownHostsFile = writeKnownHosts(tempDir(), [server.knownHostsLine()]);
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await server.close();
});

describe('LocalTerminal: what is asked of the remote side', () => {
  it.each([
    [
      'a terminal on stdin: a pty of its type and of the size of stdout',
      { tty: true, out: [30, 100], err: [0, 0], term: 'screen' },
      { term: 'screen', rows: 30, cols: 100 },
    ],
    ['stdout redirected: the size of stderr', { tty: true, out: undefined, err: [50, 132], term: 'xterm' }, { term: 'xterm', rows: 50, cols: 132 }],
    ['no size known: 24x80', { tty: true, out: undefined, err: undefined, term: 'vt100' }, { term: 'vt100', rows: 24, cols: 80 }],
    ['no TERM: xterm', { tty: true, out: [10, 20], err: undefined, term: undefined }, { term: 'xterm', rows: 10, cols: 20 }],
    ['piped stdin: no pty, as ssh -t without a terminal', { tty: false, out: [30, 100], err: [30, 100], term: 'xterm' }, undefined],
  ] as const)('%s', (_name, given, pty) => {
    const out = (size: readonly [number, number] | undefined) => (size ? new FakeOut(true, size[0], size[1]) : new FakeOut(false));
    const t = new LocalTerminal({ stdin: new FakeStdin(given.tty), stdout: out(given.out), stderr: out(given.err), term: given.term });
    expect(t.pty).toEqual(pty);
  });
});

describe('SshPool: interactive commands', () => {
  it('piped stdin: no pty; the input reaches the command, its end is EOF; output byte for byte; the exit status is returned', async () => {
    const io = streams(false);
    const exitHook = new FakeProcess();
    const terminal = new LocalTerminal(io, { exitHook });
    const running = pool().run(server.address, cmd('sh', '-c', 'cat; printf "\\377\\000A"; echo oops >&2; exit 3'), {
      interactive: terminal,
      allowFailure: true,
    });
    io.stdin.write('line one\n');
    await io.stdout.until('line one\n');
    io.stdin.end('line two\n');
    const r = await running;
    expect(r.exitCode).toBe(3);
    expect(io.stdout.bytes).toEqual(Buffer.concat([Buffer.from('line one\nline two\n'), Buffer.from([0xff, 0x00, 0x41])]));
    expect(io.stderr.text).toBe('oops\n');
    // streamed, not collected
    expect(r.stdout).toBe('');
    expect(io.stdin.modes).toEqual([]);
    expect(server.ptys).toEqual([]);
    expect(exitHook.listenerCount('exit')).toBe(0);
  });

  it('a terminal on stdin: a pty of the terminal type and size, raw mode while the command runs, resizes follow', async () => {
    const io = streams(true, [30, 100]);
    const exitHook = new FakeProcess();
    const before = server.ptys.length;
    const opost: boolean[] = [];
    const terminal = new LocalTerminal(io, { exitHook, outputProcessing: (on) => opost.push(on) });
    // reads one line, reports it, then exits with the number of bytes of a second line
    const running = pool().run(server.address, cmd('sh', '-c', raw(`'read a; echo "got:$a"; read b; exit \${#b}'`)), {
      interactive: terminal,
      allowFailure: true,
    });
    io.stdin.write('first\n');
    await io.stdout.until('got:first');
    expect(io.stdin.modes).toEqual([true]);
    // output processing off, as ssh -t does (leaving raw mode puts it back)
    expect(opost).toEqual([false]);
    expect(exitHook.listenerCount('exit')).toBe(1);
    expect(server.ptys.slice(before)).toEqual([{ term: 'xterm-256color', rows: 30, cols: 100 }]);

    const changes = server.windowChanges.length;
    io.stdout.resize(40, 120);
    io.stdin.write('seven77\n');
    const r = await running;
    // the window change went out before the input that followed it
    expect(server.windowChanges.slice(changes)).toEqual([{ rows: 40, cols: 120 }]);
    expect(r.exitCode).toBe(7);
    expect(io.stdin.modes).toEqual([true, false]);
    expect(exitHook.listenerCount('exit')).toBe(0);
    expect(io.stdout.listenerCount('resize')).toBe(0);
    expect(io.stdin.listenerCount('data')).toBe(0);
  });

  it('keeps a terminal that was already raw in raw mode afterwards', async () => {
    const io = streams(true);
    io.stdin.isRaw = true;
    const opost: boolean[] = [];
    const terminal = new LocalTerminal(io, { exitHook: new FakeProcess(), outputProcessing: (on) => opost.push(on) });
    const r = await pool().run(server.address, cmd('true'), { interactive: terminal });
    expect(r.exitCode).toBe(0);
    expect(io.stdin.modes).toEqual([true, true]);
    expect(opost).toEqual([false, true]);
  });

  it('puts the terminal back when the command is cancelled', async () => {
    const io = streams(true);
    const ac = new AbortController();
    const running = pool().run(server.address, cmd('sh', '-c', raw(`'echo started; sleep 30'`)), {
      interactive: new LocalTerminal(io, { exitHook: new FakeProcess() }),
      signal: ac.signal,
    });
    await io.stdout.until('started');
    ac.abort();
    await expect(running).rejects.toBeInstanceOf(CommandAbortedError);
    expect(io.stdin.modes).toEqual([true, false]);
  });

  it('puts the terminal back when the connection drops', async () => {
    const io = streams(true);
    const running = pool().run(server.address, cmd('sh', '-c', raw(`'echo started; sleep 30'`)), {
      interactive: new LocalTerminal(io, { exitHook: new FakeProcess() }),
    });
    await io.stdout.until('started');
    server.dropClients();
    await expect(running).rejects.toBeInstanceOf(ConnectionError);
    expect(io.stdin.modes).toEqual([true, false]);
  });

  it('puts the terminal back if the process exits while the command runs', async () => {
    const io = streams(true);
    const exitHook = new FakeProcess();
    const terminal = new LocalTerminal(io, { exitHook });
    const ac = new AbortController();
    const running = pool().run(server.address, cmd('sh', '-c', raw(`'echo started; sleep 30'`)), { interactive: terminal, signal: ac.signal });
    await io.stdout.until('started');
    exitHook.emit('exit');
    expect(io.stdin.modes).toEqual([true, false]);
    ac.abort();
    await running.catch(() => undefined);
    expect(io.stdin.modes).toEqual([true, false]);
  });
});
