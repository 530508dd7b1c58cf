/** Kamal's LastPass adapter (`--adapter lastpass`): the `lpass` CLI. */
import { isObject, rubyJsonParse } from './ruby-json.js';
import { inspectStrings, RubyError, runtimeError } from './ruby.js';
import { cliInstalled, prefixedSecrets, type Adapter, type SecretValues } from './types.js';

export const lastPass: Adapter = {
  name: 'LastPass',
  requiresAccount: true,

  checkDependencies(ctx) {
    if (!cliInstalled(ctx, ['lpass', '--version'])) throw runtimeError('LastPass CLI is not installed');
  },

  login(ctx, account) {
    const status = ctx.run({ argv: ['lpass', 'status', '--color', 'never'] }).stdout.trim();
    if (status !== `Logged in as ${account}.`) {
      if (!ctx.run({ argv: ['lpass', 'login', account!] }).success) throw runtimeError('Failed to login to LastPass');
    }
    return undefined;
  },

  fetchSecrets(ctx, names, { from }) {
    const secrets = prefixedSecrets(names, from);
    const r = ctx.run({ argv: ['lpass', 'show', ...secrets, '--json'] });
    if (!r.success) throw runtimeError(`Could not read ${inspectStrings(secrets)} from LastPass`);
    const items = rubyJsonParse(r.stdout);
    if (!Array.isArray(items)) throw new RubyError('NoMethodError', `undefined method 'each' for ${items === null ? 'nil' : 'an instance of String'}`);
    const results: SecretValues = new Map();
    for (const item of items) {
      if (!isObject(item)) throw new RubyError('TypeError', 'no implicit conversion of String into Integer');
      const fullname = item.get('fullname');
      const password = item.get('password');
      results.set(fullname === undefined || fullname === null ? '' : String(fullname), password === undefined ? null : password);
    }
    const missing = secrets.filter((s) => !results.has(s));
    if (missing.length > 0) throw runtimeError(`Could not find ${missing.join(', ')} in LastPass`);
    return results;
  },
};
