/** Kamal 2.12's test/secrets/last_pass_adapter_test.rb, against our CLI with stubbed `lpass` calls. */
import { describe, expect, it } from 'vitest';
import { calls, secrets, StubVendor } from './helpers.js';

const run = (vendor: StubVendor, ...command: string[]) =>
  secrets(vendor, [...command, '-c', 'config/deploy.yml', '--adapter', 'lastpass', '--account', 'email@example.com']);

const entry = (id: string, name: string, fullname: string, password: string, group = '') => ({
  id,
  name,
  fullname,
  username: '',
  password,
  last_modified_gmt: '1724926084',
  last_touch: '1724926635',
  group,
  url: '',
  note: '',
});
const SECRET1 = entry('1234567891234567891', 'SECRET1', 'SECRET1', 'secret1');
const FSECRET1 = entry('1234567891234567892', 'FSECRET1', 'FOLDER1/FSECRET1', 'fsecret1', 'Folder');
const FSECRET2 = entry('1234567891234567893', 'FSECRET2', 'FOLDER1/FSECRET2', 'fsecret2', 'Folder');

const loggedIn = () => new StubVendor().stub('lpass --version 2> /dev/null').stub('lpass status --color never', 'Logged in as email@example.com.');

describe('Kamal LastPassAdapterTest', () => {
  it('fetch', async () => {
    const vendor = loggedIn().stub('lpass show SECRET1 FOLDER1/FSECRET1 FOLDER1/FSECRET2 --json', JSON.stringify([SECRET1, FSECRET1, FSECRET2], null, 2));
    const r = await run(vendor, 'fetch', 'SECRET1', 'FOLDER1/FSECRET1', 'FOLDER1/FSECRET2');
    expect(JSON.parse(r.stdout)).toEqual({ SECRET1: 'secret1', 'FOLDER1/FSECRET1': 'fsecret1', 'FOLDER1/FSECRET2': 'fsecret2' });
    expect(vendor.transcript).toEqual(
      calls('lpass --version 2> /dev/null', 'lpass status --color never', 'lpass show SECRET1 FOLDER1/FSECRET1 FOLDER1/FSECRET2 --json'),
    );
  });

  it('fetch with from', async () => {
    const vendor = loggedIn().stub('lpass show FOLDER1/FSECRET1 FOLDER1/FSECRET2 --json', JSON.stringify([FSECRET1, FSECRET2]));
    const r = await run(vendor, 'fetch', '--from', 'FOLDER1', 'FSECRET1', 'FSECRET2');
    expect(JSON.parse(r.stdout)).toEqual({ 'FOLDER1/FSECRET1': 'fsecret1', 'FOLDER1/FSECRET2': 'fsecret2' });
  });

  it('fetch with signin', async () => {
    const vendor = new StubVendor()
      .stub('lpass --version 2> /dev/null')
      .stubWith('lpass status --color never', { succeed: false }, 'Not logged in.')
      .stubWith('lpass login email@example.com', { succeed: true }, '')
      .stub('lpass show SECRET1 --json', JSON.stringify([SECRET1]));
    const r = await run(vendor, 'fetch', 'SECRET1');
    expect(JSON.parse(r.stdout)).toEqual({ SECRET1: 'secret1' });
    expect(vendor.transcript).toEqual(
      calls('lpass --version 2> /dev/null', 'lpass status --color never', 'lpass login email@example.com', 'lpass show SECRET1 --json'),
    );
  });

  it('fetch without CLI installed', async () => {
    const vendor = new StubVendor().stubWith('lpass --version 2> /dev/null', { succeed: false });
    const r = await run(vendor, 'fetch', 'SECRET1', 'FOLDER1/FSECRET1', 'FOLDER1/FSECRET2');
    expect(r.error).toBe('LastPass CLI is not installed');
  });
});

describe('LastPass beyond Kamal tests', () => {
  it('failed login, failed show and missing entries say what Kamal says', async () => {
    const login = new StubVendor()
      .stub('lpass --version 2> /dev/null')
      .stub('lpass status --color never', 'Not logged in.')
      .stubWith('lpass login email@example.com', { succeed: false });
    expect((await run(login, 'fetch', 'A')).error).toBe('Failed to login to LastPass');

    const show = loggedIn().stubWith('lpass show A B/C --json', { succeed: false });
    expect((await run(show, 'fetch', 'A', 'B/C')).error).toBe('Could not read ["A", "B/C"] from LastPass');

    const missing = loggedIn().stub('lpass show SECRET1 X Y --json', JSON.stringify([SECRET1]));
    expect((await run(missing, 'fetch', 'SECRET1', 'X', 'Y')).error).toBe('Could not find X, Y in LastPass');
  });
});
