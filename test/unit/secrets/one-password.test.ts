/** Kamal 2.12's test/secrets/one_password_adapter_test.rb, against our CLI with stubbed `op` calls. */
import { describe, expect, it } from 'vitest';
import { calls, secrets, StubVendor } from './helpers.js';

const run = (vendor: StubVendor, ...command: string[]) =>
  secrets(vendor, [...command, '-c', 'config/deploy.yml', '--adapter', '1password', '--account', 'myaccount']);

const field = (id: string, section: string, label: string, value: string, reference: string) => ({
  id,
  section: { id: 'cccccccccccccccccccccccccc', label: section },
  type: 'CONCEALED',
  label,
  value,
  reference,
});

const SINGLE_ITEM = JSON.stringify(field('aaaaaaaaaaaaaaaaaaaaaaaaaa', 'section', 'SECRET1', 'VALUE1', 'op://myvault/myitem/section/SECRET1'), null, 2);

describe('Kamal SecretsOnePasswordAdapterTest', () => {
  it('fetch', async () => {
    const vendor = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stub('op account get --account myaccount 2> /dev/null')
      .stub(
        'op item get myitem --vault "myvault" --format "json" --account "myaccount" --fields "label=section.SECRET1,label=section.SECRET2,label=section2.SECRET3"',
        JSON.stringify([
          field('aaaaaaaaaaaaaaaaaaaaaaaaaa', 'section', 'SECRET1', 'VALUE1', 'op://myvault/myitem/section/SECRET1'),
          field('bbbbbbbbbbbbbbbbbbbbbbbbbb', 'section', 'SECRET2', 'VALUE2', 'op://myvault/myitem/section/SECRET2'),
          field('bbbbbbbbbbbbbbbbbbbbbbbbbb', 'section2', 'SECRET3', 'VALUE3', 'op://myvault/myitem/section2/SECRET3'),
        ]),
      );
    const r = await run(vendor, 'fetch', '--from', 'op://myvault/myitem', 'section/SECRET1', 'section/SECRET2', 'section2/SECRET3');
    expect(JSON.parse(r.stdout)).toEqual({
      'myvault/myitem/section/SECRET1': 'VALUE1',
      'myvault/myitem/section/SECRET2': 'VALUE2',
      'myvault/myitem/section2/SECRET3': 'VALUE3',
    });
    expect(r.out).toBe('{"myvault/myitem/section/SECRET1":"VALUE1","myvault/myitem/section/SECRET2":"VALUE2","myvault/myitem/section2/SECRET3":"VALUE3"}\n');
    expect(r.result.exitCode).toBe(0);
    expect(vendor.transcript).toEqual(
      calls(
        'op --version 2> /dev/null',
        'op account get --account myaccount 2> /dev/null',
        'op item get myitem --vault "myvault" --format "json" --account "myaccount" --fields "label=section.SECRET1,label=section.SECRET2,label=section2.SECRET3"',
      ),
    );
  });

  it('fetch with multiple items', async () => {
    const vendor = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stub('op account get --account myaccount 2> /dev/null')
      .stub(
        'op item get myitem --vault "myvault" --format "json" --account "myaccount" --fields "label=section.SECRET1,label=section.SECRET2"',
        JSON.stringify([
          field('aaaaaaaaaaaaaaaaaaaaaaaaaa', 'section', 'SECRET1', 'VALUE1', 'op://myvault/myitem/section/SECRET1'),
          field('bbbbbbbbbbbbbbbbbbbbbbbbbb', 'section', 'SECRET2', 'VALUE2', 'op://myvault/myitem/section/SECRET2'),
        ]),
      )
      .stub(
        'op item get myitem2 --vault "myvault" --format "json" --account "myaccount" --fields "label=section2.SECRET3"',
        JSON.stringify(field('aaaaaaaaaaaaaaaaaaaaaaaaaa', 'section', 'SECRET3', 'VALUE3', 'op://myvault/myitem2/section/SECRET3')),
      );
    const r = await run(vendor, 'fetch', '--from', 'op://myvault', 'myitem/section/SECRET1', 'myitem/section/SECRET2', 'myitem2/section2/SECRET3');
    expect(JSON.parse(r.stdout)).toEqual({
      'myvault/myitem/section/SECRET1': 'VALUE1',
      'myvault/myitem/section/SECRET2': 'VALUE2',
      'myvault/myitem2/section/SECRET3': 'VALUE3',
    });
    expect(vendor.transcript).toEqual(
      calls(
        'op --version 2> /dev/null',
        'op account get --account myaccount 2> /dev/null',
        'op item get myitem --vault "myvault" --format "json" --account "myaccount" --fields "label=section.SECRET1,label=section.SECRET2"',
        'op item get myitem2 --vault "myvault" --format "json" --account "myaccount" --fields "label=section2.SECRET3"',
      ),
    );
  });

  it('fetch all fields', async () => {
    const vendor = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stub('op account get --account myaccount 2> /dev/null')
      .stub(
        'op item get myitem --vault "myvault" --format "json" --account "myaccount"',
        JSON.stringify({
          id: 'ucbtiii777',
          title: 'A title',
          version: 45,
          vault: { id: 'vu7ki98do', name: 'Vault' },
          category: 'LOGIN',
          last_edited_by: 'ABCT3684BC',
          created_at: '2025-05-22T06:47:01Z',
          updated_at: '2025-05-22T00:36:48.02598-07:00',
          additional_information: '—',
          fields: [
            field('aaaaaaaaaaaaaaaaaaaaaaaaaa', 'section', 'SECRET1', 'VALUE1', 'op://myvault/myitem/section/SECRET1'),
            field('bbbbbbbbbbbbbbbbbbbbbbbbbb', 'section', 'SECRET2', 'VALUE2', 'op://myvault/myitem/section/SECRET2'),
          ],
        }),
      );
    const r = await run(vendor, 'fetch', '--from', 'op://myvault/myitem');
    expect(JSON.parse(r.stdout)).toEqual({ 'myvault/myitem/section/SECRET1': 'VALUE1', 'myvault/myitem/section/SECRET2': 'VALUE2' });
    expect(vendor.transcript.at(-1)).toEqual(calls('op item get myitem --vault "myvault" --format "json" --account "myaccount"')[0]);
  });

  it('fetch with signin, no session', async () => {
    const vendor = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stubWith('op account get --account myaccount 2> /dev/null', { succeed: false })
      .stubWith('op signin --account "myaccount" --force --raw', { succeed: true }, '')
      .stub('op item get myitem --vault "myvault" --format "json" --account "myaccount" --fields "label=section.SECRET1"', SINGLE_ITEM);
    const r = await run(vendor, 'fetch', '--from', 'op://myvault/myitem', 'section/SECRET1');
    expect(JSON.parse(r.stdout)).toEqual({ 'myvault/myitem/section/SECRET1': 'VALUE1' });
    expect(vendor.transcript).toEqual(
      calls(
        'op --version 2> /dev/null',
        'op account get --account myaccount 2> /dev/null',
        'op signin --account "myaccount" --force --raw',
        'op item get myitem --vault "myvault" --format "json" --account "myaccount" --fields "label=section.SECRET1"',
      ),
    );
  });

  it('fetch with signin and session', async () => {
    const vendor = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stubWith('op account get --account myaccount 2> /dev/null', { succeed: false })
      .stubWith('op signin --account "myaccount" --force --raw', { succeed: true }, '1234567890')
      .stub('op item get myitem --vault "myvault" --format "json" --account "myaccount" --session "1234567890" --fields "label=section.SECRET1"', SINGLE_ITEM);
    const r = await run(vendor, 'fetch', '--from', 'op://myvault/myitem', 'section/SECRET1');
    expect(JSON.parse(r.stdout)).toEqual({ 'myvault/myitem/section/SECRET1': 'VALUE1' });
  });

  it('fetch without CLI installed', async () => {
    const vendor = new StubVendor().stubWith('op --version 2> /dev/null', { succeed: false });
    const r = await run(vendor, 'fetch', '--from', 'op://myvault/myitem', 'section/SECRET1', 'section/SECRET2', 'section2/SECRET3');
    expect(r.errorClass).toBe('RuntimeError');
    expect(r.error).toBe('1Password CLI is not installed');
    expect(r.result.exitCode).toBe(1);
    expect(r.out).toBe('');
    expect(vendor.transcript).toEqual(calls('op --version 2> /dev/null'));
  });
});

