/** Kamal 2.12's test/secrets/enpass_adapter_test.rb, against our CLI with stubbed `enpass-cli` calls. */
import { describe, expect, it } from 'vitest';
import { calls, secrets, StubVendor } from './helpers.js';

const run = (vendor: StubVendor, ...command: string[]) =>
  secrets(vendor, [...command, '-c', 'config/deploy.yml', '--adapter', 'enpass', '--from', 'vault-path']);

const e = (label: string, password: string, title: string) => ({ category: 'computer', label, login: '', password, title, type: 'password' });
const installed = () => new StubVendor().stubWith('enpass-cli version 2> /dev/null', { succeed: true });

describe('Kamal EnpassAdapterTest', () => {
  it('fetch without CLI installed', async () => {
    const vendor = new StubVendor().stubWith('enpass-cli version 2> /dev/null', { succeed: false });
    const r = await run(vendor, 'fetch', 'mynote');
    expect(r.error).toBe('Enpass CLI is not installed');
  });

  it('fetch one item', async () => {
    const vendor = installed().stub('enpass-cli -json -vault vault-path show FooBar', `${JSON.stringify([e('SECRET_1', 'my-password-1', 'FooBar')])}\n`);
    const r = await run(vendor, 'fetch', 'FooBar/SECRET_1');
    expect(JSON.parse(r.stdout)).toEqual({ 'FooBar/SECRET_1': 'my-password-1' });
    expect(vendor.transcript).toEqual(calls('enpass-cli version 2> /dev/null', 'enpass-cli -json -vault vault-path show FooBar'));
  });

  it('fetch multiple items', async () => {
    const vendor = installed().stub(
      'enpass-cli -json -vault vault-path show FooBar',
      JSON.stringify([e('SECRET_1', 'my-password-1', 'FooBar'), e('SECRET_2', 'my-password-2', 'FooBar'), e('SECRET_3', 'my-password-1', 'Hello')], null, 2),
    );
    const r = await run(vendor, 'fetch', 'FooBar/SECRET_1', 'FooBar/SECRET_2');
    expect(JSON.parse(r.stdout)).toEqual({ 'FooBar/SECRET_1': 'my-password-1', 'FooBar/SECRET_2': 'my-password-2' });
  });

  it('fetch all with from', async () => {
    const vendor = installed().stub(
      'enpass-cli -json -vault vault-path show FooBar',
      JSON.stringify([
        e('SECRET_1', 'my-password-1', 'FooBar'),
        e('SECRET_2', 'my-password-2', 'FooBar'),
        e('SECRET_3', 'my-password-1', 'Hello'),
        e('', 'my-password-3', 'FooBar'),
      ]),
    );
    const r = await run(vendor, 'fetch', 'FooBar');
    expect(JSON.parse(r.stdout)).toEqual({ 'FooBar/SECRET_1': 'my-password-1', 'FooBar/SECRET_2': 'my-password-2', FooBar: 'my-password-3' });
  });
});

describe('Enpass beyond Kamal tests', () => {
  it('titles are asked once each; a label twice is an error', async () => {
    const vendor = installed().stub('enpass-cli -json -vault vault-path show FooBar Other', JSON.stringify([e('A', 'x', 'FooBar'), e('A', 'y', 'FooBar')]));
    const r = await run(vendor, 'fetch', 'FooBar/A', 'FooBar/B', 'Other');
    expect(r.error).toBe('FooBar/A is present more than once');
  });
});
