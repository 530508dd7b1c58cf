/** Kamal 2.12's test/secrets/aws_secrets_manager_adapter_test.rb, against our CLI with stubbed `aws` calls. */
import { describe, expect, it } from 'vitest';
import { calls, secrets, StubVendor } from './helpers.js';

const run = (vendor: StubVendor, command: string[], account: string | null = 'default') =>
  secrets(vendor, [...command, '-c', 'config/deploy.yml', '--adapter', 'aws_secrets_manager', ...(account === null ? [] : ['--account', account])]);

const value = (name: string, secretString: string) => ({
  ARN: `arn:aws:secretsmanager:us-east-1:aaaaaaaaaaaa:secret:${name}`,
  Name: name,
  VersionId: 'vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv',
  SecretString: secretString,
  VersionStages: ['AWSCURRENT'],
  CreatedDate: '2024-01-01T00:00:00.000000',
});
const batch = (...values: ReturnType<typeof value>[]) => JSON.stringify({ SecretValues: values, Errors: [] }, null, 2);
const installed = () => new StubVendor().stub('aws --version 2> /dev/null');

describe('Kamal AwsSecretsManagerAdapterTest', () => {
  it('fails when errors are present', async () => {
    const vendor = installed().stub(
      'aws secretsmanager batch-get-secret-value --secret-id-list unknown1 unknown2 --profile default --output json',
      JSON.stringify({
        SecretValues: [],
        Errors: [
          { SecretId: 'unknown1', ErrorCode: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." },
          { SecretId: 'unknown2', ErrorCode: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." },
        ],
      }),
    );
    const r = await run(vendor, ['fetch', 'unknown1', 'unknown2']);
    expect(r.errorClass).toBe('RuntimeError');
    expect(r.error).toBe("unknown1: Secrets Manager can't find the specified secret. unknown2: Secrets Manager can't find the specified secret.");
  });

  it('fetch', async () => {
    const vendor = installed().stub(
      'aws secretsmanager batch-get-secret-value --secret-id-list secret secret2 --profile default --output json',
      batch(value('secret', '{"KEY1":"VALUE1", "KEY2":"VALUE2"}'), value('secret2', '{"KEY3":"VALUE3"}')),
    );
    const r = await run(vendor, ['fetch', 'secret', 'secret2']);
    expect(JSON.parse(r.stdout)).toEqual({ 'secret/KEY1': 'VALUE1', 'secret/KEY2': 'VALUE2', 'secret2/KEY3': 'VALUE3' });
    expect(vendor.transcript).toEqual(
      calls('aws --version 2> /dev/null', 'aws secretsmanager batch-get-secret-value --secret-id-list secret secret2 --profile default --output json'),
    );
  });

  it('fetch with string value', async () => {
    const vendor = installed().stub(
      'aws secretsmanager batch-get-secret-value --secret-id-list secret secret2 --profile default --output json',
      batch(value('secret', 'a-string-secret'), value('secret2', '{"KEY2":"VALUE2"}')),
    );
    const r = await run(vendor, ['fetch', 'secret', 'secret2']);
    expect(JSON.parse(r.stdout)).toEqual({ secret: 'a-string-secret', 'secret2/KEY2': 'VALUE2' });
  });

  it('fetch with --from prefix', async () => {
    const vendor = installed().stub(
      'aws secretsmanager batch-get-secret-value --secret-id-list secret/KEY1 secret/KEY2 --profile default --output json',
      batch(value('secret/KEY1', 'VALUE1'), value('secret/KEY2', 'VALUE2')),
    );
    const r = await run(vendor, ['fetch', '--from', 'secret', 'KEY1', 'KEY2']);
    expect(JSON.parse(r.stdout)).toEqual({ 'secret/KEY1': 'VALUE1', 'secret/KEY2': 'VALUE2' });
  });

  it('fetch with bare JSON primitive SecretString values', async () => {
    const vendor = installed().stub(
      'aws secretsmanager batch-get-secret-value --secret-id-list port flag name nothing --profile default --output json',
      batch(value('port', '5432'), value('flag', 'true'), value('name', '"quoted-string"'), value('nothing', 'null')),
    );
    const r = await run(vendor, ['fetch', 'port', 'flag', 'name', 'nothing']);
    expect(JSON.parse(r.stdout)).toEqual({ port: '5432', flag: 'true', name: 'quoted-string', nothing: 'null' });
  });

  it('fetch coerces non-string JSON field values to strings', async () => {
    const vendor = installed().stub(
      'aws secretsmanager batch-get-secret-value --secret-id-list myapp/RailsUser --profile default --output json',
      batch(
        value(
          'myapp/RailsUser',
          '{"host":"db.example","port":5432,"ssl":true,"weight":1.5,"missing":null,"replicas":{"read":"r.example","port":5433},"tags":["prod","db"]}',
        ),
      ),
    );
    const r = await run(vendor, ['fetch', 'myapp/RailsUser']);
    expect(JSON.parse(r.stdout)).toEqual({
      'myapp/RailsUser/host': 'db.example',
      'myapp/RailsUser/port': '5432',
      'myapp/RailsUser/ssl': 'true',
      'myapp/RailsUser/weight': '1.5',
      'myapp/RailsUser/missing': 'null',
      'myapp/RailsUser/replicas': '{"read":"r.example","port":5433}',
      'myapp/RailsUser/tags': '["prod","db"]',
    });
  });

  it('fetch without CLI installed', async () => {
    const vendor = new StubVendor().stubWith('aws --version 2> /dev/null', { succeed: false });
    const r = await run(vendor, ['fetch', 'SECRET1']);
    expect(r.error).toBe('AWS CLI is not installed');
  });

  it('fetch without account option omits --profile', async () => {
    const vendor = installed().stub(
      'aws secretsmanager batch-get-secret-value --secret-id-list secret --output json',
      batch(value('secret', '{"KEY1":"VALUE1", "KEY2":"VALUE2"}')),
    );
    const r = await run(vendor, ['fetch', 'secret'], null);
    expect(JSON.parse(r.stdout)).toEqual({ 'secret/KEY1': 'VALUE1', 'secret/KEY2': 'VALUE2' });
  });
});

describe('AWS beyond Kamal tests', () => {
  it('floats print back as Ruby prints them (1.0 stays 1.0), big integers whole', async () => {
    const vendor = installed().stub(
      'aws secretsmanager batch-get-secret-value --secret-id-list s --output json',
      batch(value('s', '{"a":1.0,"b":12345678901234567890,"c":1e20,"d":[1.50]}')),
    );
    const r = await run(vendor, ['fetch', 's'], null);
    expect(r.out).toBe('{"s/a":"1.0","s/b":"12345678901234567890","s/c":"1.0e+20","s/d":"[1.5]"}\n');
  });

  it('a failed aws call names what it printed, as Kamal does', async () => {
    const vendor = installed().stubWith('aws secretsmanager batch-get-secret-value --secret-id-list s --output json', { succeed: false });
    expect((await run(vendor, ['fetch', 's'], null)).error).toBe('Could not read  from AWS Secrets Manager');
  });
});
