import { describe, expect, it } from 'vitest';
import { InputError, commandArgv, commandRun, getInputs, globalFlags, rollbackVersionInCommand, type Inputs } from '../../../src/action/inputs.js';
import { parse } from '../../../src/cli/program.js';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQUJDREVGRw==\n-----END OPENSSH PRIVATE KEY-----';

const reader = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('getInputs: defaults', () => {
  it('deploys config/deploy.yml from the workspace with strict host keys when nothing is given', () => {
    const i = getInputs(reader({}));
    expect(i).toEqual<Inputs>({
      command: ['deploy'],
      destination: undefined,
      version: undefined,
      'config-file': 'config/deploy.yml',
      'ssh-private-key': undefined,
      'ssh-known-hosts': undefined,
      'ssh-host-key-checking': 'strict',
      secrets: {},
      'secrets-env': [],
      'github-token': undefined,
      environment: undefined,
      'environment-url': undefined,
      'skip-push': false,
      'lock-wait': false,
      'dry-run': false,
      'working-directory': '.',
      'verify-url': [],
      'verify-for': undefined,
      'rollback-on-failure': false,
      'comment-on-pr': false,
    });
  });
});

describe('getInputs: good inputs', () => {
  const cases: [string, Record<string, string>, Partial<Inputs>][] = [
    ['command with quotes', { command: 'app exec --reuse "bin/rails db:migrate"' }, { command: ['app', 'exec', '--reuse', 'bin/rails db:migrate'] }],
    ['command with single quotes', { command: 'app exec -i \'echo "hi there"\'' }, { command: ['app', 'exec', '-i', 'echo "hi there"'] }],
    ['leading kamal word dropped', { command: 'kamal rollback v1' }, { command: ['rollback', 'v1'] }],
    // as Kamal's Shellwords.split: no shell operators, `;` and `$(...)` stay in their words
    ['command with shell characters', { command: 'app exec a;b $(date +%s)' }, { command: ['app', 'exec', 'a;b', '$(date', '+%s)'] }],
    ['whitespace-only command means deploy', { command: '   ' }, { command: ['deploy'] }],
    [
      'diff with a pull request comment',
      { command: 'diff -d staging', 'comment-on-pr': 'true' },
      { command: ['diff', '-d', 'staging'], 'comment-on-pr': true },
    ],
    ['destination', { destination: 'staging' }, { destination: 'staging' }],
    ['version tag', { version: 'a1b2c3_uncommitted_ff.1-x' }, { version: 'a1b2c3_uncommitted_ff.1-x' }],
    ['config file', { 'config-file': 'deploy/production.yml' }, { 'config-file': 'deploy/production.yml' }],
    ['boolean True', { 'skip-push': 'True' }, { 'skip-push': true }],
    ['boolean TRUE', { 'lock-wait': 'TRUE' }, { 'lock-wait': true }],
    ['boolean false', { 'dry-run': 'false' }, { 'dry-run': false }],
    ['accept-new', { 'ssh-host-key-checking': 'accept-new' }, { 'ssh-host-key-checking': 'accept-new' }],
    ['key normalised to LF and a final newline', { 'ssh-private-key': `${KEY.replace(/\n/g, '\r\n')}\r\n\r\n` }, { 'ssh-private-key': `${KEY}\n` }],
    [
      'known hosts',
      { 'ssh-known-hosts': '# vm\n10.0.0.1 ssh-ed25519 AAAAC3Nza\n@cert-authority *.x ssh-ed25519 AAAA\n' },
      { 'ssh-known-hosts': '# vm\n10.0.0.1 ssh-ed25519 AAAAC3Nza\n@cert-authority *.x ssh-ed25519 AAAA\n' },
    ],
    ['dotenv secrets', { secrets: 'A=1\nB="two words"' }, { secrets: { A: '1', B: 'two words' } }],
    ['JSON secrets', { secrets: '{"A":"1","github_token":"x"}' }, { secrets: { A: '1', github_token: 'x' } }],
    [
      'environment and url',
      { environment: 'production', 'environment-url': 'https://app.example.com' },
      { environment: 'production', 'environment-url': 'https://app.example.com' },
    ],
    ['working directory', { 'working-directory': 'apps/web' }, { 'working-directory': 'apps/web' }],
    ['skip-push with redeploy', { command: 'redeploy', 'skip-push': 'true' }, { command: ['redeploy'], 'skip-push': true }],
  ];
  it.each(cases)('%s', (_name, values, expected) => {
    expect(getInputs(reader(values))).toMatchObject(expected);
  });
});

