/** Kamal's AwsSecretsManager adapter (`--adapter aws_secrets_manager`): `aws secretsmanager batch-get-secret-value`. */
import { isObject, rubyJsonDump, rubyJsonParse, type JsonValue } from './ruby-json.js';
import { RubyError, runtimeError } from './ruby.js';
import { cliInstalled, prefixedSecrets, type Adapter, type AdapterContext, type SecretValues } from './types.js';

function getFromSecretsManager(ctx: AdapterContext, secrets: string[], account: string | undefined): JsonValue[] {
  const argv = ['aws', 'secretsmanager', 'batch-get-secret-value', '--secret-id-list', ...secrets];
  if (account !== undefined) argv.push('--profile', account);
  argv.push('--output', 'json');
  const r = ctx.run({ argv });
  if (!r.success) throw runtimeError(`Could not read ${r.stdout} from AWS Secrets Manager`);
  const json = rubyJsonParse(r.stdout);
  if (!isObject(json)) throw new RubyError('TypeError', 'no implicit conversion of String into Integer');
  const errors = json.get('Errors');
  const present = Array.isArray(errors)
    ? errors.length > 0
    : isObject(errors)
      ? errors.size > 0
      : typeof errors === 'string'
        ? errors.trim() !== ''
        : errors === true || typeof errors === 'number';
  if (!present) {
    const values = json.get('SecretValues');
    if (!Array.isArray(values)) throw new RubyError('NoMethodError', `undefined method 'each' for nil`);
    return values;
  }
  if (!Array.isArray(errors)) throw new RubyError('NoMethodError', `undefined method 'map' for an instance of ${isObject(errors) ? 'Hash' : 'String'}`);
  throw runtimeError(errors.map((e) => `${field(e, 'SecretId')}: ${field(e, 'Message')}`).join(' '));
}

const field = (v: JsonValue, key: string): string => {
  const x = isObject(v) ? v.get(key) : undefined;
  return x === undefined || x === null ? '' : typeof x === 'string' ? x : rubyJsonDump(x);
};

/** A value inside the secret: strings as they are, anything else as JSON. */
const stringify = (v: JsonValue): JsonValue => (typeof v === 'string' ? v : rubyJsonDump(v));

export const awsSecretsManager: Adapter = {
  name: 'AwsSecretsManager',
  requiresAccount: false,

  checkDependencies(ctx) {
    if (!cliInstalled(ctx, ['aws', '--version'])) throw runtimeError('AWS CLI is not installed');
  },

  login() {
    return undefined;
  },

  fetchSecrets(ctx, secrets, { from, account }) {
    const results: SecretValues = new Map();
    for (const secret of getFromSecretsManager(ctx, prefixedSecrets(secrets, from), account)) {
      const name = field(secret, 'Name');
      const raw = isObject(secret) ? secret.get('SecretString') : undefined;
      let parsed: JsonValue;
      try {
        parsed = rubyJsonParse(typeof raw === 'string' ? raw : raw === undefined || raw === null ? null : rubyJsonDump(raw));
      } catch (e) {
        if (e instanceof RubyError && e.rubyClass === 'JSON::ParserError') {
          results.set(name, raw === undefined ? null : raw);
          continue;
        }
        throw e;
      }
      if (isObject(parsed)) for (const [k, v] of parsed) results.set(`${name}/${k}`, stringify(v));
      else results.set(name, stringify(parsed));
    }
    return results;
  },
};
