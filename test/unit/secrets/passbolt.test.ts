/** Kamal 2.12's test/secrets/passbolt_adapter_test.rb, against our CLI with stubbed `passbolt` calls. */
import { describe, expect, it } from 'vitest';
import { calls, secrets, StubVendor } from './helpers.js';

const run = (vendor: StubVendor, ...command: string[]) => secrets(vendor, [...command, '-c', 'config/deploy.yml', '--adapter', 'passbolt']);

const MY_PROJECT = 'dcbe0e39-42d8-42db-9637-8256b9f2f8e3';
const OTHER_PROJECT = '14e11dd8-b279-4689-8bd9-fa33ebb527da';
const SUBFOLDER = '6a3f21fc-aa40-4ba9-852c-7477fdd0310d';

const folder = (id: string, name: string, parent = '') => ({
  id,
  folder_parent_id: parent,
  name,
  created_timestamp: '2025-02-21T19:52:50Z',
  modified_timestamp: '2025-02-21T19:52:50Z',
});
const resource = (id: string, name: string, password: string, parent = '') => ({
  id,
  folder_parent_id: parent,
  name,
  username: '',
  uri: '',
  password,
  description: '',
  created_timestamp: '2025-02-21T06:04:29Z',
  modified_timestamp: '2025-02-21T06:04:29Z',
});
const resources = (p1: string, p2 = p1, p3 = p1) =>
  JSON.stringify(
    [
      resource('4c116996-f6d0-4342-9572-0d676f75b3ac', 'FSECRET1', 'fsecret1', p1),
      resource('62949b26-4957-43fe-9523-294d66861499', 'FSECRET2', 'fsecret2', p2),
      resource('dd32963c-0db5-4303-a6fc-22c5229dabef', 'SECRET1', 'secret1', p3),
    ],
    null,
    2,
  );
const EXPECTED = { SECRET1: 'secret1', FSECRET1: 'fsecret1', FSECRET2: 'fsecret2' };

const verified = () => new StubVendor().stubWith('passbolt --version 2> /dev/null', { succeed: true }).stubWith('passbolt verify', { succeed: true });

const IN_MY_PROJECT =
  `passbolt list resources --filter '(Name == "SECRET1" && FolderParentID == "${MY_PROJECT}") || (Name == "FSECRET1" && FolderParentID == "${MY_PROJECT}") || ` +
  `(Name == "FSECRET2" && FolderParentID == "${MY_PROJECT}")' --folder ${MY_PROJECT} --column name --column password --json`;
const IN_SUBFOLDER =
  `passbolt list resources --filter '(Name == "SECRET1" && FolderParentID == "${SUBFOLDER}") || (Name == "FSECRET1" && FolderParentID == "${SUBFOLDER}") || ` +
  `(Name == "FSECRET2" && FolderParentID == "${SUBFOLDER}")' --folder ${MY_PROJECT} --folder ${SUBFOLDER} --column name --column password --json`;
const MY_PROJECT_FOLDERS = [`passbolt list folders --filter 'Name == "my-project"' --json`, JSON.stringify([folder(MY_PROJECT, 'my-project')])] as const;
const SUBFOLDER_FOLDERS = [
  `passbolt list folders --filter 'Name == "subfolder" && FolderParentID == "${MY_PROJECT}"' --json`,
  JSON.stringify([folder(SUBFOLDER, 'subfolder', MY_PROJECT)]),
] as const;

