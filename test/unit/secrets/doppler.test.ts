/** Kamal 2.12's test/secrets/doppler_adapter_test.rb, against our CLI with stubbed `doppler` calls. */
import { describe, expect, it } from 'vitest';
import { calls, secrets, StubVendor } from './helpers.js';

const run = (vendor: StubVendor, command: string[], env: Record<string, string> = {}) =>
  secrets(vendor, [...command, '-c', 'config/deploy.yml', '--adapter', 'doppler'], env);

const computed = (values: Record<string, string>) =>
  JSON.stringify(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { computed: v, computedVisibility: 'unmasked', note: '' }])), null, 2);
const THREE = computed({ SECRET1: 'secret1', FSECRET1: 'fsecret1', FSECRET2: 'fsecret2' });

const loggedIn = () => new StubVendor().stubWith('doppler --version 2> /dev/null', { succeed: true }).stub('doppler me --json 2> /dev/null');

describe('Kamal DopplerAdapterTest', () => {
  it('fetch', async () => {
    const vendor = loggedIn().stub('doppler secrets get SECRET1 FSECRET1 FSECRET2 --json -p my-project -c prd', THREE);
    const r = await run(vendor, ['fetch', '--from', 'my-project/prd', 'SECRET1', 'FSECRET1', 'FSECRET2']);
    expect(JSON.parse(r.stdout)).toEqual({ SECRET1: 'secret1', FSECRET1: 'fsecret1', FSECRET2: 'fsecret2' });
    expect(vendor.transcript).toEqual(
      calls('doppler --version 2> /dev/null', 'doppler me --json 2> /dev/null', 'doppler secrets get SECRET1 FSECRET1 FSECRET2 --json -p my-project -c prd'),
    );
  });

  it('fetch having DOPPLER_TOKEN', async () => {
    const vendor = loggedIn().stub('doppler secrets get SECRET1 FSECRET1 FSECRET2 --json ', THREE);
    const r = await run(vendor, ['fetch', 'SECRET1', 'FSECRET1', 'FSECRET2'], { DOPPLER_TOKEN: 'dp.st.xxxxxxxxxxxxxxxxxxxxxx' });
    expect(JSON.parse(r.stdout)).toEqual({ SECRET1: 'secret1', FSECRET1: 'fsecret1', FSECRET2: 'fsecret2' });
  });

  it('fetch with folder in secret', async () => {
    const vendor = loggedIn().stub('doppler secrets get SECRET1 FSECRET1 FSECRET2 --json -p my-project -c prd', THREE);
    const r = await run(vendor, ['fetch', 'my-project/prd/SECRET1', 'my-project/prd/FSECRET1', 'my-project/prd/FSECRET2']);
    expect(JSON.parse(r.stdout)).toEqual({ SECRET1: 'secret1', FSECRET1: 'fsecret1', FSECRET2: 'fsecret2' });
  });

  it('fetch without --from', async () => {
    const vendor = loggedIn();
    const r = await run(vendor, ['fetch', 'FSECRET1', 'FSECRET2']);
    expect(r.errorClass).toBe('RuntimeError');
    expect(r.error).toBe("Missing project or config from '--from=project/config' option");
  });

  it('fetch with signin', async () => {
    const vendor = new StubVendor()
      .stubWith('doppler --version 2> /dev/null', { succeed: true })
      .stubWith('doppler me --json 2> /dev/null', { succeed: false })
      .stubWith('doppler login -y', { succeed: true }, '')
      .stub('doppler secrets get SECRET1 --json -p my-project -c prd', computed({ SECRET1: 'secret1' }));
    const r = await run(vendor, ['fetch', '--from', 'my-project/prd', 'SECRET1']);
    expect(JSON.parse(r.stdout)).toEqual({ SECRET1: 'secret1' });
    expect(vendor.transcript.map((c) => c.argv.join(' '))).toEqual([
      'doppler --version',
      'doppler me --json',
      'doppler login -y',
      'doppler secrets get SECRET1 --json -p my-project -c prd',
    ]);
  });

  it('fetch without CLI installed', async () => {
    const vendor = new StubVendor().stubWith('doppler --version 2> /dev/null', { succeed: false });
    const r = await run(vendor, ['fetch', 'HOST', 'PORT']);
    expect(r.error).toBe('Doppler CLI is not installed');
  });
});

describe('Doppler beyond Kamal tests', () => {
  it('a token that is not a service token still needs project and config; failures name the secrets', async () => {
    const personal = loggedIn();
    expect((await run(personal, ['fetch', 'A'], { DOPPLER_TOKEN: 'dp.pt.xxx' })).error).toBe("Missing project or config from '--from=project/config' option");

    const failed = loggedIn().stubWith('doppler secrets get A --json -p p -c c', { succeed: false });
    expect((await run(failed, ['fetch', '--from', 'p/c', 'A'])).error).toBe('Could not read ["p/c/A"] from Doppler');

    const login = new StubVendor()
      .stub('doppler --version 2> /dev/null')
      .stubWith('doppler me --json 2> /dev/null', { succeed: false })
      .stubWith('doppler login -y', { succeed: false });
    expect((await run(login, ['fetch', '--from', 'p/c', 'A'])).error).toBe('Failed to login to Doppler');
  });
});
