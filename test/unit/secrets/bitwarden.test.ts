/** Kamal 2.12's test/secrets/bitwarden_adapter_test.rb, against our CLI with stubbed `bw` calls. */
import { describe, expect, it } from 'vitest';
import { calls, secrets, StubVendor } from './helpers.js';

const run = (vendor: StubVendor, ...command: string[]) =>
  secrets(vendor, [...command, '-c', 'config/deploy.yml', '--adapter', 'bitwarden', '--account', 'email@example.com']);

const UNLOCKED =
  '{"serverUrl":null,"lastSync":"2024-09-04T10:11:12.433Z","userEmail":"email@example.com","userId":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","status":"unlocked"}';
const LOCKED = UNLOCKED.replace('"unlocked"', '"locked"');
const UNAUTHENTICATED = '{"serverUrl":null,"lastSync":null,"status":"unauthenticated"}';

const item = (o: Record<string, unknown>) =>
  `${JSON.stringify({
    passwordHistory: null,
    revisionDate: '2024-08-29T13:46:53.343Z',
    creationDate: '2024-08-29T12:02:31.156Z',
    deletedDate: null,
    object: 'item',
    id: 'aaaaaaaa-cccc-eeee-0000-222222222222',
    organizationId: null,
    folderId: null,
    reprompt: 0,
    notes: null,
    favorite: false,
    ...o,
  })}\n`;

const f = (name: string, value: string) => ({ name, value, type: 1, linkedId: null });
const FIELDS = [f('field1', 'secret1'), f('field2', 'blam'), f('field3', 'fewgrwjgk'), f('field4', 'auto')];
const EMPTY_LOGIN = { fido2Credentials: [], uris: [], username: null, password: null, totp: null, passwordRevisionDate: null };

const MYPASSWORD = item({ type: 1, name: 'mypassword', login: { ...EMPTY_LOGIN, password: 'secret123' }, collectionIds: [] });
const MYITEM = item({ type: 1, name: 'myitem', fields: FIELDS, login: EMPTY_LOGIN, collectionIds: [] });
const MYITEM2 = item({ type: 1, name: 'myitem2', fields: [f('field3', 'fewgrwjgk')], login: EMPTY_LOGIN, collectionIds: [] });
const NOTE = item({ type: 2, name: 'noteitem', notes: 'NOTES', secureNote: { type: 0 }, collectionIds: [] });
const NOTE_FIELDS = item({ type: 2, name: 'noteitem', notes: 'NOTES', fields: FIELDS, secureNote: { type: 0 }, collectionIds: [] });

const installed = () => new StubVendor().stub('bw --version 2> /dev/null');
const unlocked = () => installed().stub('bw status', UNLOCKED).stub('bw sync', '');