describe('1Password beyond Kamal tests', () => {
  it('a failed sign-in and a failed read say what Kamal says', async () => {
    const signin = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stubWith('op account get --account myaccount 2> /dev/null', { succeed: false })
      .stubWith('op signin --account "myaccount" --force --raw', { succeed: false });
    expect((await run(signin, 'fetch', '--from', 'op://v/i', 'F')).error).toBe('Failed to login to 1Password');

    const read = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stub('op account get --account myaccount 2> /dev/null')
      .stubWith('op item get i --vault "v" --format "json" --account "myaccount" --fields "label=s.A,label=B"', { succeed: false });
    expect((await run(read, 'fetch', '--from', 'op://v/i', 's/A', 'B')).error).toBe('Could not read s.A, B from i in the v 1Password vault');

    const all = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stub('op account get --account myaccount 2> /dev/null')
      .stubWith('op item get i --vault "v" --format "json" --account "myaccount"', { succeed: false });
    expect((await run(all, 'fetch', '--from', 'op://v/i')).error).toBe('Could not read from i in the v 1Password vault');
  });

  it('an item without a field reads its password, keyed without /password', async () => {
    const vendor = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stub('op account get --account myaccount 2> /dev/null')
      .stub(
        'op item get db --vault "Prod" --format "json" --account "myaccount" --fields "label=password"',
        JSON.stringify({ id: 'p', type: 'CONCEALED', label: 'password', value: 's3cr3t', reference: 'op://Prod/db/password' }),
      );
    const r = await run(vendor, 'fetch', 'Prod/db');
    expect(r.out).toBe('{"Prod/db":"s3cr3t"}\n');
  });

  it("the signed-in session reaches op as Kamal's escaped option value (a trailing newline as \\n)", async () => {
    const vendor = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stubWith('op account get --account myaccount 2> /dev/null', { succeed: false })
      .stub('op signin --account "myaccount" --force --raw', 'tok\n')
      .stub(
        'op item get i --vault "v" --format "json" --account "myaccount" --session "tok\\n" --fields "label=F"',
        JSON.stringify({ reference: 'op://v/i/F', value: 'x' }),
      );
    const r = await run(vendor, 'fetch', '--from', 'op://v/i', 'F');
    expect(r.out).toBe('{"v/i/F":"x"}\n');
    expect(vendor.calls.at(-1)!.argv).toContain('tok\\n');
  });

  it('a field without a value is null in the JSON', async () => {
    const vendor = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stub('op account get --account myaccount 2> /dev/null')
      .stub('op item get i --vault "v" --format "json" --account "myaccount" --fields "label=F"', JSON.stringify({ reference: 'op://v/i/F' }));
    expect((await run(vendor, 'fetch', '--from', 'op://v/i', 'F')).out).toBe('{"v/i/F":null}\n');
  });

  it('output that is not JSON fails with the json gem message', async () => {
    const vendor = new StubVendor()
      .stub('op --version 2> /dev/null')
      .stub('op account get --account myaccount 2> /dev/null')
      .stub('op item get i --vault "v" --format "json" --account "myaccount" --fields "label=F"', '[ERROR] 2024/09/11 item not found');
    const r = await run(vendor, 'fetch', '--from', 'op://v/i', 'F');
    expect(r.errorClass).toBe('JSON::ParserError');
    expect(r.error).toBe("unexpected character: 'ERROR]' at line 1 column 2");
  });
});