describe('Kamal PassboltAdapterTest', () => {
  it('fetch', async () => {
    const line = `passbolt list resources --filter 'Name == "SECRET1" || Name == "FSECRET1" || Name == "FSECRET2"'  --column name --column password --json`;
    const vendor = verified().stub(line, resources(''));
    const r = await run(vendor, 'fetch', 'SECRET1', 'FSECRET1', 'FSECRET2');
    expect(JSON.parse(r.stdout)).toEqual(EXPECTED);
    expect(vendor.transcript).toEqual(calls('passbolt --version 2> /dev/null', 'passbolt verify', line));
    expect(vendor.calls.at(-1)!.argv).toEqual([
      'passbolt',
      'list',
      'resources',
      '--filter',
      'Name == "SECRET1" || Name == "FSECRET1" || Name == "FSECRET2"',
      '--column',
      'name',
      '--column',
      'password',
      '--json',
    ]);
  });

  it('fetch with --from', async () => {
    const vendor = verified()
      .stub(...MY_PROJECT_FOLDERS)
      .stub(IN_MY_PROJECT, resources(MY_PROJECT));
    const r = await run(vendor, 'fetch', '--from', 'my-project', 'SECRET1', 'FSECRET1', 'FSECRET2');
    expect(JSON.parse(r.stdout)).toEqual(EXPECTED);
    expect(vendor.transcript).toEqual(calls('passbolt --version 2> /dev/null', 'passbolt verify', MY_PROJECT_FOLDERS[0], IN_MY_PROJECT));
  });

  it('fetch with folder in secret', async () => {
    const vendor = verified()
      .stub(...MY_PROJECT_FOLDERS)
      .stub(IN_MY_PROJECT, resources(MY_PROJECT));
    const r = await run(vendor, 'fetch', 'my-project/SECRET1', 'my-project/FSECRET1', 'my-project/FSECRET2');
    expect(JSON.parse(r.stdout)).toEqual(EXPECTED);
  });

  it('fetch from multiple folders', async () => {
    const folders = `passbolt list folders --filter 'Name == "my-project" || Name == "other-project"' --json`;
    const list =
      `passbolt list resources --filter '(Name == "SECRET1" && FolderParentID == "${MY_PROJECT}") || (Name == "FSECRET1" && FolderParentID == "${MY_PROJECT}") || ` +
      `(Name == "FSECRET2" && FolderParentID == "${OTHER_PROJECT}")' --folder ${MY_PROJECT} --folder ${OTHER_PROJECT} --column name --column password --json`;
    const vendor = verified()
      .stub(folders, JSON.stringify([folder(MY_PROJECT, 'my-project'), folder(OTHER_PROJECT, 'other-project')]))
      .stub(list, resources(MY_PROJECT, OTHER_PROJECT, MY_PROJECT));
    const r = await run(vendor, 'fetch', 'my-project/SECRET1', 'my-project/FSECRET1', 'other-project/FSECRET2');
    expect(JSON.parse(r.stdout)).toEqual(EXPECTED);
    expect(vendor.transcript).toEqual(calls('passbolt --version 2> /dev/null', 'passbolt verify', folders, list));
  });

  it('fetch from nested folder', async () => {
    const vendor = verified()
      .stub(...MY_PROJECT_FOLDERS)
      .stub(...SUBFOLDER_FOLDERS)
      .stub(IN_SUBFOLDER, resources(SUBFOLDER));
    const r = await run(vendor, 'fetch', '--from', 'my-project/subfolder', 'SECRET1', 'FSECRET1', 'FSECRET2');
    expect(JSON.parse(r.stdout)).toEqual(EXPECTED);
    expect(vendor.transcript).toEqual(calls('passbolt --version 2> /dev/null', 'passbolt verify', MY_PROJECT_FOLDERS[0], SUBFOLDER_FOLDERS[0], IN_SUBFOLDER));
  });

  it('fetch from nested folder in secret', async () => {
    const vendor = verified()
      .stub(...MY_PROJECT_FOLDERS)
      .stub(...SUBFOLDER_FOLDERS)
      .stub(IN_SUBFOLDER, resources(SUBFOLDER));
    const r = await run(vendor, 'fetch', 'my-project/subfolder/SECRET1', 'my-project/subfolder/FSECRET1', 'my-project/subfolder/FSECRET2');
    expect(JSON.parse(r.stdout)).toEqual(EXPECTED);
  });

  it('fetch without CLI installed', async () => {
    const vendor = new StubVendor().stubWith('passbolt --version 2> /dev/null', { succeed: false });
    const r = await run(vendor, 'fetch', 'HOST', 'PORT');
    expect(r.error).toBe('Passbolt CLI is not installed');
  });

  it('fetch with special characters in folder id', async () => {
    const vendor = verified()
      .stub(
        `passbolt list folders --filter 'Name == "my-project"' --json`,
        '[{"id":"abc def-123","folder_parent_id":"","name":"my-project","created_timestamp":"2025-02-21T19:52:50Z","modified_timestamp":"2025-02-21T19:52:50Z"}]',
      )
      .stub(
        `passbolt list resources --filter '(Name == "SECRET1" && FolderParentID == "abc\\\\ def-123")' --folder abc\\ def-123 --column name --column password --json`,
        '[{"id":"dd32963c","folder_parent_id":"abc def-123","name":"SECRET1","username":"","uri":"","password":"secret1","description":"","created_timestamp":"2025-02-21T06:04:23Z","modified_timestamp":"2025-02-21T06:04:23Z"}]',
      );
    const r = await run(vendor, 'fetch', 'my-project/SECRET1');
    expect(JSON.parse(r.stdout)).toEqual({ SECRET1: 'secret1' });
    expect(vendor.calls.at(-1)!.argv.slice(3, 7)).toEqual([
      '--filter',
      '(Name == "SECRET1" && FolderParentID == "abc\\\\ def-123")',
      '--folder',
      'abc def-123',
    ]);
  });
});

describe('Passbolt beyond Kamal tests', () => {
  it("failed verify, no secrets, a missing folder and a missing secret say Kamal's messages", async () => {
    const verify = new StubVendor().stub('passbolt --version 2> /dev/null').stubWith('passbolt verify', { succeed: false });
    expect((await run(verify, 'fetch', 'A')).error).toBe('Failed to login to Passbolt');

    const none = await run(verified(), 'fetch');
    expect([none.errorClass, none.error]).toEqual(['ArgumentError', 'No secrets given to fetch']);

    const noFolder = verified().stub(`passbolt list folders --filter 'Name == "nope"' --json`, '[]');
    expect((await run(noFolder, 'fetch', 'nope/A')).error).toBe('Could not find the following folders in Passbolt: nope');

    const noSecret = verified().stub(
      `passbolt list resources --filter 'Name == "A" || Name == "B"'  --column name --column password --json`,
      '[{"name":"A","password":"a"}]',
    );
    expect((await run(noSecret, 'fetch', 'A', 'B')).error).toBe('Could not find the following secrets in Passbolt: B');
  });
});
