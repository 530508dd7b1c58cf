/**
 * `$(kamal secrets ...)` lines of `.kamal/secrets`, resolved in-process as Kamal's
 * InlineCommandSubstitution does: `fetch --inline` gives the JSON shell-escaped, the
 * variable holding it is pasted into the `extract` command, and shellsplit reads it back.
 */
import { describe, expect, it } from 'vitest';
import { inlineSecretsCommand, isInlineSecretsCommand } from '../../../src/secrets/inline.js';
import { StubVendor } from './helpers.js';

const deps = { env: {} };

describe('inline secrets commands', () => {
  it('fetch then extract, through the escaped JSON, with names holding spaces and quotes', () => {
    const secrets = inlineSecretsCommand("kamal secrets fetch --adapter test --account acct 'my key' \"it's\" plain", deps);
    expect(secrets).toBe('\\{\\"my\\ key\\":\\"yek\\ ym\\",\\"it\\\'s\\":\\"s\\\'ti\\",\\"plain\\":\\"nialp\\"\\}');
    expect(inlineSecretsCommand(`kamal secrets extract 'my key' ${secrets}`, deps)).toBe('yek ym');
    expect(inlineSecretsCommand(`kamal secrets extract "it's" ${secrets}`, deps)).toBe("s'ti");
    expect(inlineSecretsCommand(`kamal secrets extract plain ${secrets} -c config/deploy.yml`, deps)).toBe('nialp');
  });

  it('the 1Password flow of a Kamal secrets file', () => {
    const vendor = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stub('op account get --account my.1password.com 2> /dev/null')
      .stub(
        'op item get MyApp --vault "Deploy" --format "json" --account "my.1password.com" --fields "label=KAMAL_REGISTRY_PASSWORD,label=RAILS_MASTER_KEY"',
        JSON.stringify([
          { label: 'KAMAL_REGISTRY_PASSWORD', value: 'reg pw', reference: 'op://Deploy/MyApp/KAMAL_REGISTRY_PASSWORD' },
          { label: 'RAILS_MASTER_KEY', value: 'k3y"', reference: 'op://Deploy/MyApp/RAILS_MASTER_KEY' },
        ]),
      );
    const secrets = inlineSecretsCommand(
      'kamal secrets fetch --adapter 1password --account my.1password.com --from op://Deploy/MyApp KAMAL_REGISTRY_PASSWORD RAILS_MASTER_KEY',
      { env: {}, run: vendor.run },
    );
    expect(inlineSecretsCommand(`kamal secrets extract KAMAL_REGISTRY_PASSWORD ${secrets}`, deps)).toBe('reg pw');
    expect(inlineSecretsCommand(`kamal secrets extract RAILS_MASTER_KEY ${secrets}`, deps)).toBe('k3y"');
  });

  it('which commands are inlined', () => {
    expect(['kamal secrets fetch x', '  kamal  secrets extract a b', 'kamalsecrets fetch'].map(isInlineSecretsCommand)).toEqual([true, true, true]);
    expect(['echo kamal secrets', 'kamal secrets', 'bin/kamal secrets fetch'].map(isInlineSecretsCommand)).toEqual([false, false, false]);
  });

  it('fails where Kamal fails: adapter errors, a missing --account (nil chomped), a number extracted', () => {
    expect(() => inlineSecretsCommand('kamal secrets fetch --adapter nope X', deps)).toThrow('Unknown secrets adapter: nope');
    expect(() => inlineSecretsCommand('kamal secrets fetch --adapter test X', deps)).toThrow("undefined method 'chomp' for nil");
    expect(() => inlineSecretsCommand('kamal secrets fetch X', deps)).toThrow("No value provided for required options '--adapter'");
    expect(() => inlineSecretsCommand(`kamal secrets extract N '{"N":5432}'`, deps)).toThrow("undefined method 'chomp' for an instance of Integer");
    expect(() => inlineSecretsCommand(`kamal secrets extract N '{}'`, deps)).toThrow('Could not find secret N');
    expect(() =>
      inlineSecretsCommand('kamal secrets fetch --adapter 1password --account a X', {
        env: {},
        run: new StubVendor().stubWith('op --version 2> /dev/null', { succeed: false }).run,
      }),
    ).toThrow('1Password CLI is not installed');
  });
});