describe('Kamal BitwardenAdapterTest', () => {
  it('fetch', async () => {
    const vendor = unlocked().stub('bw get item mypassword', MYPASSWORD);
    const r = await run(vendor, 'fetch', 'mypassword');
    expect(JSON.parse(r.stdout)).toEqual({ mypassword: 'secret123' });
    expect(vendor.transcript).toEqual(calls('bw --version 2> /dev/null', 'bw status', 'bw sync', 'bw get item mypassword'));
  });

  it('fetch with no login', async () => {
    const vendor = unlocked().stub('bw get item mynote', NOTE);
    const r = await run(vendor, 'fetch', 'mynote');
    expect(r.errorClass).toBe('RuntimeError');
    expect(r.error).toMatch(/not a login type item/);
    expect(r.error).toBe('Item mynote is not a login type item and no fields were specified');
  });

  it('fetch with from', async () => {
    const vendor = unlocked().stub('bw get item myitem', MYITEM);
    const r = await run(vendor, 'fetch', '--from', 'myitem', 'field1', 'field2', 'field3');
    expect(JSON.parse(r.stdout)).toEqual({ 'myitem/field1': 'secret1', 'myitem/field2': 'blam', 'myitem/field3': 'fewgrwjgk' });
    // one `get item` for the three fields
    expect(vendor.transcript).toEqual(calls('bw --version 2> /dev/null', 'bw status', 'bw sync', 'bw get item myitem'));
  });

  it('fetch all with from', async () => {
    const vendor = unlocked().stub('bw get item mynotefields', NOTE_FIELDS);
    const r = await run(vendor, 'fetch', 'mynotefields');
    expect(JSON.parse(r.stdout)).toEqual({
      'mynotefields/field1': 'secret1',
      'mynotefields/field2': 'blam',
      'mynotefields/field3': 'fewgrwjgk',
      'mynotefields/field4': 'auto',
    });
  });

  it('fetch with multiple items', async () => {
    const vendor = unlocked().stub('bw get item mypassword', MYPASSWORD).stub('bw get item myitem', MYITEM).stub('bw get item myitem2', MYITEM2);
    const r = await run(vendor, 'fetch', 'mypassword', 'myitem/field1', 'myitem/field2', 'myitem2/field3');
    expect(r.out).toBe('{"mypassword":"secret123","myitem/field1":"secret1","myitem/field2":"blam","myitem2/field3":"fewgrwjgk"}\n');
  });

  it('fetch unauthenticated', async () => {
    const vendor = installed()
      .stub('bw status', UNAUTHENTICATED, LOCKED, UNLOCKED)
      .stub('bw login email@example.com', '1234567890')
      .stub('bw unlock --raw', '')
      .stub('bw sync', '')
      .stub('bw get item mypassword', MYPASSWORD);
    const r = await run(vendor, 'fetch', 'mypassword');
    expect(JSON.parse(r.stdout)).toEqual({ mypassword: 'secret123' });
    expect(vendor.transcript).toEqual(
      calls(
        'bw --version 2> /dev/null',
        'bw status',
        'bw login email@example.com',
        'bw status',
        'bw unlock --raw',
        'bw status',
        'bw sync',
        'bw get item mypassword',
      ),
    );
  });

  it('fetch locked', async () => {
    // as with mocha, the later `bw status` stub wins: already unlocked
    const vendor = installed()
      .stub('bw status', LOCKED)
      .stub('bw status', UNLOCKED)
      .stub('bw login email@example.com', '1234567890')
      .stub('bw unlock --raw', '')
      .stub('bw sync', '')
      .stub('bw get item mypassword', MYPASSWORD);
    const r = await run(vendor, 'fetch', 'mypassword');
    expect(JSON.parse(r.stdout)).toEqual({ mypassword: 'secret123' });
  });

  it('fetch locked with session', async () => {
    const vendor = installed()
      .stub('bw status', LOCKED)
      .stub('BW_SESSION=0987654321 bw status', UNLOCKED)
      .stub('bw login email@example.com', '1234567890')
      .stub('bw unlock --raw', '0987654321')
      .stub('BW_SESSION=0987654321 bw sync', '')
      .stub('BW_SESSION=0987654321 bw get item mypassword', MYPASSWORD);
    const r = await run(vendor, 'fetch', 'mypassword');
    expect(JSON.parse(r.stdout)).toEqual({ mypassword: 'secret123' });
    expect(vendor.transcript).toEqual(
      calls(
        'bw --version 2> /dev/null',
        'bw status',
        'bw unlock --raw',
        'BW_SESSION=0987654321 bw status',
        'BW_SESSION=0987654321 bw sync',
        'BW_SESSION=0987654321 bw get item mypassword',
      ),
    );
  });

  it('fetch without CLI installed', async () => {
    const vendor = new StubVendor().stubWith('bw --version 2> /dev/null', { succeed: false });
    const r = await run(vendor, 'fetch', 'mynote');
    expect(r.error).toBe('Bitwarden CLI is not installed');
    expect(r.result.exitCode).toBe(1);
  });
});

describe('Bitwarden beyond Kamal tests', () => {
  it('still locked after unlocking, a failed sync, an unreadable item and a missing field', async () => {
    const locked = installed().stub('bw status', LOCKED).stub('bw unlock --raw', '');
    expect((await run(locked, 'fetch', 'x')).error).toBe('Failed to login to and unlock Bitwarden');

    const sync = installed().stub('bw status', UNLOCKED).stubWith('bw sync', { succeed: false });
    expect((await run(sync, 'fetch', 'x')).error).toBe('Failed to sync Bitwarden');

    const read = unlocked().stubWith('bw get item nope', { succeed: false });
    expect((await run(read, 'fetch', 'nope')).error).toBe('Could not read nope from Bitwarden');

    const field = unlocked().stub('bw get item myitem', MYITEM);
    expect((await run(field, 'fetch', 'myitem/field9')).error).toBe('Could not find field field9 in item myitem in Bitwarden');
  });

  it('an item name with shell characters reaches bw as one word', async () => {
    const vendor = unlocked().stub("bw get item 'my item; rm -rf x'", MYPASSWORD);
    const r = await run(vendor, 'fetch', 'my item; rm -rf x');
    expect(r.out).toBe('{"my item; rm -rf x":"secret123"}\n');
    expect(vendor.calls.at(-1)!.argv).toEqual(['bw', 'get', 'item', 'my item; rm -rf x']);
  });
});
