/**
 * The action's trust boundaries, unit by unit: command words that would weaken trust,
 * redaction of encoded secrets, what child processes see, and state the post step accepts.
 */
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError, commandArgv, getInputs } from '../../../src/action/inputs.js';
import { referencedNames, runnerEnv, unsafeEnvName } from '../../../src/action/child-env.js';
import { SignedState } from '../../../src/action/state.js';
import { readPostState } from '../../../src/action/run-post.js';
import { REDACTED, SecretRegistry, redactText } from '../../../src/secret.js';
import { LocalRunner } from '../../../src/exec/local.js';
import { cmd, render } from '../../../src/shell.js';
import { uploadCommand } from '../../../src/ssh/pool.js';
import { RecordingCore, fakeKamal } from './fakes.js';
import { startFakeGithub } from './github-server.js';
import { runMain } from '../../../src/action/run-main.js';

const reader = (values: Record<string, string>) => (name: string) => values[name] ?? '';

function inputError(values: Record<string, string>): string {
  try {
    getInputs(reader(values));
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('command words cannot weaken trust or change identity', () => {
  it.each<[string, string]>([
    [
      'lock status --host-key-checking off',
      "Input 'command' cannot carry --host-key-checking: host trust and identity come from the inputs; use the ssh-host-key-checking input instead",
    ],
    [
      'deploy --host-key-checking=accept-new',
      "Input 'command' cannot carry --host-key-checking: host trust and identity come from the inputs; use the ssh-host-key-checking input instead",
    ],
    [
      'deploy --known-hosts /dev/null',
      "Input 'command' cannot carry --known-hosts: host trust and identity come from the inputs; use the ssh-known-hosts input instead",
    ],
    [
      'app exec --known-hosts=/tmp/k ls',
      "Input 'command' cannot carry --known-hosts: host trust and identity come from the inputs; use the ssh-known-hosts input instead",
    ],
    ['deploy -c /etc/deploy.yml', "Input 'command' cannot use the config file '/etc/deploy.yml' outside the workspace; use the config-file input instead"],
    [
      'deploy --config-file ../../deploy.yml',
      "Input 'command' cannot use the config file '../../deploy.yml' outside the workspace; use the config-file input instead",
    ],
    ['deploy --config-file=../x.yml', "Input 'command' cannot use the config file '../x.yml' outside the workspace; use the config-file input instead"],
    ['deploy -vc /x.yml', "Input 'command' cannot use the config file '/x.yml' outside the workspace; use the config-file input instead"],
    ['deploy -c/x.yml', "Input 'command' cannot use the config file '/x.yml' outside the workspace; use the config-file input instead"],
    ['deploy -c', "Input 'command' -c/--config-file needs a file"],
  ])('%s', (command, message) => {
    expect(inputError({ command })).toBe(message);
  });

  it('a config file inside the workspace is taken from the command into the config-file flag', () => {
    const i = getInputs(reader({ command: 'deploy -c config/other.yml -v', 'config-file': 'config/deploy.yml' }));
    expect(i.command).toEqual(['deploy', '-v']);
    expect(i['config-file']).toBe('config/other.yml');
    expect(commandArgv(i)).toEqual(['deploy', '-v', '--config-file', 'config/other.yml']);
    // from a working directory below the workspace, a path up into the workspace is inside it
    expect(getInputs(reader({ command: 'deploy -c ../shared/deploy.yml', 'working-directory': 'app' }))['config-file']).toBe('../shared/deploy.yml');
  });

  it('a config file in both the command and the input is refused', () => {
    expect(inputError({ command: 'deploy -c config/a.yml', 'config-file': 'config/b.yml' })).toBe(
      "Input 'command' names the config file 'config/a.yml' while the config-file input names 'config/b.yml': use the config-file input only",
    );
  });

  it('words after -- are arguments, not options', () => {
    expect(getInputs(reader({ command: 'app exec -- ssh --known-hosts x' })).command).toEqual(['app', 'exec', '--', 'ssh', '--known-hosts', 'x']);
  });
});

describe('secrets that would change how programs run are refused', () => {
  it.each<[Record<string, string>, string]>([
    [{ secrets: 'PATH=/tmp' }, "Input 'secrets' cannot set 'PATH' changes how programs run; leave it out of the secrets or rename it"],
    [
      { secrets: 'LD_PRELOAD=/x.so' },
      "Input 'secrets' cannot set 'LD_PRELOAD' (LD_*) belongs to the runner or changes how programs run; leave it out of the secrets or rename it",
    ],
    [
      { secrets: '{"GITHUB_ENV":"/x"}' },
      "Input 'secrets' cannot set 'GITHUB_ENV' (GITHUB_*) belongs to the runner or changes how programs run; leave it out of the secrets or rename it",
    ],
    [
      { secrets: 'KAMAL_ACTION_KNOWN_HOSTS=/dev/null' },
      "Input 'secrets' cannot set 'KAMAL_ACTION_KNOWN_HOSTS' (KAMAL_ACTION_*) belongs to the runner or changes how programs run; leave it out of the secrets or rename it",
    ],
    [{ 'secrets-env': 'IFS' }, "Input 'secrets-env' cannot export 'IFS' changes how programs run"],
    [{ 'secrets-env': 'A B;C' }, "Input 'secrets-env' must be a comma-separated list of names, got 'B;C'"],
  ])('%j', (values, message) => {
    expect(inputError(values)).toBe(message);
  });

  it('ordinary names (and the lowercase github_token of toJSON(secrets)) pass', () => {
    for (const n of ['KAMAL_REGISTRY_PASSWORD', 'RAILS_MASTER_KEY', 'github_token', 'DATABASE_URL']) expect(unsafeEnvName(n)).toBeUndefined();
    for (const n of [
      'PATH',
      'NODE_OPTIONS',
      'BASH_ENV',
      'ENV',
      'SHELLOPTS',
      'PS4',
      'DYLD_INSERT_LIBRARIES',
      'RUNNER_TEMP',
      'ACTIONS_RUNTIME_TOKEN',
      'BASH_FUNC_x%%',
    ]) {
      expect(unsafeEnvName(n)).toBeDefined();
    }
  });
});

describe('what child processes see', () => {
  it('the runner environment without inputs, state, runner tokens or the token under another name', () => {
    const env = runnerEnv(
      {
        PATH: '/bin',
        HOME: '/home/runner',
        'INPUT_SSH-PRIVATE-KEY': 'key',
        INPUT_SECRETS: '{}',
        'STATE_lock-held': 'true',
        ACTIONS_RUNTIME_TOKEN: 'rt',
        ACTIONS_RUNTIME_URL: 'u',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'id',
        ACTIONS_ID_TOKEN_REQUEST_URL: 'idu',
        ACTIONS_CACHE_URL: 'c',
        ACTIONS_RESULTS_URL: 'r',
        GITHUB_TOKEN: 'ghs_1',
        GH_TOKEN: 'ghs_1',
        GITHUB_SHA: 'abc',
        UNSET: undefined,
      },
      ['ghs_1'],
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/home/runner', GITHUB_SHA: 'abc' });
  });

  it('the secrets the config and the secrets files name', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'trust-refs-'));
    mkdirSync(join(cwd, 'config'));
    mkdirSync(join(cwd, '.kamal'));
    writeFileSync(join(cwd, 'config/deploy.yml'), 'env:\n  secret:\n    - DB_PASSWORD:MAIN_DB_PASSWORD\nregistry:\n  password: <%= ENV["REG_TOKEN"] %>\n');
    writeFileSync(join(cwd, 'config/deploy.staging.yml'), 'builder:\n  secrets:\n    - STAGING_ONLY\n');
    writeFileSync(join(cwd, '.kamal/secrets-common'), 'SHARED=$FROM_COMMON\n');
    writeFileSync(join(cwd, '.kamal/secrets.staging'), 'X=$(echo $STAGING_SHELL)\n');
    writeFileSync(join(cwd, '.kamal/secrets'), 'Y=$NOT_IN_STAGING\n');
    const names = ['MAIN_DB_PASSWORD', 'REG_TOKEN', 'STAGING_ONLY', 'FROM_COMMON', 'STAGING_SHELL', 'NOT_IN_STAGING', 'UNNAMED'];
    expect([...referencedNames(names, { cwd, configFile: 'config/deploy.yml', destination: 'staging' })].sort()).toEqual([
      'FROM_COMMON',
      'MAIN_DB_PASSWORD',
      'REG_TOKEN',
      'STAGING_ONLY',
      'STAGING_SHELL',
    ]);
    expect([...referencedNames(names, { cwd, configFile: 'config/deploy.yml' })].sort()).toEqual([
      'FROM_COMMON',
      'MAIN_DB_PASSWORD',
      'NOT_IN_STAGING',
      'REG_TOKEN',
    ]);
  });

  describe('LocalRunner with an environment of its own', () => {
    const saved = process.env.INPUT_LEAK_CHECK;
    afterEach(() => {
      if (saved === undefined) delete process.env.INPUT_LEAK_CHECK;
      else process.env.INPUT_LEAK_CHECK = saved;
    });

    it('runs commands with that environment only, not process.env under it', async () => {
      process.env.INPUT_LEAK_CHECK = 'leaked';
      const r = await new LocalRunner({ env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ONLY: 'me' } }).run('local', cmd('env'));
      expect(r.stdout).toContain('ONLY=me');
      expect(r.stdout).not.toContain('INPUT_LEAK_CHECK');
    });

    it('without one, commands get process.env', async () => {
      process.env.INPUT_LEAK_CHECK = 'visible';
      const r = await new LocalRunner().run('local', cmd('env'));
      expect(r.stdout).toContain('INPUT_LEAK_CHECK=visible');
    });
  });
});

