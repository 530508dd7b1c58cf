/** Kamal 2.12's test/secrets/gcp_secret_manager_adapter_test.rb, against our CLI with stubbed `gcloud` calls. */
import { describe, expect, it } from 'vitest';
import { calls, secrets, StubVendor } from './helpers.js';

const run = (vendor: StubVendor, command: string[], account = 'default') =>
  secrets(vendor, [...command, '-c', 'config/deploy.yml', '--adapter', 'gcp_secret_manager', '--account', account]);

const AUTHENTICATED = '[\n  {\n    "account": "email@example.com",\n    "status": "ACTIVE"\n  }\n]\n';
const payload = (data: string, crc: string | number) =>
  `{\n  "name": "projects/000000001/secrets/item1/versions/1",\n  "payload": {\n    "data": "${data}",\n    "dataCrc32c": "${crc}"\n  }\n}\n`;
const PAYLOADS: [string, number][] = [
  ['c2VjcmV0MQ==', 1846998209],
  ['c2VjcmV0Mg==', 2101741365],
  ['c2VjcmV0Mw==', 2402124854],
];

const authenticated = (succeedVersion = true) =>
  new StubVendor().stubWith('gcloud --version 2> /dev/null', { succeed: succeedVersion }).stub('gcloud auth list --format=json', AUTHENTICATED);

function stubItem(vendor: StubVendor, n: number, o: { project?: string; account?: string; version?: string; impersonate?: string } = {}): string {
  const line =
    `gcloud secrets versions access ${o.version ?? 'latest'} --secret=item${n + 1}` +
    (o.project ? ` --project=${o.project}` : '') +
    (o.account ? ` --account=${o.account}` : '') +
    (o.impersonate ? ` --impersonate-service-account=${o.impersonate}` : '') +
    ' --format=json';
  vendor.stub(line, payload(...PAYLOADS[n]!));
  return line;
}

const MYPASSWORD = [
  'gcloud secrets versions access latest --secret=mypassword --format=json',
  '{\n  "name": "projects/000000000/secrets/mypassword/versions/1",\n  "payload": {\n    "data": "c2VjcmV0MTIz",\n    "dataCrc32c": "2522602764"\n  }\n}\n',
] as const;

