/** Kamal's BitwardenSecretsManager adapter (`--adapter bitwarden-sm`): the `bws` CLI. */
import { isObject, rubyJsonParse, type JsonValue } from './ruby-json.js';
import { noMethodForNil, RubyError, rubySplit, runtimeError } from './ruby.js';
import { cliInstalled, prefixedSecrets, type Adapter, type SecretValues } from './types.js';

function keyValue(json: JsonValue, into: SecretValues): void {
  if (!isObject(json)) throw new RubyError('TypeError', 'no implicit conversion of String into Integer');
  const key = json.get('key');
  const value = json.get('value');
  into.set(key === undefined || key === null ? '' : String(key), value === undefined ? null : value);
}

export const bitwardenSecretsManager: Adapter = {
  name: 'BitwardenSecretsManager',
  requiresAccount: false,

  checkDependencies(ctx) {
    if (!cliInstalled(ctx, ['bws', '--version'])) throw runtimeError('Bitwarden Secrets Manager CLI is not installed');
  },

  login(ctx) {
    if (!ctx.run({ argv: ['bws', 'project', 'list'] }).success) {
      throw runtimeError('Could not authenticate to Bitwarden Secrets Manager. Did you set a valid access token?');
    }
    return undefined;
  },

  fetchSecrets(ctx, names, { from }) {
    if (names.length === 0) throw runtimeError('You must specify what to retrieve from Bitwarden Secrets Manager');
    const secrets = prefixedSecrets(names, from);
    // `all`, or `PROJECT/all`: one `bws secret list`
    let list: string[] | undefined;
    if (secrets.length === 1) {
      if (secrets[0] === 'all') list = ['secret', 'list'];
      else if (secrets[0]!.endsWith('/all')) {
        const project = rubySplit(secrets[0]!, '/all')[0];
        if (project === undefined) throw noMethodForNil('shellescape');
        list = ['secret', 'list', project];
      }
    }
    const results: SecretValues = new Map();
    if (!list) {
      for (const uuid of secrets) {
        const r = ctx.run({ argv: ['bws', 'secret', 'get', uuid] });
        if (!r.success) throw runtimeError(`Could not read ${uuid} from Bitwarden Secrets Manager`);
        keyValue(rubyJsonParse(r.stdout), results);
      }
      return results;
    }
    const r = ctx.run({ argv: ['bws', ...list] });
    if (!r.success) throw runtimeError('Could not read secrets from Bitwarden Secrets Manager');
    const items = rubyJsonParse(r.stdout);
    if (!Array.isArray(items)) throw new RubyError('NoMethodError', `undefined method 'each' for ${items === null ? 'nil' : 'an instance of String'}`);
    for (const item of items) keyValue(item, results);
    return results;
  },
};
