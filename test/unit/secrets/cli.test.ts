/**
 * Kamal 2.12's test/cli/secrets_test.rb against our CLI, and what Kamal::Cli::Secrets and
 * Kamal::Secrets::Adapters.lookup do around it: adapter names, the missing `--account` and
 * `--adapter`, the hidden `--inline` used by `.kamal/secrets`, extract's lookups and errors.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { camelize, fetchSecrets, fetchSecretsInline, lookupAdapter } from '../../../src/secrets/adapters/index.js';
import { secretsExtract } from '../../../src/secrets/cli.js';
import { secrets, StubVendor } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `with_test_secrets("secrets" => ...)`: an app folder with a config and the given .kamal files. */
function app(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kamal-secrets-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, '.kamal'));
  writeFileSync(
    join(dir, 'config/deploy.yml'),
    'service: app\nimage: dhh/app\nservers:\n  - 1.1.1.1\nregistry:\n  username: user\n  password: pw\nbuilder:\n  arch: amd64\n',
  );
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, '.kamal', name), text);
  return dir;
}

async function print(dir: string, ...args: string[]) {
  const reporter = new MemoryReporter();
  let out = '';
  const result = await runCli(['secrets', 'print', ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH },
    reporter,
    out: (s) => (out += s),
    err: () => undefined,
  });
  return { result, text: reporter.text + out };
}

describe('Kamal CliSecretsTest', () => {
  it('fetch', async () => {
    const r = await secrets(undefined, ['fetch', 'foo', 'bar', 'baz', '--account', 'myaccount', '--adapter', 'test', '-c', 'config/deploy.yml']);
    expect(r.stdout).toBe('{"foo":"oof","bar":"rab","baz":"zab"}');
    expect(r.out).toBe('{"foo":"oof","bar":"rab","baz":"zab"}\n');
    expect(r.result.exitCode).toBe(0);
  });

  it('fetch missing --acount', async () => {
    const r = await secrets(undefined, ['fetch', 'foo', 'bar', 'baz', '--adapter', 'test', '-c', 'config/deploy.yml']);
    expect(r.stdout).toBe("No value provided for required options '--account'");
    // Kamal prints the message and exits 0
    expect(r.result.exitCode).toBe(0);
  });

  it('extract', async () => {
    const r = await secrets(undefined, ['extract', 'foo', '{"foo":"oof", "bar":"rab", "baz":"zab"}', '-c', 'config/deploy.yml']);
    expect(r.out).toBe('oof\n');
  });

  it('extract match from end', async () => {
    const r = await secrets(undefined, ['extract', 'foo', '{"abc/foo":"oof", "bar":"rab", "baz":"zab"}', '-c', 'config/deploy.yml']);
    expect(r.out).toBe('oof\n');
  });

  it('print', async () => {
    // Kamal prints the values; ours needs --reveal (src/commands/DIFFERENCES.md)
    const dir = app({ secrets: 'SECRET1=ABC\nSECRET2=${SECRET1}DEF\n' });
    const revealed = await print(dir, '--reveal');
    expect(revealed.result.exitCode).toBe(0);
    expect(revealed.text.trim()).toBe('SECRET1=ABC\nSECRET2=ABCDEF');
    const redacted = await print(dir);
    expect(redacted.text).toBe('SECRET1=[REDACTED]\nSECRET2=[REDACTED]\n');
  });
});