describe('Kamal GcpSecretManagerAdapterTest', () => {
  it('fetch', async () => {
    const vendor = authenticated().stub(...MYPASSWORD);
    const r = await run(vendor, ['fetch', 'mypassword']);
    expect(JSON.parse(r.stdout)).toEqual({ 'default/mypassword': 'secret123' });
    expect(vendor.transcript).toEqual(calls('gcloud --version 2> /dev/null', 'gcloud auth list --format=json', MYPASSWORD[0]));
  });

  it('fetch unauthenticated', async () => {
    const vendor = new StubVendor()
      .stub('gcloud --version 2> /dev/null')
      .stub(...MYPASSWORD)
      .stub('gcloud auth list --format=json', '[]')
      .stub('gcloud auth login', '{\n  "expired": false,\n  "valid": true\n}\n');
    const r = await run(vendor, ['fetch', 'mypassword']);
    expect(r.error).toMatch(/could not login to gcloud/);
    expect(r.errorClass).toBe('RuntimeError');
    expect(vendor.transcript).toEqual(
      calls('gcloud --version 2> /dev/null', 'gcloud auth list --format=json', 'gcloud auth login', 'gcloud auth list --format=json'),
    );
  });

  it('fetch with from', async () => {
    const vendor = authenticated();
    const lines = [0, 1, 2].map((n) => stubItem(vendor, n, { project: 'other-project' }));
    const r = await run(vendor, ['fetch', '--from', 'other-project', 'item1', 'item2', 'item3']);
    expect(JSON.parse(r.stdout)).toEqual({ 'other-project/item1': 'secret1', 'other-project/item2': 'secret2', 'other-project/item3': 'secret3' });
    expect(vendor.transcript.slice(2)).toEqual(calls(...lines));
  });

  it('fetch with multiple projects', async () => {
    const vendor = authenticated();
    stubItem(vendor, 0, { project: 'some-project' });
    stubItem(vendor, 1, { project: 'project-confidence' });
    stubItem(vendor, 2, { project: 'manhattan-project' });
    const r = await run(vendor, ['fetch', 'some-project/item1', 'project-confidence/item2', 'manhattan-project/item3']);
    expect(JSON.parse(r.stdout)).toEqual({ 'some-project/item1': 'secret1', 'project-confidence/item2': 'secret2', 'manhattan-project/item3': 'secret3' });
  });

  it('fetch with specific version', async () => {
    const vendor = authenticated();
    stubItem(vendor, 0, { project: 'some-project', version: '123' });
    const r = await run(vendor, ['fetch', 'some-project/item1/123']);
    expect(JSON.parse(r.stdout)).toEqual({ 'some-project/item1': 'secret1' });
  });

  it('fetch with non-default account', async () => {
    const vendor = authenticated();
    stubItem(vendor, 0, { project: 'some-project', version: '123', account: 'email@example.com' });
    const r = await run(vendor, ['fetch', 'some-project/item1/123'], 'email@example.com');
    expect(JSON.parse(r.stdout)).toEqual({ 'some-project/item1': 'secret1' });
  });

  it('fetch with service account impersonation', async () => {
    const vendor = authenticated();
    stubItem(vendor, 0, { project: 'some-project', version: '123', impersonate: 'service-user@example.com' });
    const r = await run(vendor, ['fetch', 'some-project/item1/123'], 'default|service-user@example.com');
    expect(JSON.parse(r.stdout)).toEqual({ 'some-project/item1': 'secret1' });
  });

  it('fetch with delegation chain and specific user', async () => {
    const vendor = authenticated();
    stubItem(vendor, 0, {
      project: 'some-project',
      version: '123',
      account: 'user@example.com',
      impersonate: 'service-user@example.com,service-user2@example.com',
    });
    const r = await run(vendor, ['fetch', 'some-project/item1/123'], 'user@example.com|service-user@example.com,service-user2@example.com');
    expect(JSON.parse(r.stdout)).toEqual({ 'some-project/item1': 'secret1' });
  });

  it('fetch with non-default account and service account impersonation', async () => {
    const vendor = authenticated();
    stubItem(vendor, 0, { project: 'some-project', version: '123', account: 'email@example.com', impersonate: 'service-user@example.com' });
    const r = await run(vendor, ['fetch', 'some-project/item1/123'], 'email@example.com|service-user@example.com');
    expect(JSON.parse(r.stdout)).toEqual({ 'some-project/item1': 'secret1' });
  });

  it('fetch without CLI installed', async () => {
    const vendor = new StubVendor().stubWith('gcloud --version 2> /dev/null', { succeed: false });
    const r = await run(vendor, ['fetch', 'item1']);
    expect(r.error).toBe('gcloud CLI is not installed');
  });
});

describe('GCP beyond Kamal tests', () => {
  it('the gcp alias; a failed access that still printed JSON names the item', async () => {
    const vendor = authenticated().stubWith(MYPASSWORD[0], { succeed: false }, MYPASSWORD[1]);
    const r = await secrets(vendor, ['fetch', '--adapter', 'GCP', '--account', 'default', 'mypassword']);
    expect(r.error).toBe('Could not read default/mypassword from Google Secret Manager');
  });

  it('a failed access with no output fails on its JSON first, as Kamal does', async () => {
    const vendor = authenticated().stubWith(MYPASSWORD[0], { succeed: false });
    const r = await run(vendor, ['fetch', 'mypassword']);
    expect(r.errorClass).toBe('JSON::ParserError');
    expect(r.error).toBe('unexpected end of input at line 1 column 1');
  });
});