describe('getInputs: bad inputs fail naming the input', () => {
  const cases: [Record<string, string>, string][] = [
    [{ 'lock-wait': 'yes' }, "Input 'lock-wait' must be true or false"],
    [{ 'skip-push': '1' }, "Input 'skip-push' must be true or false"],
    [{ 'dry-run': 'maybe' }, "Input 'dry-run' must be true or false"],
    [{ command: 'diff', 'comment-on-pr': 'yes' }, "Input 'comment-on-pr' must be true or false"],
    [{ 'comment-on-pr': 'true' }, "Input 'comment-on-pr' only applies to the diff command, not 'deploy'"],
    [{ command: 'app exec "unterminated' }, "Input 'command' is not a valid command line"],
    [{ command: '--version x' }, "Input 'command' must start with a command name"],
    [{ command: 'kamal' }, "Input 'command' must name a command"],
    [{ destination: 'prod uction' }, "Input 'destination' must be a destination name"],
    [{ destination: '../etc' }, "Input 'destination' must be a destination name"],
    [{ version: 'has space' }, "Input 'version' must be a valid image tag"],
    [{ version: '-rf' }, "Input 'version' must be a valid image tag"],
    [{ 'ssh-private-key': 'not a key' }, "Input 'ssh-private-key' must be a private key"],
    [{ 'ssh-private-key': '-----BEGIN OPENSSH PRIVATE KEY-----\nabc' }, "Input 'ssh-private-key' must be a private key"],
    [{ 'ssh-known-hosts': 'just-a-host' }, "Input 'ssh-known-hosts' line 1 is not a known_hosts entry"],
    [{ 'ssh-host-key-checking': 'off' }, "Input 'ssh-host-key-checking' must be strict or accept-new, got 'off'"],
    [{ 'ssh-host-key-checking': 'no' }, "Input 'ssh-host-key-checking' must be strict or accept-new"],
    [{ secrets: '{"A": nope}' }, 'Input \'secrets\' starts with "{" but is not valid JSON'],
    [{ secrets: 'NOT A LINE' }, "Input 'secrets' line 1: expected KEY=VALUE"],
    [{ 'environment-url': 'ftp://x' }, "Input 'environment-url' must be an http(s) URL"],
    [{ 'environment-url': 'not a url' }, "Input 'environment-url' must be an http(s) URL"],
    [{ command: 'rollback v1', 'skip-push': 'true' }, "Input 'skip-push' only applies to setup, deploy and redeploy"],
  ];
  it.each(cases)('%j', (values, message) => {
    let caught: unknown;
    try {
      getInputs(reader(values));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as Error).message).toContain(message);
  });

  it('never quotes a secret or key in its message', () => {
    const secret = 'hunter2-very-secret';
    const cases: Record<string, string>[] = [
      { secrets: `{"A": "${secret}" ` },
      { secrets: `${secret}` },
      { secrets: `A="${secret}` },
      { 'ssh-private-key': `-----BEGIN OPENSSH PRIVATE KEY-----\n${secret}` },
    ];
    for (const values of cases) {
      expect(() => getInputs(reader(values))).toThrow(InputErrorLike);
      try {
        getInputs(reader(values));
      } catch (e) {
        expect((e as Error).message).not.toContain(secret);
      }
    }
  });
});

const InputErrorLike = /^Input '/;

