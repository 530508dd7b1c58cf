/**
 * What the CLI prints: SSHKit's pretty lines for each command (plain and painted), Kamal's
 * messages with Thor's colours, and what -v and -q show.
 */
import { describe, expect, it } from 'vitest';
import { Configuration } from '../../../src/model/index.js';
import { RecordingRunner } from '../../../test/support/recording.js';
import { Kamal } from '../../../src/engine/kamal.js';
import { MapSecretStore } from '../../../src/secret.js';
import { cmd } from '../../../src/shell.js';
import { commandDataMessage, commandExitMessage, commandStartMessage, formatMessage, plain, sshkitPaint, wantsColour } from '../../../src/output/format.js';
import { TerminalReporter, terminalReporter, verbosityOf, type Verbosity } from '../../../src/output/console.js';

const ESC = '\x1b';

describe("SSHKit's pretty format", () => {
  const cases: [string, string, string][] = [
    ['start on a host', formatMessage('info', commandStartMessage('docker ps', 'vm1'), 'a1b2c3d4'), '  INFO [a1b2c3d4] Running docker ps on vm1'],
    [
      'start with a user',
      formatMessage('info', commandStartMessage('docker login', 'localhost', 'runner'), 'a1b2c3d4'),
      '  INFO [a1b2c3d4] Running docker login as runner@localhost',
    ],
    [
      'success',
      formatMessage('info', commandExitMessage(0.1234, 0), 'a1b2c3d4'),
      '  INFO [a1b2c3d4] Finished in 0.123 seconds with exit status 0 (successful).',
    ],
    [
      'failure',
      formatMessage('info', commandExitMessage(12.5, 125), 'a1b2c3d4'),
      '  INFO [a1b2c3d4] Finished in 12.500 seconds with exit status 125 (failed).',
    ],
    ['output', formatMessage('debug', commandDataMessage('hello\n'), 'a1b2c3d4'), ' DEBUG [a1b2c3d4] \thello'],
    ['no id', formatMessage('warn', 'careful'), '  WARN careful'],
    [
      'painted start',
      formatMessage('info', commandStartMessage('docker ps', 'vm1', undefined, sshkitPaint), 'a1b2c3d4', sshkitPaint),
      `${ESC}[0;34;49m  INFO${ESC}[0m [${ESC}[0;32;49ma1b2c3d4${ESC}[0m] Running ${ESC}[1;33;49mdocker ps${ESC}[0m on ${ESC}[0;34;49mvm1${ESC}[0m`,
    ],
    ['painted failure', commandExitMessage(1, 1, sshkitPaint), `Finished in 1.000 seconds with exit status 1 (${ESC}[1;31;49mfailed${ESC}[0m).`],
    ['painted stderr', commandDataMessage('oops', sshkitPaint, 'stderr'), `${ESC}[0;31;49m\toops${ESC}[0m`],
  ];
  for (const [name, got, want] of cases) it(name, () => expect(got).toBe(want));
});

describe('colours', () => {
  const cases: [string, { isTTY?: boolean } | undefined, Record<string, string>, boolean][] = [
    ['a terminal', { isTTY: true }, {}, true],
    ['a pipe', { isTTY: false }, {}, false],
    ['NO_COLOR on a terminal', { isTTY: true }, { NO_COLOR: '1' }, false],
    ['NO_COLOR empty is unset', { isTTY: true }, { NO_COLOR: '' }, true],
    ['TERM=dumb', { isTTY: true }, { TERM: 'dumb' }, false],
    ['SSHKIT_COLOR on a pipe', { isTTY: false }, { SSHKIT_COLOR: '1' }, true],
    ['NO_COLOR beats SSHKIT_COLOR', { isTTY: true }, { SSHKIT_COLOR: '1', NO_COLOR: '1' }, false],
  ];
  for (const [name, stream, env, want] of cases) it(name, () => expect(wantsColour(stream, env)).toBe(want));
  it('plain leaves text alone', () => expect(plain('x', 'red', true)).toBe('x'));

  it("the CLI's reporter paints a terminal unless NO_COLOR is set", () => {
    const said = (env: Record<string, string>) => {
      let text = '';
      const out = { isTTY: true, write: (t: string) => (text += t) } as unknown as NodeJS.WriteStream;
      terminalReporter({ out }, env).say('Acquiring the deploy lock...');
      return text;
    };
    expect(said({})).toBe(`${ESC}[35mAcquiring the deploy lock...${ESC}[0m\n`);
    expect(said({ NO_COLOR: '1' })).toBe('Acquiring the deploy lock...\n');
  });
});

function terminal(verbosity: Verbosity, colour = false) {
  const lines = { out: '', err: '' };
  const r = new TerminalReporter({
    verbosity,
    colour,
    localUser: 'me',
    out: { write: (t: string) => (lines.out += t) },
    err: { write: (t: string) => (lines.err += t) },
  });
  return { r, lines };
}