describe('secrets are redacted in the forms we and our children print them', () => {
  const secret = `p@ss w"o'rd/\\1+x`;
  it.each<[string, string]>([
    ['plain', `a ${secret} b`],
    ['JSON-escaped', `{"v":${JSON.stringify(secret)}}`],
    ['base64', Buffer.from(secret).toString('base64')],
    ['base64 without padding', Buffer.from(secret).toString('base64').replace(/=+$/, '')],
    ['base64url', Buffer.from(secret).toString('base64url')],
    ['base64 after 1 byte', Buffer.from(`u${secret}`).toString('base64')],
    ['base64 after 2 bytes', Buffer.from(`us${secret}\n`).toString('base64')],
    ['base64 after user:', Buffer.from(`user:${secret}`).toString('base64')],
    ['URL-encoded', `https://x/?p=${encodeURIComponent(secret)}`],
    ['form-encoded', `p=${encodeURIComponent(secret).replace(/%20/g, '+')}`],
    ['single-quoted for a shell', `echo '${secret.replace(/'/g, `'\\''`)}'`],
    ['backslash-escaped for a shell', secret.replace(/[^A-Za-z0-9_\-.,:+/@]/g, '\\$&')],
  ])('%s', (_name, text) => {
    const out = redactText(text, [secret]);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain(secret);
  });

  it('multi-line values line by line, in their forms too', () => {
    const key = '-----BEGIN KEY-----\nAAAAsecretline1111\nBBBBsecretline2222\n-----END KEY-----\n';
    const reg = new SecretRegistry();
    reg.add(key);
    expect(reg.redact('got AAAAsecretline1111 and QkJCQnNlY3JldGxpbmUyMjIy')).toBe(`got ${REDACTED} and ${REDACTED}`);
    expect(reg.redact(JSON.stringify({ key }))).not.toContain('secretline');
  });

  it('short values are left alone (they would hide ordinary words)', () => {
    expect(redactText('ab cd', ['ab'])).toBe('ab cd');
  });
});

describe('state the post step accepts', () => {
  const base = () => mkdtempSync(join(tmpdir(), 'trust-state-'));

  it('values saved by the main step read back; planted or altered ones do not', () => {
    const dir = base();
    const core = new RecordingCore();
    const signed = core.signState({ 'lock-held': 'true', 'ssh-dir': '/tmp/kamal-action-ssh-abc' }, dir);
    expect(statSync(signed.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(signed.dir, 'key')).mode & 0o777).toBe(0o600);
    const { state } = SignedState.open(core, dir);
    expect(state!.get('lock-held')).toBe('true');
    expect(state!.get('ssh-dir')).toBe('/tmp/kamal-action-ssh-abc');

    // what a `::save-state` line (or a hook writing GITHUB_STATE) could put there
    core.rawState['deployment-id'] = '5';
    core.rawState['ssh-dir'] = core.rawState['ssh-dir']!.replace(/abc$/, 'xyz');
    core.rawState['registry-login'] = `v1.${'0'.repeat(64)}.evil.example`;
    const again = SignedState.open(core, dir).state!;
    expect(again.get('deployment-id')).toBeUndefined();
    expect(again.get('ssh-dir')).toBeUndefined();
    expect(again.get('registry-login')).toBeUndefined();
    expect(again.tampered('ssh-dir')).toBe(true);
    expect(readPostState((n) => again.get(n) ?? '')).toEqual({
      lockHeld: true,
      sshDir: undefined,
      registryLogin: undefined,
      deploymentId: undefined,
      deploymentDone: false,
      mainDone: false,
    });
  });

  it('a key folder that is not one this action creates is refused', () => {
    const dir = base();
    const core = new RecordingCore({}, { 'state-dir': '/etc' });
    expect(SignedState.open(core, dir)).toEqual({ problem: 'the saved state folder is not one this action creates: /etc' });
    const fake = join(dir, 'kamal-action-state-AAAAAA');
    mkdirSync(fake, { mode: 0o755 });
    writeFileSync(join(fake, 'key'), 'a'.repeat(64));
    const core2 = new RecordingCore({}, { 'state-dir': fake });
    expect(SignedState.open(core2, dir)).toEqual({ problem: `the saved state folder is not a private folder of this user: ${fake}` });
    expect(SignedState.open(new RecordingCore(), dir)).toEqual({ problem: 'no state was saved by the main step' });
  });
});

describe('files with secrets on the hosts', () => {
  it.each([
    ['the TLS private key (Kamal mode 644)', '/root/.kamal/proxy/apps-config/app/tls/web/key.pem', '644'],
    ['a role env file', '.kamal/apps/app/env/roles/web.env', '600'],
  ])('%s: content goes to a file created under umask 077, which gets its mode, then is renamed into place', (_name, path, mode) => {
    const rendered = render(uploadCommand(path, mode));
    const tmp = /cat > (\S+)/.exec(rendered)![1]!;
    expect(rendered).toBe(`(umask 077 && cat > ${tmp} && chmod ${mode} ${tmp} && mv -f ${tmp} ${path}) || (rm -f ${tmp} && false)`);
  });
});

describe('the deployment payload', () => {
  it('is redacted: a secret in the command line does not reach the GitHub API', async () => {
    const gh = await startFakeGithub({ firstDeploymentId: 7 });
    try {
      const ws = mkdtempSync(join(tmpdir(), 'trust-payload-'));
      // a secret in a word of the command line (here the version)
      const core = new RecordingCore({
        command: 'deploy -v --version tok-in-argv-123',
        secrets: 'TOKEN_FOR_APP=tok-in-argv-123',
        environment: 'prod',
        'github-token': 'ghs_x1',
      });
      const runCli = async (_argv: string[], deps: { onContext?: (k: ReturnType<typeof fakeKamal>) => void }) => {
        const k = fakeKamal();
        deps.onContext?.(k);
        return { exitCode: 0, kamal: k };
      };
      await runMain({
        core,
        env: {
          GITHUB_WORKSPACE: ws,
          RUNNER_TEMP: ws,
          GITHUB_REPOSITORY: 'acme/shop',
          GITHUB_SHA: 'a'.repeat(40),
          GITHUB_API_URL: gh.url,
          GITHUB_SERVER_URL: 'https://github.example',
          GITHUB_RUN_ID: '1',
        },
        runCli: runCli as never,
      });
      const created = gh.requests.find((r) => r.path === '/repos/acme/shop/deployments')!;
      expect((created.body as { payload: { command: string } }).payload.command).toBe('deploy -v --version [REDACTED] --config-file config/deploy.yml');
      expect(JSON.stringify(gh.requests)).not.toContain('tok-in-argv-123');
    } finally {
      await gh.close();
    }
  });
});