describe('commandArgv', () => {
  const argv = (values: Record<string, string>, opts?: { rollbackVersion?: string }) => commandArgv(getInputs(reader(values)), opts);

  it('adds the global flags after the command words', () => {
    expect(argv({ destination: 'staging', version: 'abc', 'skip-push': 'true', 'lock-wait': 'true', 'dry-run': 'true' })).toEqual([
      'deploy',
      '--config-file',
      'config/deploy.yml',
      '--destination',
      'staging',
      '--version',
      'abc',
      '--skip-push',
      '--lock-wait',
      '--dry-run',
    ]);
  });
  it('keeps a command line as given', () => {
    expect(argv({ command: 'app exec --reuse "bin/rails db:migrate"' })).toEqual([
      'app',
      'exec',
      '--reuse',
      'bin/rails db:migrate',
      '--config-file',
      'config/deploy.yml',
    ]);
  });
  it('puts the version input as the rollback argument (and as --version, so no git checkout is needed)', () => {
    expect(argv({ command: 'rollback', version: 'v1' })).toEqual(['rollback', 'v1', '--config-file', 'config/deploy.yml', '--version', 'v1']);
  });
  it('uses the looked-up version for a rollback without one', () => {
    expect(argv({ command: 'rollback' }, { rollbackVersion: 'v0' })).toEqual(['rollback', 'v0', '--config-file', 'config/deploy.yml', '--version', 'v0']);
  });
  it('prefers a version written in the command line', () => {
    const i = getInputs(reader({ command: 'rollback v7', version: 'v1' }));
    expect(rollbackVersionInCommand(i)).toBe('v7');
    expect(commandArgv(i)).toEqual(['rollback', 'v7', '--config-file', 'config/deploy.yml', '--version', 'v7']);
  });
  it('does not repeat flags the command line already has', () => {
    expect(argv({ command: 'deploy -P --lock-wait', 'skip-push': 'true', 'lock-wait': 'true' })).toEqual([
      'deploy',
      '-P',
      '--lock-wait',
      '--config-file',
      'config/deploy.yml',
    ]);
  });
  it('global flags for the post step are config and destination only', () => {
    expect(globalFlags(getInputs(reader({ destination: 'prod', 'config-file': 'x.yml', version: 'v' })))).toEqual([
      '--config-file',
      'x.yml',
      '--destination',
      'prod',
    ]);
  });
});

describe('commandRun: the words and typed options the engine takes', () => {
  const run = (values: Record<string, string>, opts?: { rollbackVersion?: string }) => commandRun(getInputs(reader(values)), opts);

  it.each<[string, Record<string, string>, { rollbackVersion?: string } | undefined, string[], Record<string, unknown>]>([
    ['deploy', {}, undefined, ['deploy'], { configFile: 'config/deploy.yml' }],
    [
      'deploy with every input',
      { destination: 'prod', version: 'v3', 'config-file': 'x.yml', 'skip-push': 'true', 'lock-wait': 'true', 'dry-run': 'true' },
      undefined,
      ['deploy', '--skip-push'],
      { configFile: 'x.yml', destination: 'prod', version: 'v3', lockWait: true, plan: true },
    ],
    [
      'a version in the command wins over the input',
      { command: 'deploy --version v9', version: 'v3' },
      undefined,
      ['deploy', '--version', 'v9'],
      { configFile: 'config/deploy.yml' },
    ],
    [
      'rollback to the version found on the hosts',
      { command: 'rollback' },
      { rollbackVersion: 'v7' },
      ['rollback', 'v7'],
      { configFile: 'config/deploy.yml', version: 'v7' },
    ],
    [
      'rollback named in the command',
      { command: 'rollback v5', version: 'v6' },
      undefined,
      ['rollback', 'v5'],
      { configFile: 'config/deploy.yml', version: 'v5' },
    ],
    ['-P already given', { command: 'deploy -P', 'skip-push': 'true' }, undefined, ['deploy', '-P'], { configFile: 'config/deploy.yml' }],
  ])('%s', (_name, values, opts, words, options) => {
    expect(run(values, opts)).toEqual({ words, options });
  });

  it.each<[Record<string, string>, { rollbackVersion?: string } | undefined]>([
    [{}, undefined],
    [{ destination: 'prod', version: 'v3', 'config-file': 'x.yml', 'skip-push': 'true', 'lock-wait': 'true', 'dry-run': 'true' }, undefined],
    [{ command: 'deploy --version v9 -d staging', destination: 'prod', version: 'v3' }, undefined],
    [{ command: 'rollback' }, { rollbackVersion: 'v7' }],
    [{ command: 'app exec --reuse "bin/rails db:migrate"', version: 'v2', 'lock-wait': 'true' }, undefined],
  ])('is the run commandArgv spells as one command line (%j)', (values, opts) => {
    const typed = run(values, opts);
    const parsed = parse(typed.words);
    const spelled = parse(commandArgv(getInputs(reader(values)), opts));
    if ('help' in parsed || 'help' in spelled) throw new Error('help');
    expect({ ...parsed.opts, ...typed.options }).toEqual(spelled.opts);
    expect([parsed.command, parsed.subcommand]).toEqual([spelled.command, spelled.subcommand]);
  });
});