function script(r: TerminalReporter): void {
  r.say('Acquiring the deploy lock...');
  r.command('vm1', 'docker ps', 'a1b2c3d4');
  r.commandOutput('vm1', 'a1b2c3d4', 'stdout', 'abc123\n');
  r.commandEnd('vm1', 'a1b2c3d4', 0, 0.25);
  r.command('local', 'docker login -u u --password-stdin', 'ffff0000');
  r.commandEnd('local', 'ffff0000', 1, 1);
  r.say('Deploy lock already in place!', 'error');
  r.say('Building with uncommitted changes', 'warn');
  r.say('details', 'debug');
  r.hostOutput('vm1', 'v1');
}

describe('verbosity, as Kamal: -v debug, -q error', () => {
  it('info (default): commands with their host and duration, messages, host output', () => {
    const { r, lines } = terminal('info');
    script(r);
    expect(lines.out).toBe(
      [
        'Acquiring the deploy lock...',
        '  INFO [a1b2c3d4] Running docker ps on vm1',
        '  INFO [a1b2c3d4] Finished in 0.250 seconds with exit status 0 (successful).',
        '  INFO [ffff0000] Running docker login -u u --password-stdin as me@localhost',
        '  INFO [ffff0000] Finished in 1.000 seconds with exit status 1 (failed).',
        'App Host: vm1',
        'v1',
        '',
        '',
      ].join('\n'),
    );
    expect(lines.err).toBe('Deploy lock already in place!\nBuilding with uncommitted changes\n');
  });

  it('debug (-v): also the command line and its output', () => {
    const { r, lines } = terminal('debug');
    script(r);
    expect(lines.out.split('\n').slice(0, 6)).toEqual([
      'Acquiring the deploy lock...',
      '  INFO [a1b2c3d4] Running docker ps on vm1',
      ' DEBUG [a1b2c3d4] Command: docker ps',
      ' DEBUG [a1b2c3d4] \tabc123',
      '  INFO [a1b2c3d4] Finished in 0.250 seconds with exit status 0 (successful).',
      '  INFO [ffff0000] Running docker login -u u --password-stdin as me@localhost',
    ]);
    expect(lines.out).toContain('details\n');
  });

  it('error (-q): no commands, no messages; errors and host output only', () => {
    const { r, lines } = terminal('error');
    script(r);
    expect(lines.out).toBe('v1\n');
    expect(lines.err).toBe('Deploy lock already in place!\n');
  });

  it('colours: progress magenta, warnings yellow, errors red (Thor), commands as SSHKit', () => {
    const { r, lines } = terminal('info', true);
    script(r);
    expect(lines.out.split('\n')[0]).toBe(`${ESC}[35mAcquiring the deploy lock...${ESC}[0m`);
    expect(lines.out.split('\n')[1]).toBe(
      `${ESC}[0;34;49m  INFO${ESC}[0m [${ESC}[0;32;49ma1b2c3d4${ESC}[0m] Running ${ESC}[1;33;49mdocker ps${ESC}[0m on ${ESC}[0;34;49mvm1${ESC}[0m`,
    );
    expect(lines.err).toBe(`${ESC}[31mDeploy lock already in place!${ESC}[0m\n${ESC}[33mBuilding with uncommitted changes${ESC}[0m\n`);
  });

  it('a dry run leaves the command lines out', () => {
    const lines = { out: '' };
    const r = new TerminalReporter({ commands: false, out: { write: (t: string) => (lines.out += t) }, err: { write: () => undefined } });
    script(r);
    expect(lines.out).not.toContain('Running');
    expect(lines.out).not.toContain('Finished');
  });

  it('audit and lock commands (debug in Kamal): only with -v, Running and Finished both at DEBUG', () => {
    for (const verbosity of ['info', 'debug'] as const) {
      const { r, lines } = terminal(verbosity);
      r.command('vm1', 'mkdir -p .kamal && echo "audit" >> .kamal/app-audit.log', 'a1b2c3d4', 'debug');
      r.commandEnd('vm1', 'a1b2c3d4', 0, 0.1);
      r.command('vm1', 'docker ps', 'ffff0000');
      r.commandEnd('vm1', 'ffff0000', 0, 0.1);
      const audit =
        verbosity === 'debug'
          ? [
              ' DEBUG [a1b2c3d4] Running mkdir -p .kamal && echo "audit" >> .kamal/app-audit.log on vm1',
              ' DEBUG [a1b2c3d4] Command: mkdir -p .kamal && echo "audit" >> .kamal/app-audit.log',
              ' DEBUG [a1b2c3d4] Finished in 0.100 seconds with exit status 0 (successful).',
            ]
          : [];
      const ps = [
        '  INFO [ffff0000] Running docker ps on vm1',
        ...(verbosity === 'debug' ? [' DEBUG [ffff0000] Command: docker ps'] : []),
        '  INFO [ffff0000] Finished in 0.100 seconds with exit status 0 (successful).',
      ];
      expect(lines.out, verbosity).toBe(`${[...audit, ...ps].join('\n')}\n`);
    }
  });

  it("Kamal's info and error inside `on` are SSHKit log lines; -q keeps only errors", () => {
    for (const verbosity of ['info', 'error'] as const) {
      const { r, lines } = terminal(verbosity);
      r.log('First web container is healthy on vm1, booting any other roles', 'info', 'vm1');
      r.log('Failed to boot web on vm2', 'error', 'vm2');
      r.log('details', 'debug', 'vm2');
      expect(lines.out, verbosity).toBe(
        verbosity === 'info'
          ? '  INFO First web container is healthy on vm1, booting any other roles\n ERROR Failed to boot web on vm2\n'
          : ' ERROR Failed to boot web on vm2\n',
      );
    }
  });

  it('-q wins over -v', () => {
    expect(verbosityOf({ verbose: true, quiet: true })).toBe('error');
    expect(verbosityOf({ verbose: true })).toBe('debug');
    expect(verbosityOf({})).toBe('info');
  });
});

