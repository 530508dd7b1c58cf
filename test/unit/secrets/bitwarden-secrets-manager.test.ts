/** Kamal 2.12's test/secrets/bitwarden_secrets_manager_adapter_test.rb, against our CLI with stubbed `bws` calls. */
import { describe, expect, it } from 'vitest';
import { calls, secrets, StubVendor } from './helpers.js';

const run = (vendor: StubVendor, ...command: string[]) => secrets(vendor, [...command, '--adapter', 'bitwarden-sm']);

const LIST = `[
  {
    "key": "KAMAL_REGISTRY_PASSWORD",
    "value": "some_password"
  },
  {
    "key": "MY_OTHER_SECRET",
    "value": "my=wierd\\"secret"
  }
]
`;
const ITEM = '{\n  "key": "KAMAL_REGISTRY_PASSWORD",\n  "value": "some_password"\n}\n';
const UUID = '82aeb5bd-6958-4a89-8197-eacab758acce';

const loggedIn = () => new StubVendor().stub('bws --version 2> /dev/null').stub('bws project list', 'OK');

describe('Kamal BitwardenSecretsManagerAdapterTest', () => {
  it('fetch with no parameters', async () => {
    const vendor = loggedIn();
    const r = await run(vendor, 'fetch');
    expect(r.errorClass).toBe('RuntimeError');
    expect(r.error).toBe('You must specify what to retrieve from Bitwarden Secrets Manager');
    expect(vendor.transcript).toEqual(calls('bws --version 2> /dev/null', 'bws project list'));
  });

  it('fetch all', async () => {
    const vendor = loggedIn().stub('bws secret list', LIST);
    const r = await run(vendor, 'fetch', 'all');
    expect(JSON.parse(r.stdout)).toEqual({ KAMAL_REGISTRY_PASSWORD: 'some_password', MY_OTHER_SECRET: 'my=wierd"secret' });
    expect(r.out).toBe('{"KAMAL_REGISTRY_PASSWORD":"some_password","MY_OTHER_SECRET":"my=wierd\\"secret"}\n');
  });

  it('fetch all with from', async () => {
    const vendor = loggedIn().stub(`bws secret list ${UUID}`, LIST);
    const r = await run(vendor, 'fetch', 'all', '--from', UUID);
    expect(JSON.parse(r.stdout)).toEqual({ KAMAL_REGISTRY_PASSWORD: 'some_password', MY_OTHER_SECRET: 'my=wierd"secret' });
    expect(vendor.transcript.at(-1)).toEqual(calls(`bws secret list ${UUID}`)[0]);
  });

  it('fetch item', async () => {
    const vendor = loggedIn().stub(`bws secret get ${UUID}`, ITEM);
    const r = await run(vendor, 'fetch', UUID);
    expect(JSON.parse(r.stdout)).toEqual({ KAMAL_REGISTRY_PASSWORD: 'some_password' });
  });

  it('fetch with multiple items', async () => {
    const vendor = loggedIn()
      .stub(`bws secret get ${UUID}`, ITEM)
      .stub('bws secret get 6f8cdf27-de2b-4c77-a35d-07df8050e332', '{\n  "key": "MY_OTHER_SECRET",\n  "value": "my=wierd\\"secret"\n}\n');
    const r = await run(vendor, 'fetch', UUID, '6f8cdf27-de2b-4c77-a35d-07df8050e332');
    expect(JSON.parse(r.stdout)).toEqual({ KAMAL_REGISTRY_PASSWORD: 'some_password', MY_OTHER_SECRET: 'my=wierd"secret' });
  });

  it('fetch all empty', async () => {
    const vendor = loggedIn().stubWith('bws secret list', { succeed: false }, 'Error:\n0: Received error message from server');
    const r = await run(vendor, 'fetch', 'all');
    expect(r.error).toBe('Could not read secrets from Bitwarden Secrets Manager');
  });

  it('fetch nonexistent item', async () => {
    const vendor = loggedIn().stubWith(`bws secret get ${UUID}`, { succeed: false }, 'Error:\n0: Received error message from server');
    const r = await run(vendor, 'fetch', UUID);
    expect(r.error).toBe(`Could not read ${UUID} from Bitwarden Secrets Manager`);
  });

  it('fetch item with linebreak in value', async () => {
    const vendor = loggedIn().stub(`bws secret get ${UUID}`, '{\n  "key": "SSH_PRIVATE_KEY",\n  "value": "some_key\\nwith_linebreak"\n}\n');
    const r = await run(vendor, 'fetch', UUID);
    expect(JSON.parse(r.stdout)).toEqual({ SSH_PRIVATE_KEY: 'some_key\nwith_linebreak' });
    expect(r.out).toBe('{"SSH_PRIVATE_KEY":"some_key\\nwith_linebreak"}\n');
  });

  it('fetch with no access token', async () => {
    const vendor = new StubVendor().stub('bws --version 2> /dev/null').stubWith('bws project list', { succeed: false });
    const r = await run(vendor, 'fetch', 'all');
    expect(r.error).toBe('Could not authenticate to Bitwarden Secrets Manager. Did you set a valid access token?');
  });

  it('fetch without CLI installed', async () => {
    const vendor = new StubVendor().stubWith('bws --version 2> /dev/null', { succeed: false });
    const r = await run(vendor, 'fetch');
    expect(r.error).toBe('Bitwarden Secrets Manager CLI is not installed');
  });
});

describe('Bitwarden Secrets Manager beyond Kamal tests', () => {
  it('PROJECT/all lists the project; no --account is needed', async () => {
    const vendor = loggedIn().stub('bws secret list proj-1', LIST);
    const r = await run(vendor, 'fetch', 'proj-1/all');
    expect(r.result.exitCode).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(['KAMAL_REGISTRY_PASSWORD', 'MY_OTHER_SECRET']);
  });
});