describe('secrets fetch around the adapters', () => {
  it("adapter names as Kamal's lookup reads them", () => {
    const cases: [string, string][] = [
      ['1password', 'OnePassword'],
      ['1Password', 'OnePassword'],
      ['one_password', 'OnePassword'],
      ['OnePassword', 'OnePassword'],
      ['bitwarden', 'Bitwarden'],
      ['bitwarden-sm', 'BitwardenSecretsManager'],
      ['Bitwarden-SM', 'BitwardenSecretsManager'],
      ['bitwarden_secrets_manager', 'BitwardenSecretsManager'],
      ['aws_secrets_manager', 'AwsSecretsManager'],
      ['gcp', 'GcpSecretManager'],
      ['GCP', 'GcpSecretManager'],
      ['gcp_secret_manager', 'GcpSecretManager'],
      ['lastpass', 'LastPass'],
      ['LastPass', 'LastPass'],
      ['last_pass', 'LastPass'],
      ['doppler', 'Doppler'],
      ['enpass', 'Enpass'],
      ['passbolt', 'Passbolt'],
      ['test', 'Test'],
    ];
    expect(cases.map(([n]) => lookupAdapter(n).name)).toEqual(cases.map(([, c]) => c));
    expect(camelize('aws_SECRETS_manager')).toBe('AwsSecretsManager');
    expect(camelize('ONE_password')).toBe('ONEPassword');
  });

  it("an unknown adapter fails with Kamal's message, before any vendor command", async () => {
    for (const name of ['keepass', 'aws-secrets-manager', 'DOPPLER', 'vault']) {
      const r = await secrets(undefined, ['fetch', '--adapter', name, 'X']);
      expect([r.errorClass, r.error, r.result.exitCode]).toEqual(['RuntimeError', `Unknown secrets adapter: ${name}`, 1]);
    }
  });

  it('without --adapter, the required option is named and the run fails', async () => {
    const r = await secrets(undefined, ['fetch', 'X']);
    expect(r.error).toBe("No value provided for required options '--adapter'");
    expect(r.result.exitCode).toBe(1);
  });

  it('a blank --account is missing, for the adapters that need one', async () => {
    for (const adapter of ['1password', 'bitwarden', 'lastpass', 'gcp', 'test']) {
      const r = await secrets(undefined, ['fetch', '--adapter', adapter, '--account', '  ', 'X']);
      expect(r.out).toBe("No value provided for required options '--account'\n");
    }
    expect(() => fetchSecrets({ adapter: 'test', names: ['a'], env: {} })).toThrow("Missing required option '--account'");
  });

  it('--inline gives the JSON shell-escaped, as `.kamal/secrets` substitutes it', async () => {
    const r = await secrets(undefined, ['fetch', '--adapter', 'test', '--account', 'a', '--inline', 'my key', 'xLPARENyRPAREN']);
    expect(r.out).toBe('\\{\\"my\\ key\\":\\"yek\\ ym\\",\\"xLPARENyRPAREN\\":\\"\\)y\\(x\\"\\}');
    expect(fetchSecretsInline({ adapter: 'test', account: 'a', names: ['k'], env: {} })).toBe('\\{\\"k\\":\\"k\\"\\}');
  });

  it('--from prefixes every name with FROM/', () => {
    expect(fetchSecrets({ adapter: 'test', account: 'a', from: 'vault', names: ['one', 'two'], env: {} })).toEqual({
      'vault/one': 'eno/tluav',
      'vault/two': 'owt/tluav',
    });
  });

  it("vendor output that is not JSON fails with the json gem's message and exit code 1", async () => {
    const vendor = new StubVendor().stub('bws --version 2> /dev/null').stub('bws project list').stub('bws secret get u', 'Error: not found');
    const r = await secrets(vendor, ['fetch', '--adapter', 'bitwarden-sm', 'u']);
    expect([r.errorClass, r.error, r.result.exitCode]).toEqual(['JSON::ParserError', "unexpected character: 'Error:' at line 1 column 1", 1]);
    expect(r.err).toBe("Error: unexpected character: 'Error:' at line 1 column 1\n");
  });
});

describe('secrets extract', () => {
  it('finds NAME, else the first key ending in /NAME; a false value falls through to the suffix match', () => {
    expect(secretsExtract('b', '{"a/b":"1","c/b":"2"}')).toBe('1\n');
    expect(secretsExtract('b', '{"b":false,"x/b":"y"}')).toBe('y\n');
    expect(secretsExtract('b', '{"b":""}')).toBe('\n');
    expect(secretsExtract('n', '{"n":5432}')).toBe('5432\n');
    expect(secretsExtract('k', '{"k":"line\\n"}')).toBe('line\n');
    expect(secretsExtract('k', '{"k":"v"}', true)).toBe('v');
  });

  it('fails as Kamal does: a missing secret, text that is not JSON', async () => {
    const missing = await secrets(undefined, ['extract', 'qux', '{"foo":"oof"}']);
    expect([missing.errorClass, missing.error, missing.result.exitCode]).toEqual(['RuntimeError', 'Could not find secret qux', 1]);
    expect(() => secretsExtract('b', '{"b":null}')).toThrow('Could not find secret b');
    const notJson = await secrets(undefined, ['extract', 'a', '']);
    expect([notJson.errorClass, notJson.error]).toEqual(['JSON::ParserError', 'unexpected end of input at line 1 column 1']);
    expect(() => secretsExtract('a', '[1]')).toThrow('no implicit conversion of String into Integer');
  });
});