describe('the engine reports each command with an id, its exit status and its run time', () => {
  it('start, redacted output, end; a failure ends with its exit status', async () => {
    const config = new Configuration(
      { service: 'app', image: 'dhh/app', servers: ['1.1.1.1'], registry: { username: 'u', password: ['PW'] }, builder: { arch: 'amd64' } },
      { secrets: new MapSecretStore({ PW: 's3cret-pw' }), version: 'v1' },
    );
    const runner = new RecordingRunner((_h, c) => (c.startsWith('false') ? { exitCode: 3, stderr: 'no' } : { stdout: 'token s3cret-pw\n' }));
    const { r, lines } = terminal('debug');
    const k = new Kamal({ config, runner, reporter: r });
    k.secrets.add(config.secrets.get('PW')!);
    await k.exec('1.1.1.1', k.cmds.auditor().record('Booted app version v1'));
    await k.exec('1.1.1.1', cmd('echo', 'hi'));
    await k.exec('1.1.1.1', cmd('false'), { allowFailure: true });
    await expect(k.exec('1.1.1.1', cmd('false'))).rejects.toThrow(/exit 3/);
    const shown = lines.out.replace(/\[[0-9a-f]{8}\]/g, '[id]').replace(/\d+\.\d{3} seconds/g, 'N seconds');
    expect(shown.split('\n')).toEqual([
      // the audit line: at DEBUG, as Kamal runs it
      expect.stringMatching(/^ DEBUG \[id\] Running mkdir -p \.kamal && echo ".*Booted app version v1" >> \.kamal\/app-audit\.log on 1\.1\.1\.1$/),
      expect.stringMatching(/^ DEBUG \[id\] Command: mkdir -p \.kamal && echo ".*Booted app version v1" >> \.kamal\/app-audit\.log$/),
      ' DEBUG [id] \ttoken [REDACTED]',
      ' DEBUG [id] Finished in N seconds with exit status 0 (successful).',
      '  INFO [id] Running echo hi on 1.1.1.1',
      ' DEBUG [id] Command: echo hi',
      ' DEBUG [id] \ttoken [REDACTED]',
      '  INFO [id] Finished in N seconds with exit status 0 (successful).',
      '  INFO [id] Running false on 1.1.1.1',
      ' DEBUG [id] Command: false',
      ' DEBUG [id] \tno',
      '  INFO [id] Finished in N seconds with exit status 3 (failed).',
      '  INFO [id] Running false on 1.1.1.1',
      ' DEBUG [id] Command: false',
      ' DEBUG [id] \tno',
      '  INFO [id] Finished in N seconds with exit status 3 (failed).',
      '',
    ]);
    const ids = [...lines.out.matchAll(/\[([0-9a-f]{8})\]/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(4);
  });

  it('messages are redacted too (said or logged)', () => {
    const config = new Configuration(
      { service: 'app', image: 'dhh/app', servers: ['1.1.1.1'], registry: { username: 'u', password: ['PW'] }, builder: { arch: 'amd64' } },
      { secrets: new MapSecretStore({ PW: 's3cret-pw' }), version: 'v1' },
    );
    const { r, lines } = terminal('info');
    const k = new Kamal({ config, runner: new RecordingRunner(), reporter: r });
    k.secrets.add(config.secrets.get('PW')!);
    k.say('login with s3cret-pw...');
    k.log('health: s3cret-pw', 'error', '1.1.1.1');
    expect(lines.out).toBe('login with [REDACTED]...\n ERROR health: [REDACTED]\n');
  });
});
