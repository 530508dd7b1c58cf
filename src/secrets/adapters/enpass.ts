/**
 * Kamal's Enpass adapter (`--adapter enpass --from VAULT_PATH`): `enpass-cli show`, offline, no
 * account. `ITEM` gives every password of the item (`ITEM/LABEL`, or `ITEM` for an unlabelled one),
 * `ITEM/LABEL` only that one.
 */
import { isObject, rubyJsonParse } from './ruby-json.js';
import { isBlank, noMethodForNil, RubyError, runtimeError, isTruthy } from './ruby.js';
import { cliInstalled, type Adapter, type SecretValues } from './types.js';

/** `secret.rpartition("/")`: the item title is what stands before the last slash, or the whole name. */
function title(secret: string): string {
  const i = secret.lastIndexOf('/');
  return i <= 0 ? secret.slice(i + 1) : secret.slice(0, i);
}

export const enpass: Adapter = {
  name: 'Enpass',
  requiresAccount: false,

  checkDependencies(ctx) {
    if (!cliInstalled(ctx, ['enpass-cli', 'version'])) throw runtimeError('Enpass CLI is not installed');
  },

  login() {
    return undefined;
  },

  fetchSecrets(ctx, secrets, { from }) {
    const titles = [...new Set(secrets.map(title))];
    if (from === undefined) throw noMethodForNil('shellescape');
    const out = ctx.run({ argv: ['enpass-cli', '-json', '-vault', from, 'show', ...titles] }).stdout.trim();
    const items = rubyJsonParse(out);
    if (!Array.isArray(items)) throw new RubyError('NoMethodError', `undefined method 'reduce' for ${items === null ? 'nil' : 'an instance of String'}`);
    const results: SecretValues = new Map();
    for (const item of items) {
      if (!isObject(item)) throw new RubyError('TypeError', 'no implicit conversion of String into Integer');
      const t = item.get('title');
      const label = item.get('label');
      const password = item.get('password');
      const present = typeof password === 'string' ? !isBlank(password) : isTruthy(password);
      if (!isTruthy(t) || !present) continue;
      const key = [t, label]
        .filter((x) => x !== null && x !== undefined)
        .map((x) => String(x))
        .filter((x) => x !== '')
        .join('/');
      if (secrets.includes(t as string) || secrets.includes(key)) {
        if (isTruthy(results.get(key))) throw runtimeError(`${key} is present more than once`);
        results.set(key, password!);
      }
    }
    return results;
  },
};
